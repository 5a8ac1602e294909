using BotStore.Monitoring;
using BotStore.Server.Internal;
using BotStore.Server.Operations;

namespace BotStore.Server.Dashboard.Internal;

/// <summary>Queries: pg_stat_statements ranked, a safe EXPLAIN ANALYZE of any of them, and a reset.</summary>
internal static class QueriesPage
{
    public static async Task<IResult> RenderAsync(HttpContext http, string? order, bool? reset, CancellationToken ct)
    {
        var page = new DashboardPage(http);
        var by = Enum.TryParse<QueryOrder>(order, ignoreCase: true, out var o) && Enum.IsDefined(o) ? o : QueryOrder.Total;
        var answers = await page.Shards.SomeAsync((s, t) => s.Reports.SlowQueriesAsync(50, by, t), ct);
        var html = page.Unanswered(new Html(), answers);
        if (reset == true)
            html.Raw("<p class=\"notice\" role=\"status\">").Text(page.Several ? "pg_stat_statements was reset for every shard's database." : "pg_stat_statements was reset for this database.").Raw("</p>");
        foreach (var a in answers.Where(a => a.Error is null && !a.Value!.Available))
            html.Raw("<p class=\"error\">").Text(page.Several ? $"shard '{a.Shard.Name}': {a.Value!.Unavailable}" : a.Value!.Unavailable).Raw("</p>");
        if (!answers.Any(a => a.Error is null && a.Value!.Available))
            return page.Render("queries", "Queries", html.ToString());
        var queries = ShardViews.TopQueries(answers, by, 50);
        html.Raw("<div class=\"toolbar\"><span>Rank by</span>");
        foreach (var option in Enum.GetValues<QueryOrder>())
        {
            var name = option.ToString().ToLowerInvariant();
            html.Raw($"<a href=\"/dashboard/queries?order={name}\"{(option == by ? " class=\"active\"" : "")}>{(option == QueryOrder.Total ? "total time" : option == QueryOrder.Mean ? "mean time" : "calls")}</a>");
        }
        html.Raw("<form method=\"post\" action=\"/dashboard/queries/reset\" class=\"right\">").Antiforgery(page)
            .Raw("<button type=\"submit\" class=\"danger\">Reset statistics</button></form></div>");
        var total = Math.Max(1e-9, queries.Sum(x => x.Query.TotalMs));
        html.Table(page.Headers(">total", ">share", ">calls", ">mean", ">≈p95", ">max", ">rows", ">cache hit", "query", ""),
            queries.Select(x => page.Cells(x.Shard,
                Html.Ms(x.Query.TotalMs), Html.Percent(x.Query.TotalMs / total), Html.Count(x.Query.Calls), Html.Ms(x.Query.MeanMs), Html.Ms(x.Query.ApproxP95Ms), Html.Ms(x.Query.MaxMs), Html.Count(x.Query.Rows),
                x.Query.SharedBlocksHit + x.Query.SharedBlocksRead > 0 ? Html.Percent((double)x.Query.SharedBlocksHit / (x.Query.SharedBlocksHit + x.Query.SharedBlocksRead)) : "",
                new Markup($"<code class=\"sql\">{Html.Attr(x.Query.Query.Length > 300 ? x.Query.Query[..300] + "…" : x.Query.Query)}</code>"),
                new Markup($"<a class=\"button small\" href=\"/dashboard/queries/explain?id={x.Query.QueryId}&amp;shard={Uri.EscapeDataString(x.Shard)}\">Explain</a>"))),
            "queries", "no statement recorded yet");
        html.Raw("<p class=\"muted\">Figures since the last reset. Mean, ≈p95 (mean + 2 standard deviations, at most max) and max are per call; the share is of the total time of the statements listed.</p>");
        return page.Render("queries", "Queries", html.ToString());
    }

    /// <summary>The explain form, filled with a recorded statement of a shard; its $1, $2... must be replaced by values first.</summary>
    public static async Task<IResult> ExplainFormAsync(HttpContext http, long? id, string? shard, CancellationToken ct)
    {
        var page = new DashboardPage(http);
        var on = page.Shards.Get(shard ?? page.Shards.All[0].Name);
        var sql = "";
        if (id is { } queryId)
        {
            var report = await on.Reports.SlowQueriesAsync(1000, QueryOrder.Total, ct);
            sql = report.Queries.FirstOrDefault(q => q.QueryId == queryId)?.Query ?? "";
        }
        return page.Render("queries", "Explain", Form(page, sql, on.Name).ToString());
    }

    /// <summary>Runs the statement under EXPLAIN (ANALYZE, BUFFERS) in a transaction that is rolled back, on the shard the form names.</summary>
    public static async Task<IResult> ExplainAsync(HttpContext http, CancellationToken ct)
    {
        var page = new DashboardPage(http);
        var form = await http.Request.ReadFormAsync(ct);
        var sql = form["sql"].ToString();
        var html = new Html();
        try
        {
            var on = page.Shards.Get(form["shard"] is { Count: > 0 } named ? named.ToString() : page.Shards.All[0].Name);
            html = Form(page, sql, on.Name);
            var plan = await ExplainAnalyze.RunAsync(on.Shard.Tenants, sql, ct);
            html.Raw("<h2>Plan</h2><pre class=\"plan\" id=\"plan\">").Text(string.Join('\n', plan)).Raw("</pre>");
        }
        catch (BotStoreValidationException ex)
        {
            html.Raw("<p class=\"error\" role=\"alert\">").Text(ex.Message).Raw("</p>");
            return page.Render("queries", "Explain", html.ToString(), StatusCodes.Status400BadRequest);
        }
        return page.Render("queries", "Explain", html.ToString());
    }

    /// <summary>Resets pg_stat_statements on every shard.</summary>
    public static async Task<IResult> ResetAsync(HttpContext http, CancellationToken ct)
    {
        await http.RequestServices.GetRequiredService<OperationsShards>().SomeAsync(async (s, t) =>
        {
            await s.Reports.ResetQueryStatisticsAsync(t);
            return true;
        }, ct);
        return Results.Redirect("/dashboard/queries?reset=true");
    }

    private static Html Form(DashboardPage page, string sql, string shard) =>
        new Html().Raw("<p>The statement runs under <code>EXPLAIN (ANALYZE, BUFFERS)</code> inside a transaction that is always rolled back: ")
            .Raw("it is measured but changes nothing. Replace <code>$1</code>, <code>$2</code>… with values first.</p>")
            .Raw(page.Several ? $"<p>On shard <strong>{Html.Attr(shard)}</strong>.</p>" : "")
            .Raw("<form method=\"post\" action=\"/dashboard/queries/explain\" class=\"explain\">").Antiforgery(page)
            .Raw($"<input type=\"hidden\" name=\"shard\" value=\"{Html.Attr(shard)}\">")
            .Raw("<textarea name=\"sql\" rows=\"8\" spellcheck=\"false\" required>").Text(sql).Raw("</textarea>")
            .Raw("<button type=\"submit\">Explain analyze</button></form>");
}
