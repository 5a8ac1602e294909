using BotStore.Schema;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace BotStore.Server;

/// <summary><c>/healthz</c> (the process is up) and <c>/readyz</c> (the database answers and its schema is current).</summary>
internal static class HealthApi
{
    public static void MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "up" }));
        app.MapGet("/readyz", async Task<Results<Ok<ReadyStatus>, ProblemHttpResult>> (NpgsqlDataSource dataSource, CancellationToken ct) =>
        {
            var pending = await new MigrationRunner(dataSource).PendingAsync(ct);
            return pending.Count == 0
                ? TypedResults.Ok(new ReadyStatus("ready", Migration.LatestVersion))
                : Problems.Result(StatusCodes.Status503ServiceUnavailable, $"{pending.Count} migration(s) pending: run 'botstore migrate'");
        });
    }

    internal sealed record ReadyStatus(string Status, int SchemaVersion);
}
