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
            var names = h.Chunk($"local t = rawget(_G, '{module}') local names = {{}} " +
                                "if type(t) == 'table' then for k, v in pairs(t) do if type(v) == 'function' and k:sub(1, 1) ~= '_' then names[#names + 1] = k end end end " +
                                "table.sort(names) return table.concat(names, ' ')");
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
    [InlineData("single sign-on oidc", "assay.dex")]
    [InlineData("openid connect discovery jwks", "assay.dex")]
    [InlineData("zitadel machine key service account", "assay.zitadel")]
    [InlineData("permissions", "assay.ory.keto")]
    [InlineData("role based access control capabilities", "assay.ory.rbac")]
    [InlineData("oauth2 login consent challenge", "assay.ory.hydra")]
    [InlineData("identity sessions whoami registration", "assay.ory.kratos")]
    [InlineData("ory", "assay.ory")]
    [InlineData("calendar", "assay.gcal")]
    [InlineData("schedule a meeting", "assay.gcal")]
    [InlineData("email", "assay.gmail")]
    [InlineData("send an email", "assay.gmail")]
    [InlineData("reply to an email", "assay.gmail")]
    [InlineData("triage my inbox", "assay.email_triage")]
    [InlineData("categorize emails", "assay.email_triage")]
    [InlineData("oauth2 refresh token", "assay.oauth2")]
    [InlineData("openclaw", "assay.openclaw")]
    [InlineData("agent gateway llm task", "assay.openclaw")]
    [InlineData("secrets", "assay.vault")]
    [InlineData("encryption", "assay.vault")]
    [InlineData("password rotation", "assay.vault")]
    [InlineData("openbao", "assay.openbao")]
    [InlineData("database users and grants", "assay.postgres")]
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
    public void InternalPartsAreListedAsTheirModule()
    {
        // assay.workflow is embedded as parts (stdlib/workflow/*.lua tagged @internal)
        var all = ModuleCatalog.Discover(globalDir: "/nonexistent");
        Assert.DoesNotContain(all, m => m.Name.StartsWith("assay.workflow.", StringComparison.Ordinal));
        var workflow = all.Single(m => m.Name == "assay.workflow");
        foreach (var fn in new[] { "connect(url, opts)", "define(name, handler)", "schedules.create(opts)", "execute_activity(name, input, opts)", "listen(opts)" })
            Assert.Contains("assay.workflow." + fn, workflow.Functions);
        Assert.DoesNotContain(workflow.Functions, f => f.Contains("encode_component"));   // common.lua's locals are not API

        // the same for a package of the user's: pkg/init.lua plus a part pkg/more.lua
        var dir = Directory.CreateTempSubdirectory("assay-parts-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "pkg"));
            File.WriteAllText(Path.Combine(dir, "pkg", "init.lua"), "--- @description A package\nlocal M = require('assay.pkg.more')\nfunction M.first(a) end\nreturn M\n");
            File.WriteAllText(Path.Combine(dir, "pkg", "more.lua"), "--- @internal part of assay.pkg\nlocal M = {}\nfunction M.second(b) end\nreturn M\n");
            var pkg = ModuleCatalog.Discover(globalDir: dir).Where(m => m.Name.StartsWith("assay.pkg", StringComparison.Ordinal)).ToList();
            var only = Assert.Single(pkg);
            Assert.Equal("assay.pkg", only.Name);
            Assert.Equal(["assay.pkg.first(a)", "assay.pkg.second(b)"], only.Functions);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void UnknownQueriesFindNothing()
    {
        Assert.Empty(new Bm25Index(ModuleCatalog.Discover(globalDir: "/nonexistent")).Search("zzqx", 5));
    }
}
