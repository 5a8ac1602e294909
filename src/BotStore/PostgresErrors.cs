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
            _ when FromReject(pg) => pg.SqlState == PostgresErrorCodes.ForeignKeyViolation
                ? new BotStoreNotFoundException($"{pg.ConstraintName}: {pg.MessageText}")
                : new BotStoreValidationException($"{pg.ConstraintName}: {pg.MessageText}", pg),
            PostgresErrorCodes.UniqueViolation => new BotStoreConflictException(Duplicate(pg), pg),
            PostgresErrorCodes.ForeignKeyViolation => new BotStoreNotFoundException(Missing(pg)),
            PostgresErrorCodes.NotNullViolation => new BotStoreValidationException($"{pg.ColumnName ?? "a field"} is required", pg),
            PostgresErrorCodes.CheckViolation => new BotStoreValidationException($"{Field(pg) ?? "a value"} is out of its allowed range", pg),
            PostgresErrorCodes.StringDataRightTruncation => new BotStoreValidationException("a text is longer than its field allows", pg),
            PostgresErrorCodes.InvalidTextRepresentation => new BotStoreValidationException("a value is not in the form its field needs", pg),
            PostgresErrorCodes.NumericValueOutOfRange => new BotStoreValidationException("a number is out of range", pg),
            PostgresErrorCodes.CharacterNotInRepertoire or PostgresErrorCodes.UntranslatableCharacter
                => new BotStoreValidationException("the text contains a character that cannot be stored (NUL, \\u0000)", pg),
            PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.LockNotAvailable
                => new BotStoreConflictException("a concurrent change got in the way: try again", pg),
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

    /// <summary>
    /// Whether <paramref name="ex"/> (raw or translated) says the server cannot be reached or is going away: no
    /// connection (refused, reset, timed out), a connection failure (SQLSTATE class 08), or the server shutting down
    /// or starting (57P01-57P03). Not a cancelled statement or too many connections: that server still answers.
    /// </summary>
    public static bool IsConnectionFailure(Exception ex) => ex switch
    {
        BotStoreShardUnavailableException => false,
        BotStoreUnavailableException { InnerException: { } inner } => IsConnectionFailure(inner),
        PostgresException pg => pg.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
            || pg.SqlState.StartsWith("08", StringComparison.Ordinal),
        NpgsqlException { InnerException: SocketException or IOException or TimeoutException } => true,
        NpgsqlException { InnerException: PostgresException inner } => IsConnectionFailure(inner),
        SocketException => true,
        _ => false,
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

    // Error texts speak in the caller's terms: the thing and the field, never a constraint, a partition or
    // PostgreSQL's own sentence (which would name another tenant's partitions and keys).

    // botstore_reject() (bulk checks) raises with the caller's field as the constraint (messages[3].message_index)
    // and a message written for the caller.
    private static bool FromReject(PostgresException pg) => pg.ConstraintName is { } c && (c.Contains('[') || c.Contains('.'));

    private static string Duplicate(PostgresException pg) => (Table(pg), Field(pg)) switch
    {
        (var table, null) => $"{Thing(table)} with this id already exists",
        ("bot_channels", _) => "the bot already has this channel",
        (var table, var field) => $"{Thing(table)} with this {field} already exists",
    };

    private static string Missing(PostgresException pg) => Field(pg) is { } field && field.EndsWith("_id", StringComparison.Ordinal)
        ? $"{field} names {Thing(field[..^3] switch { "session" => "user_sessions", "task" => "auto_tasks", var t => t + "s" })} that does not exist"
        : "a referenced record does not exist";

    private static string Thing(string table) => table switch
    {
        "users" => "a user",
        "bots" => "a bot",
        "bot_channels" => "a bot channel",
        "user_sessions" => "a session",
        "message_history" => "a message",
        "auto_tasks" => "a task",
        "task_approvals" => "an approval",
        "bot_memories" => "a memory",
        "kb_documents" => "a document",
        "analytics_events" => "an event",
        "tenants" => "a tenant",
        _ => "a record",
    };

    // The table without a monthly (or default) partition's suffix.
    private static string Table(PostgresException pg) =>
        System.Text.RegularExpressions.Regex.Replace(pg.TableName ?? "", "_(\\d{4}_\\d{2}|default)$", "");

    // The caller's field a generated constraint name covers (table_tenant_id_external_id_key: external_id); null
    // for a primary key, whose field is the id.
    private static string? Field(PostgresException pg)
    {
        var name = pg.ConstraintName;
        if (name is null || pg.TableName is null || !name.StartsWith(pg.TableName + "_", StringComparison.Ordinal))
            return name is null || pg.TableName is null ? null : StripTable(name, Table(pg));
        return Columns(name[(pg.TableName.Length + 1)..]);
    }

    private static string? StripTable(string name, string table) =>
        name.StartsWith(table + "_", StringComparison.Ordinal) ? Columns(name[(table.Length + 1)..]) : null;

    private static string? Columns(string rest)
    {
        foreach (var suffix in new[] { "pkey", "key", "fkey", "check" })
        {
            if (rest == suffix)
                return null;
            if (rest.EndsWith("_" + suffix, StringComparison.Ordinal))
            {
                rest = rest[..^(suffix.Length + 1)];
                break;
            }
        }
        rest = rest.StartsWith("tenant_id_", StringComparison.Ordinal) ? rest["tenant_id_".Length..] : rest;
        return rest.Length == 0 || rest == "tenant_id" ? null : rest;
    }
}
