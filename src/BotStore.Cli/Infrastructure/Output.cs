using System.Text.Json;
using Spectre.Console;

namespace BotStore.Cli.Infrastructure;

/// <summary>How verbs print: aligned tables for people, snake_case JSON for machines.</summary>
internal static class Output
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    public static readonly JsonSerializerOptions CompactJsonOptions = new(JsonOptions) { WriteIndented = false };

    public static void Json<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>A table with the given headers; right-aligns columns whose header starts with '>'.</summary>
    public static Table Table(params string[] headers)
    {
        var table = new Table().Border(TableBorder.Simple);
        foreach (var h in headers)
        {
            var column = new TableColumn(Markup.Escape(h.TrimStart('>')));
            if (h.StartsWith('>'))
                column.RightAligned();
            table.AddColumn(column);
        }
        return table;
    }

    public static void Row(this Table table, params object?[] cells) =>
        table.AddRow(cells.Select(c => Markup.Escape(Format(c))).ToArray());

    public static void Print(Table table) => AnsiConsole.Write(table);

    public static void Line(string text) => Console.Out.WriteLine(text);

    public static string Bytes(long bytes) => bytes switch
    {
        < 0 => "-",
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.#} kB",
        < 1024L * 1024 * 1024 => $"{bytes / (1024.0 * 1024):0.#} MB",
        _ => $"{bytes / (1024.0 * 1024 * 1024):0.##} GB",
    };

    private static string Format(object? value) => value switch
    {
        null => "",
        DateTimeOffset d => d.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
