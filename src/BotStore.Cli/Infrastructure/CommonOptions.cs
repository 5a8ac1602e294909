using System.CommandLine;
using BotStore.Tooling.Embedded;

namespace BotStore.Cli.Infrastructure;

/// <summary>The options every verb that touches a database understands.</summary>
internal static class CommonOptions
{
    public static readonly Option<string?> Database = new("--database")
    {
        Description = $"PostgreSQL URL (postgres://user:pass@host:port/db) or connection string; default ${DatabaseUrl.EnvironmentVariable}, else the embedded cluster",
        Recursive = true,
    };

    public static readonly Option<string[]> Shard = new("--shard")
    {
        Description = "a shard, NAME=URL (repeat for each; the first holds the tenant directory); default BotStore:Shards in appsettings.json or BOTSTORE__Shards__NAME, else --database",
        Recursive = true,
    };

    public static readonly Option<string> DataDir = new("--data-dir")
    {
        Description = "data folder of the embedded cluster (used when no database is configured)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("BOTSTORE_DATA_DIR") ?? EmbeddedPostgresOptions.DefaultDataDirectory,
        Recursive = true,
    };

    public static readonly Option<int?> PgPort = new("--pg-port")
    {
        Description = $"TCP port of the embedded cluster on 127.0.0.1 (default {EmbeddedPostgresOptions.DefaultPort}, then the port it was created with)",
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json") { Description = "print JSON for machines instead of tables" };
}
