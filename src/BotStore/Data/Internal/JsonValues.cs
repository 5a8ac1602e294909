using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace BotStore.Data.Internal;

/// <summary>
/// JSONB in as text and out as a parsed element, so any JSON value (objects, arrays, strings, numbers, null)
/// round-trips unchanged. Every value is checked on its way in (<see cref="Text"/>) against
/// <see cref="InputLimits.MaxJsonDepth"/>, well under the 64 levels System.Text.Json reads back.
/// </summary>
internal static class JsonValues
{
    /// <summary>A jsonb parameter for <paramref name="value"/>, checked (see <see cref="Text"/>) under the name <paramref name="field"/>.</summary>
    public static NpgsqlParameter Parameter(JsonElement? value, string field) => Parameter(Text(value, field));

    /// <summary>A jsonb parameter for JSON text that <see cref="Text"/> returned.</summary>
    public static NpgsqlParameter Parameter(string? checkedText) => new()
    {
        NpgsqlDbType = NpgsqlDbType.Jsonb,
        Value = checkedText is null ? DBNull.Value : checkedText,
    };

    /// <summary>
    /// A jsonb column as a <see cref="JsonElement"/>, parsed from the UTF-8 bytes PostgreSQL sent. Read as a string,
    /// it was decoded to UTF-16 and encoded back to parse; read as a JsonElement, Npgsql hands the value to
    /// System.Text.Json's stream deserializer (a stream, a rented buffer and the serializer's state per value): with
    /// about 70 bytes of metadata on every other message, that was 9% of a history page's client CPU (perf).
    /// </summary>
    public static JsonElement? Read(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : JsonElement.Parse(reader.GetFieldValue<byte[]>(ordinal));

    /// <summary>
    /// The JSON text of <paramref name="value"/> (null for none) when it can be stored and read back: at most
    /// <see cref="InputLimits.MaxJsonDepth"/> deep, and no string or property name with a NUL or half a surrogate
    /// pair (jsonb refuses both).
    /// </summary>
    public static string? Text(JsonElement? value, string field)
    {
        if (value is not { } v)
            return null;
        // The raw text is what is sent; its length in UTF-16 bounds its UTF-8 bytes from below, so count only when near.
        var raw = v.GetRawText();
        if (raw.Length > InputLimits.MaxJsonBytes / 3 && System.Text.Encoding.UTF8.GetByteCount(raw) is var bytes && bytes > InputLimits.MaxJsonBytes)
            throw new BotStoreTooLargeException($"{field} has {bytes} bytes of JSON; the limit is {InputLimits.MaxJsonBytes}");
        // A NUL or a lone surrogate can only be written in JSON as a \u escape (a raw control character is not JSON,
        // and parsed UTF-8 holds no lone surrogate): without one, only the depth needs a look. Bulk loads of
        // thousands of rows per batch feel the difference.
        Walk(v, field, 0, strings: raw.Contains("\\u", StringComparison.Ordinal));
        return raw;
    }

    private static void Walk(JsonElement e, string field, int depth, bool strings)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                Enter(field, ++depth);
                foreach (var p in e.EnumerateObject())
                {
                    if (strings)
                        TextValues.Check(Unescaped(() => p.Name, field), field);
                    Walk(p.Value, field, depth, strings);
                }
                break;
            case JsonValueKind.Array:
                Enter(field, ++depth);
                foreach (var item in e.EnumerateArray())
                    Walk(item, field, depth, strings);
                break;
            case JsonValueKind.String when strings:
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
