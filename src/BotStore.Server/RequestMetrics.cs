using System.Diagnostics;
using BotStore.Server.Internal;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace BotStore.Server;

/// <summary>
/// Middleware that counts every request and its latency by method, route template (e.g. <c>/admin/db/{report}</c>,
/// never the raw path, so label values stay few) and status code, for <see cref="MetricsApi"/>, and writes the one
/// log line of each request: method, route template, status, duration and the caller's tenant. Never the path's
/// values, the query or a header: a token cannot reach the log. Add it early in the pipeline
/// (<c>app.UseRequestMetrics()</c>); it needs <c>AddBotStoreOperations</c>.
/// </summary>
public sealed partial class RequestMetrics(RequestDelegate next, ILogger<RequestMetrics> logger)
{
    /// <summary>Runs the rest of the pipeline and records the request.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var recorder = context.RequestServices.GetRequiredService<RequestMetricsRecorder>();
        var start = Stopwatch.GetTimestamp();
        var routed = context.GetEndpoint(); // known here when routing ran first (MapBotStore's pipeline)
        var failed = false;
        try
        {
            await next(context);
        }
        catch
        {
            failed = true;
            throw;
        }
        finally
        {
            // Afterwards for a host that routes later; the exception handler clears the endpoint of a request that
            // failed (a 404 for an unknown id), so its feature, or the endpoint seen before, names the route then.
            var endpoint = context.GetEndpoint() ?? context.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? routed;
            var route = (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            var status = failed ? StatusCodes.Status500InternalServerError : context.Response.StatusCode;
            var elapsed = Stopwatch.GetElapsedTime(start);
            recorder.Record(context.Request.Method, route, status, elapsed);
            LogRequest(context.Request.Method, route, status, elapsed.TotalMilliseconds, CallerTenant.Of(context));
        }
    }

    [LoggerMessage(LogLevel.Information, "{Method} {Route} {Status} in {ElapsedMs:0.0} ms, tenant {TenantId}")]
    private partial void LogRequest(string method, string route, int status, double elapsedMs, long? tenantId);
}

/// <summary>Adds <see cref="RequestMetrics"/> to a pipeline.</summary>
public static class RequestMetricsExtensions
{
    /// <summary>Counts requests and their latency for <c>/metrics</c> and logs one line per request.</summary>
    public static IApplicationBuilder UseRequestMetrics(this IApplicationBuilder app) => app.UseMiddleware<RequestMetrics>();
}
