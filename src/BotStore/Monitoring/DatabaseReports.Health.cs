using System.Globalization;
using BotStore.Internal;
using BotStore.Maintenance;
using Npgsql;

namespace BotStore.Monitoring;

public sealed partial class DatabaseReports
{
    /// <summary>
    /// The checks an operator wants green, each with one line of why: partition runway and default-partition rows,
    /// invalid, unused and duplicate indexes, tables autovacuum is behind on, transaction-id age, long transactions,
    /// lock waits, the slow-query log settings, pg_stat_statements, and the last maintenance runs. Built on the
    /// other reports (no query is written twice); a few settings are read besides.
    /// </summary>
    public Task<IReadOnlyList<HealthCheck>> HealthChecksAsync(HealthThresholds? thresholds = null, CancellationToken ct = default) =>
        PostgresErrors.Guard<IReadOnlyList<HealthCheck>>(async () =>
        {
            var t = thresholds ?? new HealthThresholds();
            var partitions = await PartitionsAsync(ct);
            var indexes = await IndexesAsync(ct);
            var vacuum = await VacuumAsync(ct);
            var connections = await ConnectionsAsync(ct);
            var queries = await SlowQueriesAsync(1, QueryOrder.Total, ct);
            var settings = await SettingsAsync(ct);
            var lastRuns = await new MaintenanceRunner(dataSource).LastRunsAsync(ct);

            // The runway counts the current month, so a full premake window is one more month than the premake target.
            var short_ = partitions.Where(p => p.RunwayMonths <= p.PremakeMonths).ToList();
            var defaults = partitions.Where(p => p.DefaultRows > 0).ToList();
            var invalid = indexes.Where(i => !i.IsValid).ToList();
            var unused = indexes.Where(i => i.IsUnused && i.Bytes >= t.UnusedIndexMinBytes).ToList();
            var duplicate = indexes.Where(i => i.RedundantWith is not null).ToList();
            var behind = vacuum.Where(v => v.DeadRows >= t.DeadRowsMin && v.DeadRatio >= t.DeadRatio).ToList();
            var freezeMaxAge = long.Parse(settings["autovacuum_freeze_max_age"], CultureInfo.InvariantCulture);
            var oldXid = vacuum.Where(v => v.XidAge > freezeMaxAge * t.XidAgeFraction).OrderByDescending(v => v.XidAge).ToList();
            var longXacts = connections.Groups.Where(g => g.OldestTransactionSeconds > t.LongTransaction.TotalSeconds).ToList();
            var waiting = connections.Groups.Sum(g => g.WaitingOnLocks);
            var slowLog = int.Parse(settings["log_min_duration_statement"], CultureInfo.InvariantCulture);
            var lockLog = settings["log_lock_waits"] == "on";
            var failedRuns = lastRuns.Where(r => r.Outcome == MaintenanceOutcome.Failed).ToList();

            return
            [
                new("partition_runway", "Partition runway", short_.Count == 0, short_.Count == 0
                    ? $"every partitioned table has its premade months ({string.Join(", ", partitions.Select(p => $"{p.Table} {p.RunwayMonths} months"))})"
                    : $"below the premake target: {Names(short_.Select(p => $"{p.Table} (runway {p.RunwayMonths} of {p.PremakeMonths + 1} months)"))}; run 'botstore partitions ensure'"),
                new("default_partition_rows", "Default partitions empty", defaults.Count == 0, defaults.Count == 0
                    ? "no row landed in a default partition"
                    : $"rows in a default partition: {Names(defaults.Select(p => $"{p.Table} ({p.DefaultRows})"))}; 'botstore partitions ensure' moves them into monthly partitions"),
                new("invalid_indexes", "Invalid indexes", invalid.Count == 0, invalid.Count == 0
                    ? "no invalid index"
                    : $"failed builds that cost writes and serve no query: {Names(invalid.Select(i => i.Name))}; drop and rebuild them"),
                new("unused_indexes", "Unused indexes", unused.Count == 0, unused.Count == 0
                    ? $"every index of at least {Bytes(t.UnusedIndexMinBytes)} has been scanned since statistics were reset"
                    : $"never scanned and enforcing nothing: {Names(unused.Select(i => $"{i.Name} ({Bytes(i.Bytes)})"))}"),
                new("duplicate_indexes", "Duplicate indexes", duplicate.Count == 0, duplicate.Count == 0
                    ? "no index is covered by another"
                    : $"covered by another index: {Names(duplicate.Select(i => $"{i.Name} (by {i.RedundantWith})"))}"),
                new("autovacuum", "Autovacuum keeping up", behind.Count == 0, behind.Count == 0
                    ? $"no table has {t.DeadRatio:P0} dead rows or more"
                    : $"dead rows waiting: {Names(behind.Select(v => $"{v.Table} ({v.DeadRows} dead, {v.DeadRatio:P0})"))}"),
                new("xid_age", "Transaction-id age", oldXid.Count == 0, oldXid.Count == 0
                    ? $"oldest unfrozen table is {vacuum.Max(v => v.XidAge) ?? 0:N0} transactions old (autovacuum freezes at {freezeMaxAge:N0})"
                    : $"past {t.XidAgeFraction:P0} of autovacuum_freeze_max_age: {Names(oldXid.Select(v => $"{v.Table} ({v.XidAge:N0})"))}; check that autovacuum runs"),
                new("long_transactions", "Long transactions", longXacts.Count == 0, longXacts.Count == 0
                    ? $"no transaction open longer than {t.LongTransaction.TotalMinutes:0} minutes"
                    : $"open longer than {t.LongTransaction.TotalMinutes:0} minutes (they hold back vacuum): {Names(longXacts.Select(g => $"{g.User}@{g.Database} {g.State} {g.OldestTransactionSeconds:0} s"))}"),
                new("lock_waits", "Lock waits", waiting == 0, waiting == 0
                    ? "no session waits for a lock"
                    : $"{waiting} sessions wait for a lock now: {Names(connections.Groups.Where(g => g.WaitingOnLocks > 0).Select(g => $"{g.User}@{g.Database} ({g.WaitingOnLocks})"))}"),
                new("slow_query_log", "Slow-query log", slowLog >= 0 && lockLog, slowLog >= 0 && lockLog
                    ? $"statements over {slowLog} ms and lock waits are logged"
                    : $"log_min_duration_statement = {slowLog}, log_lock_waits = {settings["log_lock_waits"]}: set 100 and on to see slow statements and lock waits"),
                new("pg_stat_statements", "pg_stat_statements", queries.Available, queries.Available
                    ? "installed and loaded: the queries page has figures"
                    : queries.Unavailable!),
                new("maintenance", "Maintenance runs", failedRuns.Count == 0, failedRuns.Count == 0
                    ? lastRuns.Count == 0 ? "no maintenance has run yet" : $"the last run of each task succeeded or was skipped ({lastRuns.Count} tasks)"
                    : $"last run failed: {Names(failedRuns.Select(r => $"{r.Task} at {r.StartedAt:yyyy-MM-dd HH:mm} ({r.Error})"))}"),
            ];
        });

