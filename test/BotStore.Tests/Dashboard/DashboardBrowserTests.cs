using System.Globalization;
using BotStore.Data;
using BotStore.Partitions;
using BotStore.Tests.Infrastructure;
using Microsoft.Playwright;
using static BotStore.Tests.Operations.OperationsData;

namespace BotStore.Tests.Dashboard;

/// <summary>/dashboard and /docs in a real headless Chromium, against a real server and database.</summary>
public sealed class DashboardBrowserTests(DashboardSite site) : IClassFixture<DashboardSite>
{
    [Fact]
    public async Task Every_page_shows_what_the_database_holds_and_nothing_is_fetched_from_elsewhere()
    {
        var conversation = await SampleRows.CreateConversationAsync(site.Database, "acme");
        for (var i = 0; i < 3; i++)
            await SampleRows.InsertMessageAsync(site.Database, conversation, DateTimeOffset.UtcNow.AddMinutes(-i), i);
        using (var http = new HttpClient { BaseAddress = site.BaseAddress })
        {
            for (var i = 0; i < 5; i++)
                (await http.GetAsync("/healthz")).EnsureSuccessStatusCode();
        }
        await using var browser = await site.OpenBrowserAsync();
        var page = browser.Page;
        Assert.Equal(302, (await browser.SignInAsync(site.AdminToken))!.Status);
        Assert.Equal(0, await page.Locator("header nav a", new() { HasText = "Shards" }).CountAsync()); // one shard: no Shards page in the navigation

        // Overview: the charts need two samples (one a second); reload until they are drawn.
        Assert.True(await EventuallyAsync(async () =>
        {
            await page.GotoAsync("/dashboard/");
            return await page.Locator("#chart-requests polyline").CountAsync() == 1;
        }), "the charts never got two samples");
        foreach (var chart in new[] { "connections", "transactions", "requests", "latency", "size" })
        {
            var points = await page.Locator($"#chart-{chart} polyline").GetAttributeAsync("points");
            Assert.True(points!.Split(' ').Length >= 2, $"{chart}: {points}");
        }
        Assert.Equal(12, await page.Locator("#checks li").CountAsync());
        Assert.Equal("true", await page.Locator("[data-check=default_partition_rows]").GetAttributeAsync("data-ok"));
        Assert.Equal("true", await page.Locator("[data-check=pg_stat_statements]").GetAttributeAsync("data-ok"));
        Assert.Equal("true", await page.Locator("[data-check=duplicate_indexes]").GetAttributeAsync("data-ok")); // the seed's idx_sessions_user is dropped (0028)
        var version = await site.Database.ScalarAsync<string>("SHOW server_version");
        Assert.Contains(version.Split(' ')[0], await page.Locator(".cards").InnerTextAsync());
        Assert.Contains("botstore-tests", await page.Locator("#connections").InnerTextAsync()); // the test data source's pool
        await browser.ScreenshotAsync("overview");

        await page.GotoAsync("/dashboard/space");
        Assert.Contains("message_history", await page.Locator("#tables").InnerTextAsync());
        Assert.Contains("idx_messages_session", await page.Locator("#indexes").InnerTextAsync());
        await browser.ScreenshotAsync("space");
        await page.ClickAsync("text=Run the storage audit");
        await page.Locator("#audit-padding").WaitForAsync();
        await browser.ScreenshotAsync("space-audit");

        await page.GotoAsync("/dashboard/partitions");
        var status = (await new PartitionManager(site.Database.DataSource).StatusAsync("message_history")).Single();
        Assert.Equal(status.Partitions.Count, await page.Locator("#partitions-message_history .timeline li").CountAsync());
        Assert.Equal(1, await page.Locator("#partitions-message_history .timeline li.current").CountAsync());
        Assert.Contains(Month(0).ToString("yyyy-MM", CultureInfo.InvariantCulture),
            await page.Locator("#partitions-message_history .timeline li.current").InnerTextAsync());
        await browser.ScreenshotAsync("partitions");

        await page.GotoAsync("/dashboard/queries");
        Assert.True(await page.Locator("#queries tbody tr").CountAsync() >= 1);
        Assert.Contains("message_history", await page.Locator("#queries").InnerTextAsync());
        await browser.ScreenshotAsync("queries");

        await page.GotoAsync("/dashboard/maintenance");
        var reindex = page.Locator("#schedule tr", new() { HasText = "reindex" });
        Assert.Contains("0 0 4 ? * SUN", await reindex.InnerTextAsync());
        await browser.ScreenshotAsync("maintenance");

        await page.GotoAsync("/dashboard/tenants");
        var row = page.Locator("#tenants tbody tr", new() { Has = page.Locator($"td:text-is('{conversation.TenantId}')") });
        var cells = await row.Locator("td").AllInnerTextsAsync();
        Assert.Equal(["acme", "active", "3"], cells.Skip(1).Take(3).Select(c => c.Trim()));
        await browser.ScreenshotAsync("tenants");

        browser.AssertClean();
    }

