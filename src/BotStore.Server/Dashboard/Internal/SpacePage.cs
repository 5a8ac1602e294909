using BotStore.Monitoring;
using BotStore.Tooling.StorageAudit;
using Npgsql;

namespace BotStore.Server.Dashboard.Internal;

/// <summary>Space: tables and indexes by size with estimated bloat, and (on request: it samples every table) the storage audit.</summary>
internal static class SpacePage
{
    public static async Task<IResult> RenderAsync(HttpContext http, bool? audit, CancellationToken ct)
    {
        var page = new DashboardPage(http);
        var reports = page.Service<DatabaseReports>();
        var tables = (await reports.TablesAsync(ct)).Where(t => t.Kind != "partition").ToList();
        var indexes = await reports.IndexesAsync(ct);
        var largest = Math.Max(1, tables.Count > 0 ? tables.Max(t => t.TotalBytes) : 1);

        var html = new Html().Raw("<p class=\"muted\">Partitioned tables sum their partitions; bloat is the statistics estimate (run <a href=\"/dashboard/maintenance\">analyze</a> for fresh statistics).</p>");
        html.Raw("<h2>Tables</h2>").Table(["table", "kind", ">partitions", ">rows (est.)", ">total", "", ">heap", ">indexes", ">bloat (est.)"],
            tables.Select(t => new object?[] { t.Name, t.Kind, t.Partitions == 0 ? "" : t.Partitions, Html.Count(t.EstimatedRows), Html.Bytes(t.TotalBytes),
                Markup.Bar((double)t.TotalBytes / largest, ""), Html.Bytes(t.HeapBytes), Html.Bytes(t.IndexBytes), Bloat(t.BloatRatio, t.BloatBytes) }), "tables");

        html.Raw("<h2>Indexes</h2>").Table(["index", "table", "method", ">scans", ">size", ">bloat (est.)", "status"],
            indexes.Select(i => new object?[] { i.Name, i.Table, i.Method, Html.Count(i.Scans), Html.Bytes(i.Bytes), Bloat(i.BloatRatio, i.BloatBytes), Status(i) }),
            "indexes");

        html.Raw("<h2>Storage audit</h2>");
        if (audit != true)
        {
            html.Raw("<p>Enum-like text columns and column orders that waste padding, with the bytes they would save. It samples every table of at least 1,000 rows. ")
                .Raw("<a class=\"button\" href=\"/dashboard/space?audit=true\">Run the storage audit</a></p>");
        }
        else
        {
            var found = await new StorageAudit(page.Service<NpgsqlDataSource>()).RunAsync(null, ct);
            html.Raw("<p class=\"muted\">").Text($"{found.TablesAudited} tables audited.").Raw("</p>");
            html.Raw("<h3>Enum-like text columns</h3>").Table(["table", "column", "type", ">distinct", ">rows", ">bytes/row now", ">as SMALLINT", ">saving"],
                found.EnumLikeColumns.Select(c => new object?[] { c.Table, c.Column, c.Type, c.DistinctValues, Html.Count(c.Rows), Html.F($"{c.TupleBytesNow:0.#}"),
                    Html.F($"{c.TupleBytesAsSmallint:0.#}"), Html.Bytes((long)c.SavingForTable) }), "audit-enums", "none found");
            html.Raw("<h3>Column order padding</h3>").Table(["table", ">rows", ">bytes/row now", ">reordered", ">saving", "suggested order"],
                found.Padding.Select(p => new object?[] { p.Table, Html.Count(p.Rows), Html.F($"{p.TupleBytesNow:0.#}"), Html.F($"{p.TupleBytesReordered:0.#}"),
                    Html.Bytes((long)p.SavingForTable), string.Join(", ", p.SuggestedOrder) }), "audit-padding", "none found");
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
