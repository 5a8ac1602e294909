using BotStore.Tooling.PgBouncer;
using BotStore.Schema;
using BotStore.Sharding;
using BotStore.Tooling.Embedded;
using Npgsql;

namespace BotStore.Tests.Infrastructure;

/// <summary>
/// Two shards on two embedded clusters, each behind its own real PgBouncer in transaction mode: <c>east</c> is a
/// migrated database on the shared test cluster, <c>west</c> the database of a cluster of this fixture's own (so a
/// test may stop and start it). Both clusters run with wal_level = logical. <see cref="CreateRouter"/> routes tenant
/// traffic through the PgBouncers and owner work directly; east holds the directory.
/// </summary>
public sealed class TwoShards : IAsyncLifetime
{
    private string? _westFolder;

    /// <summary>The shard on the shared test cluster (it holds the directory).</summary>
    public ShardDatabase East { get; private set; } = null!;

    /// <summary>The shard on this fixture's own cluster.</summary>
    public ShardDatabase West { get; private set; } = null!;

    /// <summary>Both, east first (configuration order).</summary>
    public IReadOnlyList<ShardDatabase> All => [East, West];

    /// <summary>West's cluster, to stop and start.</summary>
    public EmbeddedPostgres WestCluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var east = TestCluster.CreateMigratedDatabaseAsync();
        _westFolder = TestCluster.NewTempFolder("botstore-west");
        WestCluster = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions
        {
            DataDirectory = Path.Combine(_westFolder, "pg"),
            Port = TestCluster.FreePort(),
            SharedBuffers = "32MB",
            ArchiveWal = false,
            MaxConnections = 300,
        });
        TestCluster.StartWatchdog(WestCluster, _westFolder);
        var westDirect = WestCluster.ConnectionStringFor("botstore");
        await using (var admin = new NpgsqlConnection(WestCluster.ConnectionString + ";Pooling=false"))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE DATABASE botstore", admin);
            await create.ExecuteNonQueryAsync();
        }
        await using (var migrate = NpgsqlDataSource.Create(westDirect + ";Pooling=false"))
            await new MigrationRunner(migrate).MigrateAsync();
        var eastDirect = await east;
        East = new ShardDatabase("east", eastDirect, await TestPgBouncer.StartAsync(eastDirect, 20));
        West = new ShardDatabase("west", westDirect, await TestPgBouncer.StartAsync(westDirect, 20, WestCluster));
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (East is not null)
        {
            await East.Bouncer.DisposeAsync();
            await TestCluster.DropDatabaseAsync(East.DirectConnectionString);
        }
        if (West is not null)
            await West.Bouncer.DisposeAsync();
        if (WestCluster is not null)
            await WestCluster.DisposeAsync();
        if (_westFolder is not null)
            Directory.Delete(_westFolder, recursive: true);
    }

    /// <summary>
    /// A router over both shards: tenant traffic through each PgBouncer (nothing prepared, no reset), owner work
    /// direct; the caller disposes it (and with it its data sources). <paramref name="time"/> is the clock of the
    /// shards' fail-fast interval (a <see cref="ManualClock"/> makes it deterministic).
    /// </summary>
    public ShardRouter CreateRouter(bool throughPgBouncer = true, TimeSpan? directoryCacheTime = null, TimeProvider? time = null) =>
        new(All.Select(s => s.CreateShard(throughPgBouncer)), directoryCacheTime: directoryCacheTime, ownsDataSources: true, time: time);

    /// <summary>The configuration of <c>serve</c> for both shards (BotStore:Shards:NAME:Url and :PgBouncer).</summary>
    public Dictionary<string, string?> ServeConfiguration() => All.SelectMany(s => new KeyValuePair<string, string?>[]
    {
        new($"BotStore:Shards:{s.Name}:Url", s.DirectConnectionString),
        new($"BotStore:Shards:{s.Name}:PgBouncer", s.Bouncer.ConnectionString),
    }).ToDictionary();

    /// <summary>The CLI's <c>--shard NAME=URL</c> options for both shards (direct connections).</summary>
    public string[] CliShardArgs() => All.SelectMany(s => new[] { "--shard", $"{s.Name}={s.DirectConnectionString}" }).ToArray();

    /// <summary>Starts west's cluster again after a test stopped it.</summary>
    public Task StartWestAsync() => WestCluster.EnsureRunningAsync();

    /// <summary>Stops west's cluster (fast shutdown: its connections are closed).</summary>
    public async Task StopWestAsync()
    {
        var pgCtl = WestCluster.Binaries.Program("pg_ctl");
        var psi = Environment.UserName == "root"
            ? new System.Diagnostics.ProcessStartInfo("runuser", ["-u", "postgres", "--", pgCtl, "stop", "-D", WestCluster.DataDirectory, "-m", "fast", "-w", "-s"])
            : new System.Diagnostics.ProcessStartInfo(pgCtl, ["stop", "-D", WestCluster.DataDirectory, "-m", "fast", "-w", "-s"]);
        using var process = System.Diagnostics.Process.Start(psi)!;
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"pg_ctl stop exited with {process.ExitCode}");
    }
}

/// <summary>One shard of <see cref="TwoShards"/>: its direct (superuser) connection string and its PgBouncer.</summary>
public sealed record ShardDatabase(string Name, string DirectConnectionString, PgBouncerProcess Bouncer)
{
    /// <summary>A data source straight to the database (owner work), without an idle minimum.</summary>
    public NpgsqlDataSource CreateDirect(string applicationName = "botstore-tests") =>
        (ConnectionSettings.Default with { MinConnections = 0 }).CreateDataSource(DirectConnectionString, applicationName);

    /// <summary>A data source through this shard's PgBouncer, with the pooled settings (nothing prepared, no reset).</summary>
    public NpgsqlDataSource CreatePooled(string applicationName = "botstore-tests") =>
        (ConnectionSettings.Default with { MinConnections = 0, ThroughPgBouncer = true }).CreateDataSource(Bouncer.ConnectionString, applicationName);

    /// <summary>The shard for a router: tenant traffic through PgBouncer (or direct), owner work direct.</summary>
    public Shard CreateShard(bool throughPgBouncer = true) =>
        new(Name, throughPgBouncer ? CreatePooled() : CreateDirect(), CreateDirect());

    /// <summary>Runs a query directly on this shard and returns the first column of the first row.</summary>
    public async Task<T> ScalarAsync<T>(string sql, params object[] args)
    {
        await using var conn = new NpgsqlConnection(DirectConnectionString + ";Pooling=false");
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var arg in args)
            cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        return (T)(await cmd.ExecuteScalarAsync())!;
    }
}

/// <summary>A clock that moves only when told to: the fail-fast interval of a shard without waiting for it.</summary>
public sealed class ManualClock : TimeProvider
{
    private long _ticks = TimeSpan.TicksPerDay;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.UnixEpoch.AddTicks(Interlocked.Read(ref _ticks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
