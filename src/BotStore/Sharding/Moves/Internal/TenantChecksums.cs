using BotStore.Data;
using BotStore.Internal;
using Npgsql;

namespace BotStore.Sharding.Moves.Internal;

/// <summary>
/// Per table, the tenant's row count and the sum of a 64-bit hash of each row's text: equal on both sides when
/// both hold the same rows (order-free, so no sort). Both sides render rows with the same settings, so a time or
/// a float prints alike whatever the servers' defaults.
/// </summary>
internal static class TenantChecksums
{
    private const string Settings = """
        SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres';
        SET LOCAL extra_float_digits = 1; SET LOCAL bytea_output = 'hex'
        """;

    /// <summary>Counts and checksums of every tenant table, in <paramref name="conn"/>'s open transaction.</summary>
    public static async Task<IReadOnlyList<(string Table, long Rows, decimal Checksum)>> ComputeAsync(NpgsqlConnection conn, long tenantId, CancellationToken ct)
    {
        await using (var settings = new NpgsqlCommand(Settings, conn))
            await settings.ExecuteNonQueryAsync(ct);
        var result = new List<(string, long, decimal)>();
        foreach (var table in TenantEraser.Tables)
        {
            var column = table == "tenants" ? "id" : "tenant_id";
            await using var cmd = new NpgsqlCommand(
                $"SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)::numeric), 0) FROM {SqlText.Ident(table)} t WHERE {column} = $1", conn)
                { CommandTimeout = 0 }.With(tenantId);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            result.Add((table, reader.GetInt64(0), reader.GetDecimal(1)));
        }
        return result;
    }

    /// <summary>The same on a connection of its own, in a read-only transaction.</summary>
    public static async Task<IReadOnlyList<(string Table, long Rows, decimal Checksum)>> ComputeAsync(NpgsqlDataSource dataSource, long tenantId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var result = await ComputeAsync(conn, tenantId, ct);
        await tx.RollbackAsync(ct);
        return result;
    }

    /// <summary>Pairs both sides' figures per table.</summary>
    public static IReadOnlyList<TableCheck> Compare(IReadOnlyList<(string Table, long Rows, decimal Checksum)> source,
        IReadOnlyList<(string Table, long Rows, decimal Checksum)> target) =>
        source.Zip(target, (s, t) => new TableCheck(s.Table, s.Rows, t.Rows, s.Checksum, t.Checksum)).ToArray();
}
