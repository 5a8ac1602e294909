using BotStore.Server.Internal;
using BotStore.Maintenance;
using BotStore.Monitoring;
using BotStore.Partitions;
using BotStore.Sharding;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BotStore.Server.Operations;

/// <summary>Registers BotStore's operations in a host: the scheduler, and what the admin and metrics endpoints read.</summary>
public static class OperationsServices
{
    /// <summary>
    /// Adds the operations with their settings bound (options pattern) from the <c>BotStore:Operations</c> section of
    /// <paramref name="configuration"/>, checked by <see cref="OperationsOptionsValidator"/> when the host starts and
    /// against the database when the scheduler starts.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The host's configuration.</param>
    /// <param name="dataSource">
    /// The data source operations use; by default the host's <see cref="NpgsqlDataSource"/>. It must connect
    /// directly, not through PgBouncer in transaction mode: the single-runner locks are session advisory locks.
    /// </param>
    public static IServiceCollection AddBotStoreOperations(this IServiceCollection services, IConfiguration configuration,
        Func<IServiceProvider, NpgsqlDataSource>? dataSource = null) =>
        services.AddValidatedOptions<OperationsOptions, OperationsOptionsValidator>(configuration, OperationsOptions.Section).AddServices(dataSource);

    /// <summary>
    /// Adds the operations with settings built in code, checked now (cron expressions, ranges) and against the
    /// database when the scheduler starts.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="options">The settings.</param>
    /// <param name="dataSource">As for the other overload.</param>
    /// <exception cref="BotStoreConfigurationException">The options are wrong.</exception>
    public static IServiceCollection AddBotStoreOperations(this IServiceCollection services, OperationsOptions options,
        Func<IServiceProvider, NpgsqlDataSource>? dataSource = null) =>
        services.AddCheckedOptions<OperationsOptions, OperationsOptionsValidator>(options).AddServices(dataSource);

    /// <summary>
    /// The <see cref="PartitionManager"/>, <see cref="MaintenanceRunner"/>, <see cref="DatabaseReports"/> (and the same
    /// for every other shard of a registered <see cref="ShardRouter"/>: <see cref="OperationsShards"/>), the
    /// request and pool metrics behind <see cref="MetricsApi"/> and the <see cref="OperationsHostedService"/>
    /// (which schedules nothing when <see cref="OperationsOptions.Enabled"/> is false).
    /// </summary>
    private static IServiceCollection AddServices(this IServiceCollection services, Func<IServiceProvider, NpgsqlDataSource>? dataSource)
    {
        var source = dataSource ?? (sp => sp.GetRequiredService<NpgsqlDataSource>());
        services.TryAddSingleton(sp => new PartitionManager(source(sp), sp.GetRequiredService<OperationsOptions>().ToPartitionOptions()));
        services.TryAddSingleton(sp => new MaintenanceRunner(source(sp), sp.GetRequiredService<OperationsOptions>().ToMaintenanceOptions()));
        services.TryAddSingleton(sp => new DatabaseReports(source(sp), sp.GetRequiredService<PartitionManager>()));
        services.TryAddSingleton(sp => EveryShard(sp, source));
        services.TryAddSingleton<MetricsRegistry>();
        services.TryAddSingleton<RequestMetricsRecorder>();
        services.TryAddSingleton<DatabaseMetrics>();
        // One scheduler for every shard's operations (OperationsShards: the host's database, or every shard of its router).
        services.AddHostedService(sp => new OperationsHostedService(sp.GetRequiredService<OperationsOptions>(), sp.GetRequiredService<OperationsShards>(),
            sp.GetRequiredService<ILogger<OperationsHostedService>>(), sp.GetService<ExpirySweeper>(), sp.GetServices<InstanceJob>()));
        return services;
    }

    // The directory shard (or the one database) uses the host's own services; every other shard gets its own, on its direct pool.
    private static OperationsShards EveryShard(IServiceProvider sp, Func<IServiceProvider, NpgsqlDataSource> source)
    {
        var own = (Reports: sp.GetRequiredService<DatabaseReports>(), Partitions: sp.GetRequiredService<PartitionManager>(),
            Maintenance: sp.GetRequiredService<MaintenanceRunner>());
        var router = sp.GetService<ShardRouter>();
        if (router is null)
        {
            var single = ShardRouter.Single(source(sp));
            return new OperationsShards(single, [new OperationsShard(single.Shards[0], own.Reports, own.Partitions, own.Maintenance)]);
        }
        var options = sp.GetRequiredService<OperationsOptions>();
        return new OperationsShards(router, router.Shards.Select(shard =>
        {
            if (shard == router.DirectoryShard)
                return new OperationsShard(shard, own.Reports, own.Partitions, own.Maintenance);
            var partitions = new PartitionManager(shard.Direct, options.ToPartitionOptions());
            return new OperationsShard(shard, new DatabaseReports(shard.Direct, partitions), partitions,
                new MaintenanceRunner(shard.Direct, options.ToMaintenanceOptions()));
        }).ToList());
    }
}
