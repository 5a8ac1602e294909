using BotStore.Enums;
using Npgsql;

namespace BotStore.Data.Internal;

/// <summary>The message columns every message query returns, in this order, and the one reader of them.</summary>
internal static class MessageRows
{
    /// <summary>
    /// How much older than its session, or than the session's latest message, a message may be (SQL, see
    /// <see cref="MessageStore.MaxBackdating"/>). Reads rely on it to skip partitions.
    /// </summary>
    public const string Backdating = "interval '1 hour'";

    /// <summary>The columns, from a relation aliased m.</summary>
    public const string Columns = "m.id, m.session_id, m.message_index, m.created_at, m.role, m.message_type, m.is_read, m.content, m.metadata";

    /// <summary>Reads a message whose columns start at <paramref name="at"/>.</summary>
    public static Message Read(NpgsqlDataReader r, int at = 0) => new(
        r.GetGuid(at), r.GetGuid(at + 1), r.GetInt32(at + 2), r.Time(at + 3), (MessageRole)r.GetInt16(at + 4),
        (MessageType)r.GetInt16(at + 5), r.GetBoolean(at + 6), r.GetString(at + 7),
        JsonValues.Read(r, at + 8));
}
