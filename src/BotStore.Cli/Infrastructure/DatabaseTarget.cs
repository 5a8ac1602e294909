using System.CommandLine;
using BotStore.Tooling.Embedded;
using Npgsql;

namespace BotStore.Cli.Infrastructure;

/// <summary>
/// The database a verb works on: the URL from <c>--database</c> or <c>BOTSTORE_DATABASE_URL</c>, else the embedded
/// cluster in <c>--data-dir</c> (started for the verb, stopped after it unless another process runs it).
/// </summary>
internal sealed class DatabaseTarget : IAsyncDisposable
{
    /// <summary>The database the embedded cluster keeps BotStore's data in.</summary>
    public const string EmbeddedDatabase = "botstore";

    private DatabaseTarget(NpgsqlDataSource dataSource, EmbeddedPostgres? embedded, string connectionString, string description, string given,
        string shardName = Sharding.ShardRouter.DefaultShardName)
    {
        ShardName = shardName;
        GivenConnectionString = given;
        DataSource = dataSource;
        Embedded = embedded;
        ConnectionString = connectionString;
        Description = description;
    }

    /// <summary>The shard this database is (<c>default</c> without <c>--shard</c>).</summary>
    public string ShardName { get; }

    /// <summary>The owner's data source: migrations, maintenance and administration run through it.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>The embedded cluster, when no URL was given.</summary>
    public EmbeddedPostgres? Embedded { get; }

    /// <summary>The connection string as given (URL converted), before any pool settings: for other pools to the same database.</summary>
    public string GivenConnectionString { get; }

    /// <summary>The owner's connection string (with password).</summary>
    public string ConnectionString { get; }

    /// <summary>Where the data lives, for people (no password).</summary>
    public string Description { get; }

    public static async Task<DatabaseTarget> OpenAsync(ParseResult parseResult, CancellationToken ct, ConnectionSettings? settings = null,
        ILoggerFactory? loggerFactory = null)
    {
        settings ??= ConnectionSettings.Default;
        if ((parseResult.GetValue(CommonOptions.Shard) ?? []).Any(v => v.Contains('=')))
            throw new BotStoreConfigurationException($"'{parseResult.CommandResult.Command.Name}' works on one database: give --database, not --shard");
        var url = parseResult.GetValue(CommonOptions.Database) ?? Environment.GetEnvironmentVariable(DatabaseUrl.EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(url))
            return await OpenUrlAsync(url, Sharding.ShardRouter.DefaultShardName, settings, ct, loggerFactory);

        var embedded = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions
        {
            DataDirectory = parseResult.GetValue(CommonOptions.DataDir)!,
            Port = parseResult.GetValue(CommonOptions.PgPort),
        }, ct);
        if (embedded.Created && embedded.LinkedFrom is not null)
            Console.Error.WriteLine($"botstore: the postgres system user cannot enter {Path.GetDirectoryName(embedded.LinkedFrom)}, " +
                                    $"so the cluster's data lives in {embedded.DataDirectory}, linked from {embedded.LinkedFrom}");
        try
        {
            await EnsureDatabaseAsync(embedded, ct);
            var given = embedded.ConnectionStringFor(EmbeddedDatabase);
            var connectionString = settings.Apply(given);
            return new DatabaseTarget(ConnectionSettings.CreateBuilder(connectionString, loggerFactory).Build(), embedded, connectionString,
                $"embedded PostgreSQL {embedded.Binaries.MajorVersion} in {embedded.Location} (127.0.0.1:{embedded.Port}, socket {embedded.SocketDirectory})", given);
        }
        catch
        {
            await embedded.DisposeAsync();
            throw;
        }
    }

    /// <summary>A database given by URL or connection string, checked to answer.</summary>
    /// <exception cref="BotStoreUnavailableException">It does not answer.</exception>
    public static async Task<DatabaseTarget> OpenUrlAsync(string url, string shardName, ConnectionSettings settings, CancellationToken ct,
        ILoggerFactory? loggerFactory = null)
    {
        var connectionString = settings.Apply(url);
        var dataSource = ConnectionSettings.CreateBuilder(connectionString, loggerFactory).Build();
        try
        {
            await CheckReachableAsync(dataSource, DatabaseUrl.Redact(url), ct);
        }
        catch
        {
            await dataSource.DisposeAsync();
            throw;
        }
        return new DatabaseTarget(dataSource, null, connectionString, DatabaseUrl.Redact(url), DatabaseUrl.ToConnectionString(url), shardName);
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        if (Embedded is not null)
            await Embedded.DisposeAsync();
    }

    private static async Task EnsureDatabaseAsync(EmbeddedPostgres embedded, CancellationToken ct)
    {
        await using var admin = NpgsqlDataSource.Create(embedded.ConnectionString);
        await using var exists = admin.CreateCommand("SELECT 1 FROM pg_database WHERE datname = $1");
        exists.Parameters.Add(new NpgsqlParameter { Value = EmbeddedDatabase });
        if (await exists.ExecuteScalarAsync(ct) is not null)
            return;
        await using var create = admin.CreateCommand($"CREATE DATABASE {EmbeddedDatabase}");
        try
        {
            await create.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Another process created it between the check and the CREATE.
        }
    }

    private static async Task CheckReachableAsync(NpgsqlDataSource dataSource, string where, CancellationToken ct)
    {
        try
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
        }
        catch (Exception ex) when (PostgresErrors.Translate(ex) is not null || ex is NpgsqlException)
        {
            var reason = ex is PostgresException pg ? pg.MessageText : (ex.InnerException?.Message ?? ex.Message);
            throw new BotStoreUnavailableException($"cannot connect to {where}: {reason}", ex);
        }
    }
}
