using System.Globalization;
using System.Text;
using BotStore.Data;
using BotStore.Enums;

namespace BotStore.Server;

/// <summary>
/// The one place where request values the stores cannot check become 400s: ids in URLs, queries and bodies, required
/// fields, page sizes, enum names, sizes, client ids. Route and query values arrive as text and are parsed here, so
/// a malformed one answers a 400 naming the field (a route constraint would answer a bare 404, a typed parameter a
/// message naming the C# parameter), the same for the same mistake on every route.
/// </summary>
internal static class ApiInput
{
    /// <summary>An id from the URL, query or body; a malformed one is a 400 that names the field.</summary>
    public static Guid Id(string? value, string field) =>
        Guid.TryParse(value, out var id) ? id
            : throw new BotStoreValidationException(value is null ? $"{field} is required" : $"{field} '{value}' is not a valid id (a UUID)");

    /// <summary>An optional id (absent or empty: null).</summary>
    public static Guid? OptionalId(string? value, string field) => string.IsNullOrEmpty(value) ? null : Id(value, field);

    /// <summary>An optional enum value by its seed name (absent or empty: null).</summary>
    public static T? OptionalEnum<T>(string? value) where T : struct, Enum =>
        string.IsNullOrEmpty(value) ? null : EnumCatalog.ParseName<T>(value);

    /// <summary>A required value.</summary>
    public static T Required<T>(T? value, string field) where T : struct =>
        value ?? throw new BotStoreValidationException($"{field} is required");

    /// <summary>A required text.</summary>
    public static string Required(string? value, string field) =>
        value ?? throw new BotStoreValidationException($"{field} is required");

    /// <summary>A page size (<c>?limit=</c>) within the server's maximum.</summary>
    public static int Limit(string? value, ServeOptions options)
    {
        int? requested = string.IsNullOrEmpty(value) ? null
            : int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n
            : throw new BotStoreValidationException($"limit must be a whole number (got '{value}')");
        return Cursor.Limit(requested, max: options.MaxPageSize);
    }

    /// <summary>The most messages or events one batch request may carry.</summary>
    public const int MaxBatchItems = 10_000;

    /// <summary>
    /// The items of a batch body (present, not empty, at most <see cref="MaxBatchItems"/>, none null), each read by
    /// <paramref name="read"/>, which is given the item's own field name (<c>events[3]</c>) for its errors.
    /// </summary>
    public static List<T> Batch<TItem, T>(IReadOnlyList<TItem?>? items, string field, Func<TItem, string, T> read) where TItem : class
    {
        switch (items)
        {
            case null:
                throw new BotStoreValidationException($"{field} is required");
            case { Count: 0 }:
                throw new BotStoreValidationException($"{field} is empty");
            case { Count: > MaxBatchItems }:
                throw new BotStoreValidationException($"{field} has {items.Count} items; a batch carries at most {MaxBatchItems}");
        }
        var result = new List<T>(items.Count);
        for (var i = 0; i < items.Count; i++)
            result.Add(read(items[i] ?? throw new BotStoreValidationException($"{field}[{i}] is null"), $"{field}[{i}]"));
        return result;
    }

    /// <summary>Message content within <see cref="ServeOptions.MaxContentBytes"/>.</summary>
    public static string Content(string? content, ServeOptions options, string field = "content")
    {
        var text = Required(content, field);
        var bytes = Encoding.UTF8.GetByteCount(text);
        return bytes > options.MaxContentBytes
            ? throw new BotStoreValidationException($"{field} has {bytes} bytes of UTF-8; the limit is {options.MaxContentBytes}")
            : text;
    }

    /// <summary>
    /// A client's UUIDv7 id whose timestamp is no further than <see cref="ServeOptions.MaxClientClockSkew"/> ahead of now
    /// (and, unless <paramref name="pastAllowed"/>, behind it); returns whether it is within that window.
    /// </summary>
    public static (Guid Id, bool Recent) ClientId(string value, string field, ServeOptions options, TimeProvider clock, bool pastAllowed)
    {
        var id = Id(value, field);
        if (!Uuid7.IsVersion7(id))
            throw new BotStoreValidationException($"{field} {id} is not a UUIDv7 (version 7, RFC 9562): its timestamp becomes the created_at");
        var skew = Uuid7.Timestamp(id) - clock.GetUtcNow();
        if (skew > options.MaxClientClockSkew)
            throw new BotStoreValidationException($"{field} {id} carries a timestamp {skew.TotalMinutes:0.#} minutes in the future (at most {options.MaxClientClockSkew.TotalMinutes:0.#} allowed): check the client's clock");
        return (id, pastAllowed || -skew <= options.MaxClientClockSkew);
    }

    /// <summary>The error for a client id whose timestamp is too old for a live write.</summary>
    public static BotStoreValidationException TooOld(Guid id, string field, ServeOptions options, TimeProvider clock) =>
        new($"{field} {id} carries a timestamp {(clock.GetUtcNow() - Uuid7.Timestamp(id)).TotalMinutes:0.#} minutes in the past (at most {options.MaxClientClockSkew.TotalMinutes:0.#} allowed unless the id is already stored): check the client's clock, or use POST /v1/messages/batch for history");
}
