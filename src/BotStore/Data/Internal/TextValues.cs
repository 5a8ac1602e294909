namespace BotStore.Data.Internal;

/// <summary>
/// Text that PostgreSQL can store: no NUL (U+0000, refused in text and jsonb alike) and no half of a surrogate pair
/// (not encodable as UTF-8). Every statement parameter passes here (<see cref="TenantScope.Add"/>), and bulk rows
/// before their COPY, so such text is a 400 naming the field rather than a database error.
/// </summary>
internal static class TextValues
{
    /// <summary>Whether PostgreSQL can store <paramref name="value"/> as it is (no NUL, no surrogate at all): the common case, checked without naming a field.</summary>
    public static bool Storable([System.Diagnostics.CodeAnalysis.NotNullWhen(false)] string? value) =>
        value is null || value.AsSpan().IndexOfAnyInRange('\0', '\0') < 0 && value.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0;

    /// <summary>Returns <paramref name="value"/>, or throws naming <paramref name="field"/> when PostgreSQL could not store it.</summary>
    public static string? Check(string? value, string field)
    {
        if (Storable(value))
            return value;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\0')
                throw new BotStoreValidationException($"{field} contains a NUL character (\\u0000), which cannot be stored");
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                i++;
            else if (char.IsSurrogate(c))
                throw LoneSurrogate(field);
        }
        return value;
    }

    public static BotStoreValidationException LoneSurrogate(string field) =>
        new($"{field} contains half of a UTF-16 surrogate pair (a lone \\ud800-\\udfff), which is not valid Unicode text");
}
