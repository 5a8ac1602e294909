using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace BotStore.Data.Internal;

/// <summary>
/// JSONB in and out as text, so any JSON value (objects, arrays, strings, numbers, null) round-trips unchanged.
/// Every value is checked on its way in (<see cref="Check"/>) against the limit its reader uses on the way out.
/// </summary>
internal static class JsonValues
{
    private static readonly JsonDocumentOptions ReadOptions = new() { MaxDepth = InputLimits.MaxJsonDepth };

    /// <summary>A jsonb parameter for a value that passed <see cref="Check"/> under the name <paramref name="field"/>.</summary>
    public static NpgsqlParameter Parameter(JsonElement? value, string field) => new()
    {
        NpgsqlDbType = NpgsqlDbType.Jsonb,
        Value = Check(value, field) is { } v ? v.GetRawText() : DBNull.Value,
    };

    public static JsonElement? Read(NpgsqlDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
            return null;
        using var doc = JsonDocument.Parse(reader.GetString(ordinal), ReadOptions);
        return doc.RootElement.Clone();
    }

    /// <summary>
    /// Returns <paramref name="value"/> when it can be stored and read back: at most <see cref="InputLimits.MaxJsonDepth"/>
    /// deep, and no string or property name with a NUL or half a surrogate pair (jsonb refuses both).
    /// </summary>
    public static JsonElement? Check(JsonElement? value, string field)
    {
        if (value is not { } v)
            return value;
        // The raw text is what is sent; its length in UTF-16 bounds its UTF-8 bytes from below, so count only when near.
        var raw = v.GetRawText();
        if (raw.Length > InputLimits.MaxJsonBytes / 3 && System.Text.Encoding.UTF8.GetByteCount(raw) is var bytes && bytes > InputLimits.MaxJsonBytes)
            throw new BotStoreTooLargeException($"{field} has {bytes} bytes of JSON; the limit is {InputLimits.MaxJsonBytes}");
        Walk(v, field, 0);
        return value;
    }

    private static void Walk(JsonElement e, string field, int depth)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                Enter(field, ++depth);
                foreach (var p in e.EnumerateObject())
                {
                    TextValues.Check(Unescaped(() => p.Name, field), field);
                    Walk(p.Value, field, depth);
                }
                break;
            case JsonValueKind.Array:
                Enter(field, ++depth);
                foreach (var item in e.EnumerateArray())
                    Walk(item, field, depth);
                break;
            case JsonValueKind.String:
                TextValues.Check(Unescaped(e.GetString, field), field);
                break;
        }
    }

    private static void Enter(string field, int depth)
    {
        if (depth > InputLimits.MaxJsonDepth)
            throw new BotStoreValidationException($"{field} is nested more than {InputLimits.MaxJsonDepth} levels deep (objects and arrays); the limit is {InputLimits.MaxJsonDepth}");
    }

    // System.Text.Json refuses to unescape "\ud800" alone: that is half a surrogate pair.
    private static string? Unescaped(Func<string?> read, string field)
    {
        try
        {
            return read();
        }
        catch (InvalidOperationException)
        {
            throw TextValues.LoneSurrogate(field);
        }
    }
}
