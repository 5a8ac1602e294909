using System.Globalization;
using BotStore.Internal;
using BotStore.Tooling.StorageAudit.Internal;
using Npgsql;

namespace BotStore.Tooling.StorageAudit;

/// <summary>
/// Audits the storage of any PostgreSQL database (not only BotStore's): text columns that behave like enums (few
/// distinct values over many rows) with what they cost now and as SMALLINT, and tables whose column order wastes
/// alignment padding with what a reorder saves. Every figure is measured with <c>pg_column_size</c> on a
/// repeatable sample of the table's own rows, rebuilt as the row would be stored; nothing is a rule of thumb.
/// It only reads. One limit: PostgreSQL rebuilds a row that has an out-of-line TOAST value with that value inline
/// (and decompressed), so such rows' tuple bytes are overstated; savings, being differences, are not.
/// </summary>
public sealed class StorageAudit(NpgsqlDataSource dataSource)
{
    /// <summary>Audits the tables the options select.</summary>
    public Task<StorageAuditReport> RunAsync(StorageAuditOptions? options = null, CancellationToken ct = default) =>
        PostgresErrors.Guard(async () =>
        {
            options ??= new StorageAuditOptions();
            if (options.SampleRows < 1 || options.MaxDistinct < 1)
                throw new BotStoreValidationException("sample rows and max distinct must be at least 1");
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            var tables = (await TableShape.ListAsync(conn, options.Schemas, options.Table, ct)).Where(t => t.Rows >= options.MinRows).ToList();
            var columns = new List<EnumLikeColumn>();
            var enumTables = new List<EnumLikeTable>();
            var padding = new List<PaddingFinding>();
            foreach (var table in tables)
            {
                var candidates = await FindEnumLikeAsync(conn, table, options, ct);
                var (found, together, layout) = await MeasureAsync(conn, table, candidates, options.SampleRows, ct);
                columns.AddRange(found);
                if (together is not null)
                    enumTables.Add(together);
                if (layout.TupleBytesNow - layout.TupleBytesBestOrder >= 0.5)
                {
                    padding.Add(new PaddingFinding(table.QualifiedName, table.Rows, layout.SampledRows, layout.TupleBytesNow,
                        layout.TupleBytesBestOrder, table.BestOrder.Select(c => c.Name).ToArray()));
                }
            }
            return new StorageAuditReport(tables.Count,
                columns.OrderByDescending(c => c.SavingForTable).ThenBy(c => c.Table).ThenBy(c => c.Column).ToArray(),
                enumTables.OrderByDescending(t => t.SavingForTable).ToArray(),
                padding.OrderByDescending(p => p.SavingForTable).ToArray());
        });

