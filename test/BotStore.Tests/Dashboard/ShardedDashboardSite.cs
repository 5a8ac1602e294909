using BotStore.Data;
using BotStore.Server;
using BotStore.Sharding;
using BotStore.Tests.Infrastructure;
using Microsoft.Playwright;

namespace BotStore.Tests.Dashboard;

/// <summary>
/// The real server over two shards (<see cref="TwoShards"/>: east holds the directory, tenant traffic through each
/// shard's PgBouncer), with tenants on both, an administrator token, and Playwright driving Debian's Chromium.
/// </summary>
public sealed class ShardedDashboardSite : IAsyncLifetime
{
    private WebApplication? _app;

    public TwoShards Shards { get; } = new();

    public ShardRouter Router { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public string AdminToken { get; private set; } = "";

    public IPlaywright Playwright { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Shards.InitializeAsync();
        Router = Shards.CreateRouter();
        var options = new ServeOptions { Urls = $"http://127.0.0.1:{TestCluster.FreePort()}" };
        _app = ServeApp.Build(Router, options, ["--BotStore:Dashboard:SampleInterval=00:00:01", "--BotStore:Operations:RunPartitionsAtStart=false"]);
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Urls.First());
        var tenants = new TenantStore(Router);
        AdminToken = await tenants.RotateAdminTokenAsync();
        await tenants.CreateAsync("East Robotics", "east");
        await tenants.CreateAsync("East Logistics", "east");
        await tenants.CreateAsync("West Insurance", "west");
        Assert.True(File.Exists(DashboardSite.ChromiumPath), $"{DashboardSite.ChromiumPath} is missing: run scripts/ensure-deps.sh browser");
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
    }

    public Task<BrowserSession> OpenBrowserAsync() => DashboardSite.OpenBrowserAsync(Playwright, BaseAddress);

    public async Task DisposeAsync()
    {
        Playwright?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        if (Router is not null)
            await Router.DisposeAsync();
        await Shards.DisposeAsync();
    }
}
