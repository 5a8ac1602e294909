using BotStore.Data;
using BotStore.Server;
using BotStore.Tests.Infrastructure;
using Microsoft.Playwright;

namespace BotStore.Tests.Dashboard;

/// <summary>
/// The real server (Kestrel on a free port, the dashboard sampling every second) over a fresh migrated database,
/// an administrator and a tenant token, and Playwright driving Debian's Chromium (never a downloaded browser).
/// </summary>
public sealed class DashboardSite : IAsyncLifetime
{
    /// <summary>Debian's chromium package; scripts/ensure-deps.sh browser installs it.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    private WebApplication? _app;

    public TestDatabase Database { get; } = new();

    public Uri BaseAddress { get; private set; } = null!;

    public string AdminToken { get; private set; } = "";

    public string TenantToken { get; private set; } = "";

    public IPlaywright Playwright { get; private set; } = null!;

    /// <summary>Where screenshots go: under the test results that test.sh keeps.</summary>
    public static string ScreenshotFolder { get; } = RepoRoot.File(".botstore", "test-results", "screenshots");

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        var options = new ServeOptions { Urls = $"http://127.0.0.1:{TestCluster.FreePort()}" };
        // Partitions are left to the tests (no run at start that could race them); samples every second for the charts.
        _app = ServeApp.Build(Database.DataSource, options, ["--BotStore:Dashboard:SampleInterval=00:00:01", "--BotStore:Operations:RunPartitionsAtStart=false"]);
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Urls.First());
        var tenants = new TenantStore(Database.DataSource);
        AdminToken = await tenants.RotateAdminTokenAsync();
        TenantToken = (await tenants.CreateAsync("Acme Robotics")).Token;
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run scripts/ensure-deps.sh browser");
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
    }

    /// <summary>A new Chromium with a fresh profile (its own user-data-dir), recording every request, failure and console error.</summary>
    public Task<BrowserSession> OpenBrowserAsync() => OpenBrowserAsync(Playwright, BaseAddress);

    /// <summary>The same for any server at <paramref name="site"/> (the two-shard site too).</summary>
    public static async Task<BrowserSession> OpenBrowserAsync(IPlaywright playwright, Uri site)
    {
        var profile = Directory.CreateTempSubdirectory("botstore-chromium-");
        var context = await playwright.Chromium.LaunchPersistentContextAsync(profile.FullName, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
            BaseURL = site.ToString(),
            ViewportSize = new ViewportSize { Width = 1360, Height = 900 },
        });
        return new BrowserSession(context, profile, site);
    }

    public async Task DisposeAsync()
    {
        Playwright?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        await Database.DisposeAsync();
    }
}

/// <summary>One browser with one page, and what it asked for.</summary>
public sealed class BrowserSession : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly DirectoryInfo _profile;

    public BrowserSession(IBrowserContext context, DirectoryInfo profile, Uri site)
    {
        _context = context;
        _profile = profile;
        Page = context.Pages.Count > 0 ? context.Pages[0] : context.NewPageAsync().GetAwaiter().GetResult();
        context.Request += (_, request) =>
        {
            var url = new Uri(request.Url);
            if (url.Scheme is not ("data" or "about" or "blob") && (url.Host != site.Host || url.Port != site.Port))
                External.Add(request.Url);
        };
        context.RequestFailed += (_, request) => Failed.Add($"{request.Method} {request.Url}: {request.Failure}");
        Page.Console += (_, message) =>
        {
            if (message.Type == "error")
                ConsoleErrors.Add(message.Text);
        };
        Page.PageError += (_, error) => ConsoleErrors.Add(error);
    }

    public IPage Page { get; }

    public IBrowserContext Context => _context;

    /// <summary>Requests to anywhere but the BotStore server.</summary>
    public List<string> External { get; } = [];

    /// <summary>Requests that failed at the network level (refused, aborted, blocked).</summary>
    public List<string> Failed { get; } = [];

    public List<string> ConsoleErrors { get; } = [];

    /// <summary>Signs in through the form; returns the answer to the form's POST.</summary>
    public async Task<IResponse?> SignInAsync(string token, string path = "/dashboard/")
    {
        await Page.GotoAsync(path);
        Assert.Contains("/dashboard/sign-in", Page.Url);
        await Page.FillAsync("#token", token);
        return await Page.RunAndWaitForResponseAsync(() => Page.ClickAsync("button[type=submit]"),
            r => r.Request.Method == "POST" && r.Url.Contains("/dashboard/sign-in", StringComparison.Ordinal));
    }

    /// <summary>Saves a screenshot (the whole page unless <paramref name="fullPage"/> is false) as screenshots/<paramref name="name"/>.png.</summary>
    public async Task ScreenshotAsync(string name, bool fullPage = true)
    {
        Directory.CreateDirectory(DashboardSite.ScreenshotFolder);
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardSite.ScreenshotFolder, name + ".png"), FullPage = fullPage });
    }

    /// <summary>Nothing left the machine, nothing failed, nothing was logged as an error.</summary>
    public void AssertClean()
    {
        Assert.True(External.Count == 0, "external requests: " + string.Join(", ", External));
        Assert.True(Failed.Count == 0, "failed requests: " + string.Join(", ", Failed));
        Assert.True(ConsoleErrors.Count == 0, "console errors: " + string.Join(" | ", ConsoleErrors));
    }

    public async ValueTask DisposeAsync()
    {
        await _context.CloseAsync();
        try
        {
            _profile.Delete(recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be writing its profile as it exits; the temp folder is disposable.
        }
    }
}
