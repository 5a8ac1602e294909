using BotStore.Server.Internal;
using BotStore.Maintenance;
using BotStore.Monitoring;
using BotStore.Partitions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace BotStore.Server.Operations;

/// <summary>Registers BotStore's operations in a host: the scheduler, and what the admin and metrics endpoints read.</summary>
public static class OperationsServices
{
    /// <summary>
    /// Adds the <see cref="PartitionManager"/>, <see cref="MaintenanceRunner"/>, <see cref="DatabaseReports"/>, the
    /// request and pool metrics behind <see cref="MetricsApi"/> and, when <see cref="OperationsOptions.Enabled"/>,
    /// the <see cref="OperationsHostedService"/>. The options are checked here (cron expressions, ranges) and again
    /// against the database when the host starts.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="options">The <c>Operations</c> configuration.</param>
    /// <param name="dataSource">
    /// The data source operations use; by default the host's <see cref="NpgsqlDataSource"/>. It must connect
    /// directly, not through PgBouncer in transaction mode: the single-runner locks are session advisory locks.
    /// </param>
    /// <exception cref="BotStoreConfigurationException">The options are wrong.</exception>
    public static IServiceCollection AddBotStoreOperations(this IServiceCollection services, OperationsOptions options,
        Func<IServiceProvider, NpgsqlDataSource>? dataSource = null)
    {
        options.Validate();
        var source = dataSource ?? (sp => sp.GetRequiredService<NpgsqlDataSource>());
        services.TryAddSingleton(options);
        services.TryAddSingleton(sp => new PartitionManager(source(sp), options.ToPartitionOptions()));
        services.TryAddSingleton(sp => new MaintenanceRunner(source(sp), options.ToMaintenanceOptions()));
        services.TryAddSingleton(sp => new DatabaseReports(source(sp), sp.GetRequiredService<PartitionManager>()));
        services.TryAddSingleton<RequestMetricsRecorder>();
        services.TryAddSingleton<NpgsqlPoolMetrics>();
        services.TryAddSingleton<DatabaseMetrics>();
        if (options.Enabled)
            services.AddHostedService<OperationsHostedService>();
        return services;
    }
}
