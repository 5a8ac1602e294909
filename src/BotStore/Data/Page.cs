using System.Buffers.Text;
using System.Text;

namespace BotStore.Data;

/// <summary>One keyset page of a list: the items and the opaque cursor of the next page (null on the last).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? Next);

/// <summary>Opaque keyset cursors: the sort key of the last row, base64url-encoded so clients treat it as a token.</summary>
public static class Cursor
{
    /// <summary>Encodes the parts of a sort key.</summary>
    public static string Encode(params string[] parts) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Join('|', parts)));

    /// <summary>Decodes a cursor into <paramref name="count"/> parts; a malformed one is a validation error.</summary>
    public static string[] Decode(string cursor, int count)
    {
        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor)).Split('|');
            if (parts.Length == count)
                return parts;
        }
        catch (FormatException)
        {
            // falls through to the error below
        }
        throw new BotStoreValidationException($"'{cursor}' is not a cursor this list gave out");
    }

    /// <summary>Checks a page size against the maximum.</summary>
    public static int Limit(int? requested, int defaultLimit = 50, int max = 200) => requested switch
    {
        null => defaultLimit,
        < 1 => throw new BotStoreValidationException($"limit must be at least 1 (got {requested})"),
        > 0 when requested > max => throw new BotStoreValidationException($"limit must be at most {max} (got {requested})"),
        _ => requested.Value,
    };
}
