using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace BotStore.Server;

/// <summary>
/// Turns every error into RFC 7807 problem details: BotStore exceptions by type, PostgreSQL errors through the one
/// SqlState translator, unreadable bodies as 400. A database that is down or restarting answers 503 with
/// Retry-After, never 500: nothing was acknowledged, so the client may safely retry.
/// </summary>
internal sealed partial class Problems(ILogger<Problems> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var (status, title, detail, error) = Classify(exception);
        if (status >= 500 && status != StatusCodes.Status503ServiceUnavailable)
            LogUnhandled(exception, http.Request.Method, http.Request.Path);
        else if (status == StatusCodes.Status503ServiceUnavailable)
            LogUnavailable(http.Request.Method, http.Request.Path, detail);
        if (status == StatusCodes.Status503ServiceUnavailable)
            http.Response.Headers.RetryAfter = RetryAfter(error);
        http.Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail, Instance = http.Request.Path };
        if (error is BotStoreShardUnavailableException down)
            problem.Extensions["shard"] = down.Shard;
        await http.Response.WriteAsJsonAsync(problem, (JsonSerializerOptions?)null, "application/problem+json", ct);
        return true;
    }

    /// <summary>
    /// An endpoint filter with the same mapping, for route groups a host maps without <c>MapBotStore</c>'s exception
    /// handler (e.g. <see cref="AdminApi.MapAdminApi"/> alone): known errors become problem results, the rest propagate.
    /// </summary>
    public static async ValueTask<object?> Filter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (Exception ex) when (Classify(ex) is { Status: not StatusCodes.Status500InternalServerError } problem)
        {
            if (problem.Status == StatusCodes.Status503ServiceUnavailable)
                context.HttpContext.Response.Headers.RetryAfter = RetryAfter(problem.Error);
            return problem.Error is BotStoreShardUnavailableException down
                ? TypedResults.Problem(detail: problem.Detail, statusCode: problem.Status, title: problem.Title,
                    extensions: new Dictionary<string, object?> { ["shard"] = down.Shard })
                : Result(problem.Status, problem.Detail);
        }
    }

    /// <summary>A problem result for an endpoint to return directly.</summary>
    public static ProblemHttpResult Result(int status, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: Title(status));

    /// <summary>Seconds until a retry may succeed: the rest of a shard's fail-fast interval, else 1.</summary>
    private static string RetryAfter(BotStoreException? error) =>
        error is BotStoreShardUnavailableException down
            ? Math.Max(1, (int)Math.Ceiling(down.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture)
            : "1";

    private static (int Status, string Title, string Detail, BotStoreException? Error) Classify(Exception exception)
    {
        var error = exception as BotStoreException ?? PostgresErrors.Translate(exception)
            ?? (exception.InnerException is { } inner ? PostgresErrors.Translate(inner) ?? inner as BotStoreException : null);
        var status = error switch
        {
            BotStoreTooLargeException => StatusCodes.Status413PayloadTooLarge,
            BotStoreValidationException => StatusCodes.Status400BadRequest,
            BotStoreNotFoundException => StatusCodes.Status404NotFound,
            BotStoreConflictException => StatusCodes.Status409Conflict,
            BotStoreUnavailableException => StatusCodes.Status503ServiceUnavailable,
            BotStoreMigrationException => StatusCodes.Status503ServiceUnavailable,
            _ when exception is BadHttpRequestException bad => bad.StatusCode,
            _ => StatusCodes.Status500InternalServerError,
        };
        var detail = error?.Message ?? exception switch
        {
            BadHttpRequestException { InnerException: JsonException json } => $"the body is not valid JSON: {json.Message}",
            BadHttpRequestException bad => bad.Message,
            _ => "an unexpected error occurred; it has been logged",
        };
        return (status, Title(status), detail, error);
    }

    private static string Title(int status) => status switch
    {
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        409 => "Conflict",
        413 => "Payload too large",
        503 => "Service unavailable",
        _ => "Error",
    };

    [LoggerMessage(LogLevel.Error, "unhandled error on {Method} {Path}")]
    private partial void LogUnhandled(Exception exception, string method, PathString path);

    [LoggerMessage(LogLevel.Warning, "database unavailable on {Method} {Path}: {Detail}")]
    private partial void LogUnavailable(string method, PathString path, string? detail);
}
