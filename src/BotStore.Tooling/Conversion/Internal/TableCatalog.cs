using BotStore.Internal;
using Npgsql;

namespace BotStore.Tooling.Conversion.Internal;

/// <summary>A column as the catalog describes it.</summary>
internal sealed record CatalogColumn(string Name, short Number, string Type, bool IsText, bool NotNull, string? Default);

/// <summary>An object that depends on one of the converted columns.</summary>
internal sealed record CatalogDependent(string Kind, string Schema, string Name, string Definition, uint Oid);

/// <summary>A table read from the catalog: columns, primary key, leaf partitions and what depends on given columns.</summary>
internal sealed record CatalogTable(uint Oid, string Schema, string Name, bool Partitioned, int PartitionDepth, double Rows,
    IReadOnlyList<CatalogColumn> Columns, IReadOnlyList<string> Key, IReadOnlyList<string> Leaves)
{
    public string QualifiedName => $"{Schema}.{Name}";

    public string Quoted => $"{SqlText.Ident(Schema)}.{SqlText.Ident(Name)}";

    public CatalogColumn? Column(string name) => Columns.FirstOrDefault(c => c.Name == name);

    /// <summary>Finds a table by <c>name</c> or <c>schema.name</c> (search path's first match for a bare name); null when there is none.</summary>
    public static async Task<CatalogTable?> FindAsync(NpgsqlConnection conn, string table, CancellationToken ct)
    {
        uint oid;
        await using (var find = new NpgsqlCommand("""
            SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND (n.nspname || '.' || c.relname = $1 OR (c.relname = $1 AND n.nspname = ANY (current_schemas(false))))
            ORDER BY n.nspname || '.' || c.relname = $1 DESC, array_position(current_schemas(false), n.nspname) LIMIT 1
            """, conn).With(table))
        {
            if (await find.ExecuteScalarAsync(ct) is not uint found)
                return null;
            oid = found;
        }
        return await LoadAsync(conn, oid, ct);
    }

    /// <summary>Every user table (partitions through their parent), for a plan over the whole database.</summary>
    public static async Task<List<CatalogTable>> ListAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var oids = new List<uint>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'botstore_convert') AND n.nspname NOT LIKE 'pg\_%'
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
            ORDER BY n.nspname, c.relname
            """, conn))
        {
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                oids.Add(reader.GetFieldValue<uint>(0));
        }
        var tables = new List<CatalogTable>();
        foreach (var oid in oids)
            tables.Add(await LoadAsync(conn, oid, ct));
        return tables;
    }

    private static async Task<CatalogTable> LoadAsync(NpgsqlConnection conn, uint oid, CancellationToken ct)
    {
        string schema, name;
        bool partitioned;
        int depth;
        double rows;
        string[] key, leaves;
        await using (var cmd = new NpgsqlCommand("""
            SELECT n.nspname, c.relname, c.relkind = 'p',
                   COALESCE((SELECT max(level) FROM pg_partition_tree(c.oid)), 0),
                   CASE WHEN c.relkind = 'p'
                        THEN (SELECT COALESCE(sum(GREATEST(p.reltuples, 0)), 0) FROM pg_partition_tree(c.oid) t JOIN pg_class p ON p.oid = t.relid WHERE t.isleaf)
                        ELSE GREATEST(c.reltuples, 0) END,
                   COALESCE((SELECT array_agg(a.attname ORDER BY k.i)
                             FROM pg_index x CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, i)
                             JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                             WHERE x.indrelid = c.oid AND x.indisprimary), '{}'),
                   CASE WHEN c.relkind = 'p'
                        THEN COALESCE((SELECT array_agg(format('%I.%I', pn.nspname, p.relname) ORDER BY p.relname)
                                       FROM pg_partition_tree(c.oid) t JOIN pg_class p ON p.oid = t.relid JOIN pg_namespace pn ON pn.oid = p.relnamespace
                                       WHERE t.isleaf AND p.relkind = 'r'), '{}')
                        ELSE ARRAY[format('%I.%I', n.nspname, c.relname)] END
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1
            """, conn))
        {
            cmd.Parameters.Add(SqlText.Oid(oid));
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            (schema, name, partitioned, depth, rows, key, leaves) = (reader.GetString(0), reader.GetString(1), reader.GetBoolean(2),
                reader.GetInt32(3), reader.GetDouble(4), reader.GetFieldValue<string[]>(5), reader.GetFieldValue<string[]>(6));
        }
        var columns = new List<CatalogColumn>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), t.typcategory = 'S' AND a.attndims = 0, a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid)
            FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """, conn))
        {
            cmd.Parameters.Add(SqlText.Oid(oid));
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                columns.Add(new CatalogColumn(reader.GetString(0), reader.GetInt16(1), reader.GetString(2), reader.GetBoolean(3),
                    reader.GetBoolean(4), reader.IsDBNull(5) ? null : reader.GetString(5)));
            }
        }
        return new CatalogTable(oid, schema, name, partitioned, depth, rows, columns, key, leaves);
    }

    /// <summary>Indexes, constraints, views and triggers that depend on the columns, each with its definition.</summary>
    public async Task<List<CatalogDependent>> DependentsAsync(NpgsqlConnection conn, IEnumerable<string> columns, CancellationToken ct)
    {
        var numbers = columns.Select(c => Column(c)!.Number).ToArray();
        var result = new List<CatalogDependent>();
        await using var cmd = new NpgsqlCommand("""
            SELECT kind, schema, name, definition, oid FROM (
              SELECT CASE WHEN x.indisprimary THEN 'primary key'
                          WHEN EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid) THEN 'unique constraint'
                          ELSE 'index' END AS kind,
                     n.nspname AS schema, i.relname AS name, pg_get_indexdef(i.oid) AS definition, i.oid, 1 AS o
              FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace
              WHERE x.indrelid = $1 AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = x.indexrelid
                                                  AND d.refobjid = $1 AND d.refobjsubid = ANY ($2))
              UNION ALL
              SELECT CASE k.contype WHEN 'c' THEN 'check' WHEN 'f' THEN 'foreign key' ELSE 'constraint' END,
                     n.nspname, k.conname, pg_get_constraintdef(k.oid), k.oid, 2
              FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
              WHERE ((k.conrelid = $1 AND k.conkey && $2) OR (k.confrelid = $1 AND k.confkey && $2)) AND k.contype IN ('c', 'f', 'x')
              UNION ALL
              SELECT DISTINCT CASE v.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, vn.nspname, v.relname,
                     pg_get_viewdef(v.oid, true), v.oid, 3
              FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class JOIN pg_namespace vn ON vn.oid = v.relnamespace
              WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = $1
                AND d.refobjsubid = ANY ($2) AND v.oid <> $1
              UNION ALL
              SELECT CASE WHEN t.tgattr::int2[] && $2 THEN 'trigger on the column' ELSE 'trigger' END, n.nspname, t.tgname,
                     pg_get_triggerdef(t.oid), t.oid, 4
              FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE t.tgrelid = $1 AND NOT t.tgisinternal AND t.tgname NOT LIKE 'botstore\_convert%' AND t.tgparentid = 0
            ) s ORDER BY o, name
            """, conn);
        cmd.Parameters.Add(SqlText.Oid(Oid));
        cmd.Parameters.Add(new NpgsqlParameter { Value = numbers, DataTypeName = "smallint[]" });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            result.Add(new CatalogDependent(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<uint>(4)));
        return result;
    }

    /// <summary>Views that depend on the given views (a second level the conversion does not re-create).</summary>
    public static async Task<List<string>> ViewsOnViewsAsync(NpgsqlConnection conn, IEnumerable<uint> views, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT DISTINCT format('%I.%I', vn.nspname, v.relname)
            FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class JOIN pg_namespace vn ON vn.oid = v.relnamespace
            WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = ANY ($1) AND v.oid <> d.refobjid
            """, conn);
        cmd.Parameters.Add(SqlText.Oids(views));
        var result = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            result.Add(reader.GetString(0));
        return result;
    }
}
