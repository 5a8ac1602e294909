using BotStore.Sharding.Internal;
using Npgsql;

namespace BotStore.Sharding;

/// <summary>
/// Routes each tenant to its shard. Tenant-scoped work runs through <see cref="RunAsync{T}"/>: it asks the
/// <see cref="TenantDirectory"/> (cached) for the tenant's shard, runs there, and when the shard's fence answers that
/// the tenant has left it (SQLSTATE <see cref="MovedSqlState"/>), forgets the cached entry and retries once on the
/// shard the directory names now. A shard that cannot be reached fails only its own tenants' calls
/// (<see cref="BotStoreUnavailableException"/>: 503 with Retry-After in the API), and after such a connection failure
/// the shard fails fast for <see cref="FailFastFor"/>: its tenants' calls are refused at once
/// (<see cref="BotStoreShardUnavailableException"/>) rather than each waiting for its own connection error; then one
/// call tries the shard again and, when it answers, the shard is served again by itself (Npgsql's pool reconnects).
/// Operator work visits every shard with <see cref="EachAsync{T}"/>.
/// With one shard the directory is never consulted.
/// </summary>
public sealed class ShardRouter : IAsyncDisposable
{
    /// <summary>The name of the one shard of a one-database deployment (<c>--database</c>, the embedded cluster).</summary>
    public const string DefaultShardName = "default";

    /// <summary>What <c>botstore_enter_tenant</c> raises on a shard the tenant has left (migration 0024).</summary>
    public const string MovedSqlState = "BS001";

    /// <summary>
    /// The class of the move lock: 0x6d76 ('mv') in the top 16 bits of the advisory lock key, the tenant id below.
    /// Every tenant transaction takes it shared (<c>botstore_enter_tenant</c>); a move takes it exclusive on the
    /// source's direct connection to fence the tenant's writes.
    /// </summary>
    public const long MoveLockClass = 0x6d76L << 48;

    /// <summary>How long a shard fails fast after a connection failure, by default.</summary>
    public static readonly TimeSpan DefaultFailFastFor = TimeSpan.FromSeconds(3);

    private readonly Dictionary<string, Shard> _byName;
    private readonly Dictionary<string, ShardCircuit> _circuits;
    private readonly bool _ownsDataSources;

    /// <summary>
    /// A router over <paramref name="shards"/> (configuration order); the directory lives on
    /// <paramref name="directoryShard"/> (default: the first), read through its direct data source.
    /// </summary>
    /// <exception cref="BotStoreConfigurationException">No shard, a name given twice or empty, or an unknown directory shard.</exception>
    /// <param name="shards">The shards, in configuration order.</param>
    /// <param name="directoryShard">The shard that holds the tenant directory; default the first.</param>
    /// <param name="directoryCacheTime">How long a tenant's shard is cached (<see cref="TenantDirectory.DefaultCacheTime"/>).</param>
    /// <param name="ownsDataSources">Whether <see cref="DisposeAsync"/> disposes the shards' data sources.</param>
    /// <param name="failFastFor">How long a shard fails fast after a connection failure (<see cref="DefaultFailFastFor"/>; zero: never).</param>
    /// <param name="time">The clock of the fail-fast interval.</param>
    public ShardRouter(IEnumerable<Shard> shards, string? directoryShard = null, TimeSpan? directoryCacheTime = null, bool ownsDataSources = false,
        TimeSpan? failFastFor = null, TimeProvider? time = null)
    {
        Shards = shards.ToArray();
        if (Shards.Count == 0)
            throw new BotStoreConfigurationException("no shard is configured");
        _byName = new Dictionary<string, Shard>(StringComparer.Ordinal);
        foreach (var shard in Shards)
        {
            ShardNames.Check(shard.Name);
            if (!_byName.TryAdd(shard.Name, shard))
                throw new BotStoreConfigurationException($"shard '{shard.Name}' is configured twice");
        }
        FailFastFor = failFastFor ?? DefaultFailFastFor;
        if (FailFastFor < TimeSpan.Zero)
            throw new BotStoreConfigurationException("the fail-fast interval of a shard cannot be negative");
        _circuits = Shards.ToDictionary(s => s.Name, s => new ShardCircuit(s.Name, Shards.Count > 1, FailFastFor, time ?? TimeProvider.System), StringComparer.Ordinal);
        DirectoryShard = directoryShard is null ? Shards[0] : Get(directoryShard);
        Directory = new TenantDirectory(DirectoryShard.Direct, directoryCacheTime);
        _ownsDataSources = ownsDataSources;
    }

