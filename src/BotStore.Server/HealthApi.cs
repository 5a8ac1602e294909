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

    /// <summary>
    /// Ready when a pooled connection is free within <see cref="ServeOptions.ReadyTimeout"/>, the database answers and
    /// no migration is pending; otherwise 503 saying which (an exhausted pool, an unreachable database), so an
    /// orchestrator can act.
    /// </summary>
    public static async Task<Results<Ok<ReadyStatus>, ProblemHttpResult>> Ready(NpgsqlDataSource dataSource, ServeOptions options, CancellationToken ct)
    {
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
    }
}
