using System.CommandLine;
using System.Text.Json;
using BotStore.Cli;
using BotStore.Enums;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Foundation;

/// <summary>The real <c>botstore</c> CLI, run as a child process.</summary>
public sealed class CliTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Enums_json_prints_every_catalog_entry_as_domain_value_name_description()
    {
        var result = await Infrastructure.Cli.RunAsync(["enums", "--json"]);
        Assert.True(result.ExitCode == 0, result.Stderr);

        using var json = JsonDocument.Parse(result.Stdout);
        var entries = json.RootElement.EnumerateArray().ToList();
        Assert.All(entries, e => Assert.Equal(["domain", "value", "name", "description"], e.EnumerateObject().Select(p => p.Name)));
        var parsed = entries.Select(e => new EnumEntry(e.GetProperty("domain").GetString()!, e.GetProperty("value").GetInt16(),
            e.GetProperty("name").GetString()!, e.GetProperty("description").GetString()!));
        Assert.Equal(EnumCatalog.Entries, parsed);
        Assert.Contains(entries, e => e.GetRawText() == """{"domain":"task_status","value":4,"name":"waiting_approval","description":"Needs approval"}""");
    }

    [Fact]
    public async Task Pgbouncer_config_has_one_database_option_with_one_meaning_and_shards_apart()
    {
        var help = await Infrastructure.Cli.RunAsync(["pgbouncer", "config", "--help"]);
        Assert.True(help.ExitCode == 0, help.Stderr);
        Assert.Single(Lines(help.Stdout), l => l.TrimStart().StartsWith("--database ", StringComparison.Ordinal));
        Assert.Single(Lines(help.Stdout), l => l.TrimStart().StartsWith("--shard ", StringComparison.Ordinal));

        // --database: the one database, as for every verb (not reached: PgBouncer's config only describes it).
        var one = await Infrastructure.Cli.RunAsync(["pgbouncer", "config", "--database", "postgres://app:pw@db.example:5433/solo"]);
        Assert.True(one.ExitCode == 0, one.Stderr);
        Assert.Contains("solo = host=db.example port=5433 dbname=solo", one.Stdout, StringComparison.Ordinal);

        var two = await Infrastructure.Cli.RunAsync(["pgbouncer", "config",
            "--shard", "west=postgres://app:pw@west.example:5432/botstore", "--shard", "east=postgres://app:pw@east.example:5432/botstore"]);
        Assert.True(two.ExitCode == 0, two.Stderr);
        Assert.Contains("west = host=west.example port=5432 dbname=botstore", two.Stdout, StringComparison.Ordinal);
        Assert.Contains("east = host=east.example port=5432 dbname=botstore", two.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enums_with_an_unknown_domain_fails_with_one_line_naming_the_domains()
    {
        var result = await Infrastructure.Cli.RunAsync(["enums", "--domain", "nope"]);
        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(Lines(result.Stderr));
        Assert.All(EnumCatalog.Domains, d => Assert.Contains(d.Name, line, StringComparison.Ordinal));
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task Migrate_applies_everything_on_an_empty_database_then_has_nothing_to_do()
    {
        var cs = await TestCluster.CreateEmptyDatabaseAsync();
        try
        {
            var first = await Infrastructure.Cli.RunAsync(["migrate", "--database", cs]);
            Assert.True(first.ExitCode == 0, first.Stderr);
            foreach (var m in BotStore.Schema.Migration.All)
                Assert.Contains($"Applied {m}", first.Stdout, StringComparison.Ordinal);

            var second = await Infrastructure.Cli.RunAsync(["migrate", "--database", cs]);
            Assert.True(second.ExitCode == 0, second.Stderr);
            Assert.Contains("Nothing to migrate", second.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("Applied", second.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            await TestCluster.DropDatabaseAsync(cs);
        }
    }

    [Fact]
    public async Task Db_status_json_lists_the_partitions()
    {
        var result = await Infrastructure.Cli.RunAsync(["db", "status", "--json", "--database", db.ConnectionString]);
        Assert.True(result.ExitCode == 0, result.Stderr);

        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal(db.Name, json.RootElement.GetProperty("database").GetString());
        var partitions = json.RootElement.GetProperty("partitions").EnumerateArray()
            .Select(p => (Parent: p.GetProperty("parent").GetString(), Name: p.GetProperty("name").GetString())).ToList();
        var month = DateTime.UtcNow.ToString("yyyy_MM", System.Globalization.CultureInfo.InvariantCulture);
        foreach (var table in new[] { "message_history", "analytics_events" })
        {
            Assert.Contains((table, $"{table}_default"), partitions);
            Assert.Contains((table, $"{table}_{month}"), partitions);
        }
        var inDatabase = await db.ScalarAsync<long>(
            "SELECT count(*) FROM pg_inherits WHERE inhparent IN ('message_history'::regclass, 'analytics_events'::regclass)");
        Assert.Equal(inDatabase, partitions.Count);
    }

    [Fact]
    public async Task An_unreachable_database_fails_with_one_line_that_hides_the_password()
    {
        var result = await Infrastructure.Cli.RunAsync(["migrate", "--database", "postgres://u:Sw0rdfish-secret@127.0.0.1:1/x"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Single(Lines(result.Stderr));
        Assert.DoesNotContain("Sw0rdfish", result.Stderr + result.Stdout, StringComparison.Ordinal);
        Assert.Contains("postgres://u:***@127.0.0.1:1/x", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_server_binaries_fail_with_one_line_naming_the_package()
    {
        var folder = TestCluster.NewTempFolder("botstore-nobin");
        try
        {
            var dataDir = Path.Combine(folder, "pg");
            var result = await Infrastructure.Cli.RunAsync(["migrate", "--data-dir", dataDir], new Dictionary<string, string> { ["BOTSTORE_PG_BIN"] = "/nonexistent" });
            Assert.Equal(1, result.ExitCode);
            var line = Assert.Single(Lines(result.Stderr));
            Assert.Contains("apt-get install postgresql", line, StringComparison.Ordinal);
            Assert.False(Directory.Exists(dataDir), "a data folder was made although nothing could run in it");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Every_verb_has_help()
    {
        var verbs = Verbs(BotStoreCli.CreateRootCommand(), []).ToList();
        Assert.Contains(["db", "status"], verbs);
        var results = await Task.WhenAll(verbs.Select(async verb => (Verb: verb, Result: await Infrastructure.Cli.RunAsync([.. verb, "--help"]))));
        Assert.All(results, r =>
        {
            Assert.True(r.Result.ExitCode == 0, $"botstore {string.Join(' ', r.Verb)} --help: exit {r.Result.ExitCode} {r.Result.Stderr}");
            Assert.Contains("Usage:", r.Result.Stdout, StringComparison.Ordinal);
            Assert.Contains("  botstore", r.Result.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("BotStore.Cli", r.Result.Stdout, StringComparison.Ordinal);
            Assert.Equal("", r.Result.Stderr);
        });
    }

    [Fact]
    public async Task An_unknown_verb_is_one_clear_error()
    {
        var result = await Infrastructure.Cli.RunAsync(["nosuch"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("botstore: Unrecognized command or argument 'nosuch' (see 'botstore --help')", result.Stderr.Trim());
    }

    private static IEnumerable<string[]> Verbs(Command command, string[] path)
    {
        yield return path;
        foreach (var sub in command.Subcommands)
        {
            foreach (var verb in Verbs(sub, [.. path, sub.Name]))
                yield return verb;
        }
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
