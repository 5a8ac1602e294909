using BotStore.Server.Internal;

namespace BotStore.Server.Dashboard.Internal;

/// <summary>Partitions: per partitioned table, its months as a timeline with rows and sizes, the default partition, runway and retention.</summary>
internal static class PartitionsPage
{
    public static async Task<IResult> RenderAsync(HttpContext http, CancellationToken ct)
    {
        var page = new DashboardPage(http);
        var answers = await page.Shards.SomeAsync((shard, t) => shard.Partitions.StatusAsync(null, t), ct);
        var html = page.Unanswered(new Html(), answers);
        foreach (var (shard, s) in ShardViews.Rows(answers))
        {
            var months = s.Partitions.Where(p => !p.IsDefault).ToList();
            var largest = Math.Max(1, months.Count > 0 ? months.Max(p => p.TotalBytes) : 1);
            var current = new DateTimeOffset(s.CurrentMonth.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            // With several shards each shard has its own partitions of each table: one section per shard and table.
            var id = page.Several ? $"partitions-{shard}-{s.Table}" : $"partitions-{s.Table}";
            html.Raw($"<section class=\"partitioned\" id=\"{Html.Attr(id)}\"{(page.Several ? $" data-shard=\"{Html.Attr(shard)}\"" : "")}>")
                .El("h2", page.Several ? $"{s.Table} on shard {shard}" : s.Table);
            html.Raw("<dl class=\"facts\">")
                .El("dt", "runway").El("dd", $"{s.RunwayMonths} months: the current one and {Math.Max(0, s.RunwayMonths - 1)} ahead (premake target {s.Policy.PremakeMonths} ahead)",
                    s.RunwayMonths <= s.Policy.PremakeMonths ? "bad" : null)
                .El("dt", "covered until").El("dd", Html.Time(s.CoveredUntil))
                .El("dt", "retention").El("dd", s.Policy.RetentionMonths is { } r ? $"{r} months (partitions ending by {s.RetentionHorizon:yyyy-MM-dd} are retired)" : "off: every month is kept")
                .El("dt", "default partition").El("dd", s.Policy.DefaultPartition is null ? "none" : $"{s.Policy.DefaultPartition}: {s.DefaultRows} rows",
                    s.DefaultRows > 0 ? "bad" : null)
                .El("dt", "size").El("dd", $"{Html.Bytes(s.TotalBytes)} in {s.MonthlyPartitions} monthly partitions")
                .Raw("</dl>");

            html.Raw("<ol class=\"timeline\">");
            if (s.Partitions.FirstOrDefault(p => p.IsDefault) is { } d)
                html.Raw($"<li class=\"default{(s.DefaultRows > 0 ? " bad" : "")}\" title=\"{Html.Attr(d.Name)}\"><b>default</b><span>{Html.Count(s.DefaultRows)} rows</span></li>");
            foreach (var p in months)
            {
                var when = p.From < current ? "past" : p.From == current ? "current" : "future";
                if (s.RetentionHorizon is { } h && p.To <= new DateTimeOffset(h.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero))
                    when += " retire";
                html.Raw($"<li class=\"{when}\" title=\"{Html.Attr(p.Name)}\"><b>{p.From:yyyy-MM}</b><span>{Html.Count(Math.Max(0, p.EstimatedRows))} rows</span><span>{Html.Bytes(p.TotalBytes)}</span></li>");
            }
            html.Raw("</ol>");

            html.Table(["partition", "from", "to", ">rows (est.)", ">size", ""],
                s.Partitions.Select(p => new object?[] { p.Name, p.IsDefault ? "DEFAULT" : Html.Time(p.From), Html.Time(p.To),
                    Html.Count(p.IsDefault ? s.DefaultRows : Math.Max(0, p.EstimatedRows)), Html.Bytes(p.TotalBytes), Markup.Bar((double)p.TotalBytes / largest, "") }));
            html.Raw("</section>");
        }
        html.Raw("<p class=\"muted\">Change the premake window or retention with <code>botstore partitions set TABLE --premake N --retention N</code>; ")
            .Raw("run <a href=\"/dashboard/maintenance\">partitions ensure</a> now to premake months and move default-partition rows.</p>");
        return page.Render("partitions", "Partitions", html.ToString());
    }
}
