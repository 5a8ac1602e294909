using BotStore.Schema;
using BotStore.Tests.Infrastructure;
using Npgsql;
using static BotStore.Tests.Infrastructure.TestSql;

namespace BotStore.Tests.Foundation;

public sealed class MigrationTests
{
    [Fact]
    public async Task Migrate_on_an_empty_database_applies_everything_then_again_is_a_no_op()
    {
        await OnNewDatabaseAsync(migrated: false, async (ds, _) =>
        {
            var first = await new MigrationRunner(ds).MigrateAsync();
            Assert.Equal(Migration.All.Select(m => m.Version), first.Applied.Select(m => m.Version));
            Assert.Equal(0, first.AlreadyApplied);
            Assert.Contains(first.PartitionsCreated, p => p.StartsWith("message_history_", StringComparison.Ordinal));

            var second = await new MigrationRunner(ds).MigrateAsync();
            Assert.Empty(second.Applied);
            Assert.Equal(Migration.All.Count, second.AlreadyApplied);
            Assert.Empty(second.PartitionsCreated);
        });
    }

    [Fact]
    public async Task Two_runners_started_together_on_an_empty_database_apply_each_migration_once()
    {
        await OnNewDatabaseAsync(migrated: false, async (ds, cs) =>
        {
            await using var a = NpgsqlDataSource.Create(cs);
            await using var b = NpgsqlDataSource.Create(cs);
            var results = await Task.WhenAll(
                Task.Run(() => new MigrationRunner(a).MigrateAsync()),
                Task.Run(() => new MigrationRunner(b).MigrateAsync()));

            // One applied everything; the other waited for the lock and found nothing to do.
            Assert.Equal(Migration.All.Count, results.Sum(r => r.Applied.Count));
            Assert.Contains(results, r => r.Applied.Count == 0 && r.AlreadyApplied == Migration.All.Count);
            var recorded = await new MigrationRunner(ds).ReadAppliedAsync();
            Assert.Equal(Migration.All.Select(m => (m.Version, m.Checksum)), recorded.Select(r => (r.Version, r.Checksum)));
        });
    }

    [Fact]
    public async Task A_migration_edited_after_it_was_applied_is_refused()
    {
        await OnNewDatabaseAsync(migrated: true, async (ds, _) =>
        {
            var original = Migration.All[^1];
            var edited = Migration.Parse($"{original}.sql", original.Sql + "\n-- an afterthought\n");
            Assert.Equal(original.Version, edited.Version);
            var migrations = Migration.All.Select(m => m.Version == original.Version ? edited : m).ToList();

            var ex = await Assert.ThrowsAsync<BotStoreMigrationException>(() => new MigrationRunner(ds, migrations).MigrateAsync());
            Assert.Contains(original.ToString(), ex.Message, StringComparison.Ordinal);
            Assert.Contains("changed", ex.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task A_database_newer_than_the_build_is_refused()
    {
        await OnNewDatabaseAsync(migrated: true, async (ds, _) =>
        {
            await using (var cmd = ds.CreateCommand("INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, 'from_the_future', 'abc123abc123abc')"))
                await cmd.ExecuteNonQueryAsync();

            var ex = await Assert.ThrowsAsync<BotStoreMigrationException>(() => new MigrationRunner(ds).MigrateAsync());
            Assert.Contains("9999_from_the_future", ex.Message, StringComparison.Ordinal);
            Assert.Contains("newer", ex.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task A_failing_migration_is_rolled_back_and_the_database_stays_at_its_last_good_version()
    {
        await OnNewDatabaseAsync(migrated: true, async (ds, _) =>
        {
            var broken = Migration.Parse("9000_broken.sql", "CREATE TABLE broken_probe (id integer);\nSELEC 1;\n");
            var runner = new MigrationRunner(ds, [.. Migration.All, broken]);

            var ex = await Assert.ThrowsAsync<BotStoreMigrationException>(() => runner.MigrateAsync());
            Assert.Contains("9000_broken", ex.Message, StringComparison.Ordinal);
            Assert.True(await ScalarAsync<bool>(ds, "SELECT to_regclass('broken_probe') IS NULL"), "the broken migration's table survived");
            Assert.Equal(Migration.LatestVersion, await ScalarAsync<int>(ds, "SELECT max(version) FROM schema_migrations"));
            Assert.Equal([broken], await runner.PendingAsync());
        });
    }

    [Fact]
    public async Task A_no_transaction_migration_can_create_an_index_concurrently()
    {
        await OnNewDatabaseAsync(migrated: true, async (ds, _) =>
        {
            var concurrent = Migration.Parse("9001_concurrent_index.sql",
                $"{Migration.NoTransactionMarker}\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_probe_tenant_names ON tenants (name);\n");
            Assert.False(concurrent.InTransaction);

            var result = await new MigrationRunner(ds, [.. Migration.All, concurrent]).MigrateAsync();
            Assert.Equal([concurrent], result.Applied);
            Assert.True(await ScalarAsync<bool>(ds, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_probe_tenant_names'::regclass"));
            Assert.Equal(9001, await ScalarAsync<int>(ds, "SELECT max(version) FROM schema_migrations"));
        });
    }

    [Fact]
    public async Task A_concurrent_index_that_failed_is_rebuilt_when_the_migration_runs_again()
    {
        await OnNewDatabaseAsync(migrated: true, async (ds, _) =>
        {
            // Tenant names are unique already (0023): two tenants made at the same instant are the duplicate here.
            await ScalarAsync<int>(ds, "INSERT INTO tenants (name, created_at) VALUES ('twin-a', '2020-01-01'), ('twin-b', '2020-01-01') RETURNING 1");
            var unique = Migration.Parse("9002_unique_names.sql",
                $"{Migration.NoTransactionMarker}\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx_probe_unique_names ON tenants (created_at);\n");
            var runner = new MigrationRunner(ds, [.. Migration.All, unique]);

            await Assert.ThrowsAsync<BotStoreMigrationException>(() => runner.MigrateAsync());
            // PostgreSQL leaves the failed build behind as an invalid index, which IF NOT EXISTS alone would skip.
            Assert.False(await ScalarAsync<bool>(ds, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_probe_unique_names'::regclass"));

            await ScalarAsync<int>(ds, "UPDATE tenants SET created_at = created_at + id * interval '1 second' WHERE name LIKE 'twin-%' RETURNING 1");
            Assert.Equal([unique], (await runner.MigrateAsync()).Applied);
            Assert.True(await ScalarAsync<bool>(ds, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_probe_unique_names'::regclass"));
        });
    }

    private static async Task OnNewDatabaseAsync(bool migrated, Func<NpgsqlDataSource, string, Task> test)
    {
        var cs = migrated ? await TestCluster.CreateMigratedDatabaseAsync() : await TestCluster.CreateEmptyDatabaseAsync();
        try
        {
            await using var ds = NpgsqlDataSource.Create(cs);
            await test(ds, cs);
        }
        finally
        {
            await TestCluster.DropDatabaseAsync(cs);
        }
    }
}
