namespace BotStore.Server;

/// <summary>
/// Settings of the HTTP API: the configuration section <c>BotStore</c> (appsettings.json, then <c>BOTSTORE__...</c>
/// environment variables, then <c>botstore serve</c>'s options), checked by <see cref="ServeOptionsValidator"/>.
/// </summary>
public sealed record ServeOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "BotStore";

    /// <summary>Where Kestrel listens.</summary>
    public string Urls { get; init; } = "http://127.0.0.1:8080";

    /// <summary>The largest message content accepted, in bytes of UTF-8.</summary>
    public int MaxContentBytes { get; init; } = 64 * 1024;

    /// <summary>
    /// How far a client's message or event id (a UUIDv7) may put its timestamp from the server's clock; an older id
    /// is accepted only as a retry of one already stored.
    /// </summary>
    public TimeSpan MaxClientClockSkew { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The largest page a list returns.</summary>
    public int MaxPageSize { get; init; } = 200;

    /// <summary>The largest request body, in bytes (batch endpoints included).</summary>
    public long MaxRequestBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>The pool of tenant traffic (may point at PgBouncer).</summary>
    public PoolOptions TenantPool { get; init; } = new() { ResetOnClose = false };

    /// <summary>The pool of the owner's work: migrations, scheduled operations, sweeps (connects directly).</summary>
    public PoolOptions OperationsPool { get; init; } = new();

    /// <summary>The expiry sweeper's interval and batch size.</summary>
    public SweeperOptions Sweeper { get; init; } = new();

    /// <summary>Requests a second each tenant may make on average (a token bucket refilled every second).</summary>
    public int TenantRequestsPerSecond { get; init; } = 500;

    /// <summary>Requests a tenant may make at once above its rate (the bucket's size).</summary>
    public int TenantBurst { get; init; } = 1000;

    /// <summary>Requests of one tenant served at the same time; more wait in a queue of <see cref="TenantQueue"/>.</summary>
    public int TenantConcurrency { get; init; } = 32;

    /// <summary>Requests of one tenant that may wait for a turn; beyond them the answer is 429.</summary>
    public int TenantQueue { get; init; } = 64;

    /// <summary>The console log's format (<c>BotStore:Logging:Format</c>: simple or json).</summary>
    public LoggingOptions Logging { get; init; } = new();

    /// <summary>How long /readyz waits for a database connection before it reports the pool exhausted or the database unreachable.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a shard whose connection failed refuses its tenants' calls at once (503 with Retry-After) before one
    /// call probes it again; zero: every call tries the shard (and waits for its connect timeout while it is down).
    /// </summary>
    public TimeSpan ShardFailFast { get; init; } = Sharding.ShardRouter.DefaultFailFastFor;
}
