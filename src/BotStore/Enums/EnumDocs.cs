using System.Text;

namespace BotStore.Enums;

/// <summary>Renders <c>docs/enums.md</c> from the catalog; a test fails when the checked-in file drifts.</summary>
public static class EnumDocs
{
    /// <summary>The markdown reference of every domain.</summary>
    public static string Markdown()
    {
        var sb = new StringBuilder();
        sb.Append("# Enum reference\n\n");
        sb.Append("Generated from the C# enum catalog (`src/BotStore/Enums`) by `./botstore enums --markdown > docs/enums.md`; do not edit by hand.\n");
        sb.Append("Every domain is stored as SMALLINT with a CHECK constraint; JSON and the CLI use the names.\n");
        foreach (var domain in EnumCatalog.Domains)
        {
            sb.Append($"\n## {domain.Name}\n\n| Value | Name | Description |\n|---|---|---|\n");
            foreach (var e in domain.Entries)
                sb.Append($"| {e.Value} | {e.Name} | {e.Description} |\n");
            var columns = Schema.EnumColumns.All.Where(c => c.Domain == domain).Select(c => $"`{c.Table}.{c.Column}`");
            sb.Append($"\nColumns: {string.Join(", ", columns)}\n");
        }
        return sb.ToString();
    }
}
