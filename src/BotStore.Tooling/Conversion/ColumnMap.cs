using System.Globalization;
using BotStore.Enums;

namespace BotStore.Tooling.Conversion;

/// <summary>
/// An operator's mapping of one column: <c>table.column=domain</c> (one of the enum catalog's domains) or
/// <c>table.column=value:number,value:number</c> (an explicit list, for columns that are not BotStore's domains).
/// </summary>
/// <param name="Table">The table as written (<c>name</c> or <c>schema.name</c>).</param>
/// <param name="Column">The column.</param>
/// <param name="Domain">The catalog domain, or null for an explicit list.</param>
/// <param name="Values">Text value to number.</param>
public sealed record ColumnMap(string Table, string Column, string? Domain, IReadOnlyDictionary<string, short> Values)
{
    /// <summary>Parses <c>table.column=domain</c> or <c>table.column=value:number,...</c>; throws <see cref="BotStoreValidationException"/> on bad input.</summary>
    public static ColumnMap Parse(string spec)
    {
        var (table, column, right) = Split(spec);
        if (!right.Contains(':', StringComparison.Ordinal))
        {
            var domain = EnumCatalog.Named(right);
            return new ColumnMap(table, column, domain.Name, domain.Entries.ToDictionary(e => e.Name, e => e.Value, StringComparer.Ordinal));
        }
        return new ColumnMap(table, column, null, ParseValues(right, spec));
    }

    /// <summary>Parses <c>table.column=value:number,...</c> only (what <c>--map-unknown</c> takes).</summary>
    public static ColumnMap ParseList(string spec)
    {
        var (table, column, right) = Split(spec);
        return new ColumnMap(table, column, null, ParseValues(right, spec));
    }

    /// <summary>The domain's mapping when the column follows a catalog domain.</summary>
    public static ColumnMap ForDomain(string table, string column, EnumDomain domain) =>
        new(table, column, domain.Name, domain.Entries.ToDictionary(e => e.Name, e => e.Value, StringComparer.Ordinal));

    private static (string Table, string Column, string Right) Split(string spec)
    {
        var eq = spec.IndexOf('=', StringComparison.Ordinal);
        var left = eq < 0 ? spec : spec[..eq];
        var dot = left.LastIndexOf('.');
        if (eq < 0 || dot <= 0 || dot == left.Length - 1 || eq == spec.Length - 1)
            throw new BotStoreValidationException($"mapping '{spec}' is not table.column=domain or table.column=value:number,...");
        return (left[..dot].Trim(), left[(dot + 1)..].Trim(), spec[(eq + 1)..].Trim());
    }

    private static Dictionary<string, short> ParseValues(string list, string spec)
    {
        var values = new Dictionary<string, short>(StringComparer.Ordinal);
        var numbers = new Dictionary<short, string>();
        foreach (var pair in list.Split(','))
        {
            var colon = pair.LastIndexOf(':');
            if (colon <= 0 || !short.TryParse(pair[(colon + 1)..].Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
                throw new BotStoreValidationException($"mapping '{spec}': '{pair}' is not value:number with a number from -32768 to 32767");
            var value = pair[..colon];
            if (!values.TryAdd(value, number))
                throw new BotStoreValidationException($"mapping '{spec}' lists the value '{value}' twice");
            if (!numbers.TryAdd(number, value))
                throw new BotStoreValidationException($"mapping '{spec}' gives the number {number} to both '{numbers[number]}' and '{value}'");
        }
        return values;
    }
}
