using System.Net.Sockets;
using Npgsql;

namespace BotStore;

/// <summary>
/// The one place where PostgreSQL and Npgsql errors become <see cref="BotStoreException"/>s, by SqlState.
/// Anything it does not recognise is rethrown as it is: an error is never swallowed.
/// </summary>
public static class PostgresErrors
{
    /// <summary>Returns the BotStore exception for <paramref name="ex"/>, or null when it should propagate unchanged.</summary>
    public static BotStoreException? Translate(Exception ex) => ex switch
    {
        BotStoreException => null,
        PostgresException pg => pg.SqlState switch
        {
            PostgresErrorCodes.UniqueViolation => new BotStoreConflictException(Describe("already exists", pg), pg),
            PostgresErrorCodes.ForeignKeyViolation => new BotStoreNotFoundException(Describe("refers to something that does not exist", pg)),
            PostgresErrorCodes.CheckViolation or PostgresErrorCodes.NotNullViolation or PostgresErrorCodes.StringDataRightTruncation
                or PostgresErrorCodes.InvalidTextRepresentation or PostgresErrorCodes.NumericValueOutOfRange
                => new BotStoreValidationException(Describe("is not valid", pg), pg),
            PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.LockNotAvailable
                => new BotStoreConflictException($"concurrent change, try again ({pg.MessageText})", pg),
            PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
                or PostgresErrorCodes.TooManyConnections or PostgresErrorCodes.QueryCanceled
                => new BotStoreUnavailableException($"database unavailable: {pg.MessageText}", pg),
            _ when pg.SqlState.StartsWith("08", StringComparison.Ordinal)
                => new BotStoreUnavailableException($"database connection failed: {pg.MessageText}", pg),
            _ => null,
        },
        NpgsqlException { InnerException: SocketException or IOException or TimeoutException } npg
            => new BotStoreUnavailableException($"database unreachable: {npg.InnerException!.Message}", npg),
        NpgsqlException { IsTransient: true } npg => new BotStoreUnavailableException($"database unavailable: {npg.Message}", npg),
        SocketException se => new BotStoreUnavailableException($"database unreachable: {se.Message}", se),
        _ => null,
    };

    /// <summary>Runs <paramref name="action"/> and translates what it throws.</summary>
    public static async Task<T> Guard<T>(Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception ex) when (Translate(ex) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>Runs <paramref name="action"/> and translates what it throws.</summary>
    public static Task Guard(Func<Task> action) => Guard(async () =>
    {
        await action();
        return true;
    });

    private static string Describe(string what, PostgresException pg)
    {
        var subject = pg.ConstraintName ?? pg.ColumnName ?? pg.TableName ?? "value";
        return $"{subject} {what}: {pg.MessageText}";
    }
}
