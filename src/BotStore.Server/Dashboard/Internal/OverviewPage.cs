using BotStore.Monitoring;

namespace BotStore.Server.Dashboard.Internal;

/// <summary>The overview: the server at a glance, the health checks, and the charts of the last hours.</summary>
internal static class OverviewPage
{
    public static async Task<IResult> RenderAsync(HttpContext http, CancellationToken ct)
    {
        var page = new DashboardPage(http);
        var reports = page.Service<DatabaseReports>();
        var stats = await reports.StatisticsAsync(ct);
        var checks = await reports.HealthChecksAsync(null, ct);
        var connections = await reports.ConnectionsAsync(ct);
        var samples = page.Service<DashboardSampler>().Samples;

        var html = new Html().Raw("<section class=\"cards\">");
        var version = stats.ServerVersion.Split(' ', 2);
        Card(html, "PostgreSQL", version[0],
            $"{(version.Length > 1 ? version[1] + ", " : "")}{(stats.IsReplica ? "standby" : "primary")}, up {Html.Duration((stats.SampledAt - stats.StartedAt).TotalSeconds)}; database {stats.Database}");
        var growth = samples.Count >= 2 ? samples[^1].DatabaseBytes - samples[0].DatabaseBytes : (long?)null;
        Card(html, "Database size", Html.Bytes(stats.DatabaseBytes),
            growth is { } g ? $"{(g >= 0 ? "+" : "−")}{Html.Bytes(Math.Abs(g))} in {Html.Duration((samples[^1].At - samples[0].At).TotalSeconds)}" : "growth: collecting samples");
        Card(html, "Connections", Html.F($"{stats.ServerConnections} / {stats.MaxConnections}"), $"{Html.Percent((double)stats.ServerConnections / stats.MaxConnections)} of max_connections",
            stats.ServerConnections > 0.8 * stats.MaxConnections);
        Card(html, "Cache hit ratio", Html.Percent(stats.CacheHitRatio), "shared buffers, since statistics reset", stats.CacheHitRatio < 0.95);
        var rates = Rates(samples, s => s.CommittedTransactions);
        Card(html, "Transactions", rates.Count > 0 ? Html.F($"{rates[^1].Value:0.#}/s") : "–", $"{Html.Count(stats.CommittedTransactions)} committed, {Html.Count(stats.RolledBackTransactions)} rolled back");
        if (stats.ReplicationLagSeconds is { } lag)
            Card(html, stats.IsReplica ? "Replay lag" : "Replica lag", Html.Duration(lag), stats.IsReplica ? "behind the primary" : "largest replay lag of the standbys", lag > 60);
        html.Raw("</section>");

        var failing = checks.Count(c => !c.Ok);
        html.Raw("<h2>Checks <small>").Text(failing == 0 ? "all green" : $"{failing} of {checks.Count} red").Raw("</small></h2><ul class=\"checks\" id=\"checks\">");
        foreach (var c in checks.OrderBy(c => c.Ok))
        {
            html.Raw($"<li class=\"{(c.Ok ? "ok" : "bad")}\" data-check=\"{Html.Attr(c.Name)}\" data-ok=\"{(c.Ok ? "true" : "false")}\">")
                .Raw($"<span class=\"dot\" aria-label=\"{(c.Ok ? "ok" : "problem")}\"></span>").El("strong", c.Title).El("span", c.Detail, "why").Raw("</li>");
        }
        html.Raw("</ul>");

        html.Raw("<h2>Last hours</h2><section class=\"charts\">");
        html.Raw(SvgChart.Line("chart-connections", $"Connections (of max_connections {stats.MaxConnections})",
            samples.Select(s => (s.At, (double)s.ServerConnections)).ToList(), v => Html.F($"{v:0}")));
        html.Raw(SvgChart.Line("chart-transactions", "Transactions per second", rates, v => Html.F($"{v:0.#}/s")));
        html.Raw(SvgChart.Line("chart-requests", "API requests per second", Rates(samples, s => s.Requests), v => Html.F($"{v:0.#}/s")));
        html.Raw(SvgChart.Line("chart-latency", "API mean latency", Latency(samples), v => Html.Ms(v)));
        html.Raw(SvgChart.Line("chart-size", "Database size", samples.Select(s => (s.At, (double)s.DatabaseBytes)).ToList(), v => Html.Bytes((long)v), fromZero: false));
        html.Raw("</section>");

        html.Raw("<h2>Connections by pool</h2>");
        html.Table(["database", "user", "application (pool)", "state", ">count", ">waiting on locks", ">oldest transaction", ">longest query"],
            connections.Groups.Select(g => new object?[] { g.Database, g.User, g.Application, g.State, g.Count, g.WaitingOnLocks,
                Html.Duration(g.OldestTransactionSeconds), Html.Duration(g.LongestQuerySeconds) }), "connections");
        return page.Render("", "Overview", html.ToString());
    }

    private static void Card(Html html, string label, string value, string note, bool warn = false) =>
        html.Raw(warn ? "<div class=\"card warn\">" : "<div class=\"card\">").El("span", label, "label").El("strong", value).El("span", note, "note").Raw("</div>");

    /// <summary>Per-second rate of a cumulative counter between consecutive samples (a counter reset gives no point).</summary>
    private static List<(DateTimeOffset At, double Value)> Rates(IReadOnlyList<Sample> samples, Func<Sample, double> counter) =>
        samples.Zip(samples.Skip(1))
            .Where(p => counter(p.Second) >= counter(p.First) && p.Second.At > p.First.At)
            .Select(p => (p.Second.At, (counter(p.Second) - counter(p.First)) / (p.Second.At - p.First.At).TotalSeconds))
            .ToList();

    private static List<(DateTimeOffset At, double Value)> Latency(IReadOnlyList<Sample> samples) =>
        samples.Zip(samples.Skip(1))
            .Where(p => p.Second.Requests >= p.First.Requests)
            .Select(p => (p.Second.At, p.Second.Requests == p.First.Requests ? 0 : 1000 * (p.Second.RequestSeconds - p.First.RequestSeconds) / (p.Second.Requests - p.First.Requests)))
            .ToList();
}