    [Fact]
    public async Task A_row_in_a_default_partition_is_red_until_partitions_ensure_runs_from_the_maintenance_page()
    {
        var conversation = await SampleRows.CreateConversationAsync(site.Database);
        await SampleRows.InsertMessageAsync(site.Database, conversation, Month(7).AddDays(2));
        await using var browser = await site.OpenBrowserAsync();
        var page = browser.Page;
        await browser.SignInAsync(site.AdminToken);

        await page.GotoAsync("/dashboard/");
        var check = page.Locator("[data-check=default_partition_rows]");
        Assert.Equal("false", await check.GetAttributeAsync("data-ok"));
        Assert.Contains("message_history (1)", await check.InnerTextAsync());
        await browser.ScreenshotAsync("overview-default-partition-red");
        await page.GotoAsync("/dashboard/partitions");
        Assert.Contains("1 rows", await page.Locator("#partitions-message_history .timeline li.default.bad").InnerTextAsync());

        await page.GotoAsync("/dashboard/maintenance");
        await page.Locator("#schedule tr", new() { HasText = "partitions" }).Locator("button").ClickAsync();
        Assert.Equal("Run partitions ensure now?", await page.Locator("h1").InnerTextAsync());
        Assert.Equal(1L, await site.Database.ScalarAsync<long>("SELECT count(*) FROM message_history_default")); // nothing ran yet
        await browser.ScreenshotAsync("maintenance-confirm");
        await page.ClickAsync("text=Yes, run it now");
        Assert.Contains("1 rows moved", await page.Locator(".notice").InnerTextAsync());
        Assert.Equal(0L, await site.Database.ScalarAsync<long>("SELECT count(*) FROM message_history_default"));

        await page.GotoAsync("/dashboard/");
        Assert.Equal("true", await page.Locator("[data-check=default_partition_rows]").GetAttributeAsync("data-ok"));
        await page.GotoAsync("/dashboard/maintenance");
        Assert.Contains("partitions_ensure", await page.Locator("#journal").InnerTextAsync());
        browser.AssertClean();
    }

