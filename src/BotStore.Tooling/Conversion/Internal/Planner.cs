using System.Diagnostics;
using System.Globalization;
using BotStore.Enums;
using BotStore.Internal;
using BotStore.Tooling.StorageAudit;
using Npgsql;

using BotStore.Tooling.StorageAudit.Internal;

namespace BotStore.Tooling.Conversion.Internal;

/// <summary>
/// Works out a table's conversion: which text columns map onto which domain (or the operator's list), the values
/// they hold, what depends on them and how each dependent is rebuilt, what stops it, and what it saves. Reads only.
/// </summary>
internal sealed class Planner(NpgsqlDataSource dataSource, ConversionOptions options)
{
    public sealed record Result(TableConversionPlan Plan, ConversionSpec? Spec);

    /// <summary>The plan of one table; null when no column of it is a candidate.</summary>
    public async Task<Result?> PlanAsync(NpgsqlConnection conn, CatalogTable table, IReadOnlyList<string> enumLike, string? inProgress, CancellationToken ct)
    {
        var maps = options.Maps.Where(m => Names(table, m.Table)).ToDictionary(m => m.Column, StringComparer.Ordinal);
        var unknown = options.MapUnknown.Where(m => Names(table, m.Table)).ToDictionary(m => m.Column, StringComparer.Ordinal);
        foreach (var named in options.Columns.Concat(maps.Keys).Concat(unknown.Keys))
        {
            var column = table.Column(named) ?? throw new BotStoreNotFoundException($"column {named} does not exist in {table.QualifiedName}");
            if (!column.IsText)
                throw new BotStoreValidationException($"{table.QualifiedName}.{named} is {column.Type}, not a text column: there is nothing to convert");
        }
        var candidates = table.Columns
            .Where(c => c.IsText && (options.Columns.Count == 0 || options.Columns.Contains(c.Name)))
            .Where(c => maps.ContainsKey(c.Name) || options.Columns.Contains(c.Name) || DomainsByName(c.Name).Any() || enumLike.Contains(c.Name))
            .ToList();
        if (candidates.Count == 0)
            return null;

        var values = await CountValuesAsync(conn, table, candidates, ct);
        var rows = values.Count == 0 ? 0 : values.Values.First().Sum(v => v.Rows);
        var columns = new List<ColumnConversionPlan>();
        foreach (var c in candidates)
        {
            var found = values[c.Name];
            var map = maps.GetValueOrDefault(c.Name) ?? BestDomain(table, c, found);
            if (map is null)
                continue;
            var mapping = new Dictionary<string, short>(map.Values, StringComparer.Ordinal);
            if (unknown.TryGetValue(c.Name, out var extra))
            {
                foreach (var (value, number) in extra.Values)
                {
                    if (!mapping.TryAdd(value, number))
                        throw new BotStoreValidationException($"--map-unknown maps '{value}' of {table.QualifiedName}.{c.Name}, which its mapping already covers");
                }
            }
            var counted = found.Select(v => v with { Number = v.Value is not null && mapping.TryGetValue(v.Value, out var n) ? n : null }).ToList();
            columns.Add(new ColumnConversionPlan(c.Name, c.Type, map.Domain, mapping, counted,
                counted.Where(v => v.Value is not null && v.Number is null).Select(v => v.Value!).ToArray(), c.NotNull, c.Default,
                DefaultNumber(c, mapping), null));
        }
        if (columns.Count == 0)
            return null;

        var problems = new List<string>();
        if (table.Key.Count == 0)
            problems.Add($"{table.QualifiedName} has no primary key: the backfill walks the table in key order and a resumed run starts from the last key; add one first");
        foreach (var c in columns.Where(c => c.Unmapped.Count > 0))
        {
            var first = c.Values.First(v => v.Value is not null && v.Number is null);
            problems.Add($"{table.QualifiedName}.{c.Column} holds {string.Join(", ", c.Unmapped.Select(v => $"'{v}'"))}, which {(c.Domain is null ? "the mapping" : $"the domain {c.Domain}")} does not cover (e.g. row {first.SampleKey}): map them with --map-unknown {table.QualifiedName}.{c.Column}={first.Value}:<number> or change those rows");
        }
        foreach (var c in columns.Where(c => c.Default is not null && c.NewDefault is null))
            problems.Add($"the default of {table.QualifiedName}.{c.Column} ({c.Default}) is not one of the mapped values");
        var specColumns = columns.Select(c => new ColumnSpec(c.Column, Conversion.Internal.Names.Fit(c.Column, "__smallint"), Conversion.Internal.Names.Fit(c.Column, "__text"),
            c.Domain, new Dictionary<string, short>(c.Mapping), c.NotNull, c.Default, c.NewDefault, AddValueCheck: true)).ToArray();
        foreach (var name in specColumns.SelectMany(c => new[] { c.NewName, c.TextName }).Where(n => table.Column(n) is not null))
            problems.Add($"{table.QualifiedName} already has a column {name}, which the conversion needs");
        if (table.PartitionDepth > 1)
            problems.Add($"{table.QualifiedName} has sub-partitions: only one level of partitions is supported");

        var (dependents, indexes, checks, views) = await DependentsAsync(conn, table, specColumns, problems, ct);
        // A CHECK of the column alone is re-created on the numbers; the catalog's value CHECK is only added where none is.
        specColumns = specColumns.Select(c => c with { AddValueCheck = !checks.Any(k => ExpressionRewriter.Mentions(k.Original, Single(c)) && MentionsOnly(k.Original, c.Name, table)) }).ToArray();

        var spec = problems.Count > 0 ? null : new ConversionSpec(table.Schema, table.Name, table.Oid, table.Partitioned, table.Key.ToArray(),
            table.Key.Select(k => table.Column(k)!.Type).ToArray(), table.Leaves.ToArray(), specColumns, indexes.ToArray(), checks.ToArray(), views.ToArray());
        var (perColumn, together) = await MeasureSavingAsync(table, columns.Select(c => c.Column).ToList(), ct);
        columns = columns.Select(c => c with { SavingPerRow = perColumn.GetValueOrDefault(c.Column) }).ToList();
        var estimate = await EstimateAsync(conn, table, rows, ct);
        var plan = new TableConversionPlan(table.QualifiedName, rows, table.Key, table.Leaves.Count, columns, dependents, problems, together, estimate, inProgress);
        return new Result(plan, spec);
    }

