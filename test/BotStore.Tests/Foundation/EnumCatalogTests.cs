using System.Globalization;
using BotStore.Enums;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Foundation;

public sealed class EnumCatalogTests
{
    // The seed's reference-table headings and the catalog's domain names: the headings are prose ("Channel Types").
    private static readonly Dictionary<string, string> DomainOfHeading = new()
    {
        ["Channel Types"] = "channel_type",
        ["Message Role"] = "message_role",
        ["Message Type"] = "message_type",
        ["LLM Provider"] = "llm_provider",
        ["Task Status"] = "task_status",
        ["Task Priority"] = "task_priority",
        ["Execution Mode"] = "execution_mode",
        ["Risk Level"] = "risk_level",
        ["Approval Status"] = "approval_status",
        ["Intent Type"] = "intent_type",
        ["Memory Type"] = "memory_type",
        ["Sync Status"] = "sync_status",
    };

    [Fact]
    public void The_catalog_holds_exactly_the_seeds_reference_tables_in_order()
    {
        var seed = ParseSeedReference();
        Assert.Equal(12, seed.Count);

        Assert.Equal(seed.Select(d => d.Domain), EnumCatalog.Domains.Select(d => d.Name));
        foreach (var (domain, entries) in seed)
            Assert.Equal(entries, EnumCatalog.Named(domain).Entries);
    }

    [Fact]
    public void Parse_accepts_a_name_or_a_number()
    {
        Assert.Equal(AutoTaskStatus.WaitingApproval, EnumCatalog.Parse<AutoTaskStatus>("waiting_approval"));
        Assert.Equal(AutoTaskStatus.WaitingApproval, EnumCatalog.Parse<AutoTaskStatus>("4"));
        Assert.Equal(MessageRole.Compact, EnumCatalog.Parse<MessageRole>("compact"));
        Assert.Equal(MessageRole.Compact, EnumCatalog.Parse<MessageRole>("10"));
        Assert.Equal(ChannelType.Web, EnumCatalog.Parse<ChannelType>("0"));
        Assert.Equal("azure_openai", EnumCatalog.NameOf(LlmProvider.AzureOpenai));
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("8")]
    [InlineData("-1")]
    [InlineData("Pending")]
    [InlineData("")]
    public void Parse_refuses_an_unknown_name_or_value_naming_the_domain_and_the_allowed_names(string input)
    {
        var ex = Assert.Throws<BotStoreValidationException>(() => EnumCatalog.Parse<AutoTaskStatus>(input));
        Assert.Contains("task_status", ex.Message, StringComparison.Ordinal);
        Assert.Contains("pending, ready, running, paused, waiting_approval, completed, failed, cancelled", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_number_that_is_a_gap_in_the_domain_is_refused()
    {
        // message_role skips 5..8: a range check would wrongly let them through.
        var ex = Assert.Throws<BotStoreValidationException>(() => EnumCatalog.Parse<MessageRole>("5"));
        Assert.Contains("message_role", ex.Message, StringComparison.Ordinal);
        Assert.Contains("user, assistant, system, tool, episodic, compact", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_domain_is_refused_listing_the_domains()
    {
        var ex = Assert.Throws<BotStoreValidationException>(() => EnumCatalog.Named("nope"));
        foreach (var domain in DomainOfHeading.Values)
            Assert.Contains(domain, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Docs_enums_md_is_the_generated_reference()
    {
        var checkedIn = File.ReadAllText(RepoRoot.File("docs", "enums.md"));
        // Run './botstore enums --markdown > docs/enums.md' when this fails.
        Assert.Equal(EnumDocs.Markdown(), checkedIn);
    }

    /// <summary>The tables under the seed's "## Enum Value Reference", by "### Heading", rows in file order.</summary>
    private static List<(string Domain, List<EnumEntry> Entries)> ParseSeedReference()
    {
        var lines = File.ReadAllLines(RepoRoot.File("docs", "seed.md"));
        var start = Array.FindIndex(lines, l => l.Trim() == "## Enum Value Reference");
        Assert.True(start >= 0, "docs/seed.md has no '## Enum Value Reference' section");

        var result = new List<(string Domain, List<EnumEntry> Entries)>();
        foreach (var raw in lines.Skip(start + 1))
        {
            var line = raw.Trim();
            if (line.StartsWith("## ", StringComparison.Ordinal))
                break;
            if (line.StartsWith("### ", StringComparison.Ordinal))
            {
                var heading = line[4..].Trim();
                Assert.True(DomainOfHeading.TryGetValue(heading, out var domain), $"the seed has a reference table '{heading}' this test does not map");
                result.Add((domain!, []));
                continue;
            }
            if (!line.StartsWith('|') || line.StartsWith("|---", StringComparison.Ordinal) || line.StartsWith("| Value", StringComparison.Ordinal))
                continue;
            var cells = line.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            Assert.True(cells.Length == 3, $"seed row '{line}' does not have three cells");
            var (current, entries) = result[^1];
            entries.Add(new EnumEntry(current, short.Parse(cells[0], CultureInfo.InvariantCulture), cells[1], cells[2]));
        }
        Assert.All(result, d => Assert.NotEmpty(d.Entries));
        return result;
    }
}
