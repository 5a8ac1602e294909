using BotStore.Tooling.Conversion;
using Xunit.Abstractions;

namespace BotStore.Tests.Conversion;

/// <summary>apply stopped at every step (as a kill would stop it), then resumed or rolled back.</summary>
public sealed class ResumeAndRollbackTests(ITestOutputHelper output)
{
    private sealed class Killed() : Exception("killed here");

    private static ConversionOptions Tasks => new() { Table = "auto_tasks", BatchSize = 600, Pause = TimeSpan.Zero };

    public static TheoryData<string> Steps => ["add", "backfill", "batch", "verify", "constrain", "index", "index-built", "index-invalid", "swap"];

    private static ConversionOptions KilledAt(BeforeTasks db, string step) => Tasks with
    {
        StepHook = async at =>
        {
            if (step == "index-invalid" && at == "index")
            {
                // What a CREATE INDEX CONCURRENTLY killed half-way leaves: an invalid index under the name the next run builds.
                await Assert.ThrowsAnyAsync<Npgsql.PostgresException>(() => db.ExecAsync("CREATE UNIQUE INDEX CONCURRENTLY idx_tasks_active__cv ON auto_tasks (status__smallint)"));
                throw new Killed();
            }
            if (at == step)
                throw new Killed();
        },
    };

    [Theory]
    [MemberData(nameof(Steps))]
    public async Task Apply_killed_at_a_step_resumes_when_run_again(string step)
    {
        await using var db = await BeforeTasks.CreateAsync(3_000);
        await Assert.ThrowsAsync<Killed>(() => db.Converter.ApplyAsync(KilledAt(db, step)));

        var result = await db.Converter.ApplyAsync(Tasks);

        Assert.Equal(ConversionSteps.Swapped, result.Step);
        Assert.Equal(step != "add", result.Resumed);
        Assert.Equal(0, (await db.Converter.VerifyAsync("auto_tasks")).Mismatches);
        await db.Converter.FinishAsync("auto_tasks");
        var snapshot = await db.SnapshotAsync();
        output.WriteLine(snapshot);
        Assert.Contains("CREATE INDEX idx_tasks_active ON public.auto_tasks USING btree (status, priority) WHERE (status <> ALL (ARRAY[5, 6, 7])) t", snapshot);
        Assert.DoesNotContain("__", snapshot);
        Assert.DoesNotContain(" f\n", snapshot);
        Assert.Equal(375L, await db.ScalarAsync<long>("SELECT count(*) FROM auto_tasks WHERE status = 4"));
        Assert.Equal(3_000L, await db.ScalarAsync<long>("SELECT count(*) FROM auto_tasks"));
    }

    [Theory]
    [MemberData(nameof(Steps))]
    [InlineData("after-swap")]
    public async Task Rollback_at_any_step_leaves_the_table_as_it_was(string step)
    {
        await using var db = await BeforeTasks.CreateAsync(3_000);
        var before = await db.SnapshotAsync();
        if (step == "after-swap")
            Assert.Equal(ConversionSteps.Swapped, (await db.Converter.ApplyAsync(Tasks)).Step);
        else
            await Assert.ThrowsAsync<Killed>(() => db.Converter.ApplyAsync(KilledAt(db, step)));

        if (step == "add")
            await Assert.ThrowsAsync<BotStoreNotFoundException>(() => db.Converter.RollbackAsync("auto_tasks"));
        else
            await db.Converter.RollbackAsync("auto_tasks");

        Assert.Equal(before, await db.SnapshotAsync());
    }
}
