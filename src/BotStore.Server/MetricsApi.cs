using BotStore.Server.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace BotStore.Server;

/// <summary><c>/metrics</c> in the Prometheus text format.</summary>
public static class MetricsApi
{
    /// <summary>The Content-Type of the Prometheus text format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>
    /// Maps <c>GET /metrics</c>: request counts and latency histograms per route (from <see cref="RequestMetrics"/>),
    /// Npgsql pool statistics, table and index sizes, partition runway in months, default-partition rows, and the
    /// last outcome of each maintenance task. Needs <c>AddBotStoreOperations</c>. The returned builder takes any
    /// authorization the host wants on it.
    /// </summary>
    public static IEndpointConventionBuilder MapMetrics(this IEndpointRouteBuilder app, string pattern = "/metrics") =>
        app.MapGet(pattern, async (HttpContext context, CancellationToken ct) =>
        {
            var services = context.RequestServices;
            var w = new PrometheusWriter();
            services.GetRequiredService<RequestMetricsRecorder>().WriteTo(w);
            services.GetRequiredService<NpgsqlPoolMetrics>().WriteTo(w);
            var database = await services.GetRequiredService<DatabaseMetrics>().RenderAsync(ct);
            return Results.Text(w + database, ContentType);
        }).ExcludeFromDescription();
}
