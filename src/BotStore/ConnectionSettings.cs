using System.Data.Common;
using Npgsql;

namespace BotStore;

/// <summary>
/// The seed's application connection settings (<c>[database]</c> in its config.toml), applied to every data source
/// BotStore builds unless the connection string sets them itself.
/// </summary>
public sealed record ConnectionSettings
{
    /// <summary>max_connections = 100: the pool's upper bound per process.</summary>
    public int MaxConnections { get; init; } = 100;

    /// <summary>min_connections = 10: connections kept open when idle.</summary>
    public int MinConnections { get; init; } = 10;

    /// <summary>connection_timeout_secs = 5.</summary>
    public int ConnectionTimeoutSeconds { get; init; } = 5;

    /// <summary>idle_timeout_secs = 300.</summary>
    public int IdleTimeoutSeconds { get; init; } = 300;

    /// <summary>max_lifetime_secs = 1800.</summary>
    public int MaxLifetimeSeconds { get; init; } = 1800;

    /// <summary>
    /// Set when the connection goes through PgBouncer in transaction mode: no session state may outlive a
    /// transaction, so the pool sends no reset and prepares nothing (PgBouncer before 1.21 cannot route prepared
    /// statements). BotStore's own tenant context is transaction-local (<c>set_config(..., true)</c>) either way.
    /// </summary>
    public bool ThroughPgBouncer { get; init; }

    /// <summary>
    /// How many statements each direct connection keeps prepared (Npgsql's automatic preparation, after a statement's
    /// fifth use): the hot statements then skip parsing and, once PostgreSQL settles on a generic plan, planning,
    /// which halves the API's CPU per request. Always 0 through PgBouncer.
    /// </summary>
    public int MaxAutoPrepare { get; init; } = 50;

    /// <summary>
    /// Whether a connection given back to the pool is reset before its next use. Npgsql's reset is seven statements
    /// sent ahead of the next command (<c>CLOSE ALL</c>, <c>SET SESSION AUTHORIZATION DEFAULT</c>, <c>RESET ALL</c>,
    /// <c>UNLISTEN *</c>, <c>pg_advisory_unlock_all()</c>, <c>DISCARD SEQUENCES</c>, <c>DISCARD TEMP</c>), each
    /// parsed and run by the server. Only a pool whose work leaves no session state may turn it off: BotStore's tenant
    /// traffic keeps its role, tenant, locks and temporary tables inside its transaction (it must: it may go through
    /// PgBouncer in transaction mode), so <see cref="TenantTraffic"/> does, and a history read is one statement again.
    /// Owner work (session advisory locks of the scheduled operations) keeps it. Off through PgBouncer either way.
    /// </summary>
    public bool ResetOnClose { get; init; } = true;

    /// <summary>The seed's values.</summary>
    public static ConnectionSettings Default { get; } = new();

    /// <summary>The seed's values for a pool that carries only tenant traffic (the stores' calls): no reset.</summary>
    public static ConnectionSettings TenantTraffic { get; } = new() { ResetOnClose = false };

    /// <summary>
    /// Builds a data source from a connection string or a <c>postgres://</c> URL with these settings; Npgsql logs
    /// through <paramref name="loggerFactory"/> when given (the host's, so its lines look like the host's own).
    /// </summary>
    public NpgsqlDataSource CreateDataSource(string connectionStringOrUrl, string applicationName = "botstore",
        Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null) =>
        CreateBuilder(Apply(connectionStringOrUrl, applicationName), loggerFactory).Build();

    /// <summary>A data source builder over a finished connection string, logging through <paramref name="loggerFactory"/> when given.</summary>
    public static NpgsqlDataSourceBuilder CreateBuilder(string connectionString, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        if (loggerFactory is not null)
            builder.UseLoggerFactory(loggerFactory);
        return builder;
    }

    /// <summary>The connection string with these settings filled in where it does not set them.</summary>
    public string Apply(string connectionStringOrUrl, string applicationName = "botstore")
    {
        var connectionString = DatabaseUrl.ToConnectionString(connectionStringOrUrl);
        // A plain DbConnectionStringBuilder holds only the keys the caller wrote.
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Select(k => k.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant())
            .ToHashSet();
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.Overlaps(["maximumpoolsize", "maxpoolsize"]))
            builder.MaxPoolSize = MaxConnections;
        if (!given.Overlaps(["minimumpoolsize", "minpoolsize"]))
            builder.MinPoolSize = Math.Min(MinConnections, builder.MaxPoolSize); // a smaller maximum given alone lowers the minimum with it
        if (builder.MinPoolSize > builder.MaxPoolSize)
            throw new BotStoreConfigurationException($"Minimum Pool Size ({builder.MinPoolSize}) is above Maximum Pool Size ({builder.MaxPoolSize}) in the connection string");
        if (!given.Contains("timeout"))
            builder.Timeout = ConnectionTimeoutSeconds;
        if (!given.Contains("connectionidlelifetime"))
            builder.ConnectionIdleLifetime = IdleTimeoutSeconds;
        if (!given.Contains("connectionlifetime"))
            builder.ConnectionLifetime = MaxLifetimeSeconds;
        if (!given.Contains("applicationname"))
            builder.ApplicationName = applicationName;
        if (!ThroughPgBouncer && !given.Contains("maxautoprepare"))
            builder.MaxAutoPrepare = MaxAutoPrepare;
        if (!ResetOnClose && !given.Contains("noresetonclose"))
            builder.NoResetOnClose = true;
        if (ThroughPgBouncer)
        {
            builder.NoResetOnClose = true;
            builder.MaxAutoPrepare = 0;
        }
        return builder.ConnectionString;
    }
}
