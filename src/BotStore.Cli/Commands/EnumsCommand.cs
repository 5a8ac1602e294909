using System.CommandLine;
using BotStore.Cli.Infrastructure;
using BotStore.Enums;
using BotStore.Schema;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore enums</c>: the seed's SMALLINT enum reference, from the catalog.</summary>
internal static class EnumsCommand
{
    public static Command Create()
    {
        var markdown = new Option<bool>("--markdown") { Description = "print docs/enums.md" };
        var sql = new Option<bool>("--sql") { Description = "print DDL that syncs every enum CHECK and column comment with the catalog (for a new migration)" };
        var domain = new Option<string?>("--domain") { Description = "only this domain, e.g. task_status" };
        var command = new Command("enums", "Print the enum reference table (every SMALLINT domain, value, name and description).")
        {
            CommonOptions.Json, markdown, sql, domain,
        };
        command.Runs((parseResult, _) =>
        {
            var domains = parseResult.GetValue(domain) is { } name ? [EnumCatalog.Named(name)] : EnumCatalog.Domains;
            var entries = domains.SelectMany(d => d.Entries).ToArray();
            if (parseResult.GetValue(CommonOptions.Json))
            {
                Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(entries, Output.CompactJsonOptions));
            }
            else if (parseResult.GetValue(markdown))
            {
                Console.Out.Write(EnumDocs.Markdown());
            }
            else if (parseResult.GetValue(sql))
            {
                Console.Out.WriteLine(EnumColumns.SyncSql());
            }
            else
            {
                var table = Output.Table("domain", ">value", "name", "description");
                foreach (var e in entries)
                    table.Row(e.Domain, e.Value, e.Name, e.Description);
                Output.Print(table);
            }
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }
}
