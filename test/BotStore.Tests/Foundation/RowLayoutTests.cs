using BotStore.Tests.Infrastructure;
using Xunit.Abstractions;

namespace BotStore.Tests.Foundation;

/// <summary>The column order of every table wastes no alignment padding (the seed's "column ordering" rule).</summary>
public sealed class RowLayoutTests(TestDatabase db, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    /// <summary>
    /// pg_column_size(t.*) is the size of the row as a composite datum: a heap tuple, i.e. the 23-byte tuple header
    /// (HeapTupleHeaderData) rounded up to MAXALIGN (8) = 24 bytes when there is no null bitmap (no NULLs), followed
    /// by the column data with each value at its type's alignment. Short texts and jsonb (under 127 bytes) are
    /// stored with a 1-byte header and need no alignment, and pg_column_size of such a column read from the table
    /// counts that 1-byte header. So row size = 24 + sum of column sizes exactly when no padding byte is wasted.
    /// </summary>
    private const int TupleHeaderBytes = 24;

    public static TheoryData<string> Tables() =>
    [
        "tenants", "bots", "bot_channels", "users", "user_sessions", "message_history", "auto_tasks",
        "task_approvals", "bot_memories", "kb_documents", "analytics_events",
    ];

    [Theory]
    [MemberData(nameof(Tables))]
    public async Task A_typical_full_row_has_no_alignment_padding(string table)
    {
        var tenantId = await InsertFullRowsAsync();
        var columns = await ColumnsAsync(table);
        var sum = string.Join(" + ", columns.Select(c => $"pg_column_size(t.{c})"));
        var key = table == "tenants" ? "id" : "tenant_id";
        await using var cmd = db.DataSource.CreateCommand(
            $"SELECT t IS NOT NULL, pg_column_size(t.*), {sum} FROM {table} t WHERE t.{key} = $1");
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = tenantId });
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"no {table} row");
        var (noNulls, rowSize, columnSizes) = (reader.GetBoolean(0), reader.GetInt32(1), reader.GetInt32(2));
        output.WriteLine($"{table}: row {rowSize} bytes = {TupleHeaderBytes} header + {columnSizes} columns + {rowSize - TupleHeaderBytes - columnSizes} padding");

        Assert.True(noNulls, $"the sample {table} row has a NULL, so its size would include a null bitmap");
        Assert.Equal(TupleHeaderBytes + columnSizes, rowSize);
    }

    private async Task<List<string>> ColumnsAsync(string table)
    {
        await using var cmd = db.DataSource.CreateCommand(
            "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum");
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = table });
        await using var reader = await cmd.ExecuteReaderAsync();
        var columns = new List<string>();
        while (await reader.ReadAsync())
            columns.Add(reader.GetString(0));
        return columns;
    }

    /// <summary>One row in every table, every nullable column set, for a new tenant; returns the tenant's id.</summary>
    private async Task<long> InsertFullRowsAsync()
    {
        var c = await SampleRows.CreateConversationAsync(db);
        await SampleRows.InsertMessageAsync(db, c, DateTimeOffset.UtcNow);
        var (taskId, eventId) = (Uuid7.New(), Uuid7.New());
        await db.ExecuteAsync("""
            INSERT INTO bot_channels (tenant_id, id, bot_id, channel, is_active, config) VALUES ($1, $2, $3, 1, true, '{"token": "x"}')
            """, c.TenantId, Uuid7.New(), c.BotId);
        await db.ExecuteAsync("""
            INSERT INTO auto_tasks (tenant_id, started_at, finished_at, id, bot_id, session_id, status, priority, execution_mode,
                                    intent_type, risk_level, progress, title, error, payload)
            VALUES ($1, now(), now(), $2, $3, $4, 6, 2, 1, 4, 2, 40, 'Send report', 'timeout', '{"to": "ops"}')
            """, c.TenantId, taskId, c.BotId, c.SessionId);
        await db.ExecuteAsync("""
            INSERT INTO task_approvals (tenant_id, expires_at, decided_at, id, task_id, status, risk_level, step, reason, decided_by)
            VALUES ($1, now() + interval '1 day', now(), $2, $3, 1, 2, 'send mail', 'ok', 'ada')
            """, c.TenantId, Uuid7.New(), taskId);
        await db.ExecuteAsync("""
            INSERT INTO bot_memories (tenant_id, expires_at, id, bot_id, user_id, memory_type, key, value)
            VALUES ($1, now() + interval '1 day', $2, $3, $4, 1, 'favourite_colour', '"blue"')
            """, c.TenantId, Uuid7.New(), c.BotId, c.UserId);
        await db.ExecuteAsync("""
            INSERT INTO kb_documents (tenant_id, synced_at, size_bytes, id, bot_id, sync_status, path, content_hash, error)
            VALUES ($1, now(), 1234, $2, $3, 0, 'docs/faq.md', 'sha256:ab12', 'none')
            """, c.TenantId, Uuid7.New(), c.BotId);
        await db.ExecuteAsync("""
            INSERT INTO analytics_events (tenant_id, created_at, id, bot_id, user_id, session_id, channel, name, properties)
            VALUES ($1, $2, $3, $4, $5, $6, 0, 'session_started', '{"source": "web"}')
            """, c.TenantId, Uuid7.Timestamp(eventId), eventId, c.BotId, c.UserId, c.SessionId);
        return c.TenantId;
    }
}
