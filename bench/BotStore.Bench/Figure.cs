using System.Globalization;

namespace BotStore.Bench;

/// <summary>Repeated measurements of one quantity: reported as their median, with the spread between runs.</summary>
internal sealed class Sample
{
    public Sample(IEnumerable<double> values)
    {
        Values = values.Order().ToArray();
        if (Values.Count == 0)
            throw new ArgumentException("a sample needs at least one value", nameof(values));
    }

    public IReadOnlyList<double> Values { get; }

    public double Median => Values.Count % 2 == 1 ? Values[Values.Count / 2] : (Values[Values.Count / 2 - 1] + Values[Values.Count / 2]) / 2;

    public double Min => Values[0];

    public double Max => Values[^1];

    /// <summary>(max - min) / median, in percent: how far apart the runs were.</summary>
    public double SpreadPercent => Median == 0 ? 0 : 100 * (Max - Min) / Math.Abs(Median);

    public static Sample Of(params double[] values) => new(values);
}

/// <summary>Which way is good for a ratio.</summary>
internal enum Better
{
    Higher,
    Lower,
}

/// <summary>What the issue asks of a ratio, e.g. at least 1.0x, or at most 1.5x.</summary>
internal sealed record Target(double Ratio, Better Better)
{
    public bool IsMet(double ratio) => Better == Better.Higher ? ratio >= Ratio : ratio <= Ratio;

    public override string ToString() => (Better == Better.Higher ? "≥ " : "≤ ") + Ratio.ToString("0.##", CultureInfo.InvariantCulture) + "x";
}

/// <summary>
/// One line of the report: a measured quantity (BotStore's side, or the measured state) against its reference
/// (the trusted tool, or the baseline state), their ratio, and the target the ratio should meet.
/// </summary>
internal sealed record Figure(string Comparison, string Metric, string Unit, string Label, Sample Value,
    string? ReferenceLabel = null, Sample? Reference = null, Target? Target = null, string? Note = null)
{
    /// <summary>Value / reference, of the medians.</summary>
    public double? Ratio => Reference is null || Reference.Median == 0 ? null : Value.Median / Reference.Median;

    public bool? Met => Target is not null && Ratio is { } r ? Target.IsMet(r) : null;
}