    private static bool Names(CatalogTable table, string written) => written == table.Name || written == table.QualifiedName;

    private static Dictionary<string, ColumnRewrite> Single(ColumnSpec c) => new() { [c.Name] = new ColumnRewrite(c.NewName, c.Mapping) };

    private static bool MentionsOnly(string sql, string column, CatalogTable table) =>
        table.Columns.Where(c => c.Name != column).All(other => !ExpressionRewriter.Mentions(sql, new Dictionary<string, ColumnRewrite> { [other.Name] = new(other.Name, new Dictionary<string, short>()) }));

    /// <summary>Domains whose name fits the column's: <c>status</c> → task_status, approval_status, sync_status; <c>channel</c> → channel_type.</summary>
    private static IEnumerable<EnumDomain> DomainsByName(string column) => EnumCatalog.Domains.Where(d =>
        d.Name == column || d.Name.EndsWith("_" + column, StringComparison.Ordinal) || d.Name.StartsWith(column + "_", StringComparison.Ordinal)
        || column.EndsWith("_" + d.Name, StringComparison.Ordinal));

    /// <summary>The domain that covers most of the column's values (all of them, ideally); ties go to the closest name, then catalog order.</summary>
    private static ColumnMap? BestDomain(CatalogTable table, CatalogColumn column, List<ValueCount> values)
    {
        var present = values.Where(v => v.Value is not null).Select(v => v.Value!).ToHashSet(StringComparer.Ordinal);
        var best = DomainsByName(column.Name)
            .Select((d, order) => (Domain: d, Covered: present.Count(v => d.Entries.Any(e => e.Name == v)), Exact: d.Name == column.Name, order))
            .Where(x => x.Covered > 0 || present.Count == 0)
            .OrderByDescending(x => x.Covered).ThenByDescending(x => x.Exact).ThenBy(x => x.order)
            .FirstOrDefault();
        return best.Domain is null ? null : ColumnMap.ForDomain(table.QualifiedName, column.Name, best.Domain);
    }

    private static short? DefaultNumber(CatalogColumn column, IReadOnlyDictionary<string, short> mapping)
    {
        if (column.Default is null)
            return null;
        // A constant default deparses as 'value'::type.
        var text = column.Default;
        if (!text.StartsWith('\'') || text.IndexOf('\'', 1) is var close && close < 0)
            return null;
        var end = 1;
        while (end < text.Length && !(text[end] == '\'' && (end + 1 >= text.Length || text[end + 1] != '\'')))
            end += text[end] == '\'' ? 2 : 1;
        var value = text[1..end].Replace("''", "'", StringComparison.Ordinal);
        return mapping.TryGetValue(value, out var n) ? n : null;
    }

