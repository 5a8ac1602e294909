using System.Text;
using BotStore.Data;

namespace BotStore.Server;

/// <summary>Checks of request values that the stores cannot make: ids in URLs and bodies, required fields, page sizes, sizes.</summary>
internal static class ApiInput
{
    /// <summary>An id from the URL or body; a malformed one is a 400 that names the field.</summary>
    public static Guid Id(string? value, string field) =>
        Guid.TryParse(value, out var id) ? id
            : throw new BotStoreValidationException(value is null ? $"{field} is required" : $"{field} '{value}' is not a valid id (a UUID)");

    /// <summary>An optional id.</summary>
    public static Guid? OptionalId(string? value, string field) => value is null ? null : Id(value, field);

    /// <summary>A required value.</summary>
    public static T Required<T>(T? value, string field) where T : struct =>
        value ?? throw new BotStoreValidationException($"{field} is required");

    /// <summary>A required text.</summary>
    public static string Required(string? value, string field) =>
        value ?? throw new BotStoreValidationException($"{field} is required");

    /// <summary>A page size within the server's maximum.</summary>
    public static int Limit(int? limit, ServeOptions options) => Cursor.Limit(limit, max: options.MaxPageSize);

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
