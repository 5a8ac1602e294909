using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace BotStore.Tooling.PgBouncer;

/// <summary>One database PgBouncer serves: the name clients connect to, and the PostgreSQL database behind it.</summary>
/// <param name="Name">The database name clients use (an alias, e.g. <c>botstore_shard1</c>).</param>
/// <param name="Host">The server's host name, address, or unix socket folder.</param>
/// <param name="Port">The server's port.</param>
/// <param name="DatabaseName">The database on the server.</param>
/// <param name="User">The user clients log in as (for the userlist), if known.</param>
/// <param name="Password">That user's password (for the userlist), if known.</param>
public sealed record PgBouncerDatabase(string Name, string Host, int Port, string DatabaseName, string? User = null, string? Password = null);

/// <summary>
/// A pgbouncer.ini and its userlist for the seed's pool settings (transaction pooling, 50 server connections per
/// database and user, 10 000 clients, the seed's timeouts), for one database or several shards. BotStore's tenant
/// context is transaction-local, so it is safe in transaction mode; connect with
/// <see cref="ConnectionSettings.ThroughPgBouncer"/> so Npgsql prepares nothing and sends no reset.
/// </summary>
public sealed partial record PgBouncerConfig
{
    /// <summary>The databases, in [databases] order.</summary>
    public required IReadOnlyList<PgBouncerDatabase> Databases { get; init; }

    /// <summary>listen_addr.</summary>
    public string ListenAddress { get; init; } = "*";

    /// <summary>listen_port.</summary>
    public int ListenPort { get; init; } = 6432;

    /// <summary>auth_type (the seed's md5; the userlist holds plain passwords, so scram-sha-256 works as well).</summary>
    public string AuthType { get; init; } = "md5";

    /// <summary>auth_file: where <see cref="RenderUserlist"/> belongs.</summary>
    public string AuthFile { get; init; } = "/etc/pgbouncer/userlist.txt";

    /// <summary>pool_mode.</summary>
    public string PoolMode { get; init; } = "transaction";

    /// <summary>max_client_conn.</summary>
    public int MaxClientConn { get; init; } = 10000;

    /// <summary>
    /// listen_backlog. Not in the seed: PgBouncer's default of 128 pending connections overflowed when 10,000 clients
    /// connected at once (473 to 1,171 dropped SYNs per run in <c>bench crowd</c>, each client retrying a second or more
    /// later), as every client does after PgBouncer restarts. The kernel caps it at net.core.somaxconn (4096 here).
    /// </summary>
    public int ListenBacklog { get; init; } = 4096;

    /// <summary>
    /// pkt_buf, bytes. Not in the seed: PgBouncer relays a result through this buffer, so a 50-message history page
    /// (16 to 28 kB in the bench's data) took at least four to seven reads and as many writes with the default 4096.
    /// pgbench running the library's history statement through PgBouncer (8 clients, -M extended, 1M messages) read
    /// 22-26% more pages/s with 32768 than with 4096 in each of four rounds (4,478-5,569 against 5,480-6,949; 16384
    /// about the same as 32768, 65536 no better). PgBouncer takes a buffer only while a connection has bytes in flight
    /// and gives it back when it empties, so the cost is 32 kB per busy connection, not per client.
    /// </summary>
    public int PacketBuffer { get; init; } = 32768;

    /// <summary>default_pool_size: server connections per database and user.</summary>
    public int DefaultPoolSize { get; init; } = 50;

    /// <summary>min_pool_size.</summary>
    public int MinPoolSize { get; init; } = 10;

    /// <summary>reserve_pool_size.</summary>
    public int ReservePoolSize { get; init; } = 25;

    /// <summary>reserve_pool_timeout, seconds.</summary>
    public int ReservePoolTimeout { get; init; } = 3;

    /// <summary>server_connect_timeout, seconds.</summary>
    public int ServerConnectTimeout { get; init; } = 3;

    /// <summary>server_idle_timeout, seconds.</summary>
    public int ServerIdleTimeout { get; init; } = 600;

    /// <summary>server_lifetime, seconds.</summary>
    public int ServerLifetime { get; init; } = 3600;

    /// <summary>client_idle_timeout, seconds (0: never).</summary>
    public int ClientIdleTimeout { get; init; }

    /// <summary>unix_socket_dir; null keeps PgBouncer's default, empty turns the socket off.</summary>
    public string? UnixSocketDir { get; init; }

    /// <summary>logfile, if any (PgBouncer logs to stderr otherwise).</summary>
    public string? LogFile { get; init; }

    /// <summary>pidfile, if any.</summary>
    public string? PidFile { get; init; }

