using BotStore.Monitoring;
using BotStore.Server.Internal;
using BotStore.Sharding;

namespace BotStore.Server.Dashboard.Internal;

/// <summary>The overview: the server at a glance, the health checks, and the charts of the last hours.</summary>
internal static class OverviewPage
{
    public static async Task<IResult> RenderAsync(HttpContext http, CancellationToken ct)
    {
        var page = new DashboardPage(http);
        var shards = page.Shards;
        var answers = await shards.SomeAsync(async (s, t) => (Stats: await s.Reports.StatisticsAsync(t), Checks: await s.Reports.HealthChecksAsync(null, t),
            Connections: await s.Reports.ConnectionsAsync(t)), ct);
        // Moves need two shards; the lag is what `botstore shards status` reads (ShardStatus).
        var moves = page.Several ? (await ShardStatus.ReadAsync(shards.Router, ct: ct)).SelectMany(r => r.Moves.Select(m => (r.Shard, Move: m))).ToList() : [];
        var answered = answers.Where(a => a.Error is null).Select(a => (Shard: a.Shard.Name, a.Value.Stats, a.Value.Checks, a.Value.Connections)).ToList();
        var samples = page.Service<DashboardSampler>().Samples;
        var stats = answered.Select(a => a.Stats).ToList();
        var first = stats[0];
        var maxConnections = stats.Sum(s => s.MaxConnections);
        var serverConnections = stats.Sum(s => s.ServerConnections);
        var hits = stats.Sum(s => s.BlocksHit);
        var reads = stats.Sum(s => s.BlocksRead);
        double? cacheHit = hits + reads > 0 ? (double)hits / (hits + reads) : null;
        var lag = stats.Max(s => s.ReplicationLagSeconds);

        var html = new Html().Raw("<section class=\"cards\">");
        var version = first.ServerVersion.Split(' ', 2);
        if (!page.Several)
        {
            Card(html, "PostgreSQL", version[0],
                $"{(version.Length > 1 ? version[1] + ", " : "")}{(first.IsReplica ? "standby" : "primary")}, up {Html.Duration((first.SampledAt - first.StartedAt).TotalSeconds)}; database {first.Database}");
        }
        else
        {
            var versions = stats.Select(s => s.ServerVersion.Split(' ')[0]).Distinct().ToList();
            Card(html, "PostgreSQL", string.Join(", ", versions),
                $"{answered.Count} of {answers.Count} shards answer: {string.Join(", ", answered.Select(a => a.Shard))}", answered.Count < answers.Count);
        }
        var growth = samples.Count >= 2 ? samples[^1].DatabaseBytes - samples[0].DatabaseBytes : (long?)null;
        Card(html, page.Several ? "Database size (all shards)" : "Database size", Html.Bytes(stats.Sum(s => s.DatabaseBytes)),
            growth is { } g ? $"{(g >= 0 ? "+" : "−")}{Html.Bytes(Math.Abs(g))} in {Html.Duration((samples[^1].At - samples[0].At).TotalSeconds)}" : "growth: collecting samples");
        Card(html, "Connections", Html.F($"{serverConnections} / {maxConnections}"),
            $"{Html.Percent((double)serverConnections / maxConnections)} of max_connections{(page.Several ? ", summed over the shards' servers" : "")}",
            stats.Any(s => s.ServerConnections > 0.8 * s.MaxConnections));
        Card(html, "Cache hit ratio", Html.Percent(cacheHit), "shared buffers, since statistics reset", cacheHit < 0.95);
        var rates = Rates(samples, s => s.CommittedTransactions);
        Card(html, "Transactions", rates.Count > 0 ? Html.F($"{rates[^1].Value:0.#}/s") : "–",
            $"{Html.Count(stats.Sum(s => s.CommittedTransactions))} committed, {Html.Count(stats.Sum(s => s.RolledBackTransactions))} rolled back");
        if (lag is { } l)
            Card(html, first.IsReplica ? "Replay lag" : "Replica lag", Html.Duration(l), first.IsReplica ? "behind the primary" : "largest replay lag of the standbys", l > 60);
        if (moves.Count > 0)
        {
            Card(html, "Move lag", Html.Bytes(moves.Max(m => m.Move.LagBytes)),
                string.Join("; ", moves.Select(m => $"tenant {m.Move.TenantId} leaving '{m.Shard}': {Html.Bytes(m.Move.LagBytes)} not yet confirmed")),
                moves.Any(m => m.Move.LagBytes > 16L << 20), "move-lag");
        }
        html.Raw("</section>");

        var checks = answered.SelectMany(a => a.Checks.Select(c => (a.Shard, Check: c)))
            .Concat(ShardViews.Failures(answers).Select(f => (f.Shard, Check: new HealthCheck("shard_reachable", "Shard reachable", false, f.Error))))
            .ToList();
        var failing = checks.Count(c => !c.Check.Ok);
        html.Raw("<h2>Checks <small>").Text(failing == 0 ? "all green" : $"{failing} of {checks.Count} red").Raw("</small></h2><ul class=\"checks\" id=\"checks\">");
        foreach (var (shard, c) in checks.OrderBy(c => c.Check.Ok))
        {
            html.Raw($"<li class=\"{(c.Ok ? "ok" : "bad")}\" data-check=\"{Html.Attr(c.Name)}\" data-ok=\"{(c.Ok ? "true" : "false")}\"{(page.Several ? $" data-shard=\"{Html.Attr(shard)}\"" : "")}>")
                .Raw($"<span class=\"dot\" aria-label=\"{(c.Ok ? "ok" : "problem")}\"></span>").El("strong", page.Several ? $"{shard}: {c.Title}" : c.Title).El("span", c.Detail, "why").Raw("</li>");
        }
        html.Raw("</ul>");

        html.Raw("<h2>Last hours</h2><section class=\"charts\">");
        html.Raw(SvgChart.Line("chart-connections", $"Connections (of max_connections {maxConnections}{(page.Several ? ", all shards" : "")})",
            samples.Select(s => (s.At, (double)s.ServerConnections)).ToList(), v => Html.F($"{v:0}")));
        html.Raw(SvgChart.Line("chart-transactions", "Transactions per second", rates, v => Html.F($"{v:0.#}/s")));
        html.Raw(SvgChart.Line("chart-requests", "API requests per second", Rates(samples, s => s.Requests), v => Html.F($"{v:0.#}/s")));
        html.Raw(SvgChart.Line("chart-latency", "API mean latency", Latency(samples), v => Html.Ms(v)));
        html.Raw(SvgChart.Line("chart-size", "Database size", samples.Select(s => (s.At, (double)s.DatabaseBytes)).ToList(), v => Html.Bytes((long)v), fromZero: false));
        html.Raw("</section>");

        html.Raw("<h2>Connections by pool</h2>");
        html.Table(page.Headers("database", "user", "application (pool)", "state", ">count", ">waiting on locks", ">oldest transaction", ">longest query"),
            answered.SelectMany(a => a.Connections.Groups.Select(g => page.Cells(a.Shard, g.Database, g.User, g.Application, g.State, g.Count, g.WaitingOnLocks,
                Html.Duration(g.OldestTransactionSeconds), Html.Duration(g.LongestQuerySeconds)))), "connections");
        return page.Render("", "Overview", html.ToString());
    }

    private static void Card(Html html, string label, string value, string note, bool warn = false, string? id = null) =>
        html.Raw($"<div class=\"card{(warn ? " warn" : "")}\"{(id is null ? "" : $" id=\"{Html.Attr(id)}\"")}>").El("span", label, "label").El("strong", value).El("span", note, "note").Raw("</div>");

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
