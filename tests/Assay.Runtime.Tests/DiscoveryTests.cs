using Assay.Runtime.Discovery;

namespace Assay.Runtime.Tests;

/// <summary>`assay modules` / `assay context`: metadata, ranking, and docs kept in step with the code.</summary>
public class DiscoveryTests
{
    static readonly string[] BuiltinModules =
    [
        "json", "log", "env", "async", "yaml", "toml", "base64", "hex", "url", "crypto", "regex", "markdown",
        "fs", "shell", "process", "disk", "db", "template", "http", "ws", "tool",
    ];

    /// <summary>Every public function the runtime registers on the builtin module tables ("fs.read", …).</summary>
    static List<string> RegisteredBuiltinFunctions()
    {
        using var h = new LuaHarness();
        var all = new List<string>();
        foreach (var module in BuiltinModules)
        {
            h.Vm.Execute($"local t = rawget(_G, '{module}') local names = {{}} " +
                         "if type(t) == 'table' then for k, v in pairs(t) do if type(v) == 'function' and k:sub(1, 1) ~= '_' then names[#names + 1] = k end end end " +
                         "table.sort(names) return table.concat(names, ' ')", "=list", null, 1);
            var names = h.Vm.Main.ToStringValue(-1) ?? "";
            h.Vm.Main.Pop(1);
            all.AddRange(names.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(name => $"{module}.{name}"));
        }
        return all;
    }

    [Fact]
    public void EveryRegisteredBuiltinFunctionIsDocumented()
    {
        var documented = BuiltinDocs.Load().SelectMany(m => m.Functions).Select(f => f.Split('(', '{')[0].Trim()).ToHashSet();
        var missing = RegisteredBuiltinFunctions().Where(f => !documented.Contains(f)).ToList();
        Assert.True(missing.Count == 0, "undocumented builtins (add a row to docs/modules/<module>.md): " + string.Join(", ", missing));
    }

    [Fact]
    public void EveryRegisteredBuiltinFunctionHasAnEditorDefinition()
    {
        var builtins = LuaTypes.Generate(ModuleCatalog.Discover(globalDir: "/nonexistent"))["builtins.lua"];
        var missing = RegisteredBuiltinFunctions().Where(f => !builtins.Contains($"function {f}(")).ToList();
        Assert.True(missing.Count == 0, "builtins without a LuaLS definition: " + string.Join(", ", missing));
        Assert.Contains("---@param path string", builtins);
        Assert.Contains("---@overload fun(", builtins); // assert is a table and a function
        Assert.Contains("function sleep(secs) end", builtins);
        Assert.DoesNotContain("\nos = {}", builtins);  // Lua's own os is extended, not replaced
    }

    [Fact]
    public void ProseSectionsOfTheCorePageAreNotModules()
    {
        var names = BuiltinDocs.Load().Select(m => m.Name).ToList();
        Assert.Contains("async", names);
        Assert.DoesNotContain("Modules", names);
        Assert.DoesNotContain("Scripts", names);
    }

    [Fact]
    public void LuaHeadersAndFunctionsAreRead()
    {
        var info = LuaModuleHeader.Parse("assay.vault", ModuleSource.Project, """
            --- @module assay.vault
            --- @description Secrets from HashiCorp Vault.
            --- @keywords vault, secrets, kv
            --- @env VAULT_ADDR, VAULT_TOKEN
            --- @example local v = require("assay.vault")
            local M = {}
            function M.client(url, opts) end
            function M._internal() end
            local function helper() end
            function c.kv:get(path) end
            return M
            """);
        Assert.Equal("Secrets from HashiCorp Vault.", info.Description);
        Assert.Equal(["vault", "secrets", "kv"], info.Keywords);
        Assert.Equal(["VAULT_ADDR", "VAULT_TOKEN"], info.Env);
        Assert.Equal(["assay.vault.client(url, opts)", "assay.vault.kv:get(path)"], info.Functions);
        Assert.Single(info.Examples);
    }