    /// <summary>A router over one database, which is the shard <see cref="DefaultShardName"/>; the caller keeps owning it.</summary>
    public static ShardRouter Single(NpgsqlDataSource dataSource) => new([new Shard(DefaultShardName, dataSource)]);

    /// <summary>The shards in configuration order.</summary>
    public IReadOnlyList<Shard> Shards { get; }

    /// <summary>The shard whose database holds the directory.</summary>
    public Shard DirectoryShard { get; }

    /// <summary>Which shard holds each tenant.</summary>
    public TenantDirectory Directory { get; }

    /// <summary>Whether there is only one shard (the directory is then never consulted).</summary>
    public bool IsSingle => Shards.Count == 1;

    /// <summary>How long a shard's tenant calls fail fast after a connection failure to it.</summary>
    public TimeSpan FailFastFor { get; }

    /// <summary>Whether <paramref name="shard"/>'s tenant calls are failing fast now (a connection to it failed a moment ago).</summary>
    public bool IsFailingFast(string shard) => _circuits.TryGetValue(shard, out var circuit) && circuit.IsOpen;

    /// <summary>The advisory lock key that fences <paramref name="tenantId"/> during a move.</summary>
    public static long MoveLockKey(long tenantId) =>
        tenantId is >= 0 and < 1L << 48 ? MoveLockClass | tenantId : throw new BotStoreValidationException($"{tenantId} is not a tenant id");

    /// <summary>The shard with this name.</summary>
    /// <exception cref="BotStoreValidationException">No shard has this name.</exception>
    public Shard Get(string name) => _byName.TryGetValue(name, out var shard)
        ? shard
        : throw new BotStoreValidationException($"unknown shard '{name}': the configured shards are {string.Join(", ", Shards.Select(s => s.Name))}");

    /// <summary>The shard that holds the tenant (cached directory lookup).</summary>
    public async ValueTask<Shard> ShardOfAsync(long tenantId, CancellationToken ct = default)
    {
        if (IsSingle)
            return Shards[0];
        var name = await Directory.ShardOfAsync(tenantId, ct);
        return _byName.TryGetValue(name, out var shard)
            ? shard
            : throw new BotStoreUnavailableException($"tenant {tenantId} is on shard '{name}', which this process is not configured with");
    }

