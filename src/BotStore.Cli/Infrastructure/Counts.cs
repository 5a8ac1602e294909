using System.CommandLine;
using System.Globalization;

namespace BotStore.Cli.Infrastructure;

/// <summary>Counts written the way people say them: 10000, 200K, 1.5M, 10M, 1B.</summary>
internal static class Counts
{
    /// <summary>An option that takes a count with an optional K, M or B suffix.</summary>
    public static Option<long> Option(string name, string description, long defaultValue) => new(name)
    {
        Description = $"{description} (e.g. 10000, 200K, 10M; default {Format(defaultValue)})",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            if (result.Tokens.Count == 0)
                return defaultValue;
            var text = result.Tokens[0].Value;
            if (TryParse(text, out var value))
                return value;
            result.AddError($"{name}: '{text}' is not a count (e.g. 10000, 200K, 10M)");
            return defaultValue;
        },
    };

    public static bool TryParse(string text, out long value)
    {
        value = 0;
        text = text.Trim().Replace("_", "", StringComparison.Ordinal);
        if (text.Length == 0)
            return false;
        var multiplier = char.ToUpperInvariant(text[^1]) switch { 'K' => 1e3, 'M' => 1e6, 'B' or 'G' => 1e9, _ => 1 };
        if (multiplier > 1)
            text = text[..^1];
        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) || number * multiplier > long.MaxValue)
            return false;
        value = (long)Math.Round(number * multiplier);
        return true;
    }

    /// <summary>A count for people: 950, 12.5K, 10M.</summary>
    public static string Format(double n) => n switch
    {
        >= 1e9 => (n / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + "B",
        >= 1e6 => (n / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "M",
        >= 1e4 => (n / 1e3).ToString("0.#", CultureInfo.InvariantCulture) + "K",
        >= 100 => n.ToString("0", CultureInfo.InvariantCulture),
        _ => n.ToString("0.##", CultureInfo.InvariantCulture),
    };
}