    [Theory]
    [InlineData("parse json", "json")]
    [InlineData("environment variable", "env")]
    [InlineData("spawn concurrent tasks", "async")]
    [InlineData("sleep", "sleep")]
    [InlineData("current time timestamp", "time")]
    [InlineData("receive a webhook", "http")]
    [InlineData("endpoint", "http")]
    [InlineData("response headers", "http")]
    [InlineData("headers", "http")]
    [InlineData("sha1 checksum of a file", "crypto")]
    [InlineData("remove old files to free disk space", "disk")]
    [InlineData("list files in a folder", "fs")]
    [InlineData("run a program with arguments", "process")]
    [InlineData("build a query string", "url")]
    [InlineData("workflow engine signal", "assay.workflow")]
    [InlineData("assert equality in tests", "assert")]
    [InlineData("structured logging", "log")]
    [InlineData("run a shell command with a timeout", "shell")]
    [InlineData("serve http requests", "http")]
    [InlineData("query a postgres database", "db")]
    [InlineData("render an html template", "template")]
    [InlineData("verify a jwt token", "crypto")]
    [InlineData("deploy to kubernetes", "assay.k8s")]
    [InlineData("read a kubeconfig and list pods", "assay.k8s")]
    [InlineData("rest api client with retries and pagination", "assay.rest")]
    [InlineData("cert renewal letsencrypt", "assay.certmanager")]
    [InlineData("terraform-style infrastructure", "assay.crossplane")]
    [InlineData("backup and restore", "assay.velero")]
    [InlineData("external secrets sync from vault", "assay.eso")]
    [InlineData("promote freight to a stage", "assay.kargo")]
    [InlineData("argocd application rollback", "assay.argocd")]
    [InlineData("flux kustomization helmrelease", "assay.flux")]
    [InlineData("metrics query", "assay.prometheus")]
    [InlineData("alert silence", "assay.alertmanager")]
    [InlineData("logs", "assay.loki")]
    [InlineData("dashboards", "assay.grafana")]
    [InlineData("docker registry", "assay.harbor")]
    [InlineData("pull request", "assay.github")]
    [InlineData("merge request ci pipeline", "assay.gitlab")]
    [InlineData("feature flag", "assay.unleash")]
    [InlineData("wait until an http endpoint is healthy", "assay.healthcheck")]
    [InlineData("reverse proxy routers", "assay.traefik")]
    [InlineData("grafana", "assay.grafana")]
    [InlineData("object storage bucket", "assay.s3")]
    [InlineData("upload a file to s3", "assay.s3")]
    [InlineData("minio", "assay.s3")]
    [InlineData("aws signature v4", "assay.s3")]
    public void ContextRanksTheExpectedModuleFirst(string query, string expected)
    {
        var hits = new Bm25Index(ModuleCatalog.Discover(globalDir: "/nonexistent")).Search(query, 5);
        Assert.NotEmpty(hits);
        Assert.Equal(expected, hits[0].Module.Name);
    }

    [Fact]
    public void GitopsSyncFindsFluxOrArgocdFirst()
    {
        var hits = new Bm25Index(ModuleCatalog.Discover(globalDir: "/nonexistent")).Search("gitops sync", 5);
        Assert.NotEmpty(hits);
        Assert.Contains(hits[0].Module.Name, new[] { "assay.flux", "assay.argocd" });
    }

    [Fact]
    public void SleepAndTimeAreRowsOfTheirOwnAndEmbeddedModulesAreBuiltin()
    {
        var all = ModuleCatalog.Discover(globalDir: "/nonexistent");
        Assert.Contains(all, m => m.Name == "sleep" && m.Functions.Count > 0 && m.Functions.All(f => f.StartsWith("sleep(")));
        Assert.Contains(all, m => m.Name == "time" && m.Functions.Count > 0 && m.Functions.All(f => f.StartsWith("time(")));
        Assert.DoesNotContain(all, m => m.Name.Contains(','));
        Assert.Equal("builtin", all.Single(m => m.Name == "assay.workflow").SourceName);
        // every builtin has a one-line description for the `assay modules` table
        Assert.DoesNotContain(all, m => string.IsNullOrWhiteSpace(m.Description));
    }

    [Fact]
    public void UnknownQueriesFindNothing()
    {
        Assert.Empty(new Bm25Index(ModuleCatalog.Discover(globalDir: "/nonexistent")).Search("zzqx", 5));
    }
}
