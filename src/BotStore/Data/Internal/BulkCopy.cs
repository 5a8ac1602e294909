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
    /// Runs one batch: scope and <paramref name="createSql"/> (the temporary table) in one round trip, the COPY,
    /// then <paramref name="finish"/>, which moves the rows, and the commit.
    /// </summary>
    public static async Task<T> RunAsync<TRow, T>(NpgsqlDataSource dataSource, long tenantId, string createSql, string copySql,
        IReadOnlyList<TRow> rows, Func<NpgsqlBinaryImporter, TRow, CancellationToken, Task> write,
        Func<NpgsqlConnection, CancellationToken, Task<T>> finish, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var batch = TenantScope.Batch(conn, tenantId).Add(createSql))
            await batch.ExecuteNonQueryAsync(ct);
        await CopyAsync(conn, copySql, rows, write, ct);
        var result = await finish(conn, ct);
        await tx.CommitAsync(ct);
        return result;
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

    /// <summary>Loads a stream in batches of <paramref name="batchSize"/>, each through <paramref name="load"/> (its own transaction).</summary>
    public static async Task<BulkResult> InBatchesAsync<T>(IAsyncEnumerable<T> items, int batchSize,
        Func<IReadOnlyList<T>, CancellationToken, Task<BulkResult>> load, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var total = new BulkResult(0, 0);
        await foreach (var chunk in items.Chunk(batchSize).WithCancellation(ct))
            total += await load(chunk, ct);
        return total;
    }
}
