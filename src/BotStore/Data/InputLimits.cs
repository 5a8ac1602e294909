namespace BotStore.Data;

/// <summary>
/// The limits every store checks before it writes, so that whatever is accepted can always be read back: the same
/// constants bound the writers and the readers. Text and JSON that PostgreSQL cannot store (a NUL character,
/// U+0000, or half of a surrogate pair) are refused as well; see docs/api.md, "Limits".
/// </summary>
public static class InputLimits
{
    /// <summary>
    /// The deepest JSON value (task payload, message metadata, memory value, event properties) accepted and read
    /// back: this many nested objects or arrays (a scalar has depth 0, <c>{}</c> depth 1). It leaves room under
    /// System.Text.Json's default of 64 for the envelopes the API wraps around stored values.
    /// </summary>
    public const int MaxJsonDepth = 32;
}
