using System.Text.Json.Serialization;

namespace BotStore.Sharding.Moves;

/// <summary>The steps of a tenant move, in order; the journal (<c>tenant_moves.step</c>) records the last one reached.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<MoveStep>))]
public enum MoveStep
{
    /// <summary>The journal row exists; nothing else is made yet.</summary>
    Started,
    /// <summary>The publication (row filter on the tenant) and its replication slot exist on the source.</summary>
    Published,
    /// <summary>The subscription exists on the target and is copying.</summary>
    Subscribed,
    /// <summary>Every table's initial copy is done.</summary>
    Copied,
    /// <summary>The target trails the source by less than the catch-up threshold.</summary>
    CaughtUp,
    /// <summary>Inside the write fence (not journaled: a kill here rolls the fence transaction back).</summary>
    Fencing,
    /// <summary>Verified, and the source refuses the tenant (<c>tenant_fence</c>); the directory still names the source.</summary>
    Fenced,
    /// <summary>The directory names the target: the tenant is served there.</summary>
    Switched,
    /// <summary>Subscription, slot and publication are dropped.</summary>
    Cleaned,
    /// <summary>The source copy is deleted; the move is finished.</summary>
    Done,
    /// <summary>The move was undone: the tenant stays on the source and the target holds none of its rows.</summary>
    RolledBack,
}

/// <summary>Step names as the journal and the CLI write them (<c>caught-up</c>, <c>rolled-back</c>, else the name in lower case).</summary>
public static class MoveStepNames
{
    /// <summary>The step's name.</summary>
    public static string Name(this MoveStep step) => step switch
    {
        MoveStep.CaughtUp => "caught-up",
        MoveStep.RolledBack => "rolled-back",
        _ => step.ToString().ToLowerInvariant(),
    };
}

/// <summary>One progress line of a move.</summary>
public sealed record MoveProgress(MoveStep Step, string Message);

/// <summary>One table compared on both sides inside the fence: the tenant's row count and a checksum of its rows.</summary>
public sealed record TableCheck(string Table, long SourceRows, long TargetRows, decimal SourceChecksum, decimal TargetChecksum)
{
    /// <summary>Whether both sides hold the same rows.</summary>
    public bool Matches => SourceRows == TargetRows && SourceChecksum == TargetChecksum;
}

/// <summary>What a move (or its resumption, or its rollback) did.</summary>
public sealed record MoveReport
{
    /// <summary>The tenant.</summary>
    public required long TenantId { get; init; }
    /// <summary>The shard it left (or stays on, after a rollback).</summary>
    public required string Source { get; init; }
    /// <summary>The shard it moved to.</summary>
    public required string Target { get; init; }
    /// <summary><see cref="MoveStep.Done"/> or <see cref="MoveStep.RolledBack"/>.</summary>
    public required MoveStep Outcome { get; init; }
    /// <summary>Per-table verification made inside the fence (empty after a rollback).</summary>
    public IReadOnlyList<TableCheck> Tables { get; init; } = [];
    /// <summary>Seconds the initial copy took (in this run; null when it was done before).</summary>
    public double? CopySeconds { get; init; }
    /// <summary>Seconds from the end of the copy until the target trailed by less than the threshold.</summary>
    public double? CatchUpSeconds { get; init; }
    /// <summary>How long the tenant's writes were fenced: from taking the lock to the directory switch.</summary>
    public double? FenceMilliseconds { get; init; }
    /// <summary>Rows of the tenant deleted from the source (or from the target, after a rollback).</summary>
    public long RowsDeleted { get; init; }
    /// <summary>Rows of the tenant on the target at verification.</summary>
    public long RowsMoved => Tables.Sum(t => t.TargetRows);
}

/// <summary>A shard as a move sees it: its owner's direct data source and the address its server is reached at by another server.</summary>
/// <param name="Name">The shard's configured name.</param>
/// <param name="DataSource">A direct connection (not PgBouncer) as a superuser: moves create publications, slots and subscriptions.</param>
/// <param name="PublisherConnectionString">
/// The libpq connection string the other shard's server uses to subscribe to this one (see <see cref="MoveShard.ToConnInfo"/>).
/// </param>
public sealed record MoveShard(string Name, Npgsql.NpgsqlDataSource DataSource, string PublisherConnectionString)
{
    /// <summary>
    /// The libpq form (<c>host=... port=... dbname=... user=... password=...</c>) of an Npgsql connection string, for
    /// a subscription's CONNECTION clause.
    /// </summary>
    public static string ToConnInfo(string connectionString)
    {
        var b = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        var parts = new List<string>();
        void Add(string key, object? value)
        {
            if (value is null || value is string { Length: 0 })
                return;
            var text = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!;
            parts.Add($"{key}='{text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)}'");
        }
        Add("host", b.Host);
        Add("port", b.Port);
        Add("dbname", b.Database);
        Add("user", b.Username);
        Add("password", b.Password);
        return string.Join(' ', parts);
    }
}

/// <summary>Tuning of <see cref="TenantMover"/>.</summary>
public sealed record TenantMoverOptions
{
    /// <summary>Rows per transaction when the source copy (or a rolled-back target copy) is deleted.</summary>
    public int DeleteBatchSize { get; init; } = 10_000;

    /// <summary>The fence is tried once the target trails the source by less than this many bytes of WAL.</summary>
    public long CatchUpLagBytes { get; init; } = 1 << 20;

    /// <summary>How long the fence waits for the tenant's running transactions before it gives up and tries again.</summary>
    public TimeSpan FenceLockTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long, inside the fence, the target may take to receive the last writes before the fence is lifted and retried.</summary>
    public TimeSpan FenceCatchUpTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the fence is tried before the move gives up (it can be resumed).</summary>
    public int FenceAttempts { get; init; } = 5;

    /// <summary>How often copy and catch-up are polled.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Called after each step is reached (after the journal records it), and inside the fence as <see cref="MoveStep.Fencing"/>.
    /// Tests pause here to kill the process at a known step.
    /// </summary>
    public Func<MoveStep, CancellationToken, Task>? AfterStep { get; init; }
}
