using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace BotStore.Data.Internal;

/// <summary>JSONB in and out as text, so any JSON value (objects, arrays, strings, numbers, null) round-trips unchanged.</summary>
internal static class JsonValues
{
    public static NpgsqlParameter Parameter(JsonElement? value) => new()
    {
        NpgsqlDbType = NpgsqlDbType.Jsonb,
        Value = value is { } v ? v.GetRawText() : DBNull.Value,
    };

    public static JsonElement? Read(NpgsqlDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
            return null;
        using var doc = JsonDocument.Parse(reader.GetString(ordinal));
        return doc.RootElement.Clone();
    }
}
