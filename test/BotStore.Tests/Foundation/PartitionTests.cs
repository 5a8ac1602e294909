using System.Globalization;
using BotStore.Partitions;
using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Foundation;

/// <summary>Monthly range partitioning of message_history and analytics_events, and the UUIDv7 created_at rule.</summary>
public sealed class PartitionTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Theory]
    [InlineData("message_history")]
    [InlineData("analytics_events")]
    public async Task The_table_is_range_partitioned_by_created_at_with_a_default_partition(string table)
    {
        Assert.Equal("RANGE (created_at)", await db.ScalarAsync<string>("SELECT pg_get_partkeydef($1::regclass)", table));
        Assert.Equal("PRIMARY KEY (tenant_id, id, created_at)", await db.ScalarAsync<string>(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'", table));
        Assert.Equal(table + "_default", await db.ScalarAsync<string>(
            "SELECT partdefid::regclass::text FROM pg_partitioned_table WHERE partrelid = $1::regclass", table));
    }

    [Fact]
    public async Task Every_message_history_partition_counts_its_sessions_as_a_share_of_its_rows_including_later_ones()
    {
        // Migration 0030: column options are per table, so each partition needs its own copy of the parent's.
        await db.ExecuteAsync("SELECT botstore_create_partition($1, $2)", "message_history", new DateOnly(2032, 2, 1));
        var options = new Dictionary<string, string>();
        await using (var cmd = db.DataSource.CreateCommand("""
            SELECT c.relname, coalesce(array_to_string(a.attoptions, ','), '') FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'session_id'
            WHERE i.inhparent = 'message_history'::regclass
            """))
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                options[reader.GetString(0)] = reader.GetString(1);
        }
        Assert.Contains("message_history_2032_02", options.Keys);
        Assert.Contains("message_history_default", options.Keys);
        Assert.All(options, o => Assert.True(o.Value == "n_distinct=-0.05", $"{o.Key}: session_id options '{o.Value}'"));
        Assert.Equal("n_distinct=-0.05,n_distinct_inherited=-0.05", await db.ScalarAsync<string>(
            "SELECT array_to_string(attoptions, ',') FROM pg_attribute WHERE attrelid = 'message_history'::regclass AND attname = 'session_id'"));
    }

    [Theory]
    [InlineData("message_history")]
    [InlineData("analytics_events")]
    public async Task Migrate_made_the_current_utc_month_and_the_next_three(string table)
    {
        var partitions = (await PartitionInfo.ListAsync(db.DataSource)).Where(p => p.Parent == table).ToList();
        var now = DateTimeOffset.UtcNow;
        var thisMonth = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        for (var m = 0; m <= 3; m++)
        {
            var from = thisMonth.AddMonths(m);
            var name = $"{table}_{from.ToString("yyyy_MM", CultureInfo.InvariantCulture)}";
            var partition = Assert.Single(partitions, p => p.Name == name);
            Assert.Equal((from, from.AddMonths(1)), (partition.From!.Value, partition.To!.Value));
        }
        Assert.Single(partitions, p => p.IsDefault && p.Name == table + "_default");
    }

    [Fact]
    public async Task A_row_of_a_month_without_partition_waits_in_the_default_and_moves_when_the_month_is_made()
    {
        var c = await SampleRows.CreateConversationAsync(db);
        var id = await SampleRows.InsertMessageAsync(db, c, new DateTimeOffset(2020, 3, 15, 10, 30, 0, TimeSpan.Zero));
        Assert.Equal("message_history_default", await PartitionOfAsync(id));
        var total = await db.ScalarAsync<long>("SELECT count(*) FROM message_history");

        await db.ExecuteAsync("SELECT create_monthly_partition($1, $2)", "message_history", new DateOnly(2020, 3, 15));

        Assert.Equal("message_history_2020_03", await PartitionOfAsync(id));
        Assert.Equal(0, await db.ScalarAsync<long>("SELECT count(*) FROM message_history_default"));
        Assert.Equal(1, await db.ScalarAsync<long>("SELECT count(*) FROM message_history_2020_03"));
        Assert.Equal(total, await db.ScalarAsync<long>("SELECT count(*) FROM message_history"));
        var partition = Assert.Single(await PartitionInfo.ListAsync(db.DataSource), p => p.Name == "message_history_2020_03");
        Assert.Equal((new DateTimeOffset(2020, 3, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2020, 4, 1, 0, 0, 0, TimeSpan.Zero)),
            (partition.From!.Value, partition.To!.Value));

        // Again, for any day of that month: nothing to do.
        var before = (await PartitionInfo.ListAsync(db.DataSource)).Select(p => p.Name).ToList();
        await db.ExecuteAsync("SELECT create_monthly_partition($1, $2)", "message_history", new DateOnly(2020, 3, 15));
        Assert.True(await db.ScalarAsync<bool>("SELECT botstore_create_partition($1, $2) IS NULL", "message_history", new DateOnly(2020, 3, 31)));
        Assert.Equal(before, (await PartitionInfo.ListAsync(db.DataSource)).Select(p => p.Name));
        Assert.Equal("message_history_2020_03", await PartitionOfAsync(id));
        Assert.Equal(total, await db.ScalarAsync<long>("SELECT count(*) FROM message_history"));
    }

    [Fact]
    public async Task A_message_whose_created_at_is_not_its_ids_timestamp_is_refused()
    {
        var c = await SampleRows.CreateConversationAsync(db);
        var id = Uuid7.New();
        var ex = await Assert.ThrowsAsync<PostgresException>(() => db.ExecuteAsync("""
            INSERT INTO message_history (tenant_id, created_at, id, session_id, user_id, message_index, role, content)
            VALUES ($1, $2, $3, $4, $5, 0, 1, 'hi')
            """, c.TenantId, Uuid7.Timestamp(id).AddMilliseconds(1), id, c.SessionId, c.UserId));
        Assert.Equal(PostgresErrorCodes.CheckViolation, ex.SqlState);
        Assert.Equal("ck_message_history_created_at", ex.ConstraintName);
    }

    [Fact]
    public async Task Sql_uuid7_time_agrees_with_csharp_for_ids_across_a_century()
    {
        var from = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var to = new DateTimeOffset(2100, 12, 31, 23, 59, 59, 999, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var instants = Enumerable.Range(0, 1000).Select(_ => DateTimeOffset.FromUnixTimeMilliseconds(Random.Shared.NextInt64(from, to + 1))).ToArray();
        var ids = instants.Select(Uuid7.At).ToArray();
        Assert.Equal(instants, ids.Select(Uuid7.Timestamp));

        await using var cmd = db.DataSource.CreateCommand(
            "SELECT array_agg(uuid7_time(u.id) ORDER BY u.n) FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, n)");
        cmd.Parameters.Add(new NpgsqlParameter { Value = ids });
        var sql = (DateTime[])(await cmd.ExecuteScalarAsync())!;

        var differing = ids.Zip(sql).Where(x => x.Second != Uuid7.Timestamp(x.First).UtcDateTime)
            .Select(x => $"{x.First}: SQL {x.Second:O}, C# {Uuid7.Timestamp(x.First):O}");
        Assert.Empty(differing);
        Assert.Equal(ids.Length, sql.Length);
    }

    private Task<string> PartitionOfAsync(Guid messageId) =>
        db.ScalarAsync<string>("SELECT tableoid::regclass::text FROM message_history WHERE id = $1", messageId);
}
