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

    /// <summary>
    /// The longest knowledge-base document path, in bytes of UTF-8. The path is part of the unique key
    /// (tenant_id, bot_id, path), and a B-tree index row holds at most about 2,700 bytes.
    /// </summary>
    public const int MaxDocumentPathBytes = 1024;

    /// <summary>
    /// The largest explicit message_index a bulk import may give. Appends continue after the highest index, so
    /// leaving room below <see cref="int.MaxValue"/> keeps a session open for more than a billion later messages.
    /// </summary>
    public const int MaxMessageIndex = 999_999_999;

    /// <summary>
    /// The largest JSON value (as its JSON text, in bytes of UTF-8) a task payload, message metadata, memory value or
    /// event property set may be; beyond it the API answers 413. A request body as a whole is bounded by the
    /// server's <c>MaxRequestBytes</c> (16 MiB by default, for batches).
    /// </summary>
    public const int MaxJsonBytes = 256 * 1024;
}
