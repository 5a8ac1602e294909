using BotStore.Data;
using BotStore.Schema;
using BotStore.Tests.Infrastructure;
using Npgsql;
using static BotStore.Tests.Infrastructure.TestSql;

namespace BotStore.Tests.Foundation;

/// <summary>Tenant names are unique (migration 0023): a taken name is a conflict everywhere, and old duplicates stop the migration with a clear error.</summary>
public sealed class TenantNameTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Creating_a_tenant_with_a_taken_name_is_a_conflict_and_changes_nothing()
    {
        var tenants = new TenantStore(db.DataSource);
        var name = $"unique-{Guid.NewGuid():N}"[..20];
        var (first, _) = await tenants.CreateAsync(name);

        var taken = await Assert.ThrowsAsync<BotStoreConflictException>(() => tenants.CreateAsync($"  {name} "));
        Assert.Equal("a tenant with this name already exists", taken.Message);
        Assert.Equal(1, await db.ScalarAsync<long>("SELECT count(*) FROM tenants WHERE name = $1", name));
        Assert.Equal(1, await db.ScalarAsync<long>("SELECT count(*) FROM api_tokens WHERE tenant_id = $1", first.Id));
        Assert.Equal(first, await tenants.FindAsync(name));
    }

    [Fact]
    public async Task The_cli_refuses_a_taken_name_with_one_line_and_a_non_zero_exit()
    {
        var name = $"cli-{Guid.NewGuid():N}"[..16];
        var created = await Infrastructure.Cli.RunAsync(["tenants", "create", name, "--database", db.ConnectionString]);
        Assert.True(created.ExitCode == 0, created.Stderr);

        var again = await Infrastructure.Cli.RunAsync(["tenants", "create", name, "--database", db.ConnectionString]);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Equal("botstore: a tenant with this name already exists", Assert.Single(again.Stderr.Trim().Split('\n')));
        Assert.Equal("", again.Stdout);
        Assert.Equal(1, await db.ScalarAsync<long>("SELECT count(*) FROM tenants WHERE name = $1", name));
    }

    [Fact]
    public async Task Duplicates_from_before_stop_migration_0023_with_one_error_naming_them_until_they_are_renamed()
    {
        var cs = await TestCluster.CreateEmptyDatabaseAsync();
        try
        {
            await using var ds = NpgsqlDataSource.Create(cs);
            await new MigrationRunner(ds, [.. Migration.All.Where(m => m.Version < 23)]).MigrateAsync();
            await using (var insert = ds.CreateCommand("INSERT INTO tenants (name) VALUES ('twin'), ('twin'), ('solo'), ('pair'), ('pair')"))
                await insert.ExecuteNonQueryAsync();

            var refused = await Assert.ThrowsAsync<BotStoreMigrationException>(() => new MigrationRunner(ds).MigrateAsync());
            Assert.Contains("0023_unique_tenant_names failed", refused.Message, StringComparison.Ordinal);
            Assert.Contains("tenant names must be unique before migration 0023, but these are taken more than once: 'pair' (ids ", refused.Message, StringComparison.Ordinal);
            Assert.Contains("'twin' (ids ", refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("solo", refused.Message, StringComparison.Ordinal);
            Assert.Equal(22, await ScalarAsync<int>(ds, "SELECT max(version) FROM schema_migrations"));
            Assert.False(await ScalarAsync<bool>(ds, "SELECT to_regclass('tenants_name_key') IS NOT NULL"));

            await using (var rename = ds.CreateCommand("UPDATE tenants SET name = name || ' (' || id || ')' WHERE name IN ('twin', 'pair')"))
                await rename.ExecuteNonQueryAsync();
            Assert.Contains((await new MigrationRunner(ds).MigrateAsync()).Applied, m => m.Version == 23);
            Assert.True(await ScalarAsync<bool>(ds, "SELECT indisunique AND indisvalid FROM pg_index WHERE indexrelid = 'tenants_name_key'::regclass"));
        }
        finally
        {
            await TestCluster.DropDatabaseAsync(cs);
        }
    }
}
