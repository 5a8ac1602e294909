using BotStore.Tooling.StorageAudit;
using Npgsql;

namespace BotStore.Bench.Comparisons;

/// <summary>Heap bytes per row of the two largest row shapes against the physical minimum for their columns and values.</summary>
internal sealed class StorageComparison : IComparison
{
    private const double PageUsable = (8192.0 - 24) / 8192;
    private const int PagesPerPartition = 1000;

    public string Name => "storage";

    public string Description =>
        "Heap bytes per row of message_history and auto_tasks (main fork of every partition / rows, after VACUUM) against the physical minimum: " +
        "per row a 4-byte line pointer plus the tuple (header, null bitmap, data) MAXALIGNed, as pageinspect reads it on sampled pages, less the " +
        "alignment padding a column reorder would save (pg_column_size of sampled rows rebuilt in the padding-free order), and each page's 24-byte " +
        "header. Ratio = actual / minimum; target ≤ 1.05x. The gap is what pages cannot fill; out-of-line TOAST is in neither side.";

    public async Task<IReadOnlyList<Figure>> RunAsync(BenchContext context, CancellationToken ct)
    {
        await context.EnsureMessagesAsync(context.Options.Messages, ct);
        var figures = new List<Figure>();
        foreach (var table in new[] { "message_history", "auto_tasks" })
        {
            var rows = await context.ScalarAsync<long>($"SELECT count(*) FROM {table}", ct);
            var heap = await context.ScalarAsync<long>($"SELECT COALESCE(sum(pg_relation_size(relid, 'main')), 0)::bigint FROM ({Leaves(table)}) leaves", ct);
            var layout = await new StorageAudit(context.DataSource).MeasureLayoutAsync(table, context.Options.Quick ? 20_000 : 200_000, ct);
            var padding = layout.TupleBytesNow - layout.TupleBytesBestOrder;
            var onDisk = await OnDiskTupleBytesAsync(context, table, ct);
            var tuple = onDisk?.Bytes ?? layout.TupleBytesNow;
            var source = onDisk is { } d
                ? $"tuples on disk {d.Bytes:0.0} B with line pointer (pageinspect, {d.Tuples:N0} tuples on sampled pages)"
                : $"pageinspect unavailable, so tuples rebuilt from {layout.SampledRows:N0} sampled rows: {layout.TupleBytesNow:0.0} B (rows with out-of-line TOAST count it inline)";
            figures.Add(new Figure(Name, $"{table}: heap bytes/row", "B", "actual", Sample.Of((double)heap / Math.Max(1, rows)),
                "physical minimum", Sample.Of((tuple - padding) / PageUsable), new Target(1.05, Better.Lower),
                $"{rows:N0} rows; {source}; padding a reorder would save {padding:0.0} B"));
        }
        return figures;
    }

    /// <summary>A plain table itself, or a partitioned table's leaves.</summary>
    private static string Leaves(string table) => $"""
        SELECT oid AS relid FROM pg_class WHERE oid = '{table}'::regclass AND relkind = 'r'
        UNION ALL SELECT relid FROM pg_partition_tree('{table}') WHERE isleaf
        """;

    /// <summary>Average line pointer plus MAXALIGNed tuple of the live tuples on up to 1000 evenly spaced pages of each partition; null without pageinspect.</summary>
    private static async Task<(double Bytes, long Tuples)?> OnDiskTupleBytesAsync(BenchContext context, string table, CancellationToken ct)
    {
        try
        {
            await context.ExecuteAsync("CREATE EXTENSION IF NOT EXISTS pageinspect", ct);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.UndefinedFile)
        {
            return null;
        }
        await using var cmd = context.DataSource.CreateCommand($"""
            WITH blocks AS (SELECT relid, pg_relation_size(relid) / 8192 AS n FROM ({Leaves(table)}) leaves)
            SELECT count(*), avg(4 + (i.lp_len + 7) / 8 * 8)::float8
            FROM blocks, generate_series(0, blocks.n - 1, GREATEST(1, blocks.n / {PagesPerPartition})) AS b,
                 heap_page_items(get_raw_page(blocks.relid::regclass::text, b::int)) AS i
            WHERE i.lp_flags = 1
            """);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return reader.GetInt64(0) == 0 ? null : (reader.GetDouble(1), reader.GetInt64(0));
    }
}
