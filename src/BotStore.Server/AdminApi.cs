using BotStore.Maintenance;
using System.Text.Json;
using System.Text.Json.Nodes;
using BotStore.Monitoring;
using BotStore.Server.Internal;
using BotStore.Server.Operations;
using BotStore.Sharding;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace BotStore.Server;

/// <summary>
/// The monitoring reports as JSON under <c>/admin/db/...</c>, the documents <c>botstore report ... --json</c> prints,
/// gathered from every shard in parallel: every row carries its <c>shard</c>; rankings (tenants, statements) are merged
/// across shards and the object reports add <c>shards</c>, each shard's own figures or its error. A shard that fails
/// shows as its error in its place (in a list, a row <c>{shard, error}</c>; in the health checks, a red check
/// <c>shard_reachable</c>), and the others still answer; only when every shard fails is the answer a problem (503).
/// Errors are problem details, as on every other route.
/// </summary>
public static class AdminApi
{
    /// <summary>
    /// Maps <c>GET /admin/db/health</c> (the health checks), <c>tenants?limit=20</c>, <c>tables</c>, <c>indexes</c>, <c>queries?limit=20&amp;order=total|mean|calls</c>,
    /// <c>vacuum</c>, <c>connections</c>, <c>partitions</c>, <c>maintenance?limit=20&amp;task=...</c> (the run history) and
    /// <c>shards</c> (each shard's state, as <c>botstore shards status --json</c>, with <c>failing_fast</c>).
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
        group.MapGet("/health", Health).WithName("AdminHealth");
        group.MapGet("/tenants", Tenants).WithName("AdminTenants");
        group.MapGet("/tables", Tables).WithName("AdminTables");
        group.MapGet("/indexes", Indexes).WithName("AdminIndexes");
        group.MapGet("/queries", Queries).WithName("AdminQueries");
        group.MapGet("/vacuum", Vacuum).WithName("AdminVacuum");
        group.MapGet("/connections", Connections).WithName("AdminConnections");
        group.MapGet("/partitions", Partitions).WithName("AdminPartitions");
        group.MapGet("/maintenance", Maintenance).WithName("AdminMaintenance");
        group.MapGet("/shards", Shards).WithName("AdminShards");
        return group;
    }

    private static async Task<IResult> Health(OperationsShards shards, CancellationToken ct) =>
        Json(ShardViews.JsonRows(await shards.SomeAsync((s, t) => s.Reports.HealthChecksAsync(null, t), ct), AdminJson,
            error => new HealthCheck("shard_reachable", "Shard reachable", false, error)));

    private static async Task<IResult> Tenants(OperationsShards shards, int? limit, CancellationToken ct)
    {
        var take = Math.Clamp(limit ?? 20, 1, 1000);
        var answers = await shards.SomeAsync((s, t) => s.Reports.TenantsAsync(take, t), ct);
        var answered = answers.Where(a => a.Error is null).Select(a => a.Value!).ToList();
        return Json(new JsonObject
        {
            ["tenants"] = answered.Sum(r => r.Tenants),
            ["sampled_percent"] = answered.Min(r => r.SampledPercent),
            ["top"] = new JsonArray(ShardViews.TopTenants(answers, take).Select(x => (JsonNode)ShardViews.Label(x.Shard, x.Tenant, AdminJson)).ToArray()),
            ["shards"] = ShardViews.JsonShards(answers, AdminJson, r => new { r.Tenants, r.SampledPercent }),
        });
    }

    private static async Task<IResult> Tables(OperationsShards shards, CancellationToken ct) =>
        Json(ShardViews.JsonRows(await shards.SomeAsync((s, t) => s.Reports.TablesAsync(t), ct), AdminJson));

    private static async Task<IResult> Indexes(OperationsShards shards, CancellationToken ct) =>
        Json(ShardViews.JsonRows(await shards.SomeAsync((s, t) => s.Reports.IndexesAsync(t), ct), AdminJson));

    private static async Task<IResult> Queries(OperationsShards shards, int? limit, string? order, CancellationToken ct)
    {
        if (Enum.GetNames<QueryOrder>().FirstOrDefault(n => n.Equals(order ?? "total", StringComparison.OrdinalIgnoreCase)) is not { } name)
            throw new BotStoreValidationException($"order '{order}' is not one of total, mean, calls");
        var by = Enum.Parse<QueryOrder>(name);
        var take = limit ?? 20;
        var answers = await shards.SomeAsync((s, t) => s.Reports.SlowQueriesAsync(take, by, t), ct);
        var answered = answers.Where(a => a.Error is null).ToList();
        var unavailable = answered.Where(a => !a.Value!.Available).Select(a => shards.Several ? $"shard '{a.Shard.Name}': {a.Value!.Unavailable}" : a.Value!.Unavailable).ToList();
        return Json(new JsonObject
        {
            ["available"] = answered.Any(a => a.Value!.Available),
            ["unavailable"] = unavailable.Count == 0 ? null : string.Join("; ", unavailable),
            ["queries"] = new JsonArray(ShardViews.TopQueries(answers, by, Math.Clamp(take, 1, 1000)).Select(x => (JsonNode)ShardViews.Label(x.Shard, x.Query, AdminJson)).ToArray()),
            ["shards"] = ShardViews.JsonShards(answers, AdminJson, r => new { r.Available, r.Unavailable }),
        });
    }

    private static async Task<IResult> Vacuum(OperationsShards shards, CancellationToken ct) =>
        Json(ShardViews.JsonRows(await shards.SomeAsync((s, t) => s.Reports.VacuumAsync(t), ct), AdminJson));

    private static async Task<IResult> Connections(OperationsShards shards, CancellationToken ct)
    {
        var answers = await shards.SomeAsync((s, t) => s.Reports.ConnectionsAsync(t), ct);
        var answered = answers.Where(a => a.Error is null).Select(a => a.Value!).ToList();
        return Json(new JsonObject
        {
            ["max_connections"] = answered.Sum(r => r.MaxConnections),
            ["total"] = answered.Sum(r => r.Total),
            ["groups"] = ShardViews.JsonRows(answers.Select(a => new ShardAnswer<IReadOnlyList<ConnectionGroup>>(a.Shard, a.Value?.Groups, a.Error))
                .Where(a => a.Error is null).ToList(), AdminJson),
            ["shards"] = ShardViews.JsonShards(answers, AdminJson, r => new { r.MaxConnections, r.Total }),
        });
    }

    private static async Task<IResult> Partitions(OperationsShards shards, CancellationToken ct) =>
        Json(ShardViews.JsonRows(await shards.SomeAsync((s, t) => s.Reports.PartitionsAsync(t), ct), AdminJson));

    private static async Task<IResult> Maintenance(OperationsShards shards, int? limit, string? task, CancellationToken ct)
    {
        var name = task is null ? null : MaintenanceRunner.TaskName(MaintenanceRunner.ParseTask(task));
        return Json(ShardViews.JsonRows(await shards.SomeAsync((s, t) => s.Maintenance.HistoryAsync(Math.Clamp(limit ?? 20, 1, 500), name, true, t), ct), AdminJson));
    }

    private static async Task<IResult> Shards(OperationsShards shards, CancellationToken ct)
    {
        var rows = await ShardStatus.ReadAsync(shards.Router, ct: ct);
        return Json(new JsonArray(rows.Select(r =>
        {
            var row = JsonSerializer.SerializeToNode(r, AdminJson)!.AsObject();
            row["failing_fast"] = shards.Router.IsFailingFast(r.Shard);
            return (JsonNode)row;
        }).ToArray()));
    }

    /// <summary>The reports as <c>botstore report --json</c> writes them: snake_case names, enums as numbers.</summary>
    private static IResult Json<T>(T value) => Results.Json(value, AdminJson);

    private static readonly System.Text.Json.JsonSerializerOptions AdminJson = new() { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower };
}
