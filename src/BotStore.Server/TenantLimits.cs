using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace BotStore.Server;

/// <summary>
/// No tenant can starve the others: ASP.NET Core's rate limiter, partitioned by the caller's tenant, bounds each
/// tenant's request rate (a token bucket) and its requests in flight (a concurrency limit with a short queue).
/// Beyond either the answer is 429 problem details with Retry-After. Requests without a tenant (health, admin,
/// metrics) are not limited here.
/// </summary>
internal static class TenantLimits
{
    public static IServiceCollection AddTenantLimits(this IServiceCollection services, ServeOptions options) => services.AddRateLimiter(limiter =>
    {
        limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(
            PartitionedRateLimiter.Create<HttpContext, long>(http => CallerTenant.Of(http) is { } tenant
                ? RateLimitPartition.GetTokenBucketLimiter(tenant, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = options.TenantBurst,
                    TokensPerPeriod = options.TenantRequestsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                })
                : RateLimitPartition.GetNoLimiter(0L)),
            PartitionedRateLimiter.Create<HttpContext, long>(http => CallerTenant.Of(http) is { } tenant
                ? RateLimitPartition.GetConcurrencyLimiter(tenant, _ => new ConcurrencyLimiterOptions
                {
                    PermitLimit = options.TenantConcurrency,
                    QueueLimit = options.TenantQueue,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                })
                : RateLimitPartition.GetNoLimiter(0L)));
        limiter.OnRejected = async (context, ct) =>
        {
            var seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;
            context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await Problems.Result(StatusCodes.Status429TooManyRequests,
                $"this tenant is over its limit ({options.TenantRequestsPerSecond} requests a second, bursts of {options.TenantBurst}, " +
                $"{options.TenantConcurrency} at a time): retry after {seconds} s").ExecuteAsync(context.HttpContext);
        };
    });
}
