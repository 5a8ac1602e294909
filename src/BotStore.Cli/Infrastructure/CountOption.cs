using System.CommandLine;
using BotStore.Tooling;

namespace BotStore.Cli.Infrastructure;

/// <summary>Options that take a count written the way people say it (see <see cref="Counts"/>).</summary>
internal static class CountOption
{
    /// <summary>An option that takes a count with an optional K, M or B suffix.</summary>
    public static Option<long> Create(string name, string description, long defaultValue) => new(name)
    {
        Description = $"{description} (e.g. 10000, 200K, 10M; default {Counts.Format(defaultValue)})",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            if (result.Tokens.Count == 0)
                return defaultValue;
            var text = result.Tokens[0].Value;
            if (Counts.TryParse(text, out var value))
                return value;
            result.AddError($"{name}: '{text}' is not a count (e.g. 10000, 200K, 10M)");
            return defaultValue;
        },
    };
}
