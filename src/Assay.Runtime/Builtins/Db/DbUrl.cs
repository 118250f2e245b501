using Microsoft.Data.Sqlite;
using MySqlConnector;
using Npgsql;

namespace Assay.Runtime.Builtins.Db;

enum DbKind { Sqlite, Postgres, MySql }

/// <summary>A parsed <c>db.connect</c> URL: the driver and its connection string.</summary>
sealed record DbUrl(DbKind Kind, string ConnectionString, string Display)
{
    /// <summary>
    /// <c>sqlite::memory:</c>, <c>sqlite://rel.db</c>, <c>sqlite:///abs.db</c>, <c>sqlite:file.db</c>
    /// (query <c>?mode=ro|rw|rwc</c>); <c>postgres://</c> / <c>postgresql://user:pass@host:port/db?sslmode=…</c>;
    /// <c>mysql://user:pass@host:port/db?…</c>. User and password are percent-decoded.
    /// </summary>
    public static DbUrl Parse(string url, int poolSize)
    {
        url = url.Trim();
        if (url.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase)) return Sqlite(url["sqlite:".Length..]);
        if (url.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) ||
            url.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)) return Postgres(url, poolSize);
        if (url.StartsWith("mysql://", StringComparison.OrdinalIgnoreCase) ||
            url.StartsWith("mariadb://", StringComparison.OrdinalIgnoreCase)) return MySql(url, poolSize);
        throw new ArgumentException("unsupported URL scheme (expected sqlite:, postgres:// or mysql://)");
    }

    static DbUrl Sqlite(string rest)
    {
        string? query = null;
        var q = rest.IndexOf('?');
        if (q >= 0) { query = rest[(q + 1)..]; rest = rest[..q]; }
        if (rest.StartsWith("//", StringComparison.Ordinal)) rest = rest[2..];
        var b = new SqliteConnectionStringBuilder { Pooling = false };
        if (rest is "" or ":memory:") b.DataSource = ":memory:";
        else b.DataSource = Uri.UnescapeDataString(rest);
        foreach (var (key, value) in Pairs(query))
        {
            b.Mode = key == "mode" ? value switch
            {
                "ro" => SqliteOpenMode.ReadOnly,
                "rw" => SqliteOpenMode.ReadWrite,
                "rwc" => SqliteOpenMode.ReadWriteCreate,
                "memory" => SqliteOpenMode.Memory,
                _ => throw new ArgumentException($"sqlite: unknown mode '{value}' (ro, rw, rwc, memory)"),
            } : throw new ArgumentException($"sqlite: unknown URL parameter '{key}'");
        }
        return new DbUrl(DbKind.Sqlite, b.ConnectionString, "sqlite:" + b.DataSource);
    }

    static IEnumerable<(string Key, string Value)> Pairs(string? query)
    {
        foreach (var pair in (query ?? "").TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            yield return (Uri.UnescapeDataString(kv[0]), kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : "");
        }
    }

    static Uri ParseUri(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            throw new ArgumentException("malformed URL (expected scheme://user:password@host:port/database)");
        return uri;
    }

    static (string? User, string? Password) UserInfo(Uri uri)
    {
        if (string.IsNullOrEmpty(uri.UserInfo)) return (null, null);
        var parts = uri.UserInfo.Split(':', 2);
        return (Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : null);
    }

    static DbUrl Postgres(string url, int poolSize)
    {
        var uri = ParseUri(url);
        var (user, password) = UserInfo(uri);
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Trim('[', ']'),
            Port = uri.Port > 0 ? uri.Port : 5432,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
            MaxPoolSize = poolSize,
            ApplicationName = "assay",
            CommandTimeout = 0, // timeouts are ours (per query or per connection), not a hidden 30 s
        };
        if (user != null) b.Username = user;
        if (password != null) b.Password = password;
        foreach (var (key, value) in Pairs(uri.Query))
        {
            var name = key switch
            {
                "sslmode" => "SSL Mode",
                "connect_timeout" => "Timeout",
                "application_name" => "Application Name",
                "search_path" => "Search Path",
                "options" => "Options",
                _ => key,
            };
            try { b[name] = value; }
            catch (ArgumentException) { throw new ArgumentException($"postgres: unknown URL parameter '{key}'"); }
        }
        if (string.IsNullOrEmpty(b.Database)) b.Database = null;
        return new DbUrl(DbKind.Postgres, b.ConnectionString, $"postgres://{b.Host}:{b.Port}/{b.Database}");
    }

    static DbUrl MySql(string url, int poolSize)
    {
        var uri = ParseUri(url);
        var (user, password) = UserInfo(uri);
        var b = new MySqlConnectionStringBuilder
        {
            Server = uri.Host.Trim('[', ']'),
            Port = uri.Port > 0 ? (uint)uri.Port : 3306,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
            MaximumPoolSize = (uint)poolSize,
            DefaultCommandTimeout = 0,
            AllowUserVariables = true,
        };
        if (user != null) b.UserID = user;
        if (password != null) b.Password = password;
        foreach (var (key, value) in Pairs(uri.Query))
        {
            try { b[key] = value; }
            catch (ArgumentException) { throw new ArgumentException($"mysql: unknown URL parameter '{key}'"); }
        }
        return new DbUrl(DbKind.MySql, b.ConnectionString, $"mysql://{b.Server}:{b.Port}/{b.Database}");
    }
}
