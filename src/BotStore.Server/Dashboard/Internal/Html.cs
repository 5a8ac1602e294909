using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace BotStore.Server.Dashboard.Internal;

/// <summary>
/// A small HTML writer: every piece of text goes through <see cref="HtmlEncoder"/>, markup is written only by the
/// dashboard's own code. Pages are short, so plain string building reads better than a template engine here.
/// </summary>
internal sealed class Html
{
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Default;
    private readonly StringBuilder _sb = new();

    /// <summary>Writes encoded text.</summary>
    public Html Text(object? value)
    {
        _sb.Append(Encoder.Encode(value switch
        {
            null => "",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        }));
        return this;
    }

    /// <summary>Writes markup as it is (only ever literals and other <see cref="Html"/> output).</summary>
    public Html Raw(string markup)
    {
        _sb.Append(markup);
        return this;
    }

    /// <summary>An element with encoded text content: <c>&lt;tag class="..."&gt;text&lt;/tag&gt;</c>.</summary>
    public Html El(string tag, object? text, string? cssClass = null)
    {
        _sb.Append('<').Append(tag);
        if (cssClass is not null)
            _sb.Append(" class=\"").Append(Encoder.Encode(cssClass)).Append('"');
        _sb.Append('>');
        Text(text);
        _sb.Append("</").Append(tag).Append('>');
        return this;
    }

    /// <summary>An attribute value, encoded, for use inside hand-written markup.</summary>
    public static string Attr(object? value) => Encoder.Encode(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "");

    /// <summary>A table: headers (a leading '&gt;' right-aligns a column) and rows of cells (text, or <see cref="Markup"/>).</summary>
    public Html Table(string[] headers, IEnumerable<object?[]> rows, string? id = null, string? empty = null)
    {
        var right = headers.Select(h => h.StartsWith('>')).ToArray();
        _sb.Append("<table").Append(id is null ? "" : $" id=\"{Attr(id)}\"").Append("><thead><tr>");
        for (var i = 0; i < headers.Length; i++)
            _sb.Append(right[i] ? "<th class=\"num\">" : "<th>").Append(Encoder.Encode(headers[i].TrimStart('>'))).Append("</th>");
        _sb.Append("</tr></thead><tbody>");
        var any = false;
        foreach (var row in rows)
        {
            any = true;
            _sb.Append("<tr>");
            for (var i = 0; i < row.Length; i++)
            {
                _sb.Append(i < right.Length && right[i] ? "<td class=\"num\">" : "<td>");
                if (row[i] is Markup m)
                    _sb.Append(m.Value);
                else
                    Text(row[i]);
                _sb.Append("</td>");
            }
            _sb.Append("</tr>");
        }
        if (!any && empty is not null)
            _sb.Append("<tr><td class=\"empty\" colspan=\"").Append(headers.Length).Append("\">").Append(Encoder.Encode(empty)).Append("</td></tr>");
        _sb.Append("</tbody></table>");
        return this;
    }

    /// <summary>A hidden antiforgery field, for every POST form.</summary>
    public Html Antiforgery(DashboardPage page) =>
        Raw($"<input type=\"hidden\" name=\"{Attr(page.Antiforgery.FormFieldName)}\" value=\"{Attr(page.Antiforgery.RequestToken)}\">");

    public override string ToString() => _sb.ToString();

    /// <summary>Bytes as B, kB, MB, GB.</summary>
    public static string Bytes(long? bytes) => bytes switch
    {
        null => "",
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => F($"{bytes / 1024.0:0.#} kB"),
        < 1024L * 1024 * 1024 => F($"{bytes / 1048576.0:0.#} MB"),
        _ => F($"{bytes / 1073741824.0:0.##} GB"),
    };

    /// <summary>A count with thousands separators.</summary>
    public static string Count(long? n) => n is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "";

    /// <summary>A share as a percentage.</summary>
    public static string Percent(double? ratio) => ratio is { } r ? F($"{100 * r:0.#} %") : "";

    /// <summary>Milliseconds, with sensible precision.</summary>
    public static string Ms(double ms) => ms >= 100 ? F($"{ms:N0} ms") : F($"{ms:0.##} ms");

    /// <summary>A UTC time, to the minute.</summary>
    public static string Time(DateTimeOffset? t) => t is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) : "";

    /// <summary>A duration in words: 42 s, 3 min, 5 h, 2 d.</summary>
    public static string Duration(double? seconds) => seconds switch
    {
        null => "",
        < 1 => F($"{seconds * 1000:0} ms"),
        < 120 => F($"{seconds:0.#} s"),
        < 7200 => F($"{seconds / 60:0} min"),
        < 172800 => F($"{seconds / 3600:0} h"),
        _ => F($"{seconds / 86400:0} d"),
    };

    /// <summary>Formats with the invariant culture.</summary>
    public static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A table cell that is already markup.</summary>
internal sealed record Markup(string Value)
{
    public static Markup Badge(bool ok, string okText = "ok", string badText = "problem") =>
        new($"<span class=\"badge {(ok ? "ok" : "bad")}\">{Html.Attr(ok ? okText : badText)}</span>");

    public static Markup Code(string text) => new($"<code>{Html.Attr(text)}</code>");

    /// <summary>A horizontal bar, <paramref name="fraction"/> of the cell wide, with a label.</summary>
    public static Markup Bar(double fraction, string label) =>
        new(Html.F($"<div class=\"bar\"><span style=\"width:{Math.Clamp(fraction, 0, 1) * 100:0.#}%\"></span><em>{Html.Attr(label)}</em></div>"));
}
