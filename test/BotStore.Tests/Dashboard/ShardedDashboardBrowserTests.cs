using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Dashboard;

/// <summary>The dashboard over two shards in a real headless Chromium: the Shards page, and every shard's figures named by shard.</summary>
public sealed class ShardedDashboardBrowserTests(ShardedDashboardSite site) : IClassFixture<ShardedDashboardSite>
{
    [Fact]
    public async Task The_shards_page_lists_both_shards_with_their_tenants_and_the_other_pages_name_the_shard_of_each_figure()
    {
        await using var browser = await site.OpenBrowserAsync();
        var page = browser.Page;
        Assert.Equal(302, (await browser.SignInAsync(site.AdminToken))!.Status);
        Assert.Equal(1, await page.Locator("header nav a", new() { HasText = "Shards" }).CountAsync());

        await page.GotoAsync("/dashboard/shards");
        foreach (var shard in site.Shards.All)
        {
            var row = page.Locator("#shards tbody tr", new() { Has = page.Locator($"[data-shard={shard.Name}]") });
            var cells = (await row.Locator("td").AllInnerTextsAsync()).Select(c => c.Trim()).ToList();
            Assert.Equal("yes", cells[2]);
            Assert.Equal((await shard.ScalarAsync<long>("SELECT count(*) FROM tenants")).ToString("N0", System.Globalization.CultureInfo.InvariantCulture), cells[4]);
            var placed = await site.Shards.East.ScalarAsync<long>("SELECT count(*) FROM tenant_directory WHERE shard = $1", shard.Name);
            Assert.Equal(placed.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), cells[5]);
            Assert.Contains("served", cells[9], StringComparison.Ordinal);
        }
        Assert.Equal(2, await page.Locator("#shards tbody tr").CountAsync());
        Assert.Contains("none", await page.Locator("#moves").InnerTextAsync());
        await browser.ScreenshotAsync("shards");

        // Tenants of every shard, each with its shard (the first column).
        await page.GotoAsync("/dashboard/tenants");
        var shardsOfRows = await page.Locator("#tenants tbody tr td:first-child").AllInnerTextsAsync();
        Assert.Contains("east", shardsOfRows);
        Assert.Contains("west", shardsOfRows);
        Assert.Contains("West Insurance", await page.Locator("#tenants tbody tr", new() { HasText = "west" }).First.InnerTextAsync());
        await browser.ScreenshotAsync("tenants-shards");

        // Every shard's checks, each named with its shard; every shard's partitions.
        await page.GotoAsync("/dashboard/");
        Assert.True(await page.Locator("#checks li[data-shard=east]").CountAsync() >= 12);
        Assert.True(await page.Locator("#checks li[data-shard=west]").CountAsync() >= 12);
        await browser.ScreenshotAsync("overview-shards");
        await page.GotoAsync("/dashboard/partitions");
        Assert.Equal(1, await page.Locator("#partitions-east-message_history").CountAsync());
        Assert.Equal(1, await page.Locator("#partitions-west-message_history").CountAsync());
        await page.GotoAsync("/dashboard/space");
        Assert.Contains("west", await page.Locator("#tables").InnerTextAsync());
        await page.GotoAsync("/dashboard/maintenance");
        Assert.Equal(2, await page.Locator("#schedule tr", new() { HasText = "reindex" }).CountAsync());
        await page.GotoAsync("/dashboard/queries");
        Assert.True(await page.Locator("#queries tbody tr").CountAsync() >= 1);
        browser.AssertClean();
    }
}
