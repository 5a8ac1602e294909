using BotStore.Maintenance;
using Npgsql;

namespace BotStore.Internal;

/// <summary>Writes runs and their steps to <c>maintenance_runs</c>, each in its own short autocommit statement.</summary>
internal sealed class RunJournal(NpgsqlDataSource dataSource)
{
    /// <summary>Which instance did the work: host name and process id.</summary>
    public static string Host { get; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>Records the start of a run (<paramref name="runId"/> null) or of a step of run <paramref name="runId"/>.</summary>
    public async Task<long> StartAsync(string task, string? target, long? runId, string? detail, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            INSERT INTO maintenance_runs (run_id, task, target, host, detail) VALUES ($1, $2, $3, $4, $5) RETURNING id
            """).With(runId, task, target, Host, detail);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Completes a row. Always runs to the end: a cancelled run is still recorded as such.</summary>
    public async Task FinishAsync(long id, MaintenanceOutcome outcome, string? detail, string? error)
    {
        await using var cmd = dataSource.CreateCommand("""
            UPDATE maintenance_runs SET finished_at = clock_timestamp(), outcome = $2, detail = coalesce($3, detail), error = $4
            WHERE id = $1
            """).With(id, OutcomeName(outcome), detail, error);
        await cmd.ExecuteNonQueryAsync(CancellationToken.None);
    }

    /// <summary>Records a step that was decided without doing anything (e.g. skipped for the time budget).</summary>
    public async Task RecordAsync(string task, string? target, long runId, MaintenanceOutcome outcome, string? detail, string? error, CancellationToken ct)
    {
        var id = await StartAsync(task, target, runId, detail, ct);
        await FinishAsync(id, outcome, null, error);
    }

    public static string OutcomeName(MaintenanceOutcome outcome) => outcome.ToString().ToLowerInvariant();

    public static MaintenanceOutcome ParseOutcome(string name) => Enum.Parse<MaintenanceOutcome>(name, ignoreCase: true);

    /// <summary>One line for the journal's error column.</summary>
    public static string Describe(Exception ex) => ex switch
    {
        PostgresException pg => $"{pg.SqlState}: {pg.MessageText}",
        OperationCanceledException => "interrupted",
        _ => ex.Message,
    };
}
