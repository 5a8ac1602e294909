using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using BotStore.Tooling;

namespace BotStore.Bench;

/// <summary>Writes <c>bench/results/&lt;date&gt;-&lt;host&gt;.md</c>: the figures as one markdown table, then what each comparison does.</summary>
internal static class MarkdownReport
{
    public static string Render(BenchReport report, string? chartFile)
    {
        var o = report.Options;
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# BotStore benchmarks, {report.Started:yyyy-MM-dd HH:mm} UTC, {Environment.MachineName}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- Command: `botstore bench {(report.Comparisons.Count == BenchSuite.All.Count ? "all" : string.Join(" ", report.Comparisons.Select(c => c.Name)))}" +
            $"{(o.Quick ? " --quick" : "")} --messages {Counts.Format(o.Messages)} --runs {o.Runs} --seconds {o.Seconds} --clients {string.Join(",", o.Clients)}" +
            $"{(report.Comparisons.Any(c => c.Name == "ingest") ? $" --ingest-rows {Counts.Format(o.IngestRows)}" : "")}" +
            $"{(report.Comparisons.Any(c => c.Name == "crowd") ? $" --crowd {string.Join(",", o.Crowd)}" : "")}{(o.SplitCores ? " --split-cores" : "")}`");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024):0.#} GB, {RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Server: {report.ServerVersion}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Took {report.Elapsed.TotalMinutes:0.0} min. Each figure is the median of {o.Runs} runs; \"spread\" is (max - min) / median over them; sizes are exact (one measurement).");
        if (report.Remark is not null)
            md.AppendLine(CultureInfo.InvariantCulture, $"- Note: {report.Remark}");
        md.AppendLine();
        md.AppendLine("| comparison | metric | measured | against | ratio | target | met |");
        md.AppendLine("|---|---|---|---|---:|---|---|");
        foreach (var f in report.Figures)
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {f.Comparison} | {Escape(f.Metric)} | {Cell(f.Label, f.Value, f.Unit)} | {(f.Reference is null ? "" : Cell(f.ReferenceLabel!, f.Reference, f.Unit))} " +
                $"| {(f.Ratio is { } r ? Ratio(r) : "")} | {f.Target?.ToString() ?? ""} | {f.Met switch { true => "yes", false => "**no**", null => "" }} |");
        }
        foreach (var (name, error) in report.Failures)
            md.AppendLine(CultureInfo.InvariantCulture, $"| {name} | FAILED | {Escape(error)} | | | | **no** |");
        md.AppendLine();
        if (chartFile is not null)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"![ratios]({chartFile})");
            md.AppendLine();
        }
        var notes = report.Figures.Where(f => f.Note is not null).ToList();
        // The run's own notes (what was loaded, how clients were capped, the core split) even when no figure has one.
        if (notes.Count > 0 || report.Notes.Count > 0)
        {
            md.AppendLine("## Details");
            md.AppendLine();
            foreach (var f in notes)
                md.AppendLine(CultureInfo.InvariantCulture, $"- {f.Comparison}, {Escape(f.Metric)}: {Escape(f.Note!)}");
            foreach (var n in report.Notes)
                md.AppendLine(CultureInfo.InvariantCulture, $"- {Escape(n)}");
            md.AppendLine();
        }
        md.AppendLine("## What each comparison does");
        md.AppendLine();
        foreach (var c in report.Comparisons)
            md.AppendLine(CultureInfo.InvariantCulture, $"- **{c.Name}**: {Escape(c.Description)}");
        return md.ToString();
    }

    public static string Number(double value) => Math.Abs(value) switch
    {
        >= 1000 => value.ToString("N0", CultureInfo.InvariantCulture),
        >= 100 => value.ToString("0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("0.0", CultureInfo.InvariantCulture),
        >= 0.1 => value.ToString("0.00", CultureInfo.InvariantCulture),
        0 => "0",
        _ => value.ToString("0.000", CultureInfo.InvariantCulture),
    };

    public static string Ratio(double ratio) => (ratio >= 10 ? ratio.ToString("0", CultureInfo.InvariantCulture) : ratio.ToString("0.00", CultureInfo.InvariantCulture)) + "x";

    public static string Cell(string label, Sample sample, string unit) =>
        $"{Escape(label)}: {Number(sample.Median)} {unit}" + (sample.Values.Count > 1 ? $" (spread {sample.SpreadPercent:0}%)" : "");

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);
}
