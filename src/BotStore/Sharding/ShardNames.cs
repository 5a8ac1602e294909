using System.Text.RegularExpressions;

namespace BotStore.Sharding;

/// <summary>What a shard may be called: it appears in configuration keys, the directory and CLI arguments.</summary>
public static partial class ShardNames
{
    /// <summary>Throws unless <paramref name="name"/> is 1 to 63 lower-case letters, digits, '-' or '_', starting with a letter.</summary>
    /// <exception cref="BotStoreConfigurationException">The name cannot be a shard name.</exception>
    public static string Check(string name) => Pattern().IsMatch(name)
        ? name
        : throw new BotStoreConfigurationException(
            $"'{name}' cannot name a shard: use 1 to 63 lower-case letters, digits, '-' or '_', starting with a letter");

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,62}$")]
    private static partial Regex Pattern();
}
