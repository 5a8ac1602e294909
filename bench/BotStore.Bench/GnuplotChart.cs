using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace BotStore.Bench;

/// <summary>
/// A PNG bar chart of every ratio (log scale), green where the target is met, red where not, grey where there is
/// none, the target marked; drawn by gnuplot from Debian's packages, as no chart library is in the registry here.
/// </summary>
internal static class GnuplotChart
{
    /// <summary>Writes the chart; returns why not when gnuplot is missing or fails.</summary>
    public static async Task<string?> WriteAsync(string pngPath, IReadOnlyList<Figure> figures, string title, CancellationToken ct)
    {
        var rows = figures.Where(f => f.Ratio is > 0).ToList();
        if (rows.Count == 0)
            return "no ratios to chart";
        var data = new StringBuilder();
        for (var i = 0; i < rows.Count; i++)
        {
            var f = rows[i];
            var color = f.Met switch { true => 0x2ca02c, false => 0xd62728, null => 0x9e9e9e };
            var label = $"{f.Comparison}: {f.Metric}".Replace("\"", "'", StringComparison.Ordinal);
            data.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{rows.Count - 1 - i} \"{label}\" {f.Ratio:0.######} {(f.Target is null ? "NaN" : f.Target.Ratio.ToString(CultureInfo.InvariantCulture))} {color}"));
        }
        var dataFile = Path.ChangeExtension(pngPath, ".dat.tmp");
        await File.WriteAllTextAsync(dataFile, data.ToString(), ct);
        var height = Math.Max(400, 140 + 22 * rows.Count);
        var script = $"""
            set terminal pngcairo size 1100,{height} font "sans,9" noenhanced
            set output '{pngPath}'
            set title "{title.Replace("\"", "'", StringComparison.Ordinal)}"
            set logscale x
            set xlabel "ratio (measured / against), log scale; bars from 1x: green = target met, red = missed, grey = no target"
            set ytics nomirror
            set yrange [-0.7:{rows.Count - 0.3}]
            set grid xtics
            set key bottom right
            set style fill solid 0.85 noborder
            set arrow from 1, graph 0 to 1, graph 1 nohead dt 2 lc rgb "black"
            plot '{dataFile}' using 3:1:($3 < 1 ? $3 : 1):($3 < 1 ? 1 : $3):($1 - 0.35):($1 + 0.35):5:ytic(2) with boxxyerror lc rgb variable notitle, \
                 '' using 4:1 with points pt 9 ps 1.6 lc rgb "black" title "target"
            """;
        try
        {
            var psi = new ProcessStartInfo("gnuplot") { RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            using var process = Process.Start(psi)!;
            await process.StandardInput.WriteAsync(script.AsMemory(), ct);
            process.StandardInput.Close();
            var error = await process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            return process.ExitCode == 0 && File.Exists(pngPath) ? null : $"gnuplot failed: {error.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "gnuplot is not installed (scripts/ensure-deps.sh bench installs it)";
        }
        finally
        {
            File.Delete(dataFile);
        }
    }
}
