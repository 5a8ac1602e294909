using System.Globalization;
using System.Text;

namespace BotStore.Server.Dashboard.Internal;

/// <summary>
/// A line chart drawn on the server as inline SVG: one series over time, with its latest, lowest and highest
/// values and the time span as labels. No script runs in the browser.
/// </summary>
internal static class SvgChart
{
    private const int Width = 560;
    private const int Height = 150;
    private const int Left = 8;
    private const int Right = 8;
    private const int Top = 24;
    private const int Bottom = 20;

    /// <summary>
    /// The chart as a figure; with fewer than two points it says it is still collecting. The vertical axis starts at
    /// zero unless <paramref name="fromZero"/> is false (a size that only grows reads better from its lowest value).
    /// </summary>
    public static string Line(string id, string title, IReadOnlyList<(DateTimeOffset At, double Value)> points, Func<double, string> format,
        bool fromZero = true)
    {
        var sb = new StringBuilder();
        sb.Append("<figure class=\"chart\" id=\"").Append(Html.Attr(id)).Append("\"><figcaption>").Append(Html.Attr(title));
        if (points.Count > 0)
            sb.Append(" <b>").Append(Html.Attr(format(points[^1].Value))).Append("</b>");
        sb.Append("</figcaption>");
        if (points.Count < 2)
        {
            sb.Append("<p class=\"muted\">collecting samples…</p></figure>");
            return sb.ToString();
        }
        var t0 = points[0].At;
        var span = Math.Max(1, (points[^1].At - t0).TotalSeconds);
        var min = fromZero ? Math.Min(0, points.Min(p => p.Value)) : points.Min(p => p.Value);
        var max = points.Max(p => p.Value);
        if (max <= min)
        {
            // A flat series: draw it mid-height.
            var pad = Math.Max(1, Math.Abs(max) * 0.01);
            (min, max) = (min - pad, max + pad);
        }
        double X(DateTimeOffset at) => Left + (at - t0).TotalSeconds / span * (Width - Left - Right);
        double Y(double v) => Top + (1 - (v - min) / (max - min)) * (Height - Top - Bottom);
        var coords = string.Join(' ', points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.At):0.#},{Y(p.Value):0.#}")));
        var bottom = Height - Bottom;

        sb.Append(Html.F($"<svg viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" role=\"img\" aria-label=\"{Html.Attr(title)}\">"));
        sb.Append(Html.F($"<line class=\"axis\" x1=\"{Left}\" y1=\"{bottom}\" x2=\"{Width - Right}\" y2=\"{bottom}\"/>"));
        sb.Append(Html.F($"<line class=\"grid\" x1=\"{Left}\" y1=\"{Top}\" x2=\"{Width - Right}\" y2=\"{Top}\"/>"));
        sb.Append(Html.F($"<polygon class=\"area\" points=\"{X(points[0].At):0.#},{bottom} {coords} {X(points[^1].At):0.#},{bottom}\"/>"));
        sb.Append("<polyline class=\"line\" points=\"").Append(coords).Append("\"/>");
        sb.Append(Html.F($"<text x=\"{Left}\" y=\"{Top - 6}\">max {Html.Attr(format(points.Max(p => p.Value)))}</text>"));
        if (!fromZero)
            sb.Append(Html.F($"<text x=\"{Width - Right}\" y=\"{Top - 6}\" text-anchor=\"end\">min {Html.Attr(format(points.Min(p => p.Value)))}</text>"));
        sb.Append(Html.F($"<text x=\"{Left}\" y=\"{Height - 4}\">{t0.UtcDateTime:HH:mm} UTC</text>"));
        sb.Append(Html.F($"<text x=\"{Width - Right}\" y=\"{Height - 4}\" text-anchor=\"end\">{points[^1].At.UtcDateTime:HH:mm:ss}</text>"));
        sb.Append("</svg></figure>");
        return sb.ToString();
    }
}
