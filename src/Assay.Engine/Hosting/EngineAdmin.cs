using Assay.Engine.Auth;
using Assay.Engine.Store;
using Microsoft.Extensions.Logging.Abstractions;

namespace Assay.Engine.Hosting;

/// <summary>Offline administration against an engine's database (<c>assay serve --generate-api-key / --list-api-keys</c>):
/// works while an engine is serving the same database.</summary>
public static class EngineAdmin
{
    /// <summary>Creates a key and returns its plaintext (shown once) and record.</summary>
    public static async Task<(string Key, ApiKeyRecord Record)> GenerateApiKeyAsync(EngineOptions options, string? label = null)
    {
        await using var store = await OpenAsync(options);
        var key = ApiKeys.Generate();
        var rec = await store.CreateApiKeyAsync(ApiKeys.Hash(key), ApiKeys.Prefix(key), label);
        return (key, rec);
    }

    public static async Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(EngineOptions options)
    {
        await using var store = await OpenAsync(options);
        return await store.ListApiKeysAsync();
    }

    public static async Task RevokeApiKeyAsync(EngineOptions options, string prefix)
    {
        await using var store = await OpenAsync(options);
        await store.RevokeApiKeyAsync(prefix);
    }

    static async Task<IEngineStore> OpenAsync(EngineOptions options)
    {
        var store = EngineHost.OpenStore(BackendUrl.Parse(options.ResolveBackend()), options, NullLogger.Instance);
        try { await store.MigrateAsync(); }
        catch { await store.DisposeAsync(); throw; }
        return store;
    }
}
