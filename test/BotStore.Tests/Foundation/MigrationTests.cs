using BotStore.Schema;
using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Foundation;

public sealed class MigrationTests
{
    [Fact]
    public async Task Migrate_on_an_empty_database_applies_everything_then_again_is_a_no_op()
    {
        var cs = await TestCluster.CreateEmptyDatabaseAsync();
        try
        {
            await using var ds = NpgsqlDataSource.Create(cs);
            var first = await new MigrationRunner(ds).MigrateAsync();
            Assert.Equal(Migration.All.Select(m => m.Version), first.Applied.Select(m => m.Version));
            Assert.Equal(0, first.AlreadyApplied);
            Assert.Contains(first.PartitionsCreated, p => p.StartsWith("message_history_", StringComparison.Ordinal));

            var second = await new MigrationRunner(ds).MigrateAsync();
            Assert.Empty(second.Applied);
            Assert.Equal(Migration.All.Count, second.AlreadyApplied);
            Assert.Empty(second.PartitionsCreated);
        }
        finally
        {
            await TestCluster.DropDatabaseAsync(cs);
        }
    }
}
