using BotStore.Sharding;
using Microsoft.Extensions.Configuration;

namespace BotStore.Server;

/// <summary>
/// One shard from configuration: <c>BotStore:Shards:NAME</c> is its direct URL (a postgres:// URL or a connection
/// string), or a section with <c>Url</c> (direct: migrations, operations, moves) and <c>PgBouncer</c> (where tenant
/// traffic goes, through PgBouncer in transaction mode: nothing prepared, no reset). Shards keep configuration order;
/// the directory lives on <c>BotStore:DirectoryShard</c>, else the first.
/// </summary>
/// <param name="Name">The shard's name (lower-case letters, digits, '-' and '_').</param>
/// <param name="Url">The direct connection.</param>
/// <param name="PgBouncer">The tenant-traffic connection through PgBouncer, or null for direct.</param>
public sealed record ShardOptions(string Name, string Url, string? PgBouncer)
{
    /// <summary>The configuration section of the shards.</summary>
    public const string SectionName = "BotStore:Shards";

    /// <summary>The key naming the directory shard.</summary>
    public const string DirectoryKey = "BotStore:DirectoryShard";

    /// <summary>The shards configured, in order; empty when none.</summary>
    /// <exception cref="BotStoreConfigurationException">A shard without a URL, or a bad name.</exception>
    public static IReadOnlyList<ShardOptions> Read(IConfiguration configuration) =>
        configuration.GetSection(SectionName).GetChildren().Select(section =>
        {
            var url = section.Value ?? section["Url"];
            if (string.IsNullOrWhiteSpace(url))
                throw new BotStoreConfigurationException($"{SectionName}:{section.Key} has no URL: set it to a postgres:// URL, or set its Url");
            return new ShardOptions(ShardNames.Check(section.Key), url, section["PgBouncer"] is { Length: > 0 } pooled ? pooled : null);
        }).ToArray();

    /// <summary>Parses the CLI's <c>--shard NAME=URL</c>.</summary>
    /// <exception cref="BotStoreConfigurationException">Not NAME=URL, or a bad name.</exception>
    public static ShardOptions Parse(string item)
    {
        var equals = item.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || equals == item.Length - 1)
            throw new BotStoreConfigurationException($"'{item}' is not a shard: expected --shard NAME=URL, e.g. --shard east=postgres://botstore@db1/botstore");
        return new ShardOptions(ShardNames.Check(item[..equals]), item[(equals + 1)..], null);
    }
}
