using BotStore.Data;
using BotStore.Enums;
using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Data;

/// <summary>
/// Bulk ingest fills the very partition its stored-id probe reads. A plan cached while that partition was empty
/// (a generic plan of the prepared probe, which expects few ids) scanned it once per id, so every batch was slower
/// than the one before; the probe is planned afresh for each batch.
/// </summary>
public sealed class BulkIngestPlanCacheTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Batch_after_batch_into_a_new_partition_the_stored_id_probe_keeps_using_the_index()
    {
        // The library's settings (automatic preparation) on one pooled connection: every batch runs on the same
        // server connection, with its prepared statements.
        await using var one = (ConnectionSettings.Default with { MaxConnections = 1, MinConnections = 0 }).CreateDataSource(db.ConnectionString, "plan-cache");
        var c = new Conversation(one);
        var w = await c.NewWorldAsync();
        var sessions = new List<Guid> { w.Session.Id };
        for (var i = 1; i < 20; i++)
            sessions.Add((await c.Sessions.CreateAsync(w.TenantId, w.User.Id, w.Bot.Id, ChannelType.Web)).Id);
        var start = DateTimeOffset.UtcNow;
        var partition = $"message_history_{start:yyyy_MM}";
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {partition}"));
        // As a partition created ahead is when its month begins: vacuumed and analyzed while empty.
        await db.ScalarAsync<int>($"VACUUM ANALYZE {partition}; SELECT 1");

        var k = 0;
        async Task BatchAsync()
        {
            var batch = Enumerable.Range(0, 1000).Select(_ =>
            {
                var at = start.AddMilliseconds(k);
                return new NewMessage(sessions[k++ % sessions.Count], MessageRole.User, "bulk") { Id = Uuid7.At(at) };
            }).ToList();
            Assert.Equal(1000, (await c.Messages.BulkAppendAsync(w.TenantId, batch)).Inserted);
        }

        // Two loads, as a bench or a re-import does them: the second after the first's rows were deleted and vacuumed.
        var scans = new List<long>();
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < 8; i++)
            {
                var before = await SequentialScansAsync(one, partition);
                await BatchAsync();
                scans.Add(await SequentialScansAsync(one, partition) - before);
            }
            await db.ScalarAsync<int>($"DELETE FROM message_history WHERE tenant_id = {w.TenantId}; UPDATE user_sessions SET message_count = 0; SELECT 1");
            await using var vacuum = one.CreateCommand($"VACUUM {partition}");
            await vacuum.ExecuteNonQueryAsync();
        }

        // Into the empty partition the first batch rightly scans it (nothing there); every later batch probes the
        // index. With a plan kept from when the partition was empty, each of those was one scan per id: 1,000.
        Assert.True(scans.Where((_, i) => i % 8 != 0).All(s => s < 50), $"sequential scans of {partition} per batch of 1,000: {string.Join(", ", scans)}");
    }

    // The counters of the one server connection, flushed first (PostgreSQL 15 flushes a backend's counters lazily).
    private static async Task<long> SequentialScansAsync(NpgsqlDataSource one, string partition)
    {
        await using (var flush = one.CreateCommand("SELECT pg_stat_force_next_flush()"))
            await flush.ExecuteNonQueryAsync();
        await using var read = one.CreateCommand("SELECT seq_scan FROM pg_stat_user_tables WHERE relid = $1::regclass");
        read.Parameters.Add(new NpgsqlParameter { Value = partition });
        return (long)(await read.ExecuteScalarAsync())!;
    }
}
