using BotStore.Tooling.Conversion;
using Xunit.Abstractions;

namespace BotStore.Tests.Conversion;

/// <summary>plan, apply, verify, finish and rollback on small before-tables, and the bad input cases.</summary>
public sealed class ConversionTests(ITestOutputHelper output)
{
    private static ConversionOptions Tasks => new() { Table = "auto_tasks", BatchSize = 700, Pause = TimeSpan.Zero };

    [Fact]
    public async Task Plan_finds_the_three_columns_with_their_domains_values_dependents_and_saving_and_changes_nothing()
    {
        await using var db = await BeforeTasks.CreateAsync(4_000);
        var before = await db.SnapshotAsync();

        var plan = (await db.Converter.PlanAsync(new ConversionOptions())).Tables.Single();

        Assert.Equal("public.auto_tasks", plan.Table);
        Assert.Equal(4_000, plan.Rows);
        Assert.Empty(plan.Problems);
        Assert.Equal(["status:task_status", "priority:task_priority", "execution_mode:execution_mode"], plan.Columns.Select(c => $"{c.Column}:{c.Domain}"));
        var status = plan.Columns[0];
        Assert.Equal(8, status.Values.Count);
        Assert.Equal(500, status.Values.Single(v => v.Value == "waiting_approval").Rows);
        Assert.Equal((short)4, status.Values.Single(v => v.Value == "waiting_approval").Number);
        Assert.Equal((short)0, status.NewDefault);
        Assert.Equal((short)1, plan.Columns[2].NewDefault);
        var index = plan.Dependents.Single(d => d.Name == "idx_tasks_active");
        Assert.Contains("\"status__smallint\" <> ALL ((ARRAY[5, 6, 7]))", index.Rewritten);
        Assert.Contains("ARRAY[0, 1, 2, 3, 4, 5, 6, 7]", plan.Dependents.Single(d => d.Name == "check_status").Rewritten);
        Assert.Contains("ARRAY[1, 2]", plan.Dependents.Single(d => d.Kind == "view").Rewritten);
        Assert.True(plan.SavingPerRow >= 16, $"saving {plan.SavingPerRow}");
        Assert.Equal(before, await db.SnapshotAsync());
    }

