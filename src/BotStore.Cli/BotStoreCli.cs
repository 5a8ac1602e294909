using System.CommandLine;
using BotStore.Cli.Commands;
using BotStore.Cli.Infrastructure;

namespace BotStore.Cli;

/// <summary>The <c>botstore</c> command: verbs are added here, each defined in <c>Commands/</c>.</summary>
public static class BotStoreCli
{
    /// <summary>Parses and runs; bad usage exits 2 with one line, a failure exits 1 with one line.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        // Piped output has no terminal width (don't wrap tables at 80 columns) and no use for colour or cursor codes.
        if (Console.IsOutputRedirected)
        {
            Spectre.Console.AnsiConsole.Console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
            {
                Ansi = Spectre.Console.AnsiSupport.No,
                ColorSystem = Spectre.Console.ColorSystemSupport.NoColors,
                Interactive = Spectre.Console.InteractionSupport.No,
            });
            Spectre.Console.AnsiConsole.Profile.Width = 250;
        }
        var root = CreateRootCommand();
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && !args.Any(a => a is "-h" or "--help" or "-?"))
        {
            var verb = string.Join(' ', parsed.CommandResult.Command == root ? [] : CommandPath(parsed.CommandResult.Command, root));
            var errors = parsed.Errors.Select(e => e.Message.TrimEnd('.')).ToList();
            // An unknown verb also leaves its parent without a verb: say only the first.
            if (errors.Any(e => e.StartsWith("Unrecognized command or argument", StringComparison.Ordinal)))
                errors.RemoveAll(e => e.StartsWith("Required command was not provided", StringComparison.Ordinal));
            await Console.Error.WriteLineAsync($"botstore: {string.Join("; ", errors)} (see 'botstore {verb}{(verb.Length > 0 ? " " : "")}--help')");
            return ExitCodes.Usage;
        }
        // On SIGTERM or Ctrl+C the verb's token is cancelled; the verb then gets time to finish cleanly (serve drains and
        // stops the embedded cluster it is the last user of) rather than System.CommandLine's default 2 s, after which
        // the process is killed with the cluster left running.
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromMinutes(1) });
    }

    /// <summary>The root command with every verb, for parsing and for tests that walk the verbs.</summary>
    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("BotStore: the PostgreSQL data tier of a multi-tenant conversational bot platform.") { HelpName = "botstore" };
        root.Options.Add(CommonOptions.Database);
        root.Options.Add(CommonOptions.Shard);
        root.Options.Add(CommonOptions.DataDir);
        root.Options.Add(CommonOptions.PgPort);
        foreach (var command in Commands().Concat(BackupCommand.Create()))
            root.Subcommands.Add(command);
        return root;
    }

    private static IEnumerable<Command> Commands() =>
    [
        EnumsCommand.Create(),
        MigrateCommand.Create(),
        DbCommand.Create(),
        ServeCommand.Create(),
        TenantsCommand.Create(),
        ShardsCommand.Create(),
        PartitionsCommand.Create(),
        MaintainCommand.Create(),
        ReportCommand.Create(),
        ExplainCommand.Create(),
        LoadgenCommand.Create(),
        AuditCommand.Create(),
        ConvertCommand.Create(),
        BenchCommand.Create(),
        PgBouncerCommand.Create(),
    ];

    private static IEnumerable<string> CommandPath(Command command, Command root)
    {
        var path = new List<string>();
        for (var c = command; c is not null && c != root; c = c.Parents.OfType<Command>().FirstOrDefault())
            path.Insert(0, c.Name);
        return path;
    }
}
