using System.Globalization;

namespace BotStore.Tooling;

/// <summary>Counts written the way people say them: 10000, 200K, 1.5M, 10M, 1B.</summary>
public static class Counts
{
    /// <summary>Reads 10000, 200K, 1.5M, 10M or 1B (underscores allowed); false when it is not a count.</summary>
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
