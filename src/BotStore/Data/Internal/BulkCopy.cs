using Npgsql;
using NpgsqlTypes;

namespace BotStore.Data.Internal;

/// <summary>
/// Bulk loads into tables with row-level security. PostgreSQL refuses COPY FROM into a table with RLS, so a batch is
/// copied (binary) into a temporary table, which has none and is dropped at commit, and then moved into the real
/// table by one INSERT ... SELECT that the policies check, all in one transaction scoped to the tenant.
/// </summary>
internal static class BulkCopy
{
    /// <summary>
    /// The temporary-table path of a bulk load: the table (<see cref="CreateSql"/>, dropped at commit), its binary
    /// COPY and how one row is written to it, and the statements that move the rows into the real table under the
    /// policy, each taking the tenant as $1; the last one answers how many rows it inserted.
    /// </summary>
    public sealed record TempTable<TRow>(string CreateSql, string CopySql, Func<NpgsqlBinaryImporter, TRow, CancellationToken, Task> Write,
        params string[] MoveSql);

    /// <summary>
    /// Loads one batch, the one way both bulk loads do: nothing for no rows; straight into the table by
    /// <paramref name="directCopy"/> when the login role may (<see cref="DirectCopy"/>); else through
    /// <paramref name="tempTable"/>: scope and table in one round trip, the COPY, the move, the commit.
    /// </summary>
    public static async Task<BulkResult> LoadAsync<TRow>(NpgsqlDataSource dataSource, long tenantId, IReadOnlyList<TRow> rows,
        Func<CancellationToken, Task<int>> directCopy, TempTable<TRow> tempTable, CancellationToken ct)
    {
        if (rows.Count == 0)
            return new BulkResult(0, 0);
        if ((await DirectCopy.RightsAsync(dataSource)).Copy)
            return new BulkResult(rows.Count, await directCopy(ct));
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var create = TenantScope.Batch(conn, tenantId).Add(tempTable.CreateSql))
            await create.ExecuteNonQueryAsync(ct);
        await CopyAsync(conn, tempTable.CopySql, rows, tempTable.Write, ct);
        int inserted;
        var move = TenantScope.Batch(conn, tenantId);
        foreach (var sql in tempTable.MoveSql)
            move.Add(sql, tenantId);
        await using (move)
        {
            await using var reader = await move.ReadAsync(ct);
            for (var i = 1; i < tempTable.MoveSql.Length; i++)
                await reader.NextResultAsync(ct);
            await reader.ReadAsync(ct);
            inserted = reader.GetInt32(0);
        }
        await tx.CommitAsync(ct);
        return new BulkResult(rows.Count, inserted);
    }

    /// <summary>Binary COPY of the rows through <paramref name="write"/>, which writes one row's columns.</summary>
    public static async Task CopyAsync<TRow>(NpgsqlConnection conn, string copySql, IReadOnlyList<TRow> rows,
        Func<NpgsqlBinaryImporter, TRow, CancellationToken, Task> write, CancellationToken ct)
    {
        await using var importer = await conn.BeginBinaryImportAsync(copySql, ct);
        foreach (var row in rows)
        {
            await importer.StartRowAsync(ct);
            await write(importer, row, ct);
        }
        await importer.CompleteAsync(ct);
    }

    /// <summary>Writes a column that may be null.</summary>
    public static Task WriteAsync<T>(this NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type, CancellationToken ct) where T : struct =>
        value is { } v ? importer.WriteAsync(v, type, ct) : importer.WriteNullAsync(ct);

    /// <summary>
    /// Loads a stream in batches of <paramref name="batchSize"/>, each checked by <paramref name="prepare"/> and loaded
    /// by <paramref name="load"/> (its own transaction). While one batch loads, the next is read from the stream and
    /// checked: on two cores that client work (about 100 ms per 100,000 messages, more when the stream is a request
    /// body being parsed) then overlaps the server's COPY instead of following it. The batches still commit one after
    /// another, in order, and a batch that fails stops the load as before: its failure is the one reported, even when
    /// the next batch, already read, was bad too (it would never have been reached).
    /// </summary>
    public static async Task<BulkResult> InBatchesAsync<T, TBatch>(IAsyncEnumerable<T> items, int batchSize, Func<IReadOnlyList<T>, TBatch> prepare,
        Func<TBatch, CancellationToken, Task<BulkResult>> load, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var total = new BulkResult(0, 0);
        var loading = Task.FromResult(total);
        try
        {
            await foreach (var chunk in items.Chunk(batchSize).WithCancellation(ct))
            {
                var batch = prepare(chunk);
                total += await loading;
                loading = load(batch, ct);
            }
            return total + await loading;
        }
        catch
        {
            // The stream or the next batch failed while a batch was loading: that batch ends first (committed, or its
            // own failure reported instead), so nothing is left running once the caller hears of the failure. When
            // the failure was that batch's own, awaiting it again rethrows it.
            await loading;
            throw;
        }
    }
}
