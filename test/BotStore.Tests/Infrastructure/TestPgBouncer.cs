using BotStore.Tooling.Embedded;
using BotStore.Tooling.PgBouncer;

namespace BotStore.Tests.Infrastructure;

/// <summary>A real PgBouncer in front of one database of a test cluster (by default the shared one), over its unix socket.</summary>
public static class TestPgBouncer
{
    /// <summary>Starts PgBouncer for <paramref name="databaseConnectionString"/> with the seed's settings but <paramref name="poolSize"/> server connections.</summary>
    public static async Task<PgBouncerProcess> StartAsync(string databaseConnectionString, int poolSize, EmbeddedPostgres? cluster = null)
    {
        cluster ??= await TestCluster.GetAsync();
        return await PgBouncerProcess.StartAsync(databaseConnectionString, poolSize, cluster.SocketDirectory);
    }
}
