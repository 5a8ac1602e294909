using System.Text.Json;
using System.Text.Json.Serialization;
using BotStore.Enums;

namespace BotStore.Server;

/// <summary>
/// Writes BotStore enums as the seed's snake_case names (never numbers) and reads them back through the catalog, so
/// an unknown name fails with the catalog's own message (domain and allowed names) rather than a generic JSON error.
/// </summary>
internal sealed class EnumJsonConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => EnumCatalog.Contains(typeToConvert);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert))!;

    private sealed class Converter<T> : JsonConverter<T> where T : struct, Enum
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.String)
                throw new BotStoreValidationException($"a {EnumCatalog.Of<T>().Name} is a string, one of: {EnumCatalog.Of<T>().AllowedNames}");
            return EnumCatalog.ParseName<T>(reader.GetString()!);
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            writer.WriteStringValue(EnumCatalog.NameOf(value));
    }
}
