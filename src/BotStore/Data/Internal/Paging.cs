using Npgsql;

namespace BotStore.Data.Internal;

/// <summary>
/// The one paging helper of keyset lists: cutting a page from take + 1 rows, reading a page behind an existence
/// check, and parsing cursors. Every store's list goes through <see cref="Page{T}"/>.
/// </summary>
internal static class Paging
{
    /// <summary>
    /// Executes a batch whose first statement answers whether the list's parent (a bot, a task) exists and whose
    /// second returns up to <paramref name="take"/> + 1 rows; the extra row only tells that there is a next page.
    /// </summary>
    public static async Task<Page<T>> ReadPageAsync<T>(NpgsqlBatch batch, int take, Func<NpgsqlDataReader, T> read, Func<T, string> cursor,
        Func<BotStoreNotFoundException> notFound, CancellationToken ct)
    {
        await using var reader = await batch.ReadAsync(ct);
        await reader.ReadAsync(ct);
        if (!reader.GetBoolean(0))
            throw notFound();
        await reader.NextResultAsync(ct);
        var items = new List<T>();
        while (await reader.ReadAsync(ct))
            items.Add(read(reader));
        return Page(items, take, cursor);
    }

    /// <summary>A page from up to <paramref name="take"/> + 1 rows: the extra row only says that there is a next page.</summary>
    public static Page<T> Page<T>(List<T> rows, int take, Func<T, string> cursorOf) =>
        rows.Count > take ? new Page<T>(rows[..take], cursorOf(rows[take - 1])) : new Page<T>(rows, null);

    /// <summary>Parses a cursor of <paramref name="parts"/> parts; anything that does not parse is a validation error.</summary>
    public static T? ParseCursor<T>(string? after, int parts, Func<string[], T> parse) where T : struct
    {
        if (after is null)
            return null;
        var values = Cursor.Decode(after, parts);
        try
        {
            return parse(values);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException)
        {
            throw new BotStoreValidationException($"'{after}' is not a cursor this list gave out");
        }
    }

    /// <summary>A cursor that is one piece of text (see <see cref="Text(string)"/>), or null without one.</summary>
    public static string? ParseTextCursor(string? after) => ParseCursor(after, 1, p => new TextKey(FromText(p[0])))?.Text;

    /// <summary>Text of any characters as one cursor part (parts are joined with '|').</summary>
    public static string Text(string value) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(value));

    /// <summary>The inverse of <see cref="Text(string)"/>.</summary>
    public static string FromText(string part) => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(part));

    private readonly record struct TextKey(string Text);
}
