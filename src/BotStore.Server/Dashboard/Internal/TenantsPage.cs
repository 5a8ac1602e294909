using BotStore.Server.Internal;

namespace BotStore.Server.Dashboard.Internal;

/// <summary>Tenants: the ones with most messages over every shard, their bytes, bots and users, and (with several shards) their shard.</summary>
internal static class TenantsPage
{
    private const int Top = 25;

    public static async Task<IResult> RenderAsync(HttpContext http, CancellationToken ct)
    {
        var page = new DashboardPage(http);
        var answers = await page.Shards.SomeAsync((s, t) => s.Reports.TenantsAsync(Top, t), ct);
        var top = ShardViews.TopTenants(answers, Top);
        var reports = answers.Where(a => a.Error is null).Select(a => a.Value!).ToList();
        var tenants = reports.Sum(r => r.Tenants);
        var sampled = reports.Min(r => r.SampledPercent);
        var largest = Math.Max(1, top.Count > 0 ? top.Max(t => t.Tenant.Messages) : 1);
        var where = page.Several ? Html.F($" on {reports.Count} shards") : "";
        var html = page.Unanswered(new Html(), answers).Raw("<p class=\"muted\">")
            .Text(sampled is { } p
                ? Html.F($"{tenants:N0} tenants{where}. Message figures are scaled from a {p:0.##} % block sample of message_history.")
                : Html.F($"{tenants:N0} tenants{where}. Message figures count every row."))
            .Raw("</p>");
        html.Table(page.Headers(">id", "tenant", "state", ">messages", "", ">message bytes", "latest message", ">bots", ">users"),
            top.Select(x => page.Cells(x.Shard, x.Tenant.Id, x.Tenant.Name,
                x.Tenant.IsActive ? Markup.Badge(true, "active") : new Markup("<span class=\"badge\">inactive</span>"), Html.Count(x.Tenant.Messages),
                Markup.Bar((double)x.Tenant.Messages / largest, ""), Html.Bytes(x.Tenant.MessageBytes), Html.Time(x.Tenant.LatestMessage), Html.Count(x.Tenant.Bots),
                Html.Count(x.Tenant.Users))), "tenants", "no tenant yet: create one with botstore tenants create NAME");
        if (page.Several)
            html.Raw("<p class=\"muted\">A tenant being moved shows on both shards until its old copy is deleted; <a href=\"/dashboard/shards\">Shards</a> shows moves in progress.</p>");
        return page.Render("tenants", "Tenants", html.ToString());
    }
}