    /// <summary>One table's average tuple bytes now and in the padding-free column order, over a sample of <paramref name="sampleRows"/>.</summary>
    public Task<TupleLayout> MeasureLayoutAsync(string table, int sampleRows = 100_000, CancellationToken ct = default) =>
        PostgresErrors.Guard(async () =>
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            var shape = (await TableShape.ListAsync(conn, [], table, ct)).FirstOrDefault()
                ?? throw new BotStoreNotFoundException($"table {table} does not exist");
            return (await MeasureAsync(conn, shape, [], sampleRows, ct)).Layout;
        });

    private sealed record Candidate(ColumnShape Column, long NonNull, int Distinct);

    /// <summary>String columns with few distinct values over many rows (in the sample), whose values are wider than a SMALLINT.</summary>
    private static async Task<List<Candidate>> FindEnumLikeAsync(NpgsqlConnection conn, TableShape table, StorageAuditOptions options, CancellationToken ct)
    {
        var strings = table.Columns.Where(c => c.IsString).ToList();
        if (strings.Count == 0)
            return [];
        var stats = string.Join(", ", strings.Select(c => $"count({c.Quoted}), count(DISTINCT {c.Quoted}), COALESCE(avg(pg_column_size({c.Quoted})), 0)"));
        await using var cmd = new NpgsqlCommand($"SELECT {stats} FROM ({table.SampleSql(options.SampleRows)}) s", conn);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var result = new List<Candidate>();
        for (var i = 0; i < strings.Count; i++)
        {
            var nonNull = reader.GetInt64(3 * i);
            var distinct = reader.GetInt64(3 * i + 1);
            var width = Convert.ToDouble(reader.GetValue(3 * i + 2), CultureInfo.InvariantCulture);
            if (distinct >= 1 && distinct <= options.MaxDistinct && nonNull >= 10 * distinct && width > 2)
                result.Add(new Candidate(strings[i], nonNull, (int)distinct));
        }
        return result;
    }

    /// <summary>
    /// Rebuilds every sampled row as stored now, with each candidate as SMALLINT, with all of them as SMALLINT, and
    /// in the padding-free order, and averages the tuple bytes of each. The SMALLINT stand-in is the value's
    /// position among the distinct values (NULL stays NULL), what a real migration would store.
    /// </summary>
    private static async Task<(List<EnumLikeColumn> Columns, EnumLikeTable? Together, TupleLayout Layout)> MeasureAsync(
        NpgsqlConnection conn, TableShape table, List<Candidate> candidates, int sampleRows, CancellationToken ct)
    {
        string AsSmallint(int k) => $"array_position(v{k}.v, s.{candidates[k].Column.Quoted})::smallint";
        IEnumerable<string> Row(Func<ColumnShape, string> expression) => table.Columns.Select(expression);
        string Plain(ColumnShape c) => $"s.{c.Quoted}";
        int IndexOf(ColumnShape c) => candidates.FindIndex(x => x.Column == c);

        var select = new List<string>
        {
            "count(*)",
            $"avg({TableShape.TupleBytes(Row(Plain))})",
            $"avg({TableShape.TupleBytes(table.BestOrder.Select(Plain))})",
        };
        for (var k = 0; k < candidates.Count; k++)
        {
            var kk = k;
            select.Add($"avg(COALESCE(pg_column_size(s.{candidates[k].Column.Quoted}), 0))");
            select.Add($"avg({TableShape.TupleBytes(Row(c => IndexOf(c) == kk ? AsSmallint(kk) : Plain(c)))})");
            select.Add($"(SELECT v::text[] FROM v{k})");
        }
        if (candidates.Count > 0)
            select.Add($"avg({TableShape.TupleBytes(Row(c => IndexOf(c) is var i and >= 0 ? AsSmallint(i) : Plain(c)))})");
        var values = candidates.Select((c, k) => $", v{k} AS (SELECT array_agg(DISTINCT {c.Column.Quoted} ORDER BY {c.Column.Quoted}) FILTER (WHERE {c.Column.Quoted} IS NOT NULL) AS v FROM s)");
        var from = string.Concat(candidates.Select((_, k) => $", v{k}"));
        var sql = $"WITH s AS MATERIALIZED ({table.SampleSql(sampleRows)}){string.Concat(values)} SELECT {string.Join(", ", select)} FROM s{from}";

        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var sampled = reader.GetInt64(0);
        double Number(int i) => reader.IsDBNull(i) ? 0 : Convert.ToDouble(reader.GetValue(i), CultureInfo.InvariantCulture);
        var layout = new TupleLayout(table.Rows, sampled, Number(1), Number(2));
        var columns = new List<EnumLikeColumn>();
        for (var k = 0; k < candidates.Count; k++)
        {
            var c = candidates[k];
            columns.Add(new EnumLikeColumn(table.QualifiedName, c.Column.Name, c.Column.Type, table.Rows, sampled, c.Distinct,
                reader.GetFieldValue<string[]>(3 + 3 * k + 2), Number(3 + 3 * k), 2.0 * c.NonNull / Math.Max(1, sampled),
                layout.TupleBytesNow, Number(3 + 3 * k + 1)));
        }
        var together = candidates.Count == 0 ? null
            : new EnumLikeTable(table.QualifiedName, table.Rows, candidates.Select(c => c.Column.Name).ToArray(), layout.TupleBytesNow,
                Number(3 + 3 * candidates.Count));
        return (columns, together, layout);
    }
}
