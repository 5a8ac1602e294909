using System.CommandLine;
using BotStore.Cli.Infrastructure;
using BotStore.Data;
using BotStore.Schema;
using BotStore.Server;
using BotStore.Server.Dashboard;
using BotStore.Server.Operations;
using Microsoft.Extensions.Configuration;
using Npgsql;
using BotStore.Sharding;
using BotStore.Tooling.Embedded;
using Microsoft.Extensions.DependencyInjection;
using ServerShardOptions = BotStore.Server.ShardOptions;

namespace BotStore.Cli.Commands;

/// <summary>
/// <c>botstore serve</c>: the HTTP API and its background workers. Settings come from the <c>BotStore</c> section of
/// appsettings.json (in the current directory), then <c>BOTSTORE__...</c> environment variables, then these options;
/// they are checked, and the listen address tried, before the database is touched.
/// </summary>
internal static class ServeCommand
{
    private static readonly Option<bool> NoMigrate = new("--no-migrate") { Description = "refuse to start when migrations are pending, instead of applying them" };

    public static Command Create()
    {
        var urls = new Option<string?>("--urls") { Description = $"where to listen (BotStore:Urls; default {new ServeOptions().Urls})" };
        var noMigrate = NoMigrate;
        var maxContent = new Option<int?>("--max-content-bytes") { Description = $"largest message content accepted (BotStore:MaxContentBytes; default {new ServeOptions().MaxContentBytes})" };
        var tenantDatabase = new Option<string?>("--tenant-database")
        {
            Description = "connection string or URL of the tenant-traffic pool, e.g. PgBouncer (BotStore:TenantPool:ConnectionString; default the database itself)",
        };
        var logFormat = new Option<string?>("--log-format") { Description = "console log format: simple or json (BotStore:Logging:Format; default simple)" };
        logFormat.AcceptOnlyFromAmong("simple", "json");
        var command = new Command("serve", "Run the HTTP API (REST under /v1, OpenAPI at /openapi/v1.json) with its background workers.")
        {
            urls, noMigrate, maxContent, tenantDatabase, logFormat,
        };
        command.Runs(async (parseResult, ct) =>
        {
            var fromCommandLine = new Dictionary<string, string?>();
            if (parseResult.GetValue(urls) is { } u)
                fromCommandLine[$"{ServeOptions.SectionName}:Urls"] = u;
            if (parseResult.GetValue(maxContent) is { } m)
                fromCommandLine[$"{ServeOptions.SectionName}:MaxContentBytes"] = m.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (parseResult.GetValue(tenantDatabase) is { } t)
                fromCommandLine[$"{ServeOptions.SectionName}:TenantPool:ConnectionString"] = t;
            if (parseResult.GetValue(logFormat) is { } f)
                fromCommandLine[$"{ServeOptions.SectionName}:Logging:Format"] = f;
            var configuration = new ConfigurationBuilder()
                .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
                .AddEnvironmentVariables()
                .AddInMemoryCollection(fromCommandLine)
                .Build();
            // Everything that can be wrong with the settings is found here, before migrations change anything.
            var options = ServeOptionsValidator.Load(configuration);
            _ = OperationsOptions.Load(configuration);
            _ = DashboardOptions.Load(configuration);
            ServeOptionsValidator.CheckAddressesFree(options);

            // One logger factory for the process: Npgsql's data sources log through it, and so does the host.
            using var loggerFactory = LoggerFactory.Create(logging => ServeLogging.Configure(logging, options.Logging, configuration));
            if (ShardTargets.Named(parseResult, configuration).Count > 0)
                return await ServeShardsAsync(parseResult, configuration, options, loggerFactory, ct);

            await using var target = await DatabaseTarget.OpenAsync(parseResult, ct, Settings(options.OperationsPool), loggerFactory);
            var runner = new MigrationRunner(target.DataSource);
            if (parseResult.GetValue(noMigrate))
            {
                var pending = await runner.PendingAsync(ct);
                if (pending.Count > 0)
                    throw new BotStoreMigrationException($"{pending.Count} migration(s) pending ({string.Join(", ", pending)}): run 'botstore migrate' or start without --no-migrate");
            }
            else
            {
                foreach (var applied in (await runner.MigrateAsync(ct)).Applied)
                    Output.Line($"Applied {applied}");
            }

            await using var tenantPool = Pool(options.TenantPool, target.GivenConnectionString, "botstore-api", loggerFactory);
            await using var separateOperations = options.OperationsPool.ConnectionString is { Length: > 0 }
                ? Pool(options.OperationsPool, target.GivenConnectionString, "botstore-operations", loggerFactory)
                : null;
            var operationsPool = separateOperations ?? target.DataSource;
            await OpenMinimumAsync(tenantPool, options.TenantPool.MinConnections, ct);
            await OpenMinimumAsync(operationsPool, options.OperationsPool.MinConnections, ct);

            await using var app = ServeApp.Build(tenantPool, options, operations: operationsPool, configuration: configuration, loggerFactory: loggerFactory,
                configure: target.Embedded is { } cluster ? s => AddEmbeddedCluster(s, cluster, configuration, loggerFactory) : null);
            await app.StartAsync(ct);
            Output.Line($"BotStore API on {string.Join(", ", app.Urls)} (database: {target.Description}). Ctrl+C stops it.");
            Output.Line($"API reference: {app.Urls.First()}/docs/; operator's dashboard: {app.Urls.First()}/dashboard/ (sign in with 'botstore tenants admin-token').");
            if ((await new TenantStore(target.DataSource).ListAsync(limit: 1, ct: ct)).Items.Count == 0)
                PrintFirstSteps(app.Urls.First(), parseResult.GetValue(CommonOptions.DataDir)!);
            await app.WaitForShutdownAsync(ct);
            return ExitCodes.Ok;
        });
        return command;
    }