    [Fact]
    public async Task Apply_converts_verify_finds_no_mismatch_finish_drops_the_text_and_the_table_answers_in_numbers()
    {
        await using var db = await BeforeTasks.CreateAsync(5_000);
        var result = await db.Converter.ApplyAsync(Tasks);
        output.WriteLine($"{result}");

        Assert.Equal(ConversionSteps.Swapped, result.Step);
        Assert.Equal(5_000, result.RowsBackfilled);
        Assert.Equal(0, (await db.Converter.VerifyAsync("auto_tasks")).Mismatches);
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM auto_tasks WHERE status IS DISTINCT FROM {BeforeTasks.NumberOf("task_status", "status__text")}"));
        // Writers now write numbers; the text column follows until finish.
        await db.ExecAsync("INSERT INTO auto_tasks (id, status) VALUES ('00000000-0000-0000-0000-000000000001', 4)");
        Assert.Equal("waiting_approval", await db.ScalarAsync<string>("SELECT status__text FROM auto_tasks WHERE id = '00000000-0000-0000-0000-000000000001'"));
        Assert.Equal((short)1, await db.ScalarAsync<short>("SELECT priority FROM auto_tasks WHERE id = '00000000-0000-0000-0000-000000000001'"));
        Assert.Equal(0, (await db.Converter.VerifyAsync("auto_tasks")).Mismatches);
        Assert.Contains("ARRAY[1, 2]", await db.ScalarAsync<string>("SELECT definition FROM pg_views WHERE viewname = 'open_tasks'"));
        Assert.Equal(1875L, await db.ScalarAsync<long>("SELECT count(*) FROM open_tasks"));

        await db.Converter.FinishAsync("auto_tasks");

        var snapshot = await db.SnapshotAsync();
        output.WriteLine(snapshot);
        Assert.Contains("status smallint t 0", snapshot);
        Assert.Contains("priority smallint t 1", snapshot);
        Assert.Contains("execution_mode smallint t 1", snapshot);
        Assert.DoesNotContain("__", snapshot);
        Assert.DoesNotContain("botstore_convert", snapshot);
        Assert.Contains("WHERE (status <> ALL (ARRAY[5, 6, 7])) t", snapshot);
        var outside = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => db.ExecAsync("UPDATE auto_tasks SET status = 9 WHERE id = '00000000-0000-0000-0000-000000000001'"));
        Assert.Equal("check_status", outside.ConstraintName);
    }

    [Fact]
    public async Task The_verbs_run_from_the_command_line_and_finish_and_rollback_take_their_defaults()
    {
        await using var db = await BeforeTasks.CreateAsync(2_000);
        await using var other = await BeforeTasks.CreateAsync(2_000);
        var before = await other.SnapshotAsync();
        async Task<Infrastructure.Cli.Result> RunAsync(BeforeTasks on, params string[] args)
        {
            var result = await Infrastructure.Cli.RunAsync(["convert", .. args, "--table", "auto_tasks", "--database", on.ConnectionString]);
            Assert.True(result.ExitCode == 0, $"convert {string.Join(' ', args)}: {result.Stderr}");
            return result;
        }

        Assert.Contains("\"saving_per_row\"", (await RunAsync(db, "plan", "--json")).Stdout, StringComparison.Ordinal);
        await RunAsync(db, "apply");
        Assert.Contains("0 mismatch", (await RunAsync(db, "verify")).Stdout, StringComparison.Ordinal);
        Assert.Contains("finished", (await RunAsync(db, "finish")).Stdout, StringComparison.Ordinal);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM pg_attribute WHERE attrelid = 'auto_tasks'::regclass AND attname LIKE '%text' AND NOT attisdropped"));

        await RunAsync(other, "apply");
        Assert.Contains("rolled back", (await RunAsync(other, "rollback")).Stdout, StringComparison.Ordinal);
        Assert.Equal(before, await other.SnapshotAsync());
    }

    [Fact]
    public async Task On_a_wider_table_the_planned_saving_counts_the_null_bitmap_the_dropped_text_columns_leave()
    {
        // Nine columns once converted (six, and three SMALLINTs added at the end): every row gains a null bitmap for the
        // dropped text columns, 8 bytes of header after alignment, which the in-place estimate did not count.
        await using var db = await BeforeTasks.CreateAsync(20_000, BeforeTasks.Ddl.Replace(
            "execution_mode VARCHAR(50) NOT NULL DEFAULT 'supervised',",
            "execution_mode VARCHAR(50) NOT NULL DEFAULT 'supervised', title TEXT NOT NULL DEFAULT 'a task', created_at TIMESTAMPTZ NOT NULL DEFAULT now(),",
            StringComparison.Ordinal));
        var heapBefore = await db.CompactedHeapBytesPerRowAsync();
        var plan = (await db.Converter.PlanAsync(new ConversionOptions { Table = "auto_tasks" })).Tables.Single();
        await db.Converter.ApplyAsync(Tasks);
        await db.Converter.FinishAsync("auto_tasks");
        var saved = heapBefore - await db.CompactedHeapBytesPerRowAsync();
        Assert.InRange(saved, plan.SavingPerRow!.Value * 0.9, plan.SavingPerRow.Value * 1.1);
    }

    [Fact]
    public async Task A_value_outside_the_domain_stops_apply_naming_it_and_changes_nothing_and_map_unknown_maps_it()
    {
        await using var db = await BeforeTasks.CreateAsync(3_000);
        await db.ExecAsync("ALTER TABLE auto_tasks DROP CONSTRAINT check_status; UPDATE auto_tasks SET status = 'done' WHERE id = md5('77')::uuid");
        var before = await db.SnapshotAsync();

        var error = await Assert.ThrowsAsync<BotStoreValidationException>(() => db.Converter.ApplyAsync(Tasks));
        output.WriteLine(error.Message);
        Assert.Contains("public.auto_tasks.status holds 'done'", error.Message);
        Assert.Contains($"id={Guid.Parse(System.Convert.ToHexString(System.Security.Cryptography.MD5.HashData("77"u8)))}", error.Message);
        Assert.Equal(before, await db.SnapshotAsync());

        var result = await db.Converter.ApplyAsync(Tasks with { MapUnknown = [ColumnMap.ParseList("auto_tasks.status=done:5")] });
        Assert.Equal(ConversionSteps.Swapped, result.Step);
        Assert.Equal((short)5, await db.ScalarAsync<short>("SELECT status FROM auto_tasks WHERE id = md5('77')::uuid"));
    }

    [Fact]
    public async Task A_value_written_after_the_plan_but_before_the_trigger_is_caught_by_the_backfill_and_the_table_is_left_as_it_was()
    {
        await using var db = await BeforeTasks.CreateAsync(3_000);
        await db.ExecAsync("ALTER TABLE auto_tasks DROP CONSTRAINT check_status");
        var before = "";
        var options = Tasks with
        {
            StepHook = async step =>
            {
                if (step != "add")
                    return;
                // Between the plan's scan and the trigger's creation: the window a concurrent writer could use.
                await db.ExecAsync("UPDATE auto_tasks SET status = 'archived' WHERE id = md5('1234')::uuid");
                before = await db.SnapshotAsync();
            },
        };
        var error = await Assert.ThrowsAsync<BotStoreValidationException>(() => db.Converter.ApplyAsync(options));
        output.WriteLine(error.Message);
        Assert.Contains("public.auto_tasks.status holds the value 'archived'", error.Message);
        Assert.Contains("rolled back", error.Message);
        Assert.Equal(before, await db.SnapshotAsync());
    }

    [Fact]
    public async Task Bad_input_is_refused_with_a_clear_error_and_nothing_changes()
    {
        await using var db = await BeforeTasks.CreateAsync(1_000);
        await db.ExecAsync("CREATE TABLE no_key (status TEXT NOT NULL); INSERT INTO no_key SELECT 'pending' FROM generate_series(1, 100)");
        var before = await db.SnapshotAsync();

        var missing = await Assert.ThrowsAsync<BotStoreNotFoundException>(() => db.Converter.ApplyAsync(Tasks with { Columns = ["state"] }));
        Assert.Equal("column state does not exist in public.auto_tasks", missing.Message);
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => db.Converter.ApplyAsync(Tasks with { Table = "no_such_table" }));
        var domain = Assert.Throws<BotStoreValidationException>(() => ColumnMap.Parse("auto_tasks.status=task_state"));
        Assert.StartsWith("'task_state' is not an enum domain", domain.Message);
        Assert.Contains("twice", Assert.Throws<BotStoreValidationException>(() => ColumnMap.Parse("auto_tasks.status=a:1,b:2,a:3")).Message);
        Assert.Contains("both 'a' and 'b'", Assert.Throws<BotStoreValidationException>(() => ColumnMap.Parse("auto_tasks.status=a:1,b:1")).Message);
        Assert.Throws<BotStoreValidationException>(() => ColumnMap.Parse("status=task_status"));
        var noKey = await Assert.ThrowsAsync<BotStoreValidationException>(() => db.Converter.ApplyAsync(Tasks with { Table = "no_key" }));
        Assert.Contains("public.no_key has no primary key", noKey.Message);
        var notText = await Assert.ThrowsAsync<BotStoreValidationException>(() => db.Converter.ApplyAsync(Tasks with { Columns = ["id"] }));
        Assert.Contains("is uuid, not a text column", notText.Message);
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => db.Converter.RollbackAsync("auto_tasks"));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => db.Converter.FinishAsync("auto_tasks"));
        Assert.Equal(before, await db.SnapshotAsync());
    }

    [Fact]
    public async Task A_second_apply_on_the_same_table_while_one_runs_is_refused_and_the_first_completes()
    {
        await using var db = await BeforeTasks.CreateAsync(3_000);
        var inBackfill = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var first = Task.Run(() => db.Converter.ApplyAsync(Tasks with
        {
            StepHook = async step =>
            {
                if (step == "batch" && !inBackfill.Task.IsCompleted)
                {
                    inBackfill.SetResult();
                    await release.Task;
                }
            },
        }));
        await inBackfill.Task;
        var state = await db.SnapshotAsync();
        var second = await Assert.ThrowsAsync<BotStoreConflictException>(() => db.Converter.ApplyAsync(Tasks));
        output.WriteLine(second.Message);
        Assert.Contains("a conversion of public.auto_tasks is running in another session (pid ", second.Message);
        await Assert.ThrowsAsync<BotStoreConflictException>(() => db.Converter.RollbackAsync("auto_tasks"));
        Assert.Equal(state, await db.SnapshotAsync());
        release.SetResult();
        Assert.Equal(ConversionSteps.Swapped, (await first).Step);
    }

    [Fact]
    public async Task A_partitioned_table_is_converted_per_partition_with_its_partial_index_attached_and_rolls_back()
    {
        await using var db = await BeforeTasks.CreateAsync(0, """
            CREATE TABLE auto_tasks (
                id UUID NOT NULL, tenant_id INT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
                PRIMARY KEY (tenant_id, id)) PARTITION BY HASH (tenant_id);
            CREATE TABLE auto_tasks_p0 PARTITION OF auto_tasks FOR VALUES WITH (MODULUS 3, REMAINDER 0);
            CREATE TABLE auto_tasks_p1 PARTITION OF auto_tasks FOR VALUES WITH (MODULUS 3, REMAINDER 1);
            CREATE TABLE auto_tasks_p2 PARTITION OF auto_tasks FOR VALUES WITH (MODULUS 3, REMAINDER 2);
            CREATE INDEX idx_open ON auto_tasks (tenant_id, status) WHERE status <> 'completed';
            """);
        await db.ExecAsync("""
            INSERT INTO auto_tasks SELECT md5(i::text)::uuid, i % 7, (ARRAY['pending', 'running', 'completed'])[1 + i % 3] FROM generate_series(1, 6000) i;
            ANALYZE auto_tasks;
            """);
        var before = await db.SnapshotAsync();
        var plan = (await db.Converter.PlanAsync(new ConversionOptions { Table = "auto_tasks" })).Tables.Single();
        Assert.Equal(3, plan.Partitions);
        Assert.Equal(["tenant_id", "id"], plan.Key);

        var result = await db.Converter.ApplyAsync(Tasks);
        Assert.Equal(6_000, result.RowsBackfilled);
        Assert.Equal(0, (await db.Converter.VerifyAsync("auto_tasks")).Mismatches);
        Assert.Equal("smallint", await db.ScalarAsync<string>("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'auto_tasks_p1'::regclass AND attname = 'status'"));
        Assert.Equal(3L, await db.ScalarAsync<long>("""
            SELECT count(*) FROM pg_inherits i JOIN pg_index x ON x.indexrelid = i.inhrelid
            WHERE i.inhparent = 'idx_open'::regclass AND x.indisvalid AND pg_get_indexdef(x.indexrelid) LIKE '%WHERE (status <> 5)'
            """));

        await db.Converter.RollbackAsync("auto_tasks");
        Assert.Equal(before, await db.SnapshotAsync());
    }
}
