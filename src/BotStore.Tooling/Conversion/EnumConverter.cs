using System.Diagnostics;
using BotStore.Internal;
using BotStore.Tooling.StorageAudit;
using BotStore.Tooling.Conversion.Internal;
using Npgsql;

namespace BotStore.Tooling.Conversion;

/// <summary>
/// Converts text enum columns of any PostgreSQL 15 database to SMALLINT online: <see cref="PlanAsync"/> reads only;
/// <see cref="ApplyAsync"/> adds the SMALLINT columns, keeps them in step with a trigger, backfills in key order,
/// verifies, constrains, indexes concurrently and swaps in one short transaction under <c>lock_timeout</c>;
/// <see cref="VerifyAsync"/>, <see cref="FinishAsync"/> and <see cref="RollbackAsync"/> follow. The state lives in
/// the target database (<c>botstore_convert</c>), so a killed run resumes and a rollback knows what to undo.
/// </summary>
public sealed class EnumConverter(NpgsqlDataSource dataSource)
{
    // "BSCV" in the high half, the table's oid in the low half: one runner per table across every client.
    private const long LockClass = 0x42534356;

    /// <summary>The plan of one table (<see cref="ConversionOptions.Table"/>) or of every table. Changes nothing.</summary>
    public Task<ConversionPlan> PlanAsync(ConversionOptions options, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        Validate(options, needTable: false);
        await using var conn = await OpenAsync(ct);
        List<CatalogTable> tables;
        var enumLike = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (options.Table is not null)
        {
            tables = [await FindAsync(conn, options.Table, ct)];
        }
        else
        {
            tables = await CatalogTable.ListAsync(conn, ct);
            var audit = await new StorageAudit.StorageAudit(dataSource).RunAsync(new StorageAuditOptions(), ct);
            foreach (var c in audit.EnumLikeColumns)
                (enumLike.TryGetValue(c.Table, out var list) ? list : enumLike[c.Table] = []).Add(c.Column);
        }
        var planner = new Planner(dataSource, options);
        var plans = new List<TableConversionPlan>();
        foreach (var table in tables)
        {
            var state = await StateStore.LoadAsync(conn, table.Oid, ct);
            var result = await planner.PlanAsync(conn, table, enumLike.GetValueOrDefault(table.QualifiedName) ?? [], state?.Step, ct);
            if (result is not null)
                plans.Add(result.Plan);
        }
        var planned = plans.SelectMany(p => p.Columns.Select(c => $"{p.Table}.{c.Column}")).ToHashSet(StringComparer.Ordinal);
        var unmatched = enumLike.SelectMany(t => t.Value.Select(c => $"{t.Key}.{c}")).Where(c => !planned.Contains(c)).Order().ToArray();
        return new ConversionPlan(plans, unmatched);
    });

    /// <summary>Converts <see cref="ConversionOptions.Table"/>'s columns, or resumes the conversion under way; stops after the swap.</summary>
    public Task<ConversionResult> ApplyAsync(ConversionOptions options, IProgress<ConversionProgress>? progress = null, CancellationToken ct = default) =>
        PostgresErrors.Guard(async () =>
        {
            Validate(options, needTable: true);
            var started = Stopwatch.GetTimestamp();
            await using var session = await OpenAsync(ct);
            var table = await FindAsync(session, options.Table!, ct);
            await using var runner = await LockAsync(session, table, ct);
            var state = await StateStore.LoadAsync(session, table.Oid, ct);
            var spec = state?.Spec;
            if (spec is null)
            {
                var planned = await new Planner(dataSource, options).PlanAsync(session, table, [], null, ct)
                    ?? throw new BotStoreValidationException($"no text column of {table.QualifiedName} maps onto an enum domain: name one with --map {table.Name}.<column>=<domain or value:number,...>");
                if (planned.Plan.Problems.Count > 0)
                    throw new BotStoreValidationException($"{table.QualifiedName} cannot be converted: {string.Join("; ", planned.Plan.Problems)}");
                spec = planned.Spec!;
            }
            var steps = new Steps(session, spec, options);
            long backfilled = 0;
            await using var monitor = await LockWaitMonitor.StartAsync(dataSource, [table.Oid, .. await LeafOidsAsync(session, table, ct)], TimeSpan.FromMilliseconds(10), ct);
            var step = state?.Step;
            if (step is null)
            {
                await HookAsync(options, "add");
                await steps.AddAsync(ct);
                step = ConversionSteps.Added;
            }
            if (step == ConversionSteps.Added)
            {
                await HookAsync(options, "backfill");
                try
                {
                    backfilled = await steps.BackfillAsync((long)table.Rows, progress, ct);
                }
                catch (PostgresException ex) when (ex.SqlState == Sql.UnmappedValue)
                {
                    // A value the plan did not see (written before the trigger existed): leave the table as it was.
                    await steps.RollbackAsync(ConversionSteps.Added, CancellationToken.None);
                    throw new BotStoreValidationException($"{ex.MessageText}; the conversion was rolled back: map the value with --map-unknown or change the row, then apply again", ex);
                }
                await steps.SetStepAsync(step = ConversionSteps.Backfilled, ct);
            }
            if (step == ConversionSteps.Backfilled)
            {
                await HookAsync(options, "verify");
                Report(progress, spec, "verify");
                var verified = await steps.VerifyAsync(step, ct);
                if (verified.Mismatches > 0)
                    throw new BotStoreException($"{verified.Mismatches} row(s) of {spec.QualifiedName} have a number that differs from their text (e.g. {verified.FirstMismatch}): run apply again to continue, or rollback");
                await steps.SetStepAsync(step = ConversionSteps.Verified, ct);
            }
            if (step == ConversionSteps.Verified)
            {
                await HookAsync(options, "constrain");
                Report(progress, spec, "constrain");
                await steps.ConstrainAsync(ct);
                await steps.SetStepAsync(step = ConversionSteps.Constrained, ct);
            }
            if (step == ConversionSteps.Constrained)
            {
                await HookAsync(options, "index");
                Report(progress, spec, "index");
                await steps.IndexAsync(() => HookAsync(options, "index-built"), ct);
                await steps.SetStepAsync(step = ConversionSteps.Indexed, ct);
            }
            if (step == ConversionSteps.Indexed)
            {
                await HookAsync(options, "swap");
                Report(progress, spec, "swap");
                await steps.SwapAsync(ct);
                step = ConversionSteps.Swapped;
                await steps.AnalyzeAsync(ct);
            }
            var longest = await monitor.StopAsync();
            return new ConversionResult(spec.QualifiedName, spec.Columns.Select(c => c.Name).ToArray(), step, state is not null, backfilled,
                Stopwatch.GetElapsedTime(started), longest, steps.LockRetries);
        });

    /// <summary>Compares every row's number with the mapping of its text (before the swap, or after it until <c>finish</c>).</summary>
    public Task<VerifyResult> VerifyAsync(string table, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        await using var session = await OpenAsync(ct);
        var (_, state) = await StateAsync(session, table, ct);
        return await new Steps(session, state.Spec, new ConversionOptions()).VerifyAsync(state.Step, ct);
    });

    /// <summary>Drops the text columns of a swapped conversion: the conversion cannot be rolled back after this.</summary>
    public Task FinishAsync(string table, ConversionOptions? options = null, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        await using var session = await OpenAsync(ct);
        var (found, state) = await StateAsync(session, table, ct);
        await using var runner = await LockAsync(session, found, ct);
        if (state.Step != ConversionSteps.Swapped)
            throw new BotStoreConflictException($"the conversion of {state.Spec.QualifiedName} is at step '{state.Step}', not swapped: run apply to complete it first (or rollback)");
        await new Steps(session, state.Spec, options ?? new ConversionOptions()).FinishAsync(ct);
        return true;
    });

    /// <summary>Undoes a conversion that has not finished, at whatever step it stopped; the table is left as it was.</summary>
    public Task<string> RollbackAsync(string table, ConversionOptions? options = null, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        await using var session = await OpenAsync(ct);
        var (found, state) = await StateAsync(session, table, ct);
        await using var runner = await LockAsync(session, found, ct);
        await new Steps(session, state.Spec, options ?? new ConversionOptions()).RollbackAsync(state.Step, ct);
        return state.Step;
    });

    private static void Validate(ConversionOptions options, bool needTable)
    {
        if (needTable && string.IsNullOrWhiteSpace(options.Table))
            throw new BotStoreValidationException("name the table to convert (--table)");
        if (options.BatchSize < 1)
            throw new BotStoreValidationException($"batch size must be at least 1 (got {options.BatchSize})");
        if (options.Pause < TimeSpan.Zero || options.LockTimeout <= TimeSpan.Zero || options.LockAttempts < 1)
            throw new BotStoreValidationException("pause must not be negative, lock timeout must be positive and lock attempts at least 1");
        foreach (var map in options.Maps.Concat(options.MapUnknown))
        {
            if (options.Table is not null && map.Table != options.Table && !options.Table.EndsWith("." + map.Table, StringComparison.Ordinal)
                && !map.Table.EndsWith("." + options.Table, StringComparison.Ordinal))
                throw new BotStoreValidationException($"mapping of {map.Table}.{map.Column} names another table than {options.Table}");
        }
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand($"SET application_name = '{LockWaitMonitor.ApplicationName}'", conn);
        await cmd.ExecuteNonQueryAsync(ct);
        return conn;
    }

    private static async Task<CatalogTable> FindAsync(NpgsqlConnection conn, string table, CancellationToken ct) =>
        await CatalogTable.FindAsync(conn, table, ct) ?? throw new BotStoreNotFoundException($"table {table} does not exist");

    private static async Task<(CatalogTable Table, ConversionState State)> StateAsync(NpgsqlConnection conn, string table, CancellationToken ct)
    {
        var found = await FindAsync(conn, table, ct);
        var state = await StateStore.LoadAsync(conn, found.Oid, ct)
            ?? throw new BotStoreNotFoundException($"no conversion of {found.QualifiedName} is under way");
        return (found, state);
    }

    /// <summary>One apply, finish or rollback per table at a time, across every client of the database.</summary>
    private async Task<RunnerLock> LockAsync(NpgsqlConnection conn, CatalogTable table, CancellationToken ct)
    {
        var key = (LockClass << 32) | table.Oid;
        var runner = await RunnerLock.AcquireAsync(dataSource, key, wait: false, ct);
        if (runner is not null)
            return runner;
        await using var holder = new NpgsqlCommand(
            "SELECT string_agg(pid::text, ', ') FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::bigint::oid AND objid = $2",
            conn).With(LockClass);
        holder.Parameters.Add(SqlText.Oid(table.Oid));
        throw new BotStoreConflictException($"a conversion of {table.QualifiedName} is running in another session (pid {await holder.ExecuteScalarAsync(ct)}): wait for it to end or stop it");
    }

    private static async Task<uint[]> LeafOidsAsync(NpgsqlConnection conn, CatalogTable table, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT array_agg(relid::oid) FROM pg_partition_tree($1::regclass)", conn);
        cmd.Parameters.Add(SqlText.Oid(table.Oid));
        return await cmd.ExecuteScalarAsync(ct) as uint[] ?? [];
    }

    private static Task HookAsync(ConversionOptions options, string step) => options.StepHook?.Invoke(step) ?? Task.CompletedTask;

    private static void Report(IProgress<ConversionProgress>? progress, ConversionSpec spec, string step) =>
        progress?.Report(new ConversionProgress(spec.QualifiedName, step, null, 0, 0));
}
