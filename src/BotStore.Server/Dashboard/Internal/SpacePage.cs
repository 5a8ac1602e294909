using BotStore.Monitoring;
using BotStore.Tooling.StorageAudit;

namespace BotStore.Server.Dashboard.Internal;

/// <summary>Space: tables and indexes by size with estimated bloat, and (on request: it samples every table) the storage audit.</summary>
internal static class SpacePage
{
    public static async Task<IResult> RenderAsync(HttpContext http, bool? audit, CancellationToken ct)
    {
        var page = new DashboardPage(http);
        var answers = await page.Shards.SomeAsync(async (s, t) => (Tables: await s.Reports.TablesAsync(t), Indexes: await s.Reports.IndexesAsync(t)), ct);
        var tables = answers.Where(a => a.Error is null).SelectMany(a => a.Value.Tables.Where(t => t.Kind != "partition").Select(t => (a.Shard.Name, t))).ToList();
        var indexes = answers.Where(a => a.Error is null).SelectMany(a => a.Value.Indexes.Select(i => (a.Shard.Name, i))).ToList();
        var largest = Math.Max(1, tables.Count > 0 ? tables.Max(x => x.t.TotalBytes) : 1);

        var html = page.Unanswered(new Html(), answers)
            .Raw("<p class=\"muted\">Partitioned tables sum their partitions; bloat is the statistics estimate (run <a href=\"/dashboard/maintenance\">analyze</a> for fresh statistics).</p>");
        html.Raw("<h2>Tables</h2>").Table(page.Headers("table", "kind", ">partitions", ">rows (est.)", ">total", "", ">heap", ">indexes", ">bloat (est.)"),
            tables.Select(x => page.Cells(x.Name, x.t.Name, x.t.Kind, x.t.Partitions == 0 ? "" : x.t.Partitions, Html.Count(x.t.EstimatedRows), Html.Bytes(x.t.TotalBytes),
                Markup.Bar((double)x.t.TotalBytes / largest, ""), Html.Bytes(x.t.HeapBytes), Html.Bytes(x.t.IndexBytes), Bloat(x.t.BloatRatio, x.t.BloatBytes))), "tables");

        html.Raw("<h2>Indexes</h2>").Table(page.Headers("index", "table", "method", ">scans", ">size", ">bloat (est.)", "status"),
            indexes.Select(x => page.Cells(x.Name, x.i.Name, x.i.Table, x.i.Method, Html.Count(x.i.Scans), Html.Bytes(x.i.Bytes), Bloat(x.i.BloatRatio, x.i.BloatBytes), Status(x.i))),
            "indexes");

        html.Raw("<h2>Storage audit</h2>");
        if (audit != true)
        {
            html.Raw("<p>Enum-like text columns and column orders that waste padding, with the bytes they would save. It samples every table of at least 1,000 rows")
                .Raw(page.Several ? " of every shard. " : ". ")
                .Raw("<a class=\"button\" href=\"/dashboard/space?audit=true\">Run the storage audit</a></p>");
        }
        else
        {
            // The audit reads the catalog and samples rows as the owner, on each shard's direct pool.
            var audits = await page.Shards.SomeAsync((s, t) => new StorageAudit(s.Shard.Direct).RunAsync(null, t), ct);
            var found = audits.Where(a => a.Error is null).Select(a => (Shard: a.Shard.Name, Report: a.Value!)).ToList();
            page.Unanswered(html, audits);
            html.Raw("<p class=\"muted\">").Text($"{found.Sum(f => f.Report.TablesAudited)} tables audited.").Raw("</p>");
            html.Raw("<h3>Enum-like text columns</h3>").Table(page.Headers("table", "column", "type", ">distinct", ">rows", ">bytes/row now", ">as SMALLINT", ">saving"),
                found.SelectMany(f => f.Report.EnumLikeColumns.Select(c => page.Cells(f.Shard, c.Table, c.Column, c.Type, c.DistinctValues, Html.Count(c.Rows),
                    Html.F($"{c.TupleBytesNow:0.#}"), Html.F($"{c.TupleBytesAsSmallint:0.#}"), Html.Bytes((long)c.SavingForTable)))), "audit-enums", "none found");
            html.Raw("<h3>Column order padding</h3>").Table(page.Headers("table", ">rows", ">bytes/row now", ">reordered", ">saving", "suggested order"),
                found.SelectMany(f => f.Report.Padding.Select(p => page.Cells(f.Shard, p.Table, Html.Count(p.Rows), Html.F($"{p.TupleBytesNow:0.#}"),
                    Html.F($"{p.TupleBytesReordered:0.#}"), Html.Bytes((long)p.SavingForTable), string.Join(", ", p.SuggestedOrder)))), "audit-padding", "none found");
        }
        return page.Render("space", "Space", html.ToString());
    }

    private static string Bloat(double? ratio, long? bytes) => ratio is null ? "" : $"{Html.Percent(ratio)} ({Html.Bytes(bytes)})";

    private static Markup Status(IndexReport i)
    {
        if (!i.IsValid)
            return Markup.Badge(false, badText: "invalid");
        if (i.RedundantWith is { } other)
            return new Markup($"<span class=\"badge warn\">duplicate of {Html.Attr(other)}</span>");
        if (i.IsUnused)
            return new Markup("<span class=\"badge warn\">unused</span>");
        return Markup.Badge(true, i.IsPrimary ? "primary key" : i.IsUnique ? "unique" : "in use");
    }
}
