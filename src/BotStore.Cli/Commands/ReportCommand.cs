using System.CommandLine;
using System.Globalization;
using BotStore.Cli.Infrastructure;
using BotStore.Monitoring;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore report health|tables|indexes|queries|vacuum|connections|partitions|tenants</c>: the monitoring reports.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var limit = new Option<int>("--limit") { Description = "how many statements or tenants", DefaultValueFactory = _ => 20 };
        var order = new Option<string>("--order") { Description = "rank by total | mean | calls (execution time or count)", DefaultValueFactory = _ => "total" };
        order.AcceptOnlyFromAmong("total", "mean", "calls");
        return new Command("report", "Print a monitoring report as an aligned table, or --json.")
        {
            Report("health", "The health checks, each ok or PROBLEM with one line of why (the dashboard's overview checks).",
                (r, _, ct) => r.HealthChecksAsync(null, ct), PrintHealth),
            Report("tables", "Table sizes (total, heap, indexes), rows and estimated heap bloat; partitioned parents sum their partitions.",
                (r, _, ct) => r.TablesAsync(ct), PrintTables),
            Report("indexes", "Index usage (scans, tuples, size), estimated bloat, and unused, redundant and invalid indexes.",
                (r, _, ct) => r.IndexesAsync(ct), PrintIndexes),
            Report("queries", "The costliest statements from pg_stat_statements: calls, total and mean time, rows.",
                (r, p, ct) => r.SlowQueriesAsync(p.GetValue(limit), Enum.Parse<QueryOrder>(p.GetValue(order)!, ignoreCase: true), ct), PrintQueries, limit, order),
            Report("vacuum", "Dead rows, changes since analyze, last vacuum and analyze (manual and auto) and transaction-id age per table.",
                (r, _, ct) => r.VacuumAsync(ct), PrintVacuum),
            Report("connections", "Client connections by database, user, application and state.",
                (r, _, ct) => r.ConnectionsAsync(ct), PrintConnections),
            Report("partitions", "Each partitioned table's runway, default-partition rows, retention and size.",
                (r, _, ct) => r.PartitionsAsync(ct), PrintPartitions),
            Report("tenants", "The tenants with most messages: messages, their bytes, bots and users (a block sample on large tables).",
                (r, p, ct) => r.TenantsAsync(p.GetValue(limit), ct), PrintTenants, limit),
        };
    }

    private static Command Report<T>(string name, string description, Func<DatabaseReports, ParseResult, CancellationToken, Task<T>> read,
        Action<T> print, params Option[] options)
    {
        var command = new Command(name, description) { CommonOptions.Json };
        foreach (var option in options)
            command.Options.Add(option);
        command.Runs((parseResult, ct) => ShardTargets.EachAsync(parseResult, ct, async target =>
        {
            var report = await read(new DatabaseReports(target.DataSource), parseResult, ct);
            if (parseResult.GetValue(CommonOptions.Json))
                Output.Json(report);
            else
                print(report);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void PrintHealth(IReadOnlyList<HealthCheck> checks)
    {
        var table = Output.Table("check", "status", "detail");
        foreach (var c in checks)
            table.Row(c.Title, c.Ok ? "ok" : "PROBLEM", c.Detail);
        Output.Print(table);
    }

    private static void PrintTenants(TenantReport report)
    {
        var table = Output.Table(">id", "tenant", "active", ">messages", ">message bytes", "latest message", ">bots", ">users");
        foreach (var t in report.Top)
            table.Row(t.Id, t.Name, t.IsActive ? "yes" : "no", t.Messages, Output.Bytes(t.MessageBytes), t.LatestMessage, t.Bots, t.Users);
        Output.Print(table);
        Output.Line(report.SampledPercent is { } p
            ? $"{report.Tenants} tenants; message figures scaled from a {p.ToString("0.##", CultureInfo.InvariantCulture)}% block sample"
            : $"{report.Tenants} tenants");
    }

    private static void PrintTables(IReadOnlyList<TableReport> rows)
    {
        var table = Output.Table("table", "kind", "parent", ">rows (est.)", ">total", ">heap", ">indexes", ">bloat (est.)");
        foreach (var r in rows)
            table.Row(r.Name, r.Kind, r.Parent, r.EstimatedRows, Output.Bytes(r.TotalBytes), Output.Bytes(r.HeapBytes), Output.Bytes(r.IndexBytes), Bloat(r.BloatRatio, r.BloatBytes));
        Output.Print(table);
    }

    private static void PrintIndexes(IReadOnlyList<IndexReport> rows)
    {
        var table = Output.Table("index", "table", "method", ">partitions", ">scans", ">tuples read", ">tuples fetched", ">size", ">bloat (est.)", "problems");
        foreach (var r in rows)
        {
            var problems = new List<string>();
            if (!r.IsValid)
                problems.Add("INVALID");
            if (r.IsUnused)
                problems.Add("unused");
            if (r.RedundantWith is { } other)
                problems.Add($"redundant with {other}");
            table.Row(r.Name, r.Table, r.Method, r.Partitions, r.Scans, r.TuplesRead, r.TuplesFetched, Output.Bytes(r.Bytes), Bloat(r.BloatRatio, r.BloatBytes),
                string.Join(", ", problems));
        }
        Output.Print(table);
    }

    private static void PrintQueries(SlowQueryReport report)
    {
        if (!report.Available)
        {
            Output.Line($"Slow queries unavailable: {report.Unavailable}");
            return;
        }
        var table = Output.Table(">calls", ">total ms", ">mean ms", ">~p95 ms", ">max ms", ">rows", ">hit %", "query");
        foreach (var q in report.Queries)
        {
            var blocks = q.SharedBlocksHit + q.SharedBlocksRead;
            table.Row(q.Calls, Ms(q.TotalMs), Ms(q.MeanMs), Ms(q.ApproxP95Ms), Ms(q.MaxMs), q.Rows, blocks > 0 ? (100.0 * q.SharedBlocksHit / blocks).ToString("0.0", CultureInfo.InvariantCulture) : "",
                OneLine(q.Query, 120));
        }
        Output.Print(table);
    }

    private static void PrintVacuum(IReadOnlyList<VacuumReport> rows)
    {
        var table = Output.Table("table", "kind", ">live", ">dead", ">dead %", ">changed since analyze", "last vacuum", "last analyze", ">xid age");
        foreach (var r in rows)
        {
            table.Row(r.Table, r.Kind, r.LiveRows, r.DeadRows, (100 * r.DeadRatio).ToString("0.0", CultureInfo.InvariantCulture), r.ModifiedSinceAnalyze,
                Age(r.VacuumAgeSeconds, r.LastVacuum, r.LastAutovacuum), Age(r.AnalyzeAgeSeconds, r.LastAnalyze, r.LastAutoanalyze), r.XidAge);
        }
        Output.Print(table);
    }

    private static void PrintConnections(ConnectionReport report)
    {
        var table = Output.Table("database", "user", "application", "state", ">count", ">waiting on locks", ">oldest xact s", ">longest query s");
        foreach (var g in report.Groups)
            table.Row(g.Database, g.User, g.Application, g.State, g.Count, g.WaitingOnLocks, Seconds(g.OldestTransactionSeconds), Seconds(g.LongestQuerySeconds));
        Output.Print(table);
        Output.Line($"{report.Total} client connections of max_connections {report.MaxConnections}");
    }

    private static void PrintPartitions(IReadOnlyList<PartitionRunwayReport> rows)
    {
        var table = Output.Table("table", ">partitions", "oldest", "covered until", ">runway (months)", ">premake", ">retention", "horizon", ">default rows", ">rows (est.)", ">size");
        foreach (var r in rows)
        {
            table.Row(r.Table, r.Partitions, r.OldestFrom, r.CoveredUntil, r.RunwayMonths, r.PremakeMonths,
                r.RetentionMonths?.ToString(CultureInfo.InvariantCulture) ?? "off", r.RetentionHorizon?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                r.DefaultRows, r.EstimatedRows, Output.Bytes(r.TotalBytes));
        }
        Output.Print(table);
    }

    private static string Bloat(double? ratio, long? bytes) =>
        ratio is { } r && bytes is { } b ? $"{Output.Bytes(b)} ({(100 * r).ToString("0", CultureInfo.InvariantCulture)}%)" : "-";

    private static string Ms(double ms) => ms.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Seconds(double? s) => s?.ToString("0.0", CultureInfo.InvariantCulture) ?? "";

    private static string Age(double? seconds, DateTimeOffset? manual, DateTimeOffset? auto)
    {
        if (seconds is not { } s)
            return "never";
        var ago = s switch
        {
            < 120 => $"{s:0}s ago",
            < 7200 => $"{s / 60:0}m ago",
            < 172800 => $"{s / 3600:0}h ago",
            _ => $"{s / 86400:0}d ago",
        };
        return $"{ago} ({(auto is not null && (manual is null || auto > manual) ? "auto" : "manual")})";
    }

    private static string OneLine(string text, int max)
    {
        var line = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return line.Length <= max ? line : line[..(max - 1)] + "…";
    }
}
