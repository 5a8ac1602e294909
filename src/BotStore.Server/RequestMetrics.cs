using System.Diagnostics;
using BotStore.Server.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace BotStore.Server;

/// <summary>
/// Middleware that counts every request and its latency by method, route template (e.g. <c>/admin/db/{report}</c>,
/// never the raw path, so label values stay few) and status code, for <see cref="MetricsApi"/>. Add it early in the
/// pipeline (<c>app.UseMiddleware&lt;RequestMetrics&gt;()</c>); it needs <c>AddBotStoreOperations</c>.
/// </summary>
public sealed class RequestMetrics(RequestDelegate next)
{
    /// <summary>Runs the rest of the pipeline and records the request.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var recorder = context.RequestServices.GetRequiredService<RequestMetricsRecorder>();
        var start = Stopwatch.GetTimestamp();
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
            // The endpoint is known once routing has run, which is why it is read afterwards.
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            recorder.Record(context.Request.Method, route, failed ? StatusCodes.Status500InternalServerError : context.Response.StatusCode,
                Stopwatch.GetElapsedTime(start));
        }
    }
}

/// <summary>Adds <see cref="RequestMetrics"/> to a pipeline.</summary>
public static class RequestMetricsExtensions
{
    /// <summary>Counts requests and their latency for <c>/metrics</c>.</summary>
    public static IApplicationBuilder UseRequestMetrics(this IApplicationBuilder app) => app.UseMiddleware<RequestMetrics>();
}
