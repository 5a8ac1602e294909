using BotStore.Enums;
using BotStore.Tooling.LoadGeneration;
using BotStore.Tooling.StorageAudit;

namespace BotStore.Bench.Comparisons;

/// <summary>The seed's claim: SMALLINT enums instead of VARCHAR save 40 bytes per row.</summary>
internal sealed class EnumsComparison : IComparison
{
    private const double SeedClaimBytes = 40;

    // The seed's "before": the five enum columns as VARCHAR, everything else as auto_tasks has it.
    private static readonly (string Column, string Type, EnumDomain Domain)[] EnumColumns =
    [
        ("status", "VARCHAR(50)", EnumCatalog.Of<AutoTaskStatus>()),
        ("priority", "VARCHAR(20)", EnumCatalog.Of<TaskPriority>()),
        ("execution_mode", "VARCHAR(50)", EnumCatalog.Of<ExecutionMode>()),
        ("intent_type", "VARCHAR(50)", EnumCatalog.Of<IntentType>()),
        ("risk_level", "VARCHAR(50)", EnumCatalog.Of<RiskLevel>()),
    ];

    public string Name => "enums";

    public string Description =>
        "The loaded auto_tasks rows copied twice: as they are (five SMALLINT enums, the seed's \"after\") and with the five as VARCHAR names " +
        "(the seed's \"before\"), same primary key and status index, VACUUMed. Bytes per row of heap, indexes and the five columns; " +
        "the measured saving set beside the seed's claim of 40 bytes per row (40 GB per billion rows); and the storage audit's prediction " +
        "for the VARCHAR table against the measured saving.";

    public async Task<IReadOnlyList<Figure>> RunAsync(BenchContext context, CancellationToken ct)
    {
        await context.EnsureMessagesAsync(context.Options.Messages, ct);
        var columns = await ColumnsAsync(context, ct);
        var columnList = string.Join(", ", columns.Select(c => c.Name));
        var asNames = string.Join(", ", columns.Select(c => EnumColumns.Any(e => e.Column == c.Name) ? NameCase(c.Name) : c.Name));
        var varcharDdl = string.Join(", ", columns.Select(c =>
            $"{c.Name} {EnumColumns.FirstOrDefault(e => e.Column == c.Name).Type ?? c.Type}{(c.NotNull ? " NOT NULL" : "")}"));
        await context.ExecuteAsync("DROP TABLE IF EXISTS bench_tasks_smallint, bench_tasks_varchar", ct);
        await context.ExecuteAsync("CREATE TABLE bench_tasks_smallint (LIKE auto_tasks INCLUDING ALL)", ct);
        await context.ExecuteAsync($"INSERT INTO bench_tasks_smallint ({columnList}) SELECT {columnList} FROM auto_tasks", ct);
        await context.ExecuteAsync($"CREATE TABLE bench_tasks_varchar ({varcharDdl}, PRIMARY KEY (tenant_id, id))", ct);
        var open = string.Join(", ", EnumCatalog.Of<AutoTaskStatus>().Entries.Where(e => e.Value < 5).Select(e => $"'{e.Name}'"));
        await context.ExecuteAsync($"CREATE INDEX bench_tasks_varchar_status ON bench_tasks_varchar (status, priority) WHERE status IN ({open})", ct);
        await context.ExecuteAsync($"INSERT INTO bench_tasks_varchar ({columnList}) SELECT {asNames} FROM auto_tasks", ct);
        await context.ExecuteAsync("VACUUM (ANALYZE) bench_tasks_smallint, bench_tasks_varchar", ct);

        var after = await MeasureAsync(context, "bench_tasks_smallint", ct);
        var before = await MeasureAsync(context, "bench_tasks_varchar", ct);
        var saving = before.Heap + before.Index - after.Heap - after.Index;
        var audit = await new StorageAudit(context.DataSource).RunAsync(new StorageAuditOptions { Table = "bench_tasks_varchar", MinRows = 1, SampleRows = 200_000 }, ct);
        var predicted = audit.EnumLikeTables.SingleOrDefault()?.SavingPerRow ?? 0;
        var rows = $"{after.Rows:N0} rows";
        await context.ExecuteAsync("DROP TABLE bench_tasks_smallint, bench_tasks_varchar", ct);
        return
        [
            new Figure(Name, "auto_tasks heap bytes/row", "B", "SMALLINT", Sample.Of(after.Heap), "VARCHAR", Sample.Of(before.Heap), Note: rows),
            new Figure(Name, "auto_tasks index bytes/row", "B", "SMALLINT", Sample.Of(after.Index), "VARCHAR", Sample.Of(before.Index), Note: "primary key and status index"),
            new Figure(Name, "five enum columns, bytes/row", "B", "SMALLINT", Sample.Of(after.Columns), "VARCHAR", Sample.Of(before.Columns), Note: "avg of pg_column_size summed"),
            new Figure(Name, "saving per row (heap + indexes)", "B", "measured", Sample.Of(saving), "seed's claim", Sample.Of(SeedClaimBytes),
                Note: $"= {saving:0.#} GB per billion rows (seed: 40 GB); heap alone {before.Heap - after.Heap:0.#} B"),
            new Figure(Name, "heap saving per row: audit vs measured", "B", "audit predicted", Sample.Of(predicted), "measured", Sample.Of(before.Heap - after.Heap),
                Note: $"audit found {string.Join(", ", audit.EnumLikeColumns.Select(c => c.Column))}"),
        ];
    }

    private sealed record Measured(long Rows, double Heap, double Index, double Columns);

    private static async Task<Measured> MeasureAsync(BenchContext context, string table, CancellationToken ct)
    {
        var rows = Math.Max(1, await context.ScalarAsync<long>($"SELECT count(*) FROM {table}", ct));
        var heap = await context.ScalarAsync<long>($"SELECT pg_relation_size('{table}')", ct);
        var index = await context.ScalarAsync<long>($"SELECT pg_indexes_size('{table}')", ct);
        var columns = await context.ScalarAsync<double>(
            $"SELECT COALESCE(avg({string.Join(" + ", EnumColumns.Select(e => $"pg_column_size({e.Column})"))}), 0)::float8 FROM {table}", ct);
        return new Measured(rows, (double)heap / rows, (double)index / rows, columns);
    }

    private static async Task<List<(string Name, string Type, bool NotNull)>> ColumnsAsync(BenchContext context, CancellationToken ct)
    {
        await using var cmd = context.DataSource.CreateCommand("""
            SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute
            WHERE attrelid = 'auto_tasks'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum
            """);
        var result = new List<(string, string, bool)>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            result.Add((reader.GetString(0), reader.GetString(1), reader.GetBoolean(2)));
        return result;
    }

    private static string NameCase(string column)
    {
        var domain = EnumColumns.First(e => e.Column == column).Domain;
        return $"CASE {column} {string.Join(" ", domain.Entries.Select(e => $"WHEN {e.Value} THEN '{e.Name}'"))} END";
    }
}
