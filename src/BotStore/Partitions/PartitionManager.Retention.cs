using BotStore.Internal;
using BotStore.Maintenance;
using BotStore.Partitions.Internal;
using Npgsql;

namespace BotStore.Partitions;

public sealed partial class PartitionManager
{
    /// <summary>
    /// Retires every partition that ends on or before its table's retention horizon, oldest first: detached, then
    /// dropped, or kept as a plain table when <see cref="PartitionOptions.KeepDetached"/>. Nothing younger than the
    /// horizon and never a default partition is touched. PostgreSQL refuses <c>DETACH ... CONCURRENTLY</c> while a
    /// default partition exists, so the plain detach takes a brief exclusive lock on the parent, under a short
    /// <c>lock_timeout</c> with retries. <paramref name="dryRun"/> returns the plan and changes nothing.
    /// </summary>
    public Task<PartitionRetentionResult> RetainAsync(string? table = null, bool dryRun = false, bool wait = false, CancellationToken ct = default) =>
        PostgresErrors.Guard(async () =>
        {
            var policies = await PoliciesAsync(table, ct);
            var plan = await PlanRetentionAsync(policies, ct);
            if (dryRun)
                return new PartitionRetentionResult(false, true, plan);
            await using var runner = await RunnerLock.AcquireAsync(dataSource, RunnerLock.Partitions, wait, ct);
            if (runner is null)
                return new PartitionRetentionResult(true, false, []);
            // Plan again under the lock: another instance may have retired some meanwhile.
            plan = await PlanRetentionAsync(policies, ct);
            var runId = await _journal.StartAsync(RetainTask, table, null, null, ct);
            var done = new List<RetiredPartition>();
            try
            {
                foreach (var p in plan)
                    done.Add(await RetireAsync(runner.Connection, runId, p, ct));
            }
            catch (Exception ex)
            {
                await _journal.FinishAsync(runId, MaintenanceOutcome.Failed, RetentionSummary(done), RunJournal.Describe(ex));
                throw;
            }
            var failed = done.Where(d => d.Outcome == MaintenanceOutcome.Failed).ToList();
            await _journal.FinishAsync(runId, failed.Count > 0 ? MaintenanceOutcome.Failed : MaintenanceOutcome.Succeeded, RetentionSummary(done),
                failed.Count > 0 ? string.Join("; ", failed.Select(f => $"{f.Partition}: {f.Error}")) : null);
            return new PartitionRetentionResult(false, false, done);
        });

    private async Task<List<RetiredPartition>> PlanRetentionAsync(IReadOnlyList<PartitionPolicy> policies, CancellationToken ct)
    {
        var current = Months.Current(_options.Clock);
        var partitions = await PartitionInfo.ListAsync(dataSource, ct);
        var plan = new List<RetiredPartition>();
        foreach (var policy in policies)
        {
            if (policy.HorizonFor(current) is not { } horizon)
                continue;
            var limit = Months.Start(horizon);
            plan.AddRange(partitions
                .Where(p => p.Parent == policy.Table && !p.IsDefault && p.To <= limit)
                .OrderBy(p => p.From)
                .Select(p => new RetiredPartition(p.Parent, p.Name, p.From!.Value, p.To!.Value, horizon, p.EstimatedRows, p.TotalBytes,
                    _options.KeepDetached ? "detach" : "drop", MaintenanceOutcome.Running)));
        }
        return plan;
    }

    private async Task<RetiredPartition> RetireAsync(NpgsqlConnection conn, long runId, RetiredPartition p, CancellationToken ct)
    {
        var stepId = await _journal.StartAsync(RetainTask, p.Partition, runId,
            $"{p.Action}: {p.From:yyyy-MM} ends on or before the horizon {p.Horizon:yyyy-MM-dd}", ct);
        try
        {
            var keptAs = await Retry.RunAsync(conn, c => DetachAsync(c, p, ct), ct);
            await _journal.FinishAsync(stepId, MaintenanceOutcome.Succeeded, keptAs is null ? $"dropped ({p.EstimatedRows} rows est.)" : $"detached, kept as {keptAs}", null);
            return p with { Outcome = MaintenanceOutcome.Succeeded, KeptAs = keptAs };
        }
        catch (PostgresException ex)
        {
            var error = ex.SqlState == PostgresErrorCodes.LockNotAvailable
                ? $"could not lock {p.Table} within {_options.LockTimeout.TotalMilliseconds:0} ms in {_options.LockAttempts} attempts (a long query holds it); next run retries"
                : ex.MessageText;
            await _journal.FinishAsync(stepId, MaintenanceOutcome.Failed, null, error);
            return p with { Outcome = MaintenanceOutcome.Failed, Error = error };
        }
        catch (Exception ex)
        {
            await _journal.FinishAsync(stepId, MaintenanceOutcome.Failed, null, RunJournal.Describe(ex));
            throw;
        }
    }

    private async Task<string?> DetachAsync(NpgsqlConnection conn, RetiredPartition p, CancellationToken ct)
    {
        // Detach and drop in one transaction: the partition is either still attached or gone, never orphaned.
        await Execute(conn, $"ALTER TABLE {SqlText.Ident(p.Table)} DETACH PARTITION {SqlText.Ident(p.Partition)}", ct);
        if (!_options.KeepDetached)
        {
            await Execute(conn, $"DROP TABLE {SqlText.Ident(p.Partition)}", ct);
            return null;
        }
        // An archive must not constrain the live tables (deleting a session would fail on an archived message),
        // and a new partition of the same month (a backfill) must be able to take the original name.
        await using (var fks = new NpgsqlCommand("SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f'", conn).With(p.Partition))
        {
            var names = new List<string>();
            await using (var reader = await fks.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                    names.Add(reader.GetString(0));
            }
            foreach (var name in names)
                await Execute(conn, $"ALTER TABLE {SqlText.Ident(p.Partition)} DROP CONSTRAINT {SqlText.Ident(name)}", ct);
        }
        var keptAs = p.Partition + "_archive";
        await Execute(conn, $"ALTER TABLE {SqlText.Ident(p.Partition)} RENAME TO {SqlText.Ident(keptAs)}", ct);
        return keptAs;
    }

    private static async Task Execute(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static string RetentionSummary(List<RetiredPartition> done) =>
        done.Count == 0
            ? "nothing past its horizon"
            : $"retired {done.Count(d => d.Outcome == MaintenanceOutcome.Succeeded)} of {done.Count} partitions past their horizon";
}
