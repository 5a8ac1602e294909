using System.Diagnostics;
using BotStore.Internal;
using BotStore.Maintenance.Internal;
using Npgsql;

namespace BotStore.Maintenance;

/// <summary>
/// Runs the seed's maintenance tasks (reindex, analyze, cluster, vacuum): plans the statements, then runs them one
/// at a time on one connection, under one runner lock across all instances, starting no step once the time budget
/// is spent. Every run and step is written to <c>maintenance_runs</c>.
/// </summary>
public sealed class MaintenanceRunner(NpgsqlDataSource dataSource, MaintenanceOptions? options = null)
{
    private readonly MaintenanceOptions _options = options ?? new MaintenanceOptions();
    private readonly RunJournal _journal = new(dataSource);

    /// <summary>The task's name in the journal and on the command line.</summary>
    public static string TaskName(MaintenanceTask task) => task.ToString().ToLowerInvariant();

    /// <summary>Reads a task name (<c>reindex</c>, <c>analyze</c>, <c>cluster</c>, <c>vacuum</c>).</summary>
    /// <exception cref="BotStoreValidationException">It names no task.</exception>
    public static MaintenanceTask ParseTask(string name) =>
        Enum.TryParse<MaintenanceTask>(name, ignoreCase: true, out var task) && TaskName(task) == name.ToLowerInvariant()
            ? task
            : throw new BotStoreValidationException($"unknown maintenance task '{name}': use one of {string.Join(", ", Enum.GetValues<MaintenanceTask>().Select(TaskName))}");