    // The embedded cluster serve runs on: kept alive (restarted when its server dies) and backed up on a schedule.
    private static void AddEmbeddedCluster(IServiceCollection services, EmbeddedPostgres cluster, IConfiguration configuration, ILoggerFactory loggerFactory)
    {
        services.AddSingleton(cluster).AddHostedService<EmbeddedClusterSupervisor>();
        if (cluster.Backups is { } backups
            && ClusterBackups.Job(backups, OperationsOptions.Load(configuration), loggerFactory.CreateLogger(typeof(ClusterBackups))) is { } job)
            services.AddSingleton(job);
    }

    /// <summary>
    /// <c>serve</c> over shards: each is migrated on its direct connection (the operations pool's settings), tenant
    /// traffic goes to its PgBouncer when BotStore:Shards:NAME:PgBouncer is set (nothing prepared, no reset), else
    /// directly with the tenant pool's settings.
    /// </summary>
    private static async Task<int> ServeShardsAsync(ParseResult parseResult, IConfiguration configuration, ServeOptions options,
        ILoggerFactory loggerFactory, CancellationToken ct)
    {
        await using var shards = await ShardTargets.OpenAsync(parseResult, ct, Settings(options.OperationsPool), configuration);
        foreach (var target in shards.Targets)
        {
            var runner = new MigrationRunner(target.DataSource);
            if (parseResult.GetValue(NoMigrate))
            {
                if ((await runner.PendingAsync(ct)).Count > 0)
                    throw new BotStoreMigrationException($"migrations pending on shard '{target.ShardName}': run 'botstore migrate' or start without --no-migrate");
            }
            else
            {
                foreach (var applied in (await runner.MigrateAsync(ct)).Applied)
                    Output.Line($"Shard {target.ShardName}: applied {applied}");
            }
        }
        await MigrateCommand.RegisterTenantsAsync(shards, ct);

        // --shard gives the direct URLs; a shard's PgBouncer may still come from configuration.
        string? PgBouncerOf(string shard) => configuration[$"{ServerShardOptions.SectionName}:{shard}:PgBouncer"] is { Length: > 0 } url ? url : null;
        var tenantPools = new List<NpgsqlDataSource>();
        try
        {
            var routed = new List<Shard>();
            foreach (var target in shards.Targets)
            {
                var pgBouncer = PgBouncerOf(target.ShardName);
                var pool = pgBouncer is null
                    ? Pool(options.TenantPool, target.GivenConnectionString, "botstore-api", loggerFactory)
                    : (Settings(options.TenantPool) with { ThroughPgBouncer = true }).CreateDataSource(pgBouncer, "botstore-api", loggerFactory);
                tenantPools.Add(pool);
                routed.Add(new Shard(target.ShardName, pool, target.DataSource));
            }
            await using var router = new ShardRouter(routed, configuration[ServerShardOptions.DirectoryKey], failFastFor: options.ShardFailFast);
            await using var app = ServeApp.Build(router, options, configuration: configuration, loggerFactory: loggerFactory);
            await app.StartAsync(ct);
            Output.Line($"BotStore API on {string.Join(", ", app.Urls)} over {routed.Count} shards: " +
                        string.Join(", ", shards.Targets.Select(t => $"{t.ShardName} ({t.Description}{(PgBouncerOf(t.ShardName) is null ? "" : ", tenants through PgBouncer")})")) +
                        ". Ctrl+C stops it.");
            await app.WaitForShutdownAsync(ct);
            return ExitCodes.Ok;
        }
        finally
        {
            foreach (var pool in tenantPools)
                await pool.DisposeAsync();
        }
    }

    private static ConnectionSettings Settings(PoolOptions pool) => pool.ToConnectionSettings();

    private static NpgsqlDataSource Pool(PoolOptions pool, string database, string applicationName, ILoggerFactory loggerFactory) =>
        Settings(pool).CreateDataSource(pool.ConnectionString is { Length: > 0 } own ? own : database, applicationName, loggerFactory);

    /// <summary>Opens min_connections at once, so that the pool holds them from the start rather than after the first burst.</summary>
    private static async Task OpenMinimumAsync(NpgsqlDataSource pool, int count, CancellationToken ct)
    {
        var connections = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => pool.OpenConnectionAsync(ct).AsTask()));
        foreach (var connection in connections)
            await connection.DisposeAsync();
    }

    private static void PrintFirstSteps(string url, string dataDir)
    {
        var dirArg = dataDir == Tooling.Embedded.EmbeddedPostgresOptions.DefaultDataDirectory ? "" : $" --data-dir {dataDir}";
        Output.Line($$"""

            No tenants yet. In another terminal, create one and store a first message:
              TOKEN=$(./botstore tenants create acme{{dirArg}} --json | sed -n -E 's/.*"token": *"([^"]+)".*/\1/p')
              BOT=$(curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"name":"helper","llm_provider":"openai"}' {{url}}/v1/bots | sed -E 's/.*"id": *"([^"]+)".*/\1/')
              END_USER=$(curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"external_id":"u1","display_name":"Ana"}' {{url}}/v1/users | sed -E 's/.*"id": *"([^"]+)".*/\1/')
              SESSION=$(curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "{\"user_id\":\"$END_USER\",\"bot_id\":\"$BOT\",\"channel\":\"web\",\"title\":\"hello\"}" {{url}}/v1/sessions | sed -E 's/.*"id": *"([^"]+)".*/\1/')
              curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"role":"user","message_type":"text","content":"Hi!"}' {{url}}/v1/sessions/$SESSION/messages
            The API is described at {{url}}/openapi/v1.json.

            """);
    }
}
