using BotStore.Maintenance;
using BotStore.Monitoring;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace BotStore.Server;

/// <summary>
/// The monitoring reports as JSON under <c>/admin/db/...</c>, the same documents <c>botstore report ... --json</c>
/// prints. Errors are problem details, as on every other route.
/// </summary>
public static class AdminApi
{
    /// <summary>
    /// Maps <c>GET /admin/db/tables</c>, <c>indexes</c>, <c>queries?limit=20&amp;order=total|mean|calls</c>,
    /// <c>vacuum</c>, <c>connections</c>, <c>partitions</c> and <c>maintenance?limit=20&amp;task=...</c> (the run history).
    /// Needs <c>AddBotStoreOperations</c>. When <paramref name="isAdmin"/> is given, a request it refuses gets 401;
    /// without it the caller must protect the returned group (e.g. with an endpoint filter or authorization policy).
    /// </summary>
    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder app, Func<HttpContext, bool>? isAdmin = null)
    {
        var group = app.MapGroup("/admin/db").WithTags("Admin");
        group.AddEndpointFilter(Problems.Filter);
        if (isAdmin is not null)
        {
            group.AddEndpointFilter(async (context, next) => isAdmin(context.HttpContext)
                ? await next(context)
                : Problems.Result(StatusCodes.Status401Unauthorized, "an administrator token is required"));
        }
        group.MapGet("/tables", Tables).WithName("AdminTables");
        group.MapGet("/indexes", Indexes).WithName("AdminIndexes");
        group.MapGet("/queries", Queries).WithName("AdminQueries");
        group.MapGet("/vacuum", Vacuum).WithName("AdminVacuum");
        group.MapGet("/connections", Connections).WithName("AdminConnections");
        group.MapGet("/partitions", Partitions).WithName("AdminPartitions");
        group.MapGet("/maintenance", Maintenance).WithName("AdminMaintenance");
        return group;
    }

    private static async Task<IResult> Tables(DatabaseReports reports, CancellationToken ct) => Json(await reports.TablesAsync(ct));

    private static async Task<IResult> Indexes(DatabaseReports reports, CancellationToken ct) => Json(await reports.IndexesAsync(ct));

    private static async Task<IResult> Queries(DatabaseReports reports, int? limit, string? order, CancellationToken ct) =>
        Enum.GetNames<QueryOrder>().FirstOrDefault(n => n.Equals(order ?? "total", StringComparison.OrdinalIgnoreCase)) is { } name
            && Enum.Parse<QueryOrder>(name) is var by
            ? Json(await reports.SlowQueriesAsync(limit ?? 20, by, ct))
            : throw new BotStoreValidationException($"order '{order}' is not one of total, mean, calls");

    private static async Task<IResult> Vacuum(DatabaseReports reports, CancellationToken ct) => Json(await reports.VacuumAsync(ct));

    private static async Task<IResult> Connections(DatabaseReports reports, CancellationToken ct) => Json(await reports.ConnectionsAsync(ct));

    private static async Task<IResult> Partitions(DatabaseReports reports, CancellationToken ct) => Json(await reports.PartitionsAsync(ct));

    private static async Task<IResult> Maintenance(MaintenanceRunner runner, int? limit, string? task, CancellationToken ct) =>
        Json(await runner.HistoryAsync(Math.Clamp(limit ?? 20, 1, 500),
            task is null ? null : MaintenanceRunner.TaskName(MaintenanceRunner.ParseTask(task)), true, ct));

    /// <summary>The reports as <c>botstore report --json</c> writes them: snake_case names, enums as numbers.</summary>
    private static IResult Json<T>(T value) => Results.Json(value, AdminJson);

    private static readonly System.Text.Json.JsonSerializerOptions AdminJson = new() { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower };
}
