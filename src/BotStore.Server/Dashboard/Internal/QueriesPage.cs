using BotStore.Monitoring;
using Npgsql;

namespace BotStore.Server.Dashboard.Internal;

/// <summary>Queries: pg_stat_statements ranked, a safe EXPLAIN ANALYZE of any of them, and a reset.</summary>
internal static class QueriesPage
{
    public static async Task<IResult> RenderAsync(HttpContext http, string? order, bool? reset, CancellationToken ct)
    {
        var page = new DashboardPage(http);
        var by = Enum.TryParse<QueryOrder>(order, ignoreCase: true, out var o) && Enum.IsDefined(o) ? o : QueryOrder.Total;
        var report = await page.Service<DatabaseReports>().SlowQueriesAsync(50, by, ct);
        var html = new Html();
        if (reset == true)
            html.Raw("<p class=\"notice\" role=\"status\">pg_stat_statements was reset for this database.</p>");
        if (!report.Available)
        {
            html.Raw("<p class=\"error\">").Text(report.Unavailable).Raw("</p>");
            return page.Render("queries", "Queries", html.ToString());
        }
        html.Raw("<div class=\"toolbar\"><span>Rank by</span>");
        foreach (var option in Enum.GetValues<QueryOrder>())
        {
            var name = option.ToString().ToLowerInvariant();
            html.Raw($"<a href=\"/dashboard/queries?order={name}\"{(option == by ? " class=\"active\"" : "")}>{(option == QueryOrder.Total ? "total time" : option == QueryOrder.Mean ? "mean time" : "calls")}</a>");
        }
        html.Raw("<form method=\"post\" action=\"/dashboard/queries/reset\" class=\"right\">").Antiforgery(page)
            .Raw("<button type=\"submit\" class=\"danger\">Reset statistics</button></form></div>");
        var total = Math.Max(1e-9, report.Queries.Sum(q => q.TotalMs));
        html.Table([">total", ">share", ">calls", ">mean", ">≈p95", ">max", ">rows", ">cache hit", "query", ""],
            report.Queries.Select(q => new object?[]
            {
                Html.Ms(q.TotalMs), Html.Percent(q.TotalMs / total), Html.Count(q.Calls), Html.Ms(q.MeanMs), Html.Ms(q.ApproxP95Ms), Html.Ms(q.MaxMs), Html.Count(q.Rows),
                q.SharedBlocksHit + q.SharedBlocksRead > 0 ? Html.Percent((double)q.SharedBlocksHit / (q.SharedBlocksHit + q.SharedBlocksRead)) : "",
                new Markup($"<code class=\"sql\">{Html.Attr(q.Query.Length > 300 ? q.Query[..300] + "…" : q.Query)}</code>"),
                new Markup($"<a class=\"button small\" href=\"/dashboard/queries/explain?id={q.QueryId}\">Explain</a>"),
            }), "queries", "no statement recorded yet");
        html.Raw("<p class=\"muted\">Figures since the last reset. Mean, ≈p95 (mean + 2 standard deviations, at most max) and max are per call; the share is of the total time of the statements listed.</p>");
        return page.Render("queries", "Queries", html.ToString());
    }

    /// <summary>The explain form, filled with a recorded statement; its $1, $2... must be replaced by values first.</summary>
    public static async Task<IResult> ExplainFormAsync(HttpContext http, long? id, CancellationToken ct)
    {
        var page = new DashboardPage(http);
        var sql = "";
        if (id is { } queryId)
        {
            var report = await page.Service<DatabaseReports>().SlowQueriesAsync(1000, QueryOrder.Total, ct);
            sql = report.Queries.FirstOrDefault(q => q.QueryId == queryId)?.Query ?? "";
        }
        return page.Render("queries", "Explain", Form(page, sql).ToString());
    }

    /// <summary>Runs the statement under EXPLAIN (ANALYZE, BUFFERS) in a transaction that is rolled back.</summary>
    public static async Task<IResult> ExplainAsync(HttpContext http, CancellationToken ct)
    {
        var page = new DashboardPage(http);
        var sql = (await http.Request.ReadFormAsync(ct))["sql"].ToString();
        var html = Form(page, sql);
        try
        {
            var plan = await ExplainAnalyze.RunAsync(page.Service<NpgsqlDataSource>(), sql, ct);
            html.Raw("<h2>Plan</h2><pre class=\"plan\" id=\"plan\">").Text(string.Join('\n', plan)).Raw("</pre>");
        }
        catch (BotStoreValidationException ex)
        {
            html.Raw("<p class=\"error\" role=\"alert\">").Text(ex.Message).Raw("</p>");
            return page.Render("queries", "Explain", html.ToString(), StatusCodes.Status400BadRequest);
        }
        return page.Render("queries", "Explain", html.ToString());
    }

    public static async Task<IResult> ResetAsync(HttpContext http, CancellationToken ct)
    {
        await http.RequestServices.GetRequiredService<DatabaseReports>().ResetQueryStatisticsAsync(ct);
        return Results.Redirect("/dashboard/queries?reset=true");
    }

    private static Html Form(DashboardPage page, string sql) =>
        new Html().Raw("<p>The statement runs under <code>EXPLAIN (ANALYZE, BUFFERS)</code> inside a transaction that is always rolled back: ")
            .Raw("it is measured but changes nothing. Replace <code>$1</code>, <code>$2</code>… with values first.</p>")
            .Raw("<form method=\"post\" action=\"/dashboard/queries/explain\" class=\"explain\">").Antiforgery(page)
            .Raw("<textarea name=\"sql\" rows=\"8\" spellcheck=\"false\" required>").Text(sql).Raw("</textarea>")
            .Raw("<button type=\"submit\">Explain analyze</button></form>");
}