    /// <summary>
    /// The config for databases given as postgres:// URLs or connection strings; <c>alias=postgres://...</c> names one.
    /// Unnamed ones are called by their database name, or <c>name_shardN</c> when several share it.
    /// </summary>
    public static PgBouncerConfig ForDatabases(IEnumerable<string> urls)
    {
        var parsed = urls.Select(Parse).ToList();
        if (parsed.Count == 0)
            throw new BotStoreValidationException("PgBouncer needs at least one database");
        var shared = parsed.Where(p => p.Alias is null).GroupBy(p => p.Database.DatabaseName).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        var databases = parsed.Select((p, i) => p.Database with
        {
            Name = p.Alias ?? (shared.Contains(p.Database.DatabaseName) ? $"{p.Database.DatabaseName}_shard{i + 1}" : p.Database.DatabaseName),
        }).ToList();
        var duplicate = databases.GroupBy(d => d.Name).FirstOrDefault(g => g.Count() > 1);
        return duplicate is null ? new PgBouncerConfig { Databases = databases }
            : throw new BotStoreValidationException($"two databases are both called '{duplicate.Key}': name them (alias=postgres://...)");
    }

    /// <summary>The pgbouncer.ini text.</summary>
    public string RenderIni()
    {
        var ini = new StringBuilder();
        ini.AppendLine("; pgbouncer.ini written by 'botstore pgbouncer config': the seed's pool settings.");
        ini.AppendLine("[databases]");
        foreach (var d in Databases)
            ini.AppendLine(CultureInfo.InvariantCulture, $"{d.Name} = host={Quote(d.Host)} port={d.Port} dbname={Quote(d.DatabaseName)}");
        ini.AppendLine();
        ini.AppendLine("[pgbouncer]");
        (string Key, object? Value)[] settings =
        [
            ("listen_addr", ListenAddress), ("listen_port", ListenPort), ("unix_socket_dir", UnixSocketDir),
            ("auth_type", AuthType), ("auth_file", AuthFile), ("logfile", LogFile), ("pidfile", PidFile),
            ("; Pool settings. Transaction pooling: BotStore keeps no session state between transactions.", null),
            ("pool_mode", PoolMode), ("max_client_conn", MaxClientConn), ("listen_backlog", ListenBacklog), ("default_pool_size", DefaultPoolSize),
            ("min_pool_size", MinPoolSize), ("reserve_pool_size", ReservePoolSize), ("reserve_pool_timeout", ReservePoolTimeout),
            ("; Not in the seed: a packet buffer a 50-message history page (about 20 kB) fits in; 4096 took five reads and five writes or more.", null),
            ("pkt_buf", PacketBuffer),
            ("; Timeouts", null),
            ("server_connect_timeout", ServerConnectTimeout), ("server_idle_timeout", ServerIdleTimeout),
            ("server_lifetime", ServerLifetime), ("client_idle_timeout", ClientIdleTimeout),
        ];
        foreach (var (key, value) in settings)
        {
            if (key.StartsWith(';'))
                ini.AppendLine(key);
            else if (value is not null)
                ini.AppendLine(CultureInfo.InvariantCulture, $"{key} = {value}");
        }
        return ini.ToString();
    }

    /// <summary>
    /// The userlist (auth_file): each database's user with its password, in plain text, which PgBouncer needs to log
    /// in to a server that stores SCRAM secrets. Keep the file private (mode 0600).
    /// </summary>
    public string RenderUserlist()
    {
        var list = new StringBuilder();
        foreach (var d in Databases.Where(d => d.User is not null).DistinctBy(d => d.User))
            list.Append(CultureInfo.InvariantCulture, $"\"{Escape(d.User!)}\" \"{Escape(d.Password ?? "")}\"\n");
        return list.ToString();
    }

    private static (string? Alias, PgBouncerDatabase Database) Parse(string text)
    {
        var alias = AliasPattern().Match(text);
        var url = alias.Success ? text[(alias.Length - alias.Groups["rest"].Length)..] : text;
        var cs = new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString(url));
        if (string.IsNullOrEmpty(cs.Host) || cs.Host.Contains(','))
            throw new BotStoreValidationException($"database '{DatabaseUrl.Redact(text)}' must name one host");
        return (alias.Success ? alias.Groups["alias"].Value : null,
            new PgBouncerDatabase("", cs.Host, cs.Port, cs.Database ?? "postgres", cs.Username, cs.Password));
    }

    [GeneratedRegex("^(?<alias>[A-Za-z_][A-Za-z0-9_]*)=(?<rest>postgres(ql)?://.*)$", RegexOptions.IgnoreCase)]
    private static partial Regex AliasPattern();

    // libpq-style quoting for [databases] values.
    private static string Quote(string value) =>
        value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '/')
            ? value
            : "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    private static string Escape(string value) => value.Replace("\"", "\"\"", StringComparison.Ordinal);
}
