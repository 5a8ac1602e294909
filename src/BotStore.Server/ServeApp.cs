using System.Text.Json;
using BotStore.Server.Dashboard;
using BotStore.Server.Operations;
using BotStore.Data;
using BotStore.Sharding;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BotStore.Server;

/// <summary>
/// Builds the HTTP API over a data source: services, JSON, errors, authentication and every route group.
/// Any ASP.NET Core host can add the same with <c>services.AddBotStore(...)</c> and <c>app.MapBotStore()</c>.
/// </summary>
public static class ServeApp
{
    /// <summary>
    /// Creates the application over the tenant-traffic pool <paramref name="dataSource"/> and the owner/operations pool
    /// <paramref name="operations"/> (by default the same); the caller runs it and owns both. <paramref name="configure"/>
    /// adds the host's own services (e.g. the CLI's supervisor of its embedded cluster); <paramref name="configuration"/>,
    /// when given, is read last (it wins), so the sections under <c>BotStore</c> come from where the caller found them;
    /// <paramref name="loggerFactory"/>, when given, replaces the host's (made with <see cref="ServeLogging"/>).
    /// </summary>
    public static WebApplication Build(NpgsqlDataSource dataSource, ServeOptions options, string[]? args = null,
        Action<IServiceCollection>? configure = null, NpgsqlDataSource? operations = null, IConfiguration? configuration = null,
        ILoggerFactory? loggerFactory = null) =>
        Build(OneShard(dataSource, operations), options, args, configure, configuration, loggerFactory);

    /// <summary>
    /// Creates the application over <paramref name="shards"/>: every tenant's requests go to its shard (tenant traffic on
    /// each shard's <see cref="Shard.Tenants"/>, operations on <see cref="Shard.Direct"/>). The caller runs it and owns the
    /// router; the other parameters are as above.
    /// </summary>
    public static WebApplication Build(ShardRouter shards, ServeOptions options, string[]? args = null,
        Action<IServiceCollection>? configure = null, IConfiguration? configuration = null, ILoggerFactory? loggerFactory = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        if (configuration is not null)
            builder.Configuration.AddConfiguration(configuration); // the caller's, already checked (e.g. serve's options)
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBytes);
        if (loggerFactory is null)
            ServeLogging.Configure(builder.Logging, options.Logging, builder.Configuration);
        else
        {
            // The caller's factory, which its data sources already log through: one logger factory for the whole process.
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton(loggerFactory);
        }

        builder.Services.AddBotStore(shards, options, builder.Configuration);
        configure?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapBotStore();
        return app;
    }

    /// <summary>
    /// Registers the stores (over <paramref name="dataSource"/>, the tenant-traffic pool), authentication, JSON,
    /// problem details, background jobs and OpenAPI; scheduled operations and sweeps use <paramref name="operations"/>
    /// (a direct connection; by default <paramref name="dataSource"/>). The caller owns both data sources.
    /// </summary>
    /// <exception cref="BotStoreConfigurationException">A setting of <paramref name="options"/> cannot work.</exception>
    public static IServiceCollection AddBotStore(this IServiceCollection services, NpgsqlDataSource dataSource, ServeOptions options,
        IConfiguration configuration, NpgsqlDataSource? operations = null) =>
        services.AddBotStore(OneShard(dataSource, operations), options, configuration);

    /// <summary>
    /// Registers the same over several shards: the stores route each tenant to its shard (<see cref="ShardRouter"/>);
    /// the host's <see cref="NpgsqlDataSource"/> (readiness, dashboard) is the directory shard's tenant-traffic pool,
    /// operations run on its direct pool. The caller owns the router.
    /// </summary>
    /// <exception cref="BotStoreConfigurationException">A setting of <paramref name="options"/> cannot work.</exception>
    public static IServiceCollection AddBotStore(this IServiceCollection services, ShardRouter shards, ServeOptions options,
        IConfiguration configuration)
    {
        ServeOptionsValidator.Check(options);
        var owner = shards.DirectoryShard.Direct;
        services.AddSingleton(shards);
        services.AddSingleton(shards.DirectoryShard.Tenants);
        services.AddSingleton(options);
        services.AddSingleton<IValidateOptions<ServeOptions>, ServeOptionsValidator>();
        services.AddBotStoreStores();
        services.AddSingleton<TenantAuth>();
        services.AddSingleton(options.Sweeper);
        // The sweep works across tenants as the owner, under runner locks, a job of the operations scheduler: it sweeps
        // every shard on its direct pool.
        services.AddSingleton(sp => new ExpirySweeper(new ApprovalStore(shards), new MemoryStore(shards), options.Sweeper,
            sp.GetRequiredService<ILogger<ExpirySweeper>>()));
        services.AddBotStoreOperations(configuration, _ => owner); // every shard's, on one scheduler
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true); // binding errors reach Problems with their reason
        services.ConfigureHttpJsonOptions(json => Configure(json.SerializerOptions));
        services.AddProblemDetails();
        services.AddExceptionHandler<Problems>();
        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "botstore";
            return Task.CompletedTask;
        }));
        services.AddTenantLimits(options);
        services.AddBotStoreDashboard(configuration);
        return services;
    }

    /// <summary>Adds the middleware (metrics, problem details, tenant and admin authentication) and maps every route: /health, /openapi, /admin, /metrics, /v1, /dashboard, /docs.</summary>
    public static WebApplication MapBotStore(this WebApplication app)
    {
        app.UseRequestMetrics();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/v1"), v1 => v1.Use(TenantAuth.RequireTenant));
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/admin") || http.Request.Path.StartsWithSegments("/metrics"),
            admin => admin.Use(TenantAuth.RequireAdmin));
        app.UseRateLimiter(); // after authentication: the limits are per tenant

        app.MapOpenApi();
        app.MapHealthApi();
        app.MapAdminApi();
        app.MapMetrics();
        app.MapEnumsApi();
        app.MapBotsApi().MapUsersApi().MapSessionsApi().MapMessagesApi().MapAnalyticsApi();
        app.MapTasksApi().MapApprovalsApi().MapMemoriesApi().MapDocumentsApi();
        app.MapBotStoreDashboard();
        return app;
    }

    private static ShardRouter OneShard(NpgsqlDataSource dataSource, NpgsqlDataSource? operations) =>
        new([new Shard(ShardRouter.DefaultShardName, dataSource, operations ?? dataSource)]);

    /// <summary>The API's JSON: snake_case fields, enums by their seed names.</summary>
    public static void Configure(JsonSerializerOptions json)
    {
        json.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        json.Converters.Add(new EnumJsonConverterFactory());
    }
}
