using Npgsql;

namespace BotStore;

/// <summary>Reads <c>postgres://user:password@host:port/database?sslmode=require</c> URLs, which Npgsql does not parse itself.</summary>
public static class DatabaseUrl
{
    /// <summary>The environment variable BotStore reads a database URL from.</summary>
    public const string EnvironmentVariable = "BOTSTORE_DATABASE_URL";

    /// <summary>Converts a URL to an Npgsql connection string; a connection string passes through unchanged.</summary>
    /// <exception cref="BotStoreConfigurationException">The text is neither.</exception>
    public static string ToConnectionString(string urlOrConnectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(urlOrConnectionString);
        if (!urlOrConnectionString.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            && !urlOrConnectionString.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return new NpgsqlConnectionStringBuilder(urlOrConnectionString).ConnectionString;
            }
            catch (ArgumentException ex)
            {
                throw new BotStoreConfigurationException($"database '{Redact(urlOrConnectionString)}' is neither a postgres:// URL nor a connection string: {ex.Message}");
            }
        }
        if (!Uri.TryCreate(urlOrConnectionString, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            throw new BotStoreConfigurationException($"database URL '{Redact(urlOrConnectionString)}' does not parse: expected postgres://user:password@host:port/database");
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.Port > 0 ? uri.Port : 5432,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')) is { Length: > 0 } db ? db : "postgres",
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
                builder.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            var value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            try
            {
                builder[key.Equals("sslmode", StringComparison.OrdinalIgnoreCase) ? "SSL Mode" : key] = value;
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException or OverflowException)
            {
                throw new BotStoreConfigurationException($"database URL parameter '{key}={value}' is not valid: {ex.Message}");
            }
        }
        return builder.ConnectionString;
    }

    /// <summary>The text with any password hidden, for messages and logs.</summary>
    public static string Redact(string urlOrConnectionString) =>
        System.Text.RegularExpressions.Regex.Replace(urlOrConnectionString, @"(://[^:/@]+:)[^@]*@|(password=)[^;]*", m =>
            m.Groups[1].Success ? m.Groups[1].Value + "***@" : m.Groups[2].Value + "***", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
}
