using System.Globalization;
using Npgsql;

namespace BotStore.Data.Internal;

/// <summary>Reading scoped batches into records, and the parameters and cursor keys lists share (pages: <see cref="Paging"/>).</summary>
internal static class Rows
{
    /// <summary>The lower bound of a first page in time: no UUIDv7 (so no message or event) is older.</summary>
    public static readonly DateTimeOffset Epoch = DateTimeOffset.UnixEpoch;

    /// <summary>The upper bound of a first page in time.</summary>
    public static readonly DateTimeOffset Never = new(9999, 12, 31, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The largest UUID, the exclusive upper bound of a first page in descending id order.</summary>
    public static readonly Guid MaxId = Guid.AllBitsSet;

    /// <summary>Executes the batch (disposing it) and reads every row of the first statement after the scope.</summary>
    public static async Task<List<T>> ListAsync<T>(NpgsqlBatch batch, Func<NpgsqlDataReader, T> read, CancellationToken ct)
    {
        await using (batch)
        {
            await using var reader = await batch.ReadAsync(ct);
            var rows = new List<T>();
            while (await reader.ReadAsync(ct))
                rows.Add(read(reader));
            return rows;
        }
    }

    /// <summary>
    /// The token a write runs with: the caller's until the write is sent, none after. A caller that gave up before
    /// then gets <see cref="OperationCanceledException"/> and nothing is written; once sent, the write is finished
    /// (within the command timeout) and its connection goes back to the pool clean. A write is a few milliseconds and
    /// may have committed by the time a cancellation reaches the server, so stopping it buys the caller nothing, and a
    /// command cancelled in flight is where Npgsql 10.0.0 was seen (once in about 2,000 appends cancelled with 256 kB
    /// of metadata) to give its connection back to the pool with a row unread, failing the next request on it with
    /// "Received unexpected backend message DataRow". Reads keep the caller's token: they stop when it gives up.
    /// </summary>
    public static CancellationToken UntilSent(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return CancellationToken.None;
    }

    /// <summary>The one row the statement returns, or a not-found error naming <paramref name="what"/>.</summary>
    public static async Task<T> SingleAsync<T>(NpgsqlBatch batch, Func<NpgsqlDataReader, T> read, string what, CancellationToken ct) =>
        (await ListAsync(batch, read, ct)) is [var row] ? row : throw new BotStoreNotFoundException($"{what} not found");

    /// <summary>A nullable column.</summary>
    public static T? Nullable<T>(this NpgsqlDataReader reader, int ordinal) where T : struct =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<T>(ordinal);

    /// <summary>A nullable text column.</summary>
    public static string? NullableString(this NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>A timestamptz column.</summary>
    public static DateTimeOffset Time(this NpgsqlDataReader reader, int ordinal) => reader.GetFieldValue<DateTimeOffset>(ordinal);

    /// <summary>A cursor part for an instant (PostgreSQL keeps microseconds; ticks keep them exactly).</summary>
    public static string Key(DateTimeOffset value) => value.UtcTicks.ToString(CultureInfo.InvariantCulture);

    /// <summary>The instant of a cursor part.</summary>
    public static DateTimeOffset TimeKey(string part) =>
        long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
        && ticks >= Epoch.UtcTicks && ticks <= Never.UtcTicks // what a list gives out; and room for the hour either side a read adds
            ? new DateTimeOffset(ticks, TimeSpan.Zero)
            : throw new BotStoreValidationException("the cursor is not one this list gave out");

    /// <summary>The id of a cursor part.</summary>
    public static Guid IdKey(string part) =>
        Guid.TryParse(part, out var id) ? id : throw new BotStoreValidationException("the cursor is not one this list gave out");

    /// <summary>A cursor part for an id.</summary>
    public static string Key(Guid id) => id.ToString("N");

    /// <summary>Checks a non-empty text of at most <paramref name="max"/> characters and returns it trimmed.</summary>
    public static string Text(string? value, string field, int max)
    {
        var trimmed = TextValues.Check(value?.Trim(), field);
        return string.IsNullOrEmpty(trimmed) || trimmed.Length > max
            ? throw new BotStoreValidationException($"{field} must have 1 to {max} characters")
            : trimmed;
    }

    /// <summary>Checks that an enum value belongs to its domain (a cast from a number may not).</summary>
    public static short Value<T>(T value) where T : struct, Enum
    {
        var number = Convert.ToInt16(value, CultureInfo.InvariantCulture);
        return Enums.EnumCatalog.Of<T>().FromValue(number).Value;
    }
}
