using BotStore.Server.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace BotStore.Server;

/// <summary><c>/metrics</c> in the Prometheus text format, exported by prometheus-net.</summary>
public static class MetricsApi
{
    /// <summary>The Content-Type of the Prometheus text format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>
    /// Maps <c>GET /metrics</c>: request counts and latency histograms per route (from <see cref="RequestMetrics"/>),
    /// Npgsql's pool statistics and command-duration histogram, table and index sizes, partition runway in months,
    /// default-partition rows, and the last outcome of each maintenance task. Needs <c>AddBotStoreOperations</c>.
    /// The returned builder takes any authorization the host wants on it.
    /// </summary>
    public static IEndpointConventionBuilder MapMetrics(this IEndpointRouteBuilder app, string pattern = "/metrics")
    {
        var services = app.ServiceProvider;
        // Created now, so that every family is in the registry before the first scrape (and the database gauges' refresh is registered).
        _ = services.GetRequiredService<RequestMetricsRecorder>();
        _ = services.GetRequiredService<DatabaseMetrics>();
        return Prometheus.MetricServerMiddlewareExtensions.MapMetrics(app, pattern, services.GetRequiredService<MetricsRegistry>().Registry)
            .ExcludeFromDescription();
    }
}
