using Npgsql;

namespace BotStore.Tests.Infrastructure;

/// <summary>
/// A fresh, fully migrated database for one test class (<c>IClassFixture&lt;TestDatabase&gt;</c>), on the shared
/// embedded cluster. <see cref="DataSource"/> connects as the superuser that owns it.
/// </summary>
public sealed class TestDatabase : IAsyncLifetime
{
    private NpgsqlDataSource? _dataSource;

    /// <summary>The superuser connection string of this database.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>The owner's data source, with the seed's pool settings.</summary>
    public NpgsqlDataSource DataSource => _dataSource ?? throw new InvalidOperationException("not initialised");

    /// <summary>The database name.</summary>
    public string Name => new NpgsqlConnectionStringBuilder(ConnectionString).Database!;

    public async Task InitializeAsync()
    {
        ConnectionString = await TestCluster.CreateMigratedDatabaseAsync();
        // The seed's pool minimum (10 idle connections) per test database would exhaust the cluster's connections
        // across the classes that run at once; tests keep no idle minimum. Opening a burst of new server
        // connections (40 concurrent appends) took over the seed's 5 s timeout once on a CI machine running every
        // test class at once on two cores; the tests check correctness, not latency, so they wait up to 30 s.
        _dataSource = (ConnectionSettings.Default with { MinConnections = 0, ConnectionTimeoutSeconds = 30 })
            .CreateDataSource(ConnectionString, "botstore-tests");
    }

    public async Task DisposeAsync()
    {
        if (_dataSource is not null)
            await _dataSource.DisposeAsync();
        await TestCluster.DropDatabaseAsync(ConnectionString);
    }

    /// <summary>Runs a statement and returns the first column of the first row.</summary>
    public async Task<T> ScalarAsync<T>(string sql, params object[] args)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        foreach (var arg in args)
            cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>Runs a statement.</summary>
    public async Task ExecuteAsync(string sql, params object[] args)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        foreach (var arg in args)
            cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        await cmd.ExecuteNonQueryAsync();
    }
}