    /// <summary>Distinct values with counts and a row key each, for all candidates in one scan (grouping sets).</summary>
    private static async Task<Dictionary<string, List<ValueCount>>> CountValuesAsync(NpgsqlConnection conn, CatalogTable table, List<CatalogColumn> columns, CancellationToken ct)
    {
        string key;
        if (table.Key.Count > 1)
            key = $"min(ROW({string.Join(", ", table.Key.Select(SqlText.Ident))})::text)";
        else if (table.Key.Count == 1)
            key = $"{Sql.Literal(table.Key[0] + "=")} || min({SqlText.Ident(table.Key[0])}::text)";
        else
            key = "'ctid ' || min(ctid::text)";
        var sql = $"""
            SELECT {string.Join(", ", columns.Select((c, i) => $"GROUPING({SqlText.Ident(c.Name)}) = 0, {SqlText.Ident(c.Name)}::text"))}, count(*), {key}
            FROM {table.Quoted} GROUP BY GROUPING SETS ({string.Join(", ", columns.Select(c => $"({SqlText.Ident(c.Name)})"))})
            ORDER BY count(*) DESC
            """;
        var result = columns.ToDictionary(c => c.Name, _ => new List<ValueCount>(), StringComparer.Ordinal);
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            for (var i = 0; i < columns.Count; i++)
            {
                if (!reader.GetBoolean(2 * i))
                    continue;
                result[columns[i].Name].Add(new ValueCount(reader.IsDBNull(2 * i + 1) ? null : reader.GetString(2 * i + 1),
                    reader.GetInt64(2 * columns.Count), null, reader.IsDBNull(2 * columns.Count + 1) ? "" : reader.GetString(2 * columns.Count + 1)));
            }
        }
        return result;
    }

    private async Task<(List<DependentPlan>, List<IndexSpec>, List<CheckSpec>, List<ViewSpec>)> DependentsAsync(
        NpgsqlConnection conn, CatalogTable table, ColumnSpec[] columns, List<string> problems, CancellationToken ct)
    {
        var before = columns.ToDictionary(c => c.Name, c => new ColumnRewrite(c.NewName, c.Mapping));
        var after = columns.ToDictionary(c => c.Name, c => new ColumnRewrite(c.Name, c.Mapping));
        var plans = new List<DependentPlan>();
        var indexes = new List<IndexSpec>();
        var checks = new List<CheckSpec>();
        var views = new List<ViewSpec>();
        var found = await table.DependentsAsync(conn, columns.Select(c => c.Name), ct);
        foreach (var d in found)
        {
            string? rewritten = null;
            string? problem = null;
            try
            {
                switch (d.Kind)
                {
                    case "index":
                        var at = d.Definition.IndexOf(" USING ", StringComparison.Ordinal);
                        var tail = ExpressionRewriter.Rewrite(d.Definition[(at + 1)..], before, $"index {d.Name}");
                        var unique = d.Definition.StartsWith("CREATE UNIQUE", StringComparison.Ordinal);
                        var spec = new IndexSpec(d.Schema, d.Name, Conversion.Internal.Names.Fit(d.Name, "__cv"), Conversion.Internal.Names.Fit(d.Name, "__text"), unique, tail, d.Definition);
                        indexes.Add(spec);
                        rewritten = $"CREATE {(unique ? "UNIQUE " : "")}INDEX CONCURRENTLY {d.Name} ON {table.QualifiedName} {tail}";
                        break;
                    case "check":
                        // A CHECK added NOT VALID deparses with that suffix: re-create it the same way, and do not validate it.
                        var valid = !d.Definition.EndsWith(" NOT VALID", StringComparison.Ordinal);
                        var check = ExpressionRewriter.Rewrite(valid ? d.Definition : d.Definition[..^" NOT VALID".Length], before, $"check {d.Name}");
                        checks.Add(new CheckSpec(d.Name, Conversion.Internal.Names.Fit(d.Name, "__cv"), Conversion.Internal.Names.Fit(d.Name, "__text"), check, d.Definition, valid));
                        rewritten = ExpressionRewriter.Rewrite(d.Definition, after, $"check {d.Name}") + " NOT VALID, then VALIDATE";
                        break;
                    case "view":
                        var query = ExpressionRewriter.Rewrite(d.Definition, after, $"view {d.Schema}.{d.Name}");
                        views.Add(await ViewAsync(conn, d, query, ct));
                        rewritten = query;
                        break;
                    case "trigger":
                        rewritten = "kept: it must read the column as SMALLINT after the swap";
                        break;
                    default:
                        problem = d.Kind switch
                        {
                            "foreign key" => $"foreign key {d.Name} involves the column: drop it, or map the referenced table's key too, before converting",
                            "primary key" or "unique constraint" => $"{d.Kind} {d.Name} includes the column: not supported",
                            "trigger on the column" => $"trigger {d.Name} fires on updates of the column: drop it during the conversion and re-create it after",
                            "materialized view" => $"materialized view {d.Schema}.{d.Name} reads the column: drop it and re-create it after",
                            _ => $"{d.Kind} {d.Name} involves the column: not supported",
                        };
                        break;
                }
            }
            catch (BotStoreValidationException ex)
            {
                problem = ex.Message;
            }
            if (problem is not null)
                problems.Add(problem);
            plans.Add(new DependentPlan(d.Kind, d.Kind is "view" ? $"{d.Schema}.{d.Name}" : d.Name, d.Definition, rewritten, problem));
        }
        if (views.Count > 0)
        {
            foreach (var v in await CatalogTable.ViewsOnViewsAsync(conn, found.Where(d => d.Kind == "view").Select(d => d.Oid), ct))
                problems.Add($"view {v} reads a view the conversion re-creates: drop it and re-create it after");
        }
        return (plans, indexes, checks, views);
    }

    private static async Task<ViewSpec> ViewAsync(NpgsqlConnection conn, CatalogDependent view, string rewritten, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT array_to_string(c.reloptions, ', '), pg_get_userbyid(c.relowner),
                   COALESCE((SELECT array_agg(format('GRANT %s ON %I.%I TO %s', a.privilege_type, n.nspname, c.relname,
                                                     CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END))
                             FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner), '{}')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1
            """, conn);
        cmd.Parameters.Add(SqlText.Oid(view.Oid));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new ViewSpec(view.Schema, view.Name, view.Definition, rewritten, reader.IsDBNull(0) ? null : reader.GetString(0),
            reader.GetString(1), reader.GetFieldValue<string[]>(2));
    }

    /// <summary>
    /// What the columns save: per column alone as <c>audit storage</c> measures it (in place), and all together as
    /// the rows will be once apply and finish are done: each text column a NULL where it was (PostgreSQL keeps a
    /// dropped column in every row, so a row of more than eight columns gains a null bitmap: 8 bytes after
    /// alignment) and the SMALLINTs at the end. Measured on up to 100,000 rows.
    /// </summary>
    private async Task<(Dictionary<string, double> PerColumn, double? Together)> MeasureSavingAsync(CatalogTable table, List<string> columns, CancellationToken ct)
    {
        var report = await new StorageAudit.StorageAudit(dataSource).RunAsync(new StorageAuditOptions { Table = table.QualifiedName, MinRows = 0, MaxDistinct = 1000 }, ct);
        var perColumn = report.EnumLikeColumns.Where(c => columns.Contains(c.Column)).ToDictionary(c => c.Column, c => c.SavingPerRow);
        if (columns.Count == 0)
            return (perColumn, null);
        static string Column(string name) => $"s.{SqlText.Ident(name)}";
        var now = TableShape.TupleBytes(table.Columns.Select(c => Column(c.Name)));
        var after = TableShape.TupleBytes(table.Columns.Select(c => columns.Contains(c.Name) ? "NULL::text" : Column(c.Name))
            .Concat(columns.Select(c => $"(CASE WHEN {Column(c)} IS NULL THEN NULL ELSE 0 END)::smallint")));
        await using var cmd = dataSource.CreateCommand($"SELECT avg({now}) - avg({after}) FROM (SELECT * FROM {table.Quoted} LIMIT 100000) s");
        return (perColumn, await cmd.ExecuteScalarAsync(ct) is decimal saving ? (double)saving : null);
    }

    /// <summary>
    /// A rough backfill time: one batch read in key order is timed, and an update of it is taken as five times that
    /// (it writes a new row version, its WAL and its index entries), plus the pause, times the number of batches.
    /// </summary>
    private async Task<TimeSpan> EstimateAsync(NpgsqlConnection conn, CatalogTable table, long rows, CancellationToken ct)
    {
        if (table.Key.Count == 0 || rows == 0)
            return TimeSpan.Zero;
        var leaf = table.Leaves.Count > 0 ? table.Leaves[0] : table.Quoted;
        var started = Stopwatch.GetTimestamp();
        await using (var cmd = new NpgsqlCommand($"SELECT count(*) FROM (SELECT * FROM {leaf} ORDER BY {string.Join(", ", table.Key.Select(SqlText.Ident))} LIMIT $1) s", conn).With(options.BatchSize))
            await cmd.ExecuteScalarAsync(ct);
        var read = Stopwatch.GetElapsedTime(started);
        var batches = Math.Ceiling(rows / (double)options.BatchSize);
        return TimeSpan.FromTicks((long)(batches * (read.Ticks * 5 + options.Pause.Ticks)));
    }
}
