using BotStore.Internal;
using Npgsql;

namespace BotStore.Maintenance.Internal;

/// <summary>A table or index in BotStore's schema, as a <c>--table</c> argument names it.</summary>
/// <param name="Oid">Its oid.</param>
/// <param name="Name">Its name.</param>
/// <param name="Kind">pg_class.relkind: r table, p partitioned table, i index, I partitioned index, m materialized view.</param>
/// <param name="Parent">The partitioned table it is a partition of.</param>
internal sealed record Relation(uint Oid, string Name, char Kind, string? Parent)
{
    public bool IsTable => Kind is 'r' or 'p' or 'm';

    public bool IsIndex => Kind is 'i' or 'I';

    /// <summary>The relation named <paramref name="name"/> in the current schema, or null.</summary>
    public static async Task<Relation?> FindAsync(NpgsqlConnection conn, string name, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT c.oid, c.relname, c.relkind,
                   (SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE i.inhrelid = c.oid AND c.relispartition)
            FROM pg_class c
            WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace
            """, conn).With(name);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
            return null;
        return new Relation(reader.GetFieldValue<uint>(0), reader.GetString(1), reader.GetChar(2), reader.IsDBNull(3) ? null : reader.GetString(3));
    }

    /// <summary>The table named <paramref name="name"/>; a clear validation error when there is none.</summary>
    public static async Task<Relation> TableAsync(NpgsqlConnection conn, string name, CancellationToken ct) =>
        await FindAsync(conn, name, ct) is { IsTable: true } table
            ? table
            : throw new BotStoreValidationException($"no table named '{name}' in schema {await SchemaAsync(conn, ct)}");

    private static async Task<string> SchemaAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT current_schema()", conn);
        return (string)(await cmd.ExecuteScalarAsync(ct))!;
    }
}