    [Fact]
    public async Task No_token_a_tenant_token_a_forged_form_and_a_rotated_token_are_refused()
    {
        await using var browser = await site.OpenBrowserAsync();
        var page = browser.Page;
        await page.GotoAsync("/dashboard/space");
        Assert.EndsWith("/dashboard/sign-in?return=%2Fdashboard%2Fspace", page.Url);
        await browser.ScreenshotAsync("sign-in");

        Assert.Equal(403, (await browser.SignInAsync(site.TenantToken, "/dashboard/space"))!.Status);
        Assert.Contains("tenant", await page.Locator(".error").InnerTextAsync());
        Assert.Equal(401, (await browser.SignInAsync("bst_not-a-token", "/dashboard/space"))!.Status);
        await page.GotoAsync("/dashboard/");
        Assert.Contains("/dashboard/sign-in", page.Url);

        await browser.SignInAsync(site.AdminToken, "/dashboard/space");
        Assert.EndsWith("/dashboard/space", page.Url);
        var cookie = (await browser.Context.CookiesAsync()).Single(c => c.Name == "botstore_dashboard");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.Equal("/dashboard", cookie.Path);

        // The session cookie alone does not make a POST: the antiforgery token must come from a dashboard page.
        var forged = await browser.Context.APIRequest.PostAsync("/dashboard/queries/reset", new() { Form = browser.Context.APIRequest.CreateFormData() });
        Assert.Equal(400, forged.Status);

        await page.ClickAsync("text=Sign out");
        Assert.Contains("/dashboard/sign-in", page.Url);
        await page.GotoAsync("/dashboard/");
        Assert.Contains("/dashboard/sign-in", page.Url);

        // Rotating the administrator token signs out every dashboard.
        await browser.SignInAsync(site.AdminToken);
        Assert.EndsWith("/dashboard/", page.Url);
        var rotated = await new TenantStore(site.Database.DataSource).RotateAdminTokenAsync();
        try
        {
            await page.GotoAsync("/dashboard/");
            Assert.Contains("/dashboard/sign-in", page.Url);
        }
        finally
        {
            // The other tests sign in with the fixture's token: it must stay valid.
            await site.Database.ExecuteAsync("UPDATE api_tokens SET revoked_at = NULL WHERE tenant_id IS NULL");
            Assert.NotEqual(site.AdminToken, rotated);
        }
        Assert.Empty(browser.External);
        Assert.Empty(browser.Failed);
    }

    [Fact]
    public async Task Explain_shows_a_plan_that_was_rolled_back_and_reset_starts_the_statistics_afresh()
    {
        await using var browser = await site.OpenBrowserAsync();
        var page = browser.Page;
        await browser.SignInAsync(site.AdminToken, "/dashboard/queries");
        await page.Locator("#queries a.button", new() { HasText = "Explain" }).First.ClickAsync();
        Assert.NotEmpty(await page.Locator("textarea[name=sql]").InputValueAsync());
        // Names stay distinct (tenant names are unique), so the update runs and is rolled back rather than refused.
        await page.FillAsync("textarea[name=sql]", "UPDATE tenants SET name = name || ' explained' WHERE id > 0");
        await page.ClickAsync("text=Explain analyze");
        Assert.Contains("Update on tenants", await page.Locator("#plan").InnerTextAsync());
        Assert.Equal(0L, await site.Database.ScalarAsync<long>("SELECT count(*) FROM tenants WHERE name LIKE '% explained'"));
        await browser.ScreenshotAsync("queries-explain");

        await page.GotoAsync("/dashboard/queries");
        var before = await site.Database.ScalarAsync<long>("SELECT count(*) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())");
        await page.ClickAsync("text=Reset statistics");
        Assert.Contains("was reset", await page.Locator(".notice").InnerTextAsync());
        var after = await site.Database.ScalarAsync<long>("SELECT count(*) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())");
        Assert.True(after < before, $"{after} statements after the reset, {before} before");
        browser.AssertClean();
    }

    [Fact]
    public async Task The_api_reference_renders_from_this_server_alone()
    {
        await using var browser = await site.OpenBrowserAsync();
        var page = browser.Page;
        // Generous waits: on a loaded machine Scalar's 3 MB script takes a while to load and run.
        page.SetDefaultTimeout(120_000);
        var document = page.WaitForResponseAsync(r => r.Url.EndsWith("/openapi/v1.json", StringComparison.Ordinal));
        await page.GotoAsync("/docs/");
        Assert.Equal(200, (await document).Status);
        // Scalar lists the operations by tag once it has rendered the document.
        foreach (var tag in new[] { "Bots", "Messages", "Tasks", "Admin" })
            await page.GetByText(tag, new() { Exact = true }).First.WaitForAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await browser.ScreenshotAsync("docs", fullPage: false); // Scalar's page is tens of thousands of pixels long
        browser.AssertClean();
    }
}
