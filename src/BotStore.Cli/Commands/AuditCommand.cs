using System.CommandLine;
using BotStore.Cli.Infrastructure;
using BotStore.Tooling.StorageAudit;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore audit storage</c>: enum-like text columns and alignment padding in any PostgreSQL database.</summary>
internal static class AuditCommand
{
    public static Command Create()
    {
        var sample = CountOption.Create("--sample-rows", "rows sampled per table", 20_000);
        var minRows = CountOption.Create("--min-rows", "skip tables with fewer rows", 1_000);
        var maxDistinct = new Option<int>("--max-distinct") { Description = "at most this many distinct values make a column enum-like (default 64)", DefaultValueFactory = _ => 64 };
        var schema = new Option<string[]>("--schema") { Description = "only this schema (repeatable); default every schema but PostgreSQL's own", AllowMultipleArgumentsPerToken = true };
        var table = new Option<string?>("--table") { Description = "only this table (name or schema.name)" };
        var storage = new Command("storage", "Find text columns that behave like enums and column orders that waste padding, with the savings measured on each table's own rows.")
        {
            sample, minRows, maxDistinct, schema, table, CommonOptions.Json,
        };
        storage.Runs(async (parseResult, ct) =>
        {
            await using var target = await DatabaseTarget.OpenAsync(parseResult, ct);
            var report = await new StorageAudit(target.DataSource).RunAsync(new StorageAuditOptions
            {
                SampleRows = checked((int)parseResult.GetValue(sample)),
                MinRows = parseResult.GetValue(minRows),
                MaxDistinct = parseResult.GetValue(maxDistinct),
                Schemas = parseResult.GetValue(schema) ?? [],
                Table = parseResult.GetValue(table),
            }, ct);
            if (parseResult.GetValue(CommonOptions.Json))
            {
                Output.Json(report);
                return ExitCodes.Ok;
            }
            Print(report, target.Description);
            return ExitCodes.Ok;
        });
        return new Command("audit", "Audit a PostgreSQL database.") { storage };
    }

    private static void Print(StorageAuditReport report, string where)
    {
        Output.Line($"Storage audit of {where}: {report.TablesAudited} tables measured (tuple bytes = line pointer + aligned tuple, per row).");
        Output.Line("");
        Output.Line(report.EnumLikeColumns.Count == 0 ? "No enum-like text columns." : "Enum-like text columns (each converted alone):");
        if (report.EnumLikeColumns.Count > 0)
        {
            var columns = Output.Table("table", "column", "type", ">rows", ">distinct", "values", ">bytes now", ">as smallint",
                ">tuple now", ">tuple after", ">saving/row", ">saving now", ">per 1B rows");
            foreach (var c in report.EnumLikeColumns)
            {
                columns.Row(c.Table, c.Column, c.Type, c.Rows, c.DistinctValues, Values(c.Values), F(c.BytesNow), F(c.BytesAsSmallint),
                    F(c.TupleBytesNow), F(c.TupleBytesAsSmallint), F(c.SavingPerRow), Output.Bytes((long)c.SavingForTable),
                    Output.Bytes((long)c.SavingPerBillionRows));
            }
            Output.Print(columns);
            var tables = Output.Table("table", "columns converted together", ">tuple now", ">tuple after", ">saving/row", ">saving now");
            foreach (var t in report.EnumLikeTables)
                tables.Row(t.Table, string.Join(", ", t.Columns), F(t.TupleBytesNow), F(t.TupleBytesAsSmallint), F(t.SavingPerRow), Output.Bytes((long)t.SavingForTable));
            Output.Print(tables);
        }
        Output.Line(report.Padding.Count == 0 ? "No table wastes alignment padding." : "Column orders that waste alignment padding:");
        if (report.Padding.Count > 0)
        {
            var padding = Output.Table("table", ">rows", ">tuple now", ">reordered", ">saving/row", ">saving now", "padding-free order");
            foreach (var p in report.Padding)
                padding.Row(p.Table, p.Rows, F(p.TupleBytesNow), F(p.TupleBytesReordered), F(p.SavingPerRow), Output.Bytes((long)p.SavingForTable), string.Join(", ", p.SuggestedOrder));
            Output.Print(padding);
        }
    }

    private static string F(double value) => value.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);

    private static string Values(IReadOnlyList<string> values) =>
        values.Count <= 5 ? string.Join(", ", values) : string.Join(", ", values.Take(5)) + $", … (+{values.Count - 5})";
}
