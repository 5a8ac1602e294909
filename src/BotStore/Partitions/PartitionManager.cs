using BotStore.Internal;
using BotStore.Maintenance;
using BotStore.Partitions.Internal;
using Npgsql;

namespace BotStore.Partitions;

/// <summary>
/// Keeps every monthly-partitioned table (each row of <c>partitioned_tables</c>) healthy: the current month and
/// its premake window always have partitions, rows stranded in a default partition get their month's partition,
/// and partitions past the retention horizon are retired. Built on <c>botstore_create_partition</c>, which moves a
/// month's rows out of the default and attaches the new partition in one transaction. One runner across all
/// instances (a session advisory lock); every run is written to <c>maintenance_runs</c>.
/// </summary>
public sealed partial class PartitionManager(NpgsqlDataSource dataSource, PartitionOptions? options = null)
{
    /// <summary>The journal's task name of <see cref="EnsureAsync"/>.</summary>
    public const string EnsureTask = "partitions_ensure";

    /// <summary>The journal's task name of <see cref="RetainAsync"/>.</summary>
    public const string RetainTask = "partitions_retain";

    private readonly PartitionOptions _options = options ?? new PartitionOptions();
    private readonly RunJournal _journal = new(dataSource);

    private LockRetry Retry => new(_options.LockTimeout, Math.Max(1, _options.LockAttempts), _options.RetryPause);

