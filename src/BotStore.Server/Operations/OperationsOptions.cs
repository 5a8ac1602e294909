using BotStore.Maintenance;
using BotStore.Partitions;
using BotStore.Server.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Quartz;

namespace BotStore.Server.Operations;

/// <summary>
/// What <c>serve</c> runs on its own and when: the configuration section <c>BotStore:Operations</c>, bound with the
/// options pattern and checked by <see cref="OperationsOptionsValidator"/>. Schedules are cron
/// expressions in UTC: Quartz's six or seven fields (<c>sec min hour day-of-month month day-of-week [year]</c>,
/// e.g. <c>0 0 3 * * ?</c>), five-field Unix cron (<c>0 3 * * *</c>), or a macro (<c>@daily</c>). An empty
/// schedule turns that task off.
/// </summary>
public sealed class OperationsOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string Section = "BotStore:Operations";

    /// <summary>Whether this instance schedules anything (reports and metrics work either way).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Run partition ensure (and retention) once at start, before the first scheduled run.</summary>
    public bool RunPartitionsAtStart { get; set; } = true;

    /// <summary>Partition ensure and retention: daily at 03:00 UTC.</summary>
    public string? PartitionsSchedule { get; set; } = "0 0 3 * * ?";

    /// <summary>Reindex of bloated indexes: weekly, Sunday 04:00 UTC.</summary>
    public string? ReindexSchedule { get; set; } = "0 0 4 ? * SUN";

    /// <summary>ANALYZE of every table and partitioned parent: monthly, on the 1st at 05:00 UTC.</summary>
    public string? AnalyzeSchedule { get; set; } = "0 0 5 1 * ?";

    /// <summary>CLUSTER of closed partitions: quarterly, on 1 January, April, July and October at 06:00 UTC.</summary>
    public string? ClusterSchedule { get; set; } = "0 0 6 1 1,4,7,10 ?";

    /// <summary>VACUUM (ANALYZE) of <see cref="VacuumTables"/>: off unless set.</summary>
    public string? VacuumSchedule { get; set; }

    /// <summary>
    /// pgBackRest backups of the embedded cluster <c>serve</c> runs on (nothing else): daily at 02:00 UTC. The cluster
    /// archives every WAL segment, and pgBackRest expires archived WAL only with the full backups it keeps (two), so
    /// without backups the archive grows for ever. Empty: no backups (then run <c>botstore backup</c> yourself).
    /// </summary>
    public string? BackupSchedule { get; set; } = "0 0 2 * * ?";

    /// <summary>A scheduled backup is full when the last full one is this many days old or more, else incremental.</summary>
    public int FullBackupEveryDays { get; set; } = 7;

    /// <summary>Per-table overrides of <c>partitioned_tables</c> (premake and retention months; retention 0 = off).</summary>
    public Dictionary<string, PartitionTableOptions> Tables { get; set; } = [];

    /// <summary>Keep retired partitions as plain tables instead of dropping them.</summary>
    public bool KeepDetached { get; set; }

    /// <summary>Longest wait, per attempt, for a lock on a partitioned parent (retention, recovery) or a partition (CLUSTER).</summary>
    public int LockTimeoutMilliseconds { get; set; } = 1000;

    /// <summary>Estimated bloat fraction that makes the reindex task rebuild an index.</summary>
    public double ReindexBloatThreshold { get; set; } = 0.3;

    /// <summary>Indexes smaller than this many MB are never rebuilt.</summary>
    public int ReindexMinMegabytes { get; set; } = 8;

    /// <summary>How index bloat is measured (Auto: pgstatindex when installed).</summary>
    public IndexBloatMethod BloatMethod { get; set; } = IndexBloatMethod.Auto;

    /// <summary>Partitioned tables clustered by the cluster task, and the index each is ordered by.</summary>
    public Dictionary<string, string> ClusterTargets { get; set; } = new() { ["message_history"] = "idx_messages_session" };

    /// <summary>Tables the vacuum task vacuums.</summary>
    public List<string> VacuumTables { get; set; } = [];

    /// <summary>A maintenance run starts no new step after this many minutes.</summary>
    public int TimeBudgetMinutes { get; set; } = 120;

    /// <summary>Binds <paramref name="configuration"/>'s <c>BotStore:Operations</c> section and checks it (defaults where it says nothing).</summary>
    /// <exception cref="BotStoreConfigurationException">A value that does not convert or cannot work: one line naming the setting.</exception>
    public static OperationsOptions Load(IConfiguration configuration) => OptionsBinding.Load(configuration, Section, new OperationsOptionsValidator());

    /// <summary>Checks everything that can be checked without a database; one clear error otherwise.</summary>
    /// <exception cref="BotStoreConfigurationException">A cron expression that does not parse, a number out of range.</exception>
    public void Validate() => OptionsBinding.Check(this, new OperationsOptionsValidator());

    /// <summary>What is wrong with these options, each naming its setting.</summary>
    internal IEnumerable<string> Failures()
    {
        foreach (var (key, text) in ScheduleTexts().Append((nameof(BackupSchedule), BackupSchedule)))
        {
            string? failure = null;
            try
            {
                if (!string.IsNullOrWhiteSpace(text))
                    ParseCron($"{Section}:{key}", text);
            }
            catch (BotStoreConfigurationException ex)
            {
                failure = ex.Message;
            }
            if (failure is not null)
                yield return failure;
        }
        if (FullBackupEveryDays < 1)
            yield return $"{Section}:FullBackupEveryDays must be at least 1 (got {FullBackupEveryDays})";
        if (LockTimeoutMilliseconds <= 0)
            yield return $"{Section}:LockTimeoutMilliseconds must be positive (got {LockTimeoutMilliseconds})";
        if (TimeBudgetMinutes <= 0)
            yield return $"{Section}:TimeBudgetMinutes must be positive (got {TimeBudgetMinutes})";
        if (ReindexMinMegabytes < 0)
            yield return $"{Section}:ReindexMinMegabytes must not be negative (got {ReindexMinMegabytes})";
        if (ReindexBloatThreshold is <= 0 or > 1 || double.IsNaN(ReindexBloatThreshold))
            yield return $"{Section}:ReindexBloatThreshold {ReindexBloatThreshold} is out of range: use a fraction above 0 and at most 1 (0.3 = 30%)";
        foreach (var (table, o) in Tables)
        {
            if (o.RetentionMonths is > 0 and var r && o.PremakeMonths is { } p && r < p)
                yield return $"{Section}:Tables:{table}: retention of {r} months is shorter than the premake window of {p} months";
        }
    }

    /// <summary>The partition manager's options.</summary>
    public PartitionOptions ToPartitionOptions() => new()
    {
        Tables = new Dictionary<string, PartitionTableOptions>(Tables),
        KeepDetached = KeepDetached,
        LockTimeout = TimeSpan.FromMilliseconds(LockTimeoutMilliseconds),
    };

    /// <summary>The maintenance runner's options.</summary>
    public MaintenanceOptions ToMaintenanceOptions() => new()
    {
        ReindexBloatThreshold = ReindexBloatThreshold,
        ReindexMinBytes = ReindexMinMegabytes * 1024L * 1024,
        BloatMethod = BloatMethod,
        ClusterTargets = ClusterTargets.Select(t => new ClusterTarget(t.Key, t.Value)).ToList(),
        VacuumTables = VacuumTables,
        TimeBudget = TimeSpan.FromMinutes(TimeBudgetMinutes),
        LockTimeout = TimeSpan.FromMilliseconds(LockTimeoutMilliseconds),
    };

    /// <summary>Every job with a schedule: the partition job (task null) and each maintenance task.</summary>
    internal IReadOnlyList<(string Name, MaintenanceTask? Task, CronExpression Cron)> Schedules() =>
        [.. ScheduleTexts().Zip(Jobs).Where(j => !string.IsNullOrWhiteSpace(j.First.Text))
            .Select(j => (j.Second.Name, j.Second.Task, ParseCron($"{Section}:{j.First.Key}", j.First.Text!)))];

    private static readonly (string Name, MaintenanceTask? Task)[] Jobs =
        [("partitions", null), ("reindex", MaintenanceTask.Reindex), ("analyze", MaintenanceTask.Analyze), ("cluster", MaintenanceTask.Cluster), ("vacuum", MaintenanceTask.Vacuum)];

    private IEnumerable<(string Key, string? Text)> ScheduleTexts() =>
    [
        (nameof(PartitionsSchedule), PartitionsSchedule), (nameof(ReindexSchedule), ReindexSchedule), (nameof(AnalyzeSchedule), AnalyzeSchedule),
        (nameof(ClusterSchedule), ClusterSchedule), (nameof(VacuumSchedule), VacuumSchedule),
    ];

    /// <summary>The backup schedule, parsed; null when backups are off.</summary>
    internal CronExpression? BackupCron() =>
        string.IsNullOrWhiteSpace(BackupSchedule) ? null : ParseCron($"{Section}:{nameof(BackupSchedule)}", BackupSchedule);

    /// <summary>Reads a cron expression in UTC: five fields as Unix cron, else Quartz's format or a macro.</summary>
    internal static CronExpression ParseCron(string key, string text)
    {
        var trimmed = text.Trim();
        var unix = !trimmed.StartsWith('@') && trimmed.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 5;
        try
        {
            var cron = unix ? CronExpression.Parse(trimmed, CronFormat.Unix) : CronExpression.Parse(trimmed);
            return cron.WithTimeZone(TimeZoneInfo.Utc);
        }
        catch (FormatException ex)
        {
            throw new BotStoreConfigurationException(
                $"{key} '{text}' is not a cron expression ({ex.Message.TrimEnd('.')}): use Quartz's 'sec min hour day month weekday' (e.g. '0 0 3 * * ?'), five-field Unix cron ('0 3 * * *') or @daily");
        }
    }
}

/// <summary>Checks <see cref="OperationsOptions"/> (cron expressions, ranges) when the host starts; the database-side checks follow in <see cref="OperationsHostedService"/>.</summary>
public sealed class OperationsOptionsValidator : IValidateOptions<OperationsOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, OperationsOptions options) =>
        options.Failures().ToList() is { Count: > 0 } failures ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
}
