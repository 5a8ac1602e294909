using System.Text.Json;
using BotStore.Internal;
using Npgsql;

namespace BotStore.Tooling.Conversion.Internal;

/// <summary>A conversion under way, as the target database records it.</summary>
internal sealed record ConversionState(ConversionSpec Spec, string Step);

/// <summary>
/// The conversions' state in the target database itself (schema <c>botstore_convert</c>, created by the first
/// <c>apply</c> and dropped when the last conversion finishes or rolls back), written in the same transactions as
/// the changes it describes: whatever a killed run left, the state says it exactly.
/// </summary>
internal static class StateStore
{
    public static async Task EnsureSchemaAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            CREATE SCHEMA IF NOT EXISTS botstore_convert;
            COMMENT ON SCHEMA botstore_convert IS 'botstore convert: state of text-to-SMALLINT conversions under way; dropped when none is left';
            CREATE TABLE IF NOT EXISTS botstore_convert.conversions (
                table_oid  oid PRIMARY KEY,
                table_name text NOT NULL,
                spec       jsonb NOT NULL,
                step       text NOT NULL,
                started_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now());
            CREATE TABLE IF NOT EXISTS botstore_convert.backfill (
                table_oid  oid NOT NULL REFERENCES botstore_convert.conversions ON DELETE CASCADE,
                leaf       text NOT NULL,
                watermark  text[],
                rows       bigint NOT NULL DEFAULT 0,
                done       boolean NOT NULL DEFAULT false,
                PRIMARY KEY (table_oid, leaf));
            """, conn);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public static async Task InsertAsync(NpgsqlConnection conn, ConversionSpec spec, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            WITH c AS (INSERT INTO botstore_convert.conversions (table_oid, table_name, spec, step) VALUES ($1, $2, $3::jsonb, $4) RETURNING table_oid)
            INSERT INTO botstore_convert.backfill (table_oid, leaf) SELECT c.table_oid, unnest($5::text[]) FROM c
            """, conn);
        cmd.Parameters.Add(SqlText.Oid(spec.Oid));
        cmd.Parameters.Add(new NpgsqlParameter { Value = spec.QualifiedName });
        cmd.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(spec) });
        cmd.Parameters.Add(new NpgsqlParameter { Value = ConversionSteps.Added });
        cmd.Parameters.Add(new NpgsqlParameter { Value = spec.Leaves });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public static async Task<ConversionState?> LoadAsync(NpgsqlConnection conn, uint table, CancellationToken ct)
    {
        if (!await ExistsAsync(conn, ct))
            return null;
        await using var cmd = new NpgsqlCommand("SELECT spec::text, step FROM botstore_convert.conversions WHERE table_oid = $1", conn);
        cmd.Parameters.Add(SqlText.Oid(table));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
            return null;
        return new ConversionState(JsonSerializer.Deserialize<ConversionSpec>(reader.GetString(0))!, reader.GetString(1));
    }

    public static async Task SetStepAsync(NpgsqlConnection conn, uint table, string step, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("UPDATE botstore_convert.conversions SET step = $2, updated_at = now() WHERE table_oid = $1", conn);
        cmd.Parameters.Add(SqlText.Oid(table));
        cmd.Parameters.Add(new NpgsqlParameter { Value = step });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Forgets the conversion, and the schema with it when it was the last one.</summary>
    public static async Task DeleteAsync(NpgsqlConnection conn, uint table, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            WITH gone AS (DELETE FROM botstore_convert.conversions WHERE table_oid = $1 RETURNING table_oid)
            SELECT NOT EXISTS (SELECT 1 FROM botstore_convert.conversions WHERE table_oid NOT IN (SELECT table_oid FROM gone))
            """, conn);
        cmd.Parameters.Add(SqlText.Oid(table));
        if (await cmd.ExecuteScalarAsync(ct) is true)
        {
            await using var drop = new NpgsqlCommand("DROP SCHEMA botstore_convert CASCADE", conn);
            await drop.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>The backfill position of each leaf: last key done, rows done, whether the leaf is complete.</summary>
    public static async Task<List<(string Leaf, string[]? Watermark, long Rows, bool Done)>> BackfillAsync(NpgsqlConnection conn, uint table, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT leaf, watermark, rows, done FROM botstore_convert.backfill WHERE table_oid = $1 ORDER BY leaf", conn);
        cmd.Parameters.Add(SqlText.Oid(table));
        var result = new List<(string, string[]?, long, bool)>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            result.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<string[]>(1), reader.GetInt64(2), reader.GetBoolean(3)));
        return result;
    }

    private static async Task<bool> ExistsAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT to_regclass('botstore_convert.conversions') IS NOT NULL", conn);
        return await cmd.ExecuteScalarAsync(ct) is true;
    }
}
