using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Foundation;

/// <summary>The seed's aggressive autovacuum settings, which PostgreSQL only accepts per partition, not on the parent.</summary>
public sealed class AutovacuumTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Every_message_history_partition_has_the_seeds_autovacuum_settings_including_later_ones()
    {
        await db.ExecuteAsync("SELECT create_monthly_partition($1, $2)", "message_history", new DateOnly(2031, 7, 1));
        await db.ExecuteAsync("SELECT create_monthly_partition($1, $2)", "message_history", new DateOnly(2019, 1, 31));

        var partitions = await ReloptionsAsync("""
            SELECT c.relname, coalesce(c.reloptions, '{}') FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'message_history'::regclass ORDER BY 1
            """);
        Assert.Contains("message_history_default", partitions.Keys);
        Assert.Contains("message_history_2031_07", partitions.Keys);
        Assert.Contains("message_history_2019_01", partitions.Keys);
        Assert.True(partitions.Count >= 7, $"only {string.Join(", ", partitions.Keys)}");
        Assert.All(partitions, p =>
        {
            Assert.Contains("autovacuum_vacuum_scale_factor=0.01", p.Value);
            Assert.Contains("autovacuum_analyze_scale_factor=0.005", p.Value);
            Assert.Contains("autovacuum_vacuum_cost_delay=2", p.Value);
        });
    }

    [Fact]
    public async Task User_sessions_has_the_seeds_autovacuum_settings()
    {
        var options = (await ReloptionsAsync("SELECT relname, coalesce(reloptions, '{}') FROM pg_class WHERE oid = 'user_sessions'::regclass"))["user_sessions"];
        Assert.Contains("autovacuum_vacuum_scale_factor=0.02", options);
        Assert.Contains("autovacuum_analyze_scale_factor=0.01", options);
    }

    private async Task<Dictionary<string, string[]>> ReloptionsAsync(string sql)
    {
        await using var cmd = db.DataSource.CreateCommand(sql);
        await using var reader = await cmd.ExecuteReaderAsync();
        var result = new Dictionary<string, string[]>();
        while (await reader.ReadAsync())
            result[reader.GetString(0)] = reader.GetFieldValue<string[]>(1);
        return result;
    }
}
