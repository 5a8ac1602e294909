using BotStore.Server.Dashboard.Internal;
using BotStore.Server.Internal;
using BotStore.Server.Operations;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Scalar.AspNetCore;

namespace BotStore.Server.Dashboard;

/// <summary>
/// The operator's dashboard at <c>/dashboard</c> (overview and checks, space, partitions, queries, maintenance,
/// tenants, and shards when there are several; behind the administrator token) and the API reference at <c>/docs</c>. Everything a page needs is
/// served by this server: no request leaves the machine.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>
    /// Adds the dashboard's services: its sign-in cookie, antiforgery, and the sampler behind its charts, with the
    /// settings bound (options pattern) from the <c>BotStore:Dashboard</c> section of <paramref name="configuration"/>
    /// and checked when the host starts. Needs <see cref="Data.TenantStore"/> and the operations services
    /// (<c>AddBotStoreOperations</c>).
    /// </summary>
    public static IServiceCollection AddBotStoreDashboard(this IServiceCollection services, IConfiguration configuration) =>
        services.AddValidatedOptions<DashboardOptions, DashboardOptionsValidator>(configuration, DashboardOptions.Section).AddServices();

    /// <summary>As the other overload, with settings built in code (defaults when null), checked now.</summary>
    /// <exception cref="BotStoreConfigurationException">A setting cannot work.</exception>
    public static IServiceCollection AddBotStoreDashboard(this IServiceCollection services, DashboardOptions? options = null) =>
        services.AddCheckedOptions<DashboardOptions, DashboardOptionsValidator>(options ?? new DashboardOptions()).AddServices();

    private static IServiceCollection AddServices(this IServiceCollection services)
    {
        services.TryAddSingleton<DashboardSampler>();
        // Sampled by the server's one scheduler (the operations' Quartz scheduler), in every instance.
        services.AddSingleton(sp => new InstanceJob("dashboard-sample", sp.GetRequiredService<DashboardOptions>().SampleInterval,
            sp.GetRequiredService<DashboardSampler>().SampleOnceAsync));
        services.AddAntiforgery(DashboardAuth.ConfigureAntiforgery);
        services.AddAuthentication().AddCookie(DashboardAuth.Scheme);
        services.AddOptions<CookieAuthenticationOptions>(DashboardAuth.Scheme)
            .Configure<DashboardOptions>((cookie, options) => DashboardAuth.ConfigureCookie(cookie, options));
        return services;
    }

    /// <summary>Maps <c>/dashboard/...</c> and <c>/docs</c> (Scalar over <c>/openapi/v1.json</c>, with its script served from here).</summary>
    public static IEndpointRouteBuilder MapBotStoreDashboard(this IEndpointRouteBuilder app)
    {
        app.MapGet("/dashboard/assets/dashboard.css", () => Results.Text(DashboardAssets.Css, "text/css; charset=utf-8")).ExcludeFromDescription();
        app.MapGet("/dashboard/sign-in", (HttpContext http) => DashboardAuth.SignInForm(http)).ExcludeFromDescription();
        app.MapPost("/dashboard/sign-in", DashboardAuth.SignInAsync).ExcludeFromDescription();

        var pages = app.MapGroup("/dashboard").AddEndpointFilter(DashboardAuth.RequireAdmin).ExcludeFromDescription();
        pages.MapGet("/", OverviewPage.RenderAsync);
        pages.MapGet("/space", (HttpContext http, bool? audit, CancellationToken ct) => SpacePage.RenderAsync(http, audit, ct));
        pages.MapGet("/partitions", PartitionsPage.RenderAsync);
        pages.MapGet("/queries", (HttpContext http, string? order, bool? reset, CancellationToken ct) => QueriesPage.RenderAsync(http, order, reset, ct));
        pages.MapGet("/queries/explain", (HttpContext http, long? id, string? shard, CancellationToken ct) => QueriesPage.ExplainFormAsync(http, id, shard, ct));
        pages.MapPost("/queries/explain", QueriesPage.ExplainAsync);
        pages.MapPost("/queries/reset", QueriesPage.ResetAsync);
        pages.MapGet("/maintenance", MaintenancePage.RenderAsync);
        pages.MapPost("/maintenance/run", MaintenancePage.RunAsync);
        pages.MapGet("/tenants", TenantsPage.RenderAsync);
        pages.MapGet("/shards", ShardsPage.RenderAsync);
        pages.MapPost("/sign-out", DashboardAuth.SignOutAsync);

        // Scalar serves its bundled script itself (scalar.js under /docs/). Its default fonts come from Scalar's CDN,
        // and telemetry, the AI agent and MCP call Scalar's services: all off, so the page works offline.
        app.MapScalarApiReference("/docs", o => o
            .WithTitle("BotStore API")
            .WithOpenApiRoutePattern("/openapi/{documentName}.json")
            .DisableDefaultFonts()
            .DisableTelemetry()
            .DisableAgent()
            .DisableMcp()
            .HideDeveloperTools());
        return app;
    }
}
