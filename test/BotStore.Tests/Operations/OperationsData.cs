using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Operations;

/// <summary>Messages and events for operations tests, in given months, with the created_at = uuid7_time(id) the schema checks.</summary>
internal static class OperationsData
{
    /// <summary>The first instant of the UTC month <paramref name="offset"/> months from the current one.</summary>
    public static DateTimeOffset Month(int offset)
    {
        var now = DateTimeOffset.UtcNow;
        return new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(offset);
    }

    /// <summary>The partition name of <paramref name="table"/> for the month <paramref name="offset"/> months away.</summary>
    public static string Partition(string table, int offset) => $"{table}_{Month(offset):yyyy_MM}";

    /// <summary>Inserts <paramref name="count"/> messages created in the month <paramref name="offset"/> months away; returns their ids.</summary>
    public static async Task<Guid[]> MessagesAsync(NpgsqlDataSource ds, SampleConversation session, int offset, int count, bool shuffledIndexes = false)
    {
        var start = Month(offset);
        var ids = Enumerable.Range(0, count).Select(i => Uuid7.At(start.AddMinutes(7 * i + 1))).ToArray();
        var indexes = Enumerable.Range(0, count).ToArray();
        if (shuffledIndexes)
            Random.Shared.Shuffle(indexes);
        await using var cmd = ds.CreateCommand("""
            INSERT INTO message_history (tenant_id, created_at, id, session_id, user_id, message_index, role, content)
            SELECT $1, uuid7_time(m.id), m.id, $2, $3, m.ix, 1, 'message ' || m.ix
            FROM unnest($4::uuid[], $5::int[]) AS m (id, ix)
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = session.TenantId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = session.SessionId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = session.UserId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = ids });
        cmd.Parameters.Add(new NpgsqlParameter { Value = indexes });
        await cmd.ExecuteNonQueryAsync();
        return ids;
    }

    /// <summary>Inserts <paramref name="count"/> analytics events of the month <paramref name="offset"/> months away; returns their ids.</summary>
    public static async Task<Guid[]> EventsAsync(NpgsqlDataSource ds, int offset, int count)
    {
        var start = Month(offset);
        var ids = Enumerable.Range(0, count).Select(i => Uuid7.At(start.AddHours(i + 1))).ToArray();
        await using var cmd = ds.CreateCommand("""
            INSERT INTO analytics_events (tenant_id, created_at, id, channel, name)
            SELECT 1, uuid7_time(id), id, 0, 'test_event' FROM unnest($1::uuid[]) AS id
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = ids });
        await cmd.ExecuteNonQueryAsync();
        return ids;
    }

    /// <summary>Whether a relation exists, and whether it is a partition.</summary>
    public static async Task<(bool Exists, bool IsPartition)> RelationAsync(NpgsqlDataSource ds, string name)
    {
        await using var cmd = ds.CreateCommand("SELECT relispartition FROM pg_class WHERE relname = $1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = name });
        return await cmd.ExecuteScalarAsync() is bool partition ? (true, partition) : (false, false);
    }

    /// <summary>Waits until <paramref name="condition"/> holds (statistics reach shared memory asynchronously); false after the timeout.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, int seconds = 30)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < until)
        {
            if (await condition())
                return true;
            await Task.Delay(200);
        }
        return await condition();
    }
}