    /// <summary>
    /// Every managed table's policy with the overrides applied, or only <paramref name="table"/>'s. Throws one clear
    /// <see cref="BotStoreConfigurationException"/> for a table that is missing, not partitioned or not managed, and
    /// for a retention shorter than the premake window: call it at start-up, before anything runs.
    /// </summary>
    public Task<IReadOnlyList<PartitionPolicy>> PoliciesAsync(string? table = null, CancellationToken ct = default) =>
        PostgresErrors.Guard<IReadOnlyList<PartitionPolicy>>(async () =>
        {
            await using var cmd = dataSource.CreateCommand("""
                SELECT p.table_name, a.attname, d.relname, p.premake_months, p.retention_months, p.reloptions
                FROM partitioned_tables p
                LEFT JOIN pg_partitioned_table pt ON pt.partrelid = to_regclass(p.table_name)
                LEFT JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
                LEFT JOIN LATERAL (
                    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                    WHERE i.inhparent = pt.partrelid AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'
                ) d ON true
                ORDER BY p.table_name
                """);
            var policies = new List<PartitionPolicy>();
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    var name = reader.GetString(0);
                    if (reader.IsDBNull(1))
                        throw new BotStoreConfigurationException($"table '{name}' is listed in partitioned_tables but is not a partitioned table");
                    policies.Add(new PartitionPolicy(name, reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                        reader.GetInt16(3), reader.IsDBNull(4) ? null : reader.GetInt16(4), reader.GetFieldValue<string[]>(5)));
                }
            }
            var known = policies.ToDictionary(p => p.Table, StringComparer.Ordinal);
            foreach (var name in _options.Tables.Keys.Append(table).OfType<string>())
            {
                if (!known.ContainsKey(name))
                    throw new BotStoreConfigurationException(await DescribeUnmanagedAsync(name, policies, ct));
            }
            var result = policies.Select(Apply).Where(p => table is null || p.Table == table).ToList();
            foreach (var p in result)
                Validate(p);
            return result;
        });

    /// <summary>Checks the configuration against the database (see <see cref="PoliciesAsync"/>).</summary>
    public async Task ValidateAsync(CancellationToken ct = default) => await PoliciesAsync(null, ct);

    /// <summary>Each managed table's partitions, default-partition rows and runway.</summary>
    public Task<IReadOnlyList<PartitionTableStatus>> StatusAsync(string? table = null, CancellationToken ct = default) =>
        PostgresErrors.Guard<IReadOnlyList<PartitionTableStatus>>(async () =>
        {
            var policies = await PoliciesAsync(table, ct);
            var partitions = await PartitionInfo.ListAsync(dataSource, ct);
            var current = Months.Current(_options.Clock);
            var result = new List<PartitionTableStatus>();
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            foreach (var policy in policies)
            {
                var own = partitions.Where(p => p.Parent == policy.Table).ToList();
                var (coveredUntil, runway) = Runway(own, current);
                result.Add(new PartitionTableStatus(policy, own, await CountDefaultAsync(conn, policy, ct), current, coveredUntil, runway));
            }
            return result;
        });

    /// <summary>
    /// Creates what is missing: a partition for every month that has rows in a default partition (moving them out),
    /// and for the current month and the premake window. Safe to run at any time and from several instances: when
    /// another holds the runner lock, this one returns <see cref="PartitionEnsureResult.Skipped"/> (or waits for it
    /// when <paramref name="wait"/>).
    /// </summary>
    public Task<PartitionEnsureResult> EnsureAsync(string? table = null, bool wait = false, CancellationToken ct = default) =>
        PostgresErrors.Guard(async () =>
        {
            var policies = await PoliciesAsync(table, ct);
            await using var runner = await RunnerLock.AcquireAsync(dataSource, RunnerLock.Partitions, wait, ct);
            if (runner is null)
                return PartitionEnsureResult.SkippedRun;
            var conn = runner.Connection;
            var runId = await _journal.StartAsync(EnsureTask, table, null, null, ct);
            var created = new List<CreatedPartition>();
            var failures = new List<PartitionFailure>();
            var defaultRows = new Dictionary<string, long>();
            try
            {
                var current = Months.Current(_options.Clock);
                foreach (var policy in policies)
                {
                    var months = new SortedSet<DateOnly>(await MonthsInDefaultAsync(conn, policy, ct));
                    for (var m = 0; m <= policy.PremakeMonths; m++)
                        months.Add(current.AddMonths(m));
                    foreach (var month in months)
                    {
                        var target = $"{policy.Table} {month:yyyy-MM}";
                        try
                        {
                            if (await Retry.RunAsync(conn, c => CreateAsync(c, policy, month, ct), ct) is { } made)
                            {
                                created.Add(made);
                                await _journal.RecordAsync(EnsureTask, made.Partition, runId, MaintenanceOutcome.Succeeded,
                                    made.RowsMoved > 0 ? $"created; moved {made.RowsMoved} rows out of {policy.DefaultPartition}" : "created ahead of its month", null, ct);
                            }
                        }
                        catch (PostgresException ex)
                        {
                            failures.Add(new PartitionFailure(policy.Table, target, ex.MessageText));
                            await _journal.RecordAsync(EnsureTask, target, runId, MaintenanceOutcome.Failed, null, RunJournal.Describe(ex), ct);
                        }
                    }
                    defaultRows[policy.Table] = await CountDefaultAsync(conn, policy, ct);
                }
            }
            catch (Exception ex)
            {
                await _journal.FinishAsync(runId, MaintenanceOutcome.Failed, Summary(created), RunJournal.Describe(ex));
                throw;
            }
            await _journal.FinishAsync(runId, failures.Count > 0 ? MaintenanceOutcome.Failed : MaintenanceOutcome.Succeeded, Summary(created),
                failures.Count > 0 ? string.Join("; ", failures.Select(f => $"{f.Target}: {f.Error}")) : null);
            return new PartitionEnsureResult(false, created, failures, defaultRows);
        });

    /// <summary>Stores a table's premake window and retention in <c>partitioned_tables</c> (null leaves a value as it is; a retention of 0 turns it off).</summary>
    public Task<PartitionPolicy> SetPolicyAsync(string table, int? premakeMonths, int? retentionMonths, CancellationToken ct = default) =>
        PostgresErrors.Guard(async () =>
        {
            var stored = (await new PartitionManager(dataSource).PoliciesAsync(table, ct))[0];
            var updated = stored with
            {
                PremakeMonths = premakeMonths ?? stored.PremakeMonths,
                RetentionMonths = retentionMonths is { } r ? (r == 0 ? null : r) : stored.RetentionMonths,
            };
            Validate(updated);
            await using var cmd = dataSource.CreateCommand("""
                UPDATE partitioned_tables SET premake_months = $2, retention_months = $3 WHERE table_name = $1
                """).With(table, (short)updated.PremakeMonths, updated.RetentionMonths is { } months ? (short)months : null);
            await cmd.ExecuteNonQueryAsync(ct);
            return updated;
        });

    /// <summary>The unbroken run of monthly partitions starting with the current month.</summary>
    internal static (DateTimeOffset? CoveredUntil, int Months) Runway(IEnumerable<PartitionInfo> partitions, DateOnly current)
    {
        var byStart = partitions.Where(p => !p.IsDefault).ToDictionary(p => p.From!.Value);
        var cursor = Months.Start(current);
        while (byStart.TryGetValue(cursor, out var next))
            cursor = next.To!.Value;
        var months = Months.Between(current, Months.Of(cursor));
        return (months > 0 ? cursor : null, months);
    }

    private PartitionPolicy Apply(PartitionPolicy policy)
    {
        if (!_options.Tables.TryGetValue(policy.Table, out var o))
            return policy;
        return policy with
        {
            PremakeMonths = o.PremakeMonths ?? policy.PremakeMonths,
            RetentionMonths = o.RetentionMonths is { } r ? (r == 0 ? null : r) : policy.RetentionMonths,
        };
    }

    private static void Validate(PartitionPolicy p)
    {
        if (p.PremakeMonths is < 0 or > 120)
            throw new BotStoreConfigurationException($"premake window of {p.PremakeMonths} months for {p.Table} is out of range: use 0 to 120");
        if (p.RetentionMonths is < 0 or > 1200)
            throw new BotStoreConfigurationException($"retention of {p.RetentionMonths} months for {p.Table} is out of range: use 1 to 1200, or 0 for none");
        if (p.RetentionMonths is { } r && r < p.PremakeMonths)
            throw new BotStoreConfigurationException(
                $"retention of {r} months for {p.Table} is shorter than its premake window of {p.PremakeMonths} months: keep at least {p.PremakeMonths} months or premake fewer");
    }

    private async Task<string> DescribeUnmanagedAsync(string table, IEnumerable<PartitionPolicy> managed, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            SELECT relkind::text FROM pg_class WHERE relname = $1 AND relnamespace = current_schema()::regnamespace
            """).With(table);
        var managedList = string.Join(", ", managed.Select(p => p.Table));
        return await cmd.ExecuteScalarAsync(ct) switch
        {
            null => $"table '{table}' does not exist (partitioned tables: {managedList})",
            "p" => $"table '{table}' is partitioned but BotStore does not manage it: add a row to partitioned_tables (managed: {managedList})",
            _ => $"table '{table}' is not partitioned (partitioned tables: {managedList})",
        };
    }

    private static async Task<List<DateOnly>> MonthsInDefaultAsync(NpgsqlConnection conn, PartitionPolicy policy, CancellationToken ct)
    {
        if (policy.DefaultPartition is null)
            return [];
        await using var cmd = new NpgsqlCommand($"""
            SELECT DISTINCT date_trunc('month', {SqlText.Ident(policy.KeyColumn)} AT TIME ZONE 'UTC')::date
            FROM ONLY {SqlText.Ident(policy.DefaultPartition)}
            """, conn) { CommandTimeout = 0 };
        var months = new List<DateOnly>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            months.Add(reader.GetFieldValue<DateOnly>(0));
        return months;
    }

    private static async Task<CreatedPartition?> CreateAsync(NpgsqlConnection conn, PartitionPolicy policy, DateOnly month, CancellationToken ct)
    {
        await using var create = new NpgsqlCommand("SELECT botstore_create_partition($1, $2)", conn) { CommandTimeout = 0 }.With(policy.Table, month);
        if (await create.ExecuteScalarAsync(ct) is not string name)
            return null;
        // Still inside the creating transaction: nothing else can have written to the new partition yet.
        await using var count = new NpgsqlCommand($"SELECT count(*) FROM {SqlText.Ident(name)}", conn) { CommandTimeout = 0 };
        return new CreatedPartition(policy.Table, name, month, (long)(await count.ExecuteScalarAsync(ct))!);
    }

    private static async Task<long> CountDefaultAsync(NpgsqlConnection conn, PartitionPolicy policy, CancellationToken ct)
    {
        if (policy.DefaultPartition is null)
            return 0;
        await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM ONLY {SqlText.Ident(policy.DefaultPartition)}", conn) { CommandTimeout = 0 };
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static string Summary(List<CreatedPartition> created) =>
        created.Count == 0
            ? "nothing to create"
            : $"created {created.Count} partitions, moved {created.Sum(c => c.RowsMoved)} rows out of default partitions";
}
