using BotStore.Scale;

namespace BotStore.Cli.Bench.Comparisons;

/// <summary>Heap bytes per row of the two largest row shapes against the physical minimum for their columns and values.</summary>
internal sealed class StorageComparison : IComparison
{
    private const double PageUsable = (8192.0 - 24) / 8192;

    public string Name => "storage";

    public string Description =>
        "Heap bytes per row of message_history and auto_tasks (main fork of every partition / rows, after VACUUM) against the physical minimum: " +
        "per row a line pointer plus the tuple header and data in the padding-free column order, MAXALIGNed, measured with pg_column_size on a sample " +
        "of the rows, and each page's 24-byte header. Ratio = actual / minimum; target ≤ 1.05x. The gap is what a page cannot fit; TOASTed bytes are not in either side.";

    public async Task<IReadOnlyList<Figure>> RunAsync(BenchContext context, CancellationToken ct)
    {
        await context.EnsureMessagesAsync(context.Options.Messages, ct);
        var figures = new List<Figure>();
        foreach (var table in new[] { "message_history", "auto_tasks" })
        {
            var rows = await context.ScalarAsync<long>($"SELECT count(*) FROM {table}", ct);
            var heap = await context.ScalarAsync<long>($"""
                SELECT COALESCE(sum(pg_relation_size(relid, 'main')), 0)::bigint FROM pg_partition_tree('{table}') WHERE isleaf
                """, ct) + await context.ScalarAsync<long>($"SELECT CASE WHEN relkind = 'r' THEN pg_relation_size(oid, 'main') ELSE 0 END FROM pg_class WHERE oid = '{table}'::regclass", ct);
            var layout = await new StorageAudit(context.DataSource).MeasureLayoutAsync(table, context.Options.Quick ? 20_000 : 200_000, ct);
            var minimum = layout.TupleBytesBestOrder / PageUsable;
            figures.Add(new Figure(Name, $"{table}: heap bytes/row", "B", "actual", Sample.Of((double)heap / Math.Max(1, rows)),
                "physical minimum", Sample.Of(minimum), new Target(1.05, Better.Lower),
                $"{rows:N0} rows; tuple as stored {layout.TupleBytesNow:0.0} B vs padding-free order {layout.TupleBytesBestOrder:0.0} B (sample of {layout.SampledRows:N0})"));
        }
        return figures;
    }
}