    /// <summary>
    /// Runs tenant-scoped work on the tenant's shard (its tenant-traffic data source), with PostgreSQL errors
    /// translated (<see cref="PostgresErrors"/>); see the class summary for moves and unreachable shards.
    /// </summary>
    public Task<T> RunAsync<T>(long tenantId, Func<NpgsqlDataSource, Task<T>> action, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        for (var attempt = 0; ; attempt++)
        {
            var shard = await ShardOfAsync(tenantId, ct);
            try
            {
                return await ThroughCircuitAsync(shard, action);
            }
            catch (PostgresException pg) when (pg.SqlState == MovedSqlState)
            {
                Directory.Forget(tenantId);
                if (attempt == 0 && !IsSingle)
                    continue;
                throw new BotStoreUnavailableException($"tenant {tenantId} is being moved to another shard: try again", pg);
            }
            catch (PostgresException pg) when (pg.SqlState == PostgresErrorCodes.LockNotAvailable && IsFence(pg))
            {
                throw new BotStoreUnavailableException($"tenant {tenantId} is being moved to another shard: try again", pg);
            }
            catch (Exception ex) when (!IsSingle && ex is not BotStoreShardUnavailableException && PostgresErrors.Translate(ex) is BotStoreUnavailableException unavailable)
            {
                throw new BotStoreUnavailableException($"shard '{shard.Name}': {unavailable.Message}", ex);
            }
        }
    });

    /// <summary>
    /// Runs work on <paramref name="shard"/>'s tenant-traffic data source when the caller already knows the shard (e.g.
    /// authenticating a token that names its tenant): the same fail-fast and shard-named errors as <see cref="RunAsync{T}"/>.
    /// </summary>
    public Task<T> OnShardAsync<T>(Shard shard, Func<NpgsqlDataSource, Task<T>> action, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        try
        {
            return await ThroughCircuitAsync(shard, action);
        }
        catch (Exception ex) when (!IsSingle && ex is not BotStoreShardUnavailableException && PostgresErrors.Translate(ex) is BotStoreUnavailableException unavailable)
        {
            throw new BotStoreUnavailableException($"shard '{shard.Name}': {unavailable.Message}", ex);
        }
    });

    // The shard's circuit around the work: fails fast while the shard is marked down (BotStoreShardUnavailableException,
    // which the callers pass on as it is), lets one probe through after the interval, and records whether the work
    // reached the server. The callers translate the rest.
    private async Task<T> ThroughCircuitAsync<T>(Shard shard, Func<NpgsqlDataSource, Task<T>> action)
    {
        var circuit = _circuits[shard.Name];
        var probe = FailFastFor > TimeSpan.Zero && circuit.Enter();
        try
        {
            var result = await action(shard.Tenants);
            circuit.Exit(probe, null);
            return result;
        }
        catch (Exception ex) when (Observe(circuit, probe, ex))
        {
            throw; // never reached: Observe only records the outcome and lets the callers' handlers decide
        }
    }

    /// <summary>Runs tenant-scoped work that returns nothing; see <see cref="RunAsync{T}"/>.</summary>
    public Task RunAsync(long tenantId, Func<NpgsqlDataSource, Task> action, CancellationToken ct = default) =>
        RunAsync(tenantId, async dataSource =>
        {
            await action(dataSource);
            return true;
        }, ct);

    /// <summary>
    /// Runs <paramref name="action"/> on every shard at once and says which shard answered what: a shard that fails
    /// gives its error (translated) instead of a value, and the others still answer.
    /// </summary>
    public async Task<IReadOnlyList<ShardAnswer<T>>> EachAsync<T>(Func<Shard, CancellationToken, Task<T>> action, CancellationToken ct = default)
    {
        var tasks = Shards.Select(async shard =>
        {
            try
            {
                return new ShardAnswer<T>(shard, await action(shard, ct), null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                return new ShardAnswer<T>(shard, default, PostgresErrors.Translate(ex) ?? ex);
            }
        }).ToArray();
        return await Task.WhenAll(tasks);
    }

    /// <summary>
    /// Like <see cref="EachAsync{T}"/>, but fails when any shard failed (after all have run), naming the shard: for
    /// verbs that must reach every shard.
    /// </summary>
    public async Task<IReadOnlyList<(Shard Shard, T Value)>> AllAsync<T>(Func<Shard, CancellationToken, Task<T>> action, CancellationToken ct = default)
    {
        var answers = await EachAsync(action, ct);
        if (answers.FirstOrDefault(a => a.Error is not null) is { } failed)
            throw IsSingle ? failed.Error! : ShardError(failed.Shard, failed.Error!);
        return answers.Select(a => (a.Shard, a.Value!)).ToArray();
    }

    /// <summary>Disposes the data sources when this router owns them.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_ownsDataSources)
            return;
        foreach (var source in Shards.SelectMany(s => new[] { s.Tenants, s.Direct }).Distinct())
            await source.DisposeAsync();
    }

    internal static Exception ShardError(Shard shard, Exception error) => error switch
    {
        BotStoreUnavailableException u => new BotStoreUnavailableException($"shard '{shard.Name}': {u.Message}", error),
        BotStoreConfigurationException c => new BotStoreConfigurationException($"shard '{shard.Name}': {c.Message}", error),
        BotStoreMigrationException m => new BotStoreMigrationException($"shard '{shard.Name}': {m.Message}", error),
        BotStoreValidationException v => new BotStoreValidationException($"shard '{shard.Name}': {v.Message}", error),
        _ => error,
    };

    private bool Observe(ShardCircuit circuit, bool probe, Exception ex)
    {
        if (FailFastFor > TimeSpan.Zero)
            circuit.Exit(probe, ex);
        return false;
    }

    // A lock_timeout raised while entering the tenant: the move fence outlasted it.
    private static bool IsFence(PostgresException pg) => pg.Where?.Contains("botstore_enter_tenant", StringComparison.Ordinal) == true;
}

/// <summary>What one shard answered: a value, or the error it failed with.</summary>
public sealed record ShardAnswer<T>(Shard Shard, T? Value, Exception? Error);
