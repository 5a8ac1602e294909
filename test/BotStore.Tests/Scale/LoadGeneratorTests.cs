using BotStore.Data;
using BotStore.Tooling.LoadGeneration;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Scale;

public sealed class LoadGeneratorTests
{
    private static readonly LoadOptions Small = new()
    {
        Tenants = 5,
        Users = 60,
        Messages = 3_000,
        Months = 2,
        Seed = 42,
        Until = new DateTimeOffset(2025, 6, 15, 0, 0, 0, TimeSpan.Zero),
    };

    [Fact]
    public async Task A_small_load_writes_exactly_the_requested_counts_and_rows_the_schema_accepts()
    {
        await using var fresh = await Fresh.CreateAsync();
        var db = fresh.Db;
        var result = await new LoadGenerator(db.DataSource).RunAsync(Small);

        Assert.False(result.Resumed);
        Assert.Equal(5, await db.ScalarAsync<long>("SELECT count(*) FROM tenants"));
        Assert.Equal(60, await db.ScalarAsync<long>("SELECT count(*) FROM users"));
        Assert.Equal(3_000, await db.ScalarAsync<long>("SELECT count(*) FROM message_history"));
        foreach (var table in result.Tables)
            Assert.Equal(await db.ScalarAsync<long>($"SELECT count(*) FROM {table.Table}"), table.RowsLoaded);
        foreach (var table in new[] { "bots", "bot_channels", "bot_memories", "user_sessions", "auto_tasks", "task_approvals", "analytics_events" })
            Assert.True(await db.ScalarAsync<long>($"SELECT count(*) FROM {table}") > 0, $"{table} is empty");

        // Every session's counters agree with its messages, whose indexes run 0 .. n - 1 from the session's start.
        Assert.Equal(0, await db.ScalarAsync<long>("""
            SELECT count(*) FROM user_sessions s
            LEFT JOIN LATERAL (SELECT count(*) AS n, count(DISTINCT message_index) AS distinct_n, min(message_index) AS lo, max(message_index) AS hi,
                                      min(created_at) AS first, max(created_at) AS last
                               FROM message_history m WHERE m.tenant_id = s.tenant_id AND m.session_id = s.id) m ON true
            WHERE m.n <> s.message_count OR m.distinct_n <> m.n OR m.lo <> 0 OR m.hi <> s.message_count - 1
               OR m.first <> s.created_at OR m.last <> s.last_activity_at
            """));
        Assert.Equal(0, await db.ScalarAsync<long>("SELECT count(*) FROM message_history m JOIN user_sessions s ON s.id = m.session_id WHERE s.user_id <> m.user_id"));
        Assert.Equal(8, await db.ScalarAsync<long>("SELECT count(DISTINCT status) FROM auto_tasks"));
        Assert.True(await db.ScalarAsync<long>("SELECT count(*) FROM task_approvals a JOIN auto_tasks t ON t.id = a.task_id WHERE a.status = 0 AND t.status = 4") > 0);
        Assert.True(await db.ScalarAsync<long>("SELECT count(DISTINCT role) FROM message_history") >= 4);
        // Partitions were made first: nothing in the defaults, several months filled, all of it before --until.
        Assert.Equal(0, await db.ScalarAsync<long>("SELECT (SELECT count(*) FROM message_history_default) + (SELECT count(*) FROM analytics_events_default)"));
        Assert.True(await db.ScalarAsync<long>("SELECT count(DISTINCT tableoid) FROM message_history") >= 2);
        Assert.True(await db.ScalarAsync<bool>("SELECT max(created_at) < $1 AND min(created_at) >= $2 FROM message_history", Small.Until, Small.Until.AddMonths(-2)));
        // The generated tenant ids were taken from the identity, so the application's next tenant does not collide.
        await db.ExecuteAsync("INSERT INTO tenants (name) VALUES ('after the load')");
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_data_even_when_interrupted_and_resumed_in_other_batches()
    {
        await using var freshStraight = await Fresh.CreateAsync();
        var straight = freshStraight.Db;
        await new LoadGenerator(straight.DataSource).RunAsync(Small);

        await using var freshResumed = await Fresh.CreateAsync();
        var resumed = freshResumed.Db;
        using var cts = new CancellationTokenSource();
        var interrupted = Small with { BatchMessages = 150 };
        var progress = new Reporter(p => { if (p.DaysDone >= 10) cts.Cancel(); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new LoadGenerator(resumed.DataSource).RunAsync(interrupted, progress, cts.Token));
        var partial = await resumed.ScalarAsync<long>("SELECT count(*) FROM message_history");
        Assert.InRange(partial, 1, Small.Messages - 1);
        Assert.True(await resumed.ScalarAsync<bool>("SELECT finished_at IS NULL AND next_day >= 10 FROM loadgen_progress WHERE seed = 42"));

        var result = await new LoadGenerator(resumed.DataSource).RunAsync(interrupted);
        Assert.True(result.Resumed);
        Assert.Equal(Small.Messages, await resumed.ScalarAsync<long>("SELECT count(*) FROM message_history"));
        foreach (var table in LoadGenerator.Tables)
            Assert.Equal(await FingerprintAsync(straight, table), await FingerprintAsync(resumed, table));

        await using var freshOther = await Fresh.CreateAsync();
        var other = freshOther.Db;
        await new LoadGenerator(other.DataSource).RunAsync(Small with { Seed = 43 });
        Assert.NotEqual(await FingerprintAsync(straight, "message_history"), await FingerprintAsync(other, "message_history"));
    }

    [Fact]
    public async Task A_finished_load_is_not_written_twice_and_other_parameters_for_its_seed_are_refused()
    {
        await using var fresh = await Fresh.CreateAsync();
        var db = fresh.Db;
        var small = Small with { Messages = 500, Users = 20 };
        await new LoadGenerator(db.DataSource).RunAsync(small);

        var again = await new LoadGenerator(db.DataSource).RunAsync(small);
        Assert.True(again.AlreadyComplete);
        Assert.Equal(500, await db.ScalarAsync<long>("SELECT count(*) FROM message_history"));

        var error = await Assert.ThrowsAsync<BotStoreValidationException>(() => new LoadGenerator(db.DataSource).RunAsync(small with { Messages = 600 }));
        Assert.Contains("seed 42", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<BotStoreValidationException>(() => new LoadGenerator(db.DataSource).RunAsync(small with { Users = 2 }));
        Assert.Equal(500, await db.ScalarAsync<long>("SELECT count(*) FROM message_history"));
    }

    [Fact]
    public async Task Generated_tenants_stay_in_the_shards_range_and_tenants_created_later_do_not_collide()
    {
        await using var fresh = await Fresh.CreateAsync();
        var db = fresh.Db;
        await db.ExecuteAsync("UPDATE shard_identity SET logical_from = 100, logical_to = 200");
        await new LoadGenerator(db.DataSource).RunAsync(Small);

        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM tenants WHERE id % 1024 NOT BETWEEN 100 AND 199"));
        var (later, _) = await new TenantStore(db.DataSource).CreateAsync("after the load");
        Assert.InRange(later.Id % 1024, 100, 199);
        Assert.True(later.Id > await db.ScalarAsync<long>("SELECT max(id) FROM tenants WHERE id <> $1", later.Id));
    }

    [Fact]
    public async Task The_loadgen_verb_loads_and_prints_counts_and_rejects_bad_sizes_writing_nothing()
    {
        await using var fresh = await Fresh.CreateAsync();
        var db = fresh.Db;
        var ok = await Infrastructure.Cli.RunAsync(["loadgen", "--database", db.ConnectionString, "--tenants", "3", "--users", "30", "--messages", "1.5K",
            "--months", "1", "--until", "2025-03-01", "--json"]);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.Contains("\"rows_loaded\": 1500", ok.Stdout, StringComparison.Ordinal);
        Assert.Equal(1_500, await db.ScalarAsync<long>("SELECT count(*) FROM message_history"));

        var bad = await Infrastructure.Cli.RunAsync(["loadgen", "--database", db.ConnectionString, "--tenants", "3", "--users", "2", "--seed", "7"]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Single(bad.Stderr.Trim().Split('\n'));
        Assert.Equal(0, await db.ScalarAsync<long>("SELECT count(*) FROM loadgen_progress WHERE seed = 7"));
    }

    private static Task<string> FingerprintAsync(TestDatabase db, string table) =>
        db.ScalarAsync<string>($"SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text)) FROM {table} t");

    private sealed class Reporter(Action<LoadProgress> report) : IProgress<LoadProgress>
    {
        public void Report(LoadProgress value) => report(value);
    }

    /// <summary>A fresh migrated database for one test (some need two), dropped after it.</summary>
    private sealed class Fresh : IAsyncDisposable
    {
        public TestDatabase Db { get; } = new();

        public static async Task<Fresh> CreateAsync()
        {
            var fresh = new Fresh();
            await fresh.Db.InitializeAsync();
            return fresh;
        }

        public async ValueTask DisposeAsync() => await Db.DisposeAsync();
    }
}
