using System.Globalization;
using Npgsql;

namespace BotStore.Data.Internal;

/// <summary>
/// Runs SQL as one tenant. Every tenant-scoped statement travels in a batch behind
/// <see cref="ScopeSql"/>, which switches the transaction to the <c>botstore_app</c> role (no superuser, no
/// BYPASSRLS, so row-level security applies), sets the tenant the policies compare with, and enters the tenant on
/// this shard (<c>botstore_enter_tenant</c>, migration 0024: waits while a move fences the tenant, fails with BS001
/// when the tenant has left this shard, see <see cref="Sharding.ShardRouter"/>). A batch is one round
/// trip and one implicit transaction, and both settings end with it, so this works through PgBouncer in
/// transaction mode. The statements still filter by tenant_id themselves: the policy is the second wall, not the
/// first. The append is the one exception: <c>botstore_append_message</c> (migration 0026) runs these same three
/// steps as its own first statement, so the append is one statement whose inner plans the server connection keeps.
/// </summary>
internal static class TenantScope
{
    public const string ScopeSql =
        "SELECT set_config('role', 'botstore_app', true), set_config('botstore.tenant_id', $1, true), botstore_enter_tenant($1::bigint)";

    /// <summary>A batch on the data source whose first command scopes it to <paramref name="tenantId"/>.</summary>
    public static NpgsqlBatch Batch(NpgsqlDataSource dataSource, long tenantId)
    {
        var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command(tenantId));
        return batch;
    }

    /// <summary>A batch on an open connection (inside a transaction or not) whose first command scopes it.</summary>
    public static NpgsqlBatch Batch(NpgsqlConnection connection, long tenantId)
    {
        var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(Command(tenantId));
        return batch;
    }

    /// <summary>
    /// Adds a statement with positional parameters ($1, $2, ...) to the batch. Text parameters are checked here,
    /// once for every store: text PostgreSQL cannot store (a NUL) is a validation error, not a database error.
    /// </summary>
    public static NpgsqlBatch Add(this NpgsqlBatch batch, string sql, params object?[] args)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var arg in args)
        {
            var parameter = arg as NpgsqlParameter ?? new NpgsqlParameter { Value = arg ?? DBNull.Value };
            if (parameter.Value is string text)
                TextValues.Check(text, "a text value");
            command.Parameters.Add(parameter);
        }
        batch.BatchCommands.Add(command);
        return batch;
    }

    /// <summary>
    /// Executes the batch and returns a reader positioned on the first statement after the scope. When that
    /// statement fails (a unique key, a foreign key, bad text), the reader is disposed here before the error goes
    /// on: the caller never got it, so nobody else could, and an undisposed reader of a data-source batch keeps
    /// its pooled connection for ever.
    /// </summary>
    public static async Task<NpgsqlDataReader> ReadAsync(this NpgsqlBatch batch, CancellationToken ct) =>
        await MoveOnAsync(await batch.ExecuteReaderAsync(ct), reader => reader.NextResultAsync(ct));

    /// <summary>
    /// Executes a batch that writes, finished once sent (<see cref="Rows.UntilSent"/>), and returns its reader on the
    /// first row of the first statement after the scope (<see cref="NpgsqlDataReader.IsOnRow"/> false when it answered none).
    /// </summary>
    public static async Task<NpgsqlDataReader> WriteAsync(this NpgsqlBatch batch, CancellationToken ct)
    {
        var sent = Rows.UntilSent(ct);
        return await MoveOnAsync(await batch.ReadAsync(sent), reader => reader.ReadAsync(sent));
    }

    // Moves a reader the caller has not got yet one step on, disposing it when the step fails (see ReadAsync).
    private static async Task<NpgsqlDataReader> MoveOnAsync(NpgsqlDataReader reader, Func<NpgsqlDataReader, Task> step)
    {
        try
        {
            await step(reader);
            return reader;
        }
        catch
        {
            await reader.DisposeAsync();
            throw;
        }
    }

    /// <summary>Scopes the current transaction of <paramref name="connection"/> to the tenant (for multi-step work).</summary>
    public static async Task ApplyAsync(NpgsqlConnection connection, long tenantId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(ScopeSql, connection);
        cmd.Parameters.Add(new NpgsqlParameter { Value = tenantId.ToString(CultureInfo.InvariantCulture) });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static NpgsqlBatchCommand Command(long tenantId)
    {
        var command = new NpgsqlBatchCommand(ScopeSql);
        command.Parameters.Add(new NpgsqlParameter { Value = tenantId.ToString(CultureInfo.InvariantCulture) });
        return command;
    }
}
