using Npgsql;

namespace Assay.Engine.Store;

/// <summary>Where the engine keeps its state, parsed from <c>--backend</c> / <c>DATABASE_URL</c>.</summary>
public sealed record BackendUrl(BackendKind Kind, string Target)
{
    public const string DefaultSqliteFile = "assay-workflow.db";

    /// <summary>
    /// <c>postgres://</c> and <c>postgresql://</c> select PostgreSQL; <c>sqlite:</c> URLs
    /// (<c>sqlite://rel.db</c>, <c>sqlite:///abs.db</c>, <c>sqlite::memory:</c>, any <c>?mode=</c> query ignored)
    /// and plain file paths select SQLite; empty means the default file in the working directory.
    /// </summary>
    public static BackendUrl Parse(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
            return new(BackendKind.Sqlite, Path.GetFullPath(DefaultSqliteFile));
        url = url.Trim();
        if (url.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) ||
            url.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            return new(BackendKind.Postgres, url);

        var path = url;
        if (path.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            path = path["sqlite:".Length..];
            if (path.StartsWith("//", StringComparison.Ordinal)) path = path[2..]; // sqlite:///abs -> /abs, sqlite://rel -> rel
            var q = path.IndexOf('?');
            if (q >= 0) path = path[..q];
        }
        if (path is ":memory:" or "") return new(BackendKind.SqliteMemory, ":memory:");
        return new(BackendKind.Sqlite, Path.GetFullPath(path));
    }

    /// <summary>Npgsql takes key=value connection strings, not URLs.</summary>
    public static string ToNpgsqlConnectionString(string url)
    {
        var uri = new Uri(url);
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
        };
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var parts = uri.UserInfo.Split(':', 2);
            b.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length > 1) b.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            var value = kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : "";
            b[key switch { "sslmode" => "SSL Mode", "connect_timeout" => "Timeout", "application_name" => "Application Name", _ => key }] = value;
        }
        if (string.IsNullOrEmpty(b.ApplicationName)) b.ApplicationName = "assay-engine";
        return b.ConnectionString;
    }
}

public enum BackendKind { Sqlite, SqliteMemory, Postgres }
