using Npgsql;

namespace BotStore.Sharding;

/// <summary>
/// One shard: a PostgreSQL database holding whole tenants. <see cref="Tenants"/> carries tenant traffic (it may go
/// through PgBouncer in transaction mode); <see cref="Direct"/> connects straight to the server, for the owner's work
/// that needs a session (migrations, session advisory locks, replication, moves). Both may be the same data source.
/// </summary>
public sealed record Shard(string Name, NpgsqlDataSource Tenants, NpgsqlDataSource Direct)
{
    /// <summary>A shard whose tenant traffic and owner's work share one data source.</summary>
    public Shard(string name, NpgsqlDataSource dataSource) : this(name, dataSource, dataSource) { }
}
