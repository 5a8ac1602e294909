using System.Text.Json;
using BotStore.Maintenance;
using BotStore.Monitoring;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace BotStore.Server;

/// <summary>The monitoring reports as JSON under <c>/admin/db/...</c>, the same documents <c>botstore report ... --json</c> prints.</summary>
public static class AdminApi
{
    /// <summary>
    /// Maps <c>GET /admin/db/health</c> (the health checks), <c>tenants?limit=20</c>, <c>tables</c>, <c>indexes</c>, <c>queries?limit=20&amp;order=total|mean|calls</c>,
    /// <c>vacuum</c>, <c>connections</c>, <c>partitions</c> and <c>maintenance?limit=20&amp;task=...</c> (the run history).
    /// Needs <c>AddBotStoreOperations</c>. When <paramref name="isAdmin"/> is given, a request it refuses gets 401;
    /// without it the caller must protect the returned group (e.g. with an endpoint filter or authorization policy).
    /// </summary>
    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder app, Func<HttpContext, bool>? isAdmin = null)
    {
        var group = app.MapGroup("/admin/db");
        if (isAdmin is not null)
        {
            group.AddEndpointFilter(async (context, next) => isAdmin(context.HttpContext)
                ? await next(context)
                : Results.Json(new { error = "admin token required" }, AdminJson, statusCode: StatusCodes.Status401Unauthorized));
        }
        group.MapGet("/health", async (DatabaseReports reports, CancellationToken ct) => Json(await reports.HealthChecksAsync(null, ct)));
        group.MapGet("/tenants", async (DatabaseReports reports, int? limit, CancellationToken ct) => Json(await reports.TenantsAsync(limit ?? 20, ct)));
        group.MapGet("/tables", async (DatabaseReports reports, CancellationToken ct) => Json(await reports.TablesAsync(ct)));
        group.MapGet("/indexes", async (DatabaseReports reports, CancellationToken ct) => Json(await reports.IndexesAsync(ct)));
        group.MapGet("/queries", async (DatabaseReports reports, int? limit, string? order, CancellationToken ct) =>
            Enum.TryParse<QueryOrder>(order ?? "total", ignoreCase: true, out var by) && Enum.IsDefined(by)
                ? Json(await reports.SlowQueriesAsync(limit ?? 20, by, ct))
                : Results.Json(new { error = $"order '{order}' is not one of total, mean, calls" }, AdminJson, statusCode: StatusCodes.Status400BadRequest));
        group.MapGet("/vacuum", async (DatabaseReports reports, CancellationToken ct) => Json(await reports.VacuumAsync(ct)));
        group.MapGet("/connections", async (DatabaseReports reports, CancellationToken ct) => Json(await reports.ConnectionsAsync(ct)));
        group.MapGet("/partitions", async (DatabaseReports reports, CancellationToken ct) => Json(await reports.PartitionsAsync(ct)));
        group.MapGet("/maintenance", async (MaintenanceRunner runner, int? limit, string? task, CancellationToken ct) =>
            Json(await runner.HistoryAsync(Math.Clamp(limit ?? 20, 1, 500), task, true, ct)));
        return group;
    }

    private static readonly JsonSerializerOptions AdminJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static IResult Json<T>(T value) => Results.Json(value, AdminJson);
}
