using BotStore.Schema;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace BotStore.Server;

/// <summary><c>/healthz</c> (the process is up) and <c>/readyz</c> (the database answers and its schema is current).</summary>
internal static class HealthApi
{
    internal sealed record UpStatus(string Status);

    internal sealed record ReadyStatus(string Status, int SchemaVersion);

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", Up).WithTags("Health");
        app.MapGet("/readyz", Ready).WithTags("Health");
        return app;
    }

    public static Ok<UpStatus> Up() => TypedResults.Ok(new UpStatus("up"));

    public static async Task<Results<Ok<ReadyStatus>, ProblemHttpResult>> Ready(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var pending = await new MigrationRunner(dataSource).PendingAsync(ct);
        return pending.Count == 0
            ? TypedResults.Ok(new ReadyStatus("ready", Migration.LatestVersion))
            : Problems.Result(StatusCodes.Status503ServiceUnavailable, $"{pending.Count} migration(s) pending: run 'botstore migrate'");
    }
}