    private async Task<Dictionary<string, string>> SettingsAsync(CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            SELECT name, setting FROM pg_settings
            WHERE name IN ('log_min_duration_statement', 'log_lock_waits', 'autovacuum_freeze_max_age')
            """);
        var settings = new Dictionary<string, string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            settings[reader.GetString(0)] = reader.GetString(1);
        return settings;
    }

    private static string Names(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count <= 5 ? string.Join(", ", list) : $"{string.Join(", ", list.Take(5))} and {list.Count - 5} more";
    }

    private static string Bytes(long bytes) => bytes >= 1 << 20
        ? $"{bytes / 1048576.0:0.#} MB"
        : $"{bytes / 1024.0:0.#} kB";
}

/// <summary>One health check: green or red, and why.</summary>
/// <param name="Name">A stable key, e.g. <c>default_partition_rows</c>.</param>
/// <param name="Title">What it checks, for people.</param>
/// <param name="Ok">Green.</param>
/// <param name="Detail">One line: what was found, and on red what to do.</param>
public sealed record HealthCheck(string Name, string Title, bool Ok, string Detail);

/// <summary>Where <see cref="DatabaseReports.HealthChecksAsync"/> turns red.</summary>
public sealed record HealthThresholds
{
    /// <summary>Unused indexes smaller than this are not worth a warning.</summary>
    public long UnusedIndexMinBytes { get; init; } = 1 << 20;

    /// <summary>A table is behind on vacuum with at least this share of dead rows...</summary>
    public double DeadRatio { get; init; } = 0.2;

    /// <summary>...and at least this many.</summary>
    public long DeadRowsMin { get; init; } = 1000;

    /// <summary>
    /// A table's transaction-id age is red past this share of autovacuum_freeze_max_age (1: autovacuum should already
    /// have frozen it, so it is behind).
    /// </summary>
    public double XidAgeFraction { get; init; } = 1.0;

    /// <summary>A transaction open longer than this is red.</summary>
    public TimeSpan LongTransaction { get; init; } = TimeSpan.FromMinutes(5);
}
