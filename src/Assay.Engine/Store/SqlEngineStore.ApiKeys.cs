using Assay.Engine.Auth;

namespace Assay.Engine.Store;

// IApiKeyStore: only hashes are stored; revoked keys stay listed (with revoked_at) and never authenticate.
internal abstract partial class SqlEngineStore
{
    public Task<ApiKeyRecord> CreateApiKeyAsync(string keyHash, string prefix, string? label) => WriteAsync(async tx =>
    {
        await tx.ExecAsync("INSERT INTO api_keys (key_hash, prefix, label, created_at) VALUES (@h, @p, @l, @now)",
            ("@h", keyHash), ("@p", prefix), ("@l", label), ("@now", tx.Now));
        return new ApiKeyRecord { Prefix = prefix, Label = label, CreatedAt = tx.Now };
    });

    public Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync() => InReadAsync<IReadOnlyList<ApiKeyRecord>>(async tx =>
        await tx.QueryAsync($"SELECT {RecordMaps.ApiKeyColumns} FROM api_keys ORDER BY created_at DESC, prefix", RecordMaps.ApiKey));

    public Task<int> RevokeApiKeyAsync(string prefix, bool keepOne = false) => WriteAsync(async tx =>
    {
        var normalized = ApiKeys.NormalizePrefix(prefix);
        if (keepOne)
        {
            // Locks every active key row: two concurrent revocations cannot each leave "the other" as the last one.
            var active = await tx.QueryAsync($"SELECT prefix FROM api_keys WHERE revoked_at IS NULL{D.ForUpdate}", x => x.Str("prefix"));
            if (active.Count == 1 && active[0] == normalized)
                throw EngineException.Conflict("cannot revoke the last active API key (it would lock every client out); create another first");
        }
        var n = await tx.ExecAsync("UPDATE api_keys SET revoked_at = @now WHERE prefix = @p AND revoked_at IS NULL",
            ("@p", normalized), ("@now", tx.Now));
        if (n == 0) throw EngineException.NotFound($"api key {prefix}");
        return n;
    });

    public Task<bool> CheckApiKeyAsync(string keyHash) => InReadAsync(async tx =>
    {
        var stored = await tx.ScalarAsync("SELECT key_hash FROM api_keys WHERE key_hash = @h AND revoked_at IS NULL", ("@h", keyHash)) as string;
        return stored is not null && ApiKeys.SameHash(stored, keyHash);
    });
}
