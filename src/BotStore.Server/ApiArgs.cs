using System.Globalization;
using BotStore.Data;
using BotStore.Enums;

namespace BotStore.Server;

/// <summary>
/// Route and query values, parsed by hand so a malformed one is a 400 that names the value and what it should be
/// (a route constraint would answer a bare 404).
/// </summary>
internal static class ApiArgs
{
    public static Guid Id(string value, string what) =>
        Guid.TryParseExact(value, "D", out var id) ? id : throw new BotStoreValidationException($"'{value}' is not a {what} id (a UUID)");

    public static Guid? OptionalId(string? value, string what) => string.IsNullOrEmpty(value) ? null : Id(value, what);

    public static T? OptionalEnum<T>(string? value) where T : struct, Enum =>
        string.IsNullOrEmpty(value) ? null : EnumCatalog.Parse<T>(value);

    public static int Limit(string? value, ServeOptions options)
    {
        int? requested = value is null ? null
            : int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n
            : throw new BotStoreValidationException($"limit must be a whole number (got '{value}')");
        return Cursor.Limit(requested, max: options.MaxPageSize);
    }

    public static T Required<T>(T? value, string name) where T : struct =>
        value ?? throw new BotStoreValidationException($"{name} is required");
}
