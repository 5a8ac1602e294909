namespace BotStore.Server;

/// <summary>
/// One connection pool, with the design source's settings by name (<c>[database]</c> in its config.toml) mapped onto
/// Npgsql's pool: <c>BotStore:TenantPool</c> serves tenant traffic (it may point at PgBouncer),
/// <c>BotStore:OperationsPool</c> the owner's work: migrations, scheduled operations with their session locks, sweeps.
/// </summary>
public sealed record PoolOptions
{
    /// <summary>A connection string or postgres:// URL; empty: the database <c>serve</c> was given.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>The pool goes through PgBouncer in transaction mode (no reset, nothing prepared).</summary>
    public bool ThroughPgBouncer { get; init; }

    /// <summary>
    /// Reset a connection given back to the pool (<see cref="ConnectionSettings.ResetOnClose"/>): off for the tenant
    /// pool, whose calls keep their state inside their transaction; on for the operations pool, whose session locks
    /// it releases should a run fail to.
    /// </summary>
    public bool ResetOnClose { get; init; } = true;

    /// <summary>max_connections: Npgsql's Maximum Pool Size.</summary>
    public int MaxConnections { get; init; } = ConnectionSettings.Default.MaxConnections;

    /// <summary>min_connections: Npgsql's Minimum Pool Size; <c>serve</c> opens them at start.</summary>
    public int MinConnections { get; init; } = ConnectionSettings.Default.MinConnections;

    /// <summary>connection_timeout_secs: Npgsql's Timeout.</summary>
    public int ConnectionTimeoutSecs { get; init; } = ConnectionSettings.Default.ConnectionTimeoutSeconds;

    /// <summary>idle_timeout_secs: Npgsql's Connection Idle Lifetime.</summary>
    public int IdleTimeoutSecs { get; init; } = ConnectionSettings.Default.IdleTimeoutSeconds;

    /// <summary>max_lifetime_secs: Npgsql's Connection Lifetime.</summary>
    public int MaxLifetimeSecs { get; init; } = ConnectionSettings.Default.MaxLifetimeSeconds;

    /// <summary>These settings for <see cref="ConnectionSettings.Apply"/>.</summary>
    public ConnectionSettings ToConnectionSettings() => new()
    {
        MaxConnections = MaxConnections,
        MinConnections = MinConnections,
        ConnectionTimeoutSeconds = ConnectionTimeoutSecs,
        IdleTimeoutSeconds = IdleTimeoutSecs,
        MaxLifetimeSeconds = MaxLifetimeSecs,
        ThroughPgBouncer = ThroughPgBouncer,
        ResetOnClose = ResetOnClose,
    };
}
