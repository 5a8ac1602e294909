using System.Globalization;
using Npgsql;

namespace BotStore.Tooling.StorageAudit.Internal;

/// <summary>A column as the heap stores it: its width (-1 variable) and alignment (1, 2, 4 or 8 bytes).</summary>
internal sealed record ColumnShape(string Name, string Type, short Length, int Alignment, bool IsString)
{
    public string Quoted => TableShape.Quote(Name);
}

/// <summary>A table (or partitioned parent) and its live columns, in attribute order, with SQL to sample and measure it.</summary>
internal sealed record TableShape(string Schema, string Name, long Rows, IReadOnlyList<ColumnShape> Columns)
{
    public string QualifiedName => $"{Schema}.{Name}";

    public string Quoted => $"{Quote(Schema)}.{Quote(Name)}";

    /// <summary>
    /// The padding-free order: fixed-width columns by alignment then width, widest first (each one then starts
    /// aligned without padding), variable-width ones last in their current order (short values are not aligned).
    /// </summary>
    public IReadOnlyList<ColumnShape> BestOrder => Columns
        .Select((c, i) => (c, i))
        .OrderBy(x => x.c.Length < 0 ? 1 : 0)
        .ThenByDescending(x => x.c.Length < 0 ? 0 : x.c.Alignment)
        .ThenByDescending(x => x.c.Length < 0 ? 0 : x.c.Length)
        .ThenBy(x => x.i)
        .Select(x => x.c)
        .ToArray();

    /// <summary>A repeatable sample of about <paramref name="rows"/> rows: block sampling on large tables, all rows of small ones.</summary>
    public string SampleSql(int rows)
    {
        if (Rows <= rows * 2L)
            return $"SELECT * FROM {Quoted} LIMIT {rows}";
        var percent = Math.Min(100.0, 100.0 * rows * 1.5 / Rows);
        return string.Create(CultureInfo.InvariantCulture, $"SELECT * FROM {Quoted} TABLESAMPLE SYSTEM ({percent:0.######}) REPEATABLE (42) LIMIT {rows}");
    }

    /// <summary>Heap bytes of a row built from <paramref name="expressions"/>: line pointer plus the MAXALIGNed tuple.</summary>
    public static string TupleBytes(IEnumerable<string> expressions) =>
        $"(4 + (pg_column_size(ROW({string.Join(", ", expressions)})) + 7) / 8 * 8)";

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>The user tables of the database (partitions are measured through their parent), with their columns.</summary>
    public static async Task<List<TableShape>> ListAsync(NpgsqlConnection conn, IReadOnlyList<string> schemas, string? only, CancellationToken ct)
    {
        var tables = new List<(uint Oid, string Schema, string Name, double Rows)>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT c.oid, n.nspname, c.relname,
                   CASE WHEN c.relkind = 'p'
                        THEN (SELECT COALESCE(sum(GREATEST(p.reltuples, 0)), -1) FROM pg_partition_tree(c.oid) t JOIN pg_class p ON p.oid = t.relid WHERE t.isleaf)
                        ELSE c.reltuples END
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
              AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1))
              AND ($2::text IS NULL OR c.relname = $2 OR n.nspname || '.' || c.relname = $2)
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
            ORDER BY n.nspname, c.relname
            """, conn))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = schemas.ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)only ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                tables.Add((reader.GetFieldValue<uint>(0), reader.GetString(1), reader.GetString(2), reader.GetFloat(3)));
        }

        var result = new List<TableShape>();
        foreach (var (oid, schema, name, estimate) in tables)
        {
            var columns = new List<ColumnShape>();
            await using (var cmd = new NpgsqlCommand("""
                SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typlen, t.typalign, t.typcategory = 'S'
                FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum
                """, conn))
            {
                cmd.Parameters.Add(new NpgsqlParameter { Value = oid, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Oid });
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var alignment = reader.GetChar(3) switch { 'd' => 8, 'i' => 4, 's' => 2, _ => 1 };
                    columns.Add(new ColumnShape(reader.GetString(0), reader.GetString(1), reader.GetInt16(2), alignment, reader.GetBoolean(4)));
                }
            }
            var shape = new TableShape(schema, name, (long)estimate, columns);
            // Never analysed nor vacuumed: the planner has no estimate, so count.
            if (estimate < 0)
            {
                await using var count = new NpgsqlCommand($"SELECT count(*) FROM {shape.Quoted}", conn);
                shape = shape with { Rows = (long)(await count.ExecuteScalarAsync(ct))! };
            }
            result.Add(shape);
        }
        return result;
    }
}
