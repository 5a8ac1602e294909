using System.Text.Json;
using System.Text.Json.Serialization;

namespace BotStore.Internal;

/// <summary>Writes an operations enum as its snake_case name (<c>succeeded</c>, <c>reindex</c>), as the journal stores it, not as a number.</summary>
internal sealed class SnakeCaseEnumConverter<T>() : JsonStringEnumConverter<T>(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false)
    where T : struct, Enum;
