using BotStore.Sharding;

namespace BotStore.Server.Dashboard.Internal;

/// <summary>
/// Shards: per shard whether it answers, its version, tenants (its own rows and the directory's count), size,
/// connections, moves in progress with their lag, whether its tenants' requests are failing fast, and what tenant moves
/// lack. The figures are <see cref="ShardStatus"/>'s, the same as <c>botstore shards status</c>.
/// </summary>
internal static class ShardsPage
{
    public static async Task<IResult> RenderAsync(HttpContext http, CancellationToken ct)
    {
        var page = new DashboardPage(http);
        var router = page.Shards.Router;
        var rows = await ShardStatus.ReadAsync(router, ct: ct);
        var html = new Html().Raw("<p class=\"muted\">")
            .Text($"{rows.Count(r => r.Reachable)} of {rows.Count} shards answer. Each tenant lives on one shard; the directory (on shard {router.DirectoryShard.Name}) says which.")
            .Raw("</p>");
        html.Table(["shard", "where", "reachable", "version", ">tenants", ">in directory", ">size", ">connections", ">move lag", "requests", "moves need"],
            rows.Select(r => new object?[]
            {
                new Markup($"<span data-shard=\"{Html.Attr(r.Shard)}\">{Html.Attr(r.Shard)}</span>{(r.Shard == router.DirectoryShard.Name ? " <span class=\"badge\">directory</span>" : "")}"),
                r.Where,
                r.Reachable ? Markup.Badge(true, "yes") : new Markup($"<span class=\"badge bad\">no</span> <span class=\"error\">{Html.Attr(r.Error)}</span>"),
                r.Version?.Split(' ')[0], Html.Count(r.Tenants), Html.Count(r.DirectoryTenants), Html.Bytes(r.SizeBytes), Html.Count(r.Connections),
                r.MoveLagBytes is { } lag ? Html.Bytes(lag) : "–",
                router.IsFailingFast(r.Shard) ? Markup.Badge(false, badText: "failing fast") : Markup.Badge(true, "served"),
                r.Missing.Count == 0 ? "–" : string.Join("; ", r.Missing),
            }), "shards");

        var moves = rows.SelectMany(r => r.Moves.Select(m => (r.Shard, Move: m))).ToList();
        html.Raw("<h2>Moves in progress</h2>").Table(["tenant", "from shard", "replication", ">lag"],
            moves.Select(m => new object?[] { m.Move.TenantId, m.Shard, m.Move.Slot, Html.Bytes(m.Move.LagBytes) }), "moves",
            "none: botstore tenants move TENANT --to SHARD starts one");
        html.Raw("<p class=\"muted\">A move's lag is the WAL its target has not confirmed yet; it is fenced and switched once it is under 1 MB. ")
            .Raw("A shard whose connection failed answers its tenants at once with 503 and Retry-After (<em>failing fast</em>) and is tried again a few seconds later.</p>");
        return page.Render("shards", "Shards", html.ToString());
    }
}
