using BotStore.Monitoring;

namespace BotStore.Server.Dashboard.Internal;

/// <summary>Tenants: the ones with most messages, their bytes, bots and users.</summary>
internal static class TenantsPage
{
    public static async Task<IResult> RenderAsync(HttpContext http, CancellationToken ct)
    {
        var page = new DashboardPage(http);
        var report = await page.Service<DatabaseReports>().TenantsAsync(25, ct);
        var largest = Math.Max(1, report.Top.Count > 0 ? report.Top.Max(t => t.Messages) : 1);
        var html = new Html().Raw("<p class=\"muted\">")
            .Text(report.SampledPercent is { } p
                ? Html.F($"{report.Tenants:N0} tenants. Message figures are scaled from a {p:0.##} % block sample of message_history.")
                : Html.F($"{report.Tenants:N0} tenants. Message figures count every row."))
            .Raw("</p>");
        html.Table([">id", "tenant", "state", ">messages", "", ">message bytes", "latest message", ">bots", ">users"],
            report.Top.Select(t => new object?[]
            {
                t.Id, t.Name, t.IsActive ? Markup.Badge(true, "active") : new Markup("<span class=\"badge\">inactive</span>"), Html.Count(t.Messages),
                Markup.Bar((double)t.Messages / largest, ""), Html.Bytes(t.MessageBytes), Html.Time(t.LatestMessage), Html.Count(t.Bots), Html.Count(t.Users),
            }), "tenants", "no tenant yet: create one with botstore tenants create NAME");
        return page.Render("tenants", "Tenants", html.ToString());
    }
}
