using BotStore.Tooling.Embedded;
using Npgsql;

namespace BotStore.Tests.Infrastructure;

/// <summary>
/// One statement and its first value, for tests that hold a connection, a data source, a cluster or only a connection
/// string (<c>using static</c>, so a call reads as <c>ScalarAsync&lt;int&gt;(conn, "SELECT 1")</c>).
/// </summary>
internal static class TestSql
{
    public static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync();
    }

    public static async Task<T> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql)
    {
        await using var cmd = dataSource.CreateCommand(sql);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// On a connection of its own, outside any pool: the servers of some tests stop between statements, and the
    /// databases of others are dropped after, which a pooled connection would outlive.
    /// </summary>
    public static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString + ";Pooling=false");
        await connection.OpenAsync();
        return await ScalarAsync<T>(connection, sql);
    }

    /// <inheritdoc cref="ScalarAsync{T}(string, string)"/>
    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString + ";Pooling=false");
        await connection.OpenAsync();
        await ExecuteAsync(connection, sql);
    }

    public static Task<T> ScalarAsync<T>(EmbeddedPostgres cluster, string sql) => ScalarAsync<T>(cluster.ConnectionString, sql);

    public static Task ExecuteAsync(EmbeddedPostgres cluster, string sql) => ExecuteAsync(cluster.ConnectionString, sql);
}