    /// <summary>
    /// Checks the options against the database: thresholds in range, cluster targets that are partitioned tables
    /// with that index, vacuum tables that exist. Throws one <see cref="BotStoreConfigurationException"/>.
    /// </summary>
    public Task ValidateAsync(CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        if (_options.ReindexBloatThreshold is <= 0 or > 1 || double.IsNaN(_options.ReindexBloatThreshold))
            throw new BotStoreConfigurationException($"reindex bloat threshold {_options.ReindexBloatThreshold} is out of range: use a fraction above 0 and at most 1 (0.3 = 30%)");
        if (_options.TimeBudget <= TimeSpan.Zero || _options.ReindexMinBytes < 0 || _options.LockTimeout <= TimeSpan.Zero || _options.LockAttempts < 1)
            throw new BotStoreConfigurationException("maintenance time budget, lock timeout and lock attempts must be positive, and the reindex minimum size not negative");
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        foreach (var target in _options.ClusterTargets)
        {
            var table = await Relation.FindAsync(conn, target.Table, ct);
            if (table is not { Kind: 'p' })
                throw new BotStoreConfigurationException($"cluster target '{target.Table}' is {(table is null ? "not a table" : "not partitioned")}: BotStore clusters closed partitions of a partitioned table");
            var index = await Relation.FindAsync(conn, target.Index, ct);
            if (index is not { Kind: 'I' } || !await IndexOnAsync(conn, index.Oid, table.Oid, ct))
                throw new BotStoreConfigurationException($"cluster index '{target.Index}' is not an index of {target.Table}");
        }
        foreach (var name in _options.VacuumTables)
        {
            if (await Relation.FindAsync(conn, name, ct) is not { IsTable: true })
                throw new BotStoreConfigurationException($"vacuum table '{name}' does not exist");
        }
    });

    /// <summary>What the task would do now (on <paramref name="table"/> only, when given).</summary>
    public Task<IReadOnlyList<MaintenanceStep>> PlanAsync(MaintenanceTask task, string? table = null, CancellationToken ct = default) =>
        PostgresErrors.Guard<IReadOnlyList<MaintenanceStep>>(async () =>
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            return await PlanAsync(conn, task, table, ct);
        });

    /// <summary>
    /// Runs the task now. When another instance holds the maintenance runner lock, returns a
    /// <see cref="MaintenanceOutcome.Skipped"/> result at once, or waits for it when <paramref name="wait"/>.
    /// <paramref name="dryRun"/> returns the plan and runs nothing.
    /// </summary>
    public Task<MaintenanceRunResult> RunAsync(MaintenanceTask task, string? table = null, bool dryRun = false, bool wait = false,
        CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        if (dryRun)
        {
            var planned = await PlanAsync(task, table, ct);
            return new MaintenanceRunResult(task, null, true, MaintenanceOutcome.Skipped, $"dry run: {planned.Count} steps planned",
                planned.Select(s => new MaintenanceStepResult(s.Target, s.Statement, s.Reason, MaintenanceOutcome.Skipped, "dry run", 0)).ToList());
        }
        await using var runner = await RunnerLock.AcquireAsync(dataSource, RunnerLock.Maintenance, wait, ct);
        if (runner is null)
            return new MaintenanceRunResult(task, null, false, MaintenanceOutcome.Skipped, "another instance is running maintenance", []);
        var conn = runner.Connection;
        var name = TaskName(task);
        var clock = Stopwatch.StartNew();
        List<MaintenanceStep> plan;
        try
        {
            plan = await PlanAsync(conn, task, table, ct);
        }
        catch (Exception ex) when (ex is not BotStoreValidationException)
        {
            // Bad input is the caller's to report; anything else is a failed run the journal must show.
            var failedRun = await _journal.StartAsync(name, table, null, null, CancellationToken.None);
            await _journal.FinishAsync(failedRun, MaintenanceOutcome.Failed, "planning failed", RunJournal.Describe(ex));
            throw;
        }
        var runId = await _journal.StartAsync(name, table, null, null, ct);
        var results = new List<MaintenanceStepResult>();
        try
        {
            foreach (var step in plan)
            {
                if (clock.Elapsed >= _options.TimeBudget)
                {
                    var why = $"time budget of {_options.TimeBudget} spent: left for the next run";
                    await _journal.RecordAsync(name, step.Target, runId, MaintenanceOutcome.Skipped, step.Reason, why, ct);
                    results.Add(new MaintenanceStepResult(step.Target, step.Statement, step.Reason, MaintenanceOutcome.Skipped, why, 0));
                    continue;
                }
                results.Add(await ExecuteAsync(conn, name, runId, step, ct));
            }
        }
        catch (Exception ex)
        {
            await _journal.FinishAsync(runId, MaintenanceOutcome.Failed, Summary(results), RunJournal.Describe(ex));
            throw;
        }
        var failed = results.Where(r => r.Outcome == MaintenanceOutcome.Failed).ToList();
        var outcome = failed.Count > 0 ? MaintenanceOutcome.Failed : MaintenanceOutcome.Succeeded;
        var detail = Summary(results);
        await _journal.FinishAsync(runId, outcome, detail, failed.Count > 0 ? string.Join("; ", failed.Select(f => $"{f.Target}: {f.Error}")) : null);
        return new MaintenanceRunResult(task, runId, false, outcome, detail, results);
    });

    /// <summary>The latest runs, newest first, each followed by its steps when <paramref name="steps"/>; of one task when given.</summary>
    public Task<IReadOnlyList<MaintenanceRunRecord>> HistoryAsync(int runs = 20, string? task = null, bool steps = true, CancellationToken ct = default) =>
        ReadAsync("""
            WITH runs AS (
                SELECT id FROM maintenance_runs WHERE run_id IS NULL AND ($1::text IS NULL OR task = $1) ORDER BY id DESC LIMIT $2
            )
            SELECT id, run_id, task, target, started_at, finished_at, outcome, host, detail, error
            FROM maintenance_runs
            WHERE id IN (SELECT id FROM runs) OR ($3 AND run_id IN (SELECT id FROM runs))
            ORDER BY coalesce(run_id, id) DESC, run_id NULLS FIRST, id
            """, ct, task, runs, steps);

    /// <summary>The latest finished run of each task (for metrics and health checks).</summary>
    public Task<IReadOnlyList<MaintenanceRunRecord>> LastRunsAsync(CancellationToken ct = default) =>
        ReadAsync("""
            SELECT DISTINCT ON (task) id, run_id, task, target, started_at, finished_at, outcome, host, detail, error
            FROM maintenance_runs
            WHERE run_id IS NULL AND outcome <> 'running'
            ORDER BY task, id DESC
            """, ct);

    private async Task<List<MaintenanceStep>> PlanAsync(NpgsqlConnection conn, MaintenanceTask task, string? table, CancellationToken ct) => task switch
    {
        MaintenanceTask.Reindex => await ReindexPlan.BuildAsync(conn, _options, table, ct),
        MaintenanceTask.Analyze => await AnalyzePlan.BuildAsync(conn, table, ct),
        MaintenanceTask.Cluster => await ClusterPlan.BuildAsync(conn, dataSource, _options, table, ct),
        MaintenanceTask.Vacuum => await VacuumPlan.BuildAsync(conn, _options, table, ct),
        _ => throw new BotStoreValidationException($"unknown maintenance task {task}"),
    };

    private async Task<MaintenanceStepResult> ExecuteAsync(NpgsqlConnection conn, string task, long runId, MaintenanceStep step, CancellationToken ct)
    {
        var id = await _journal.StartAsync(task, step.Target, runId, step.Reason, ct);
        var clock = Stopwatch.StartNew();
        try
        {
            if (step.Exclusive)
            {
                var retry = new LockRetry(_options.LockTimeout, _options.LockAttempts, _options.RetryPause);
                await retry.RunAsync(conn, async c => await ExecuteSqlAsync(c, step.Statement, ct), ct);
            }
            else
            {
                // REINDEX CONCURRENTLY and VACUUM refuse to run in a transaction; they take no lock that blocks writers.
                await ExecuteSqlAsync(conn, step.Statement, ct);
            }
            await _journal.FinishAsync(id, MaintenanceOutcome.Succeeded, null, null);
            return new MaintenanceStepResult(step.Target, step.Statement, step.Reason, MaintenanceOutcome.Succeeded, null, clock.Elapsed.TotalSeconds);
        }
        catch (PostgresException ex)
        {
            var error = ex.SqlState == PostgresErrorCodes.LockNotAvailable
                ? $"could not take the exclusive lock on {step.Target} within {_options.LockTimeout.TotalSeconds:0.#} s in {_options.LockAttempts} attempts: left for the next run"
                : RunJournal.Describe(ex);
            await _journal.FinishAsync(id, MaintenanceOutcome.Failed, null, error);
            return new MaintenanceStepResult(step.Target, step.Statement, step.Reason, MaintenanceOutcome.Failed, error, clock.Elapsed.TotalSeconds);
        }
        catch (Exception ex)
        {
            await _journal.FinishAsync(id, MaintenanceOutcome.Failed, null, RunJournal.Describe(ex));
            throw;
        }
    }

    private static async Task<int> ExecuteSqlAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task<bool> IndexOnAsync(NpgsqlConnection conn, uint index, uint table, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = $1 AND indrelid = $2)", conn);
        cmd.Parameters.Add(SqlText.Oid(index));
        cmd.Parameters.Add(SqlText.Oid(table));
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private Task<IReadOnlyList<MaintenanceRunRecord>> ReadAsync(string sql, CancellationToken ct, params object?[] args) =>
        PostgresErrors.Guard<IReadOnlyList<MaintenanceRunRecord>>(async () =>
        {
            await using var cmd = dataSource.CreateCommand(sql).With(args);
            var result = new List<MaintenanceRunRecord>();
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                result.Add(new MaintenanceRunRecord(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetInt64(1), reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4),
                    reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5), RunJournal.ParseOutcome(reader.GetString(6)),
                    reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8),
                    reader.IsDBNull(9) ? null : reader.GetString(9)));
            }
            return result;
        });

    private static string Summary(List<MaintenanceStepResult> results)
    {
        if (results.Count == 0)
            return "nothing to do";
        var by = results.GroupBy(r => r.Outcome).Select(g => $"{g.Count()} {RunJournal.OutcomeName(g.Key)}");
        return $"{results.Count} steps: {string.Join(", ", by)}";
    }
}
