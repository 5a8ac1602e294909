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
        app.MapGet("/readyz", async Task<Results<Ok<ReadyStatus>, ProblemHttpResult>> (NpgsqlDataSource dataSource, ServeOptions options, CancellationToken ct) =>
        {
            // A connection within ReadyTimeout, or the orchestrator hears why not: every pooled connection is busy
            // (the pool is exhausted) or the database does not answer.
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            wait.CancelAfter(options.ReadyTimeout);
            try
            {
                await using (var conn = await dataSource.OpenConnectionAsync(wait.Token))
                {
                    await using var ping = new NpgsqlCommand("SELECT 1", conn);
                    await ping.ExecuteScalarAsync(wait.Token);
                }
                var pending = await new MigrationRunner(dataSource).PendingAsync(wait.Token);
                return pending.Count == 0
                    ? TypedResults.Ok(new ReadyStatus("ready", Migration.LatestVersion))
                    : Problems.Result(StatusCodes.Status503ServiceUnavailable, $"{pending.Count} migration(s) pending: run 'botstore migrate'");
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && (ex is OperationCanceledException || PostgresErrors.Translate(ex) is BotStoreUnavailableException))
            {
                return Problems.Result(StatusCodes.Status503ServiceUnavailable, ex is OperationCanceledException
                    ? $"no database connection within {options.ReadyTimeout.TotalSeconds:0.#} s: the connection pool is exhausted or the database is slow"
                    : $"the database is unreachable: {PostgresErrors.Translate(ex)!.Message}");
            }
        });
    }

    internal sealed record ReadyStatus(string Status, int SchemaVersion);
}
