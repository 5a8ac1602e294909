using System.CommandLine;
using BotStore.Cli.Infrastructure;
using BotStore.Server;
using BotStore.Data;
using BotStore.Schema;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore serve</c>: the HTTP API and its background workers.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = "where to listen", DefaultValueFactory = _ => new ServeOptions().Urls };
        var noMigrate = new Option<bool>("--no-migrate") { Description = "refuse to start when migrations are pending, instead of applying them" };
        var maxContent = new Option<int>("--max-content-bytes") { Description = "largest message content accepted", DefaultValueFactory = _ => new ServeOptions().MaxContentBytes };
        var command = new Command("serve", "Run the HTTP API (REST under /v1, OpenAPI at /openapi/v1.json) with its background workers.")
        {
            urls, noMigrate, maxContent,
        };
        command.Runs(async (parseResult, ct) =>
        {
            var options = new ServeOptions { Urls = parseResult.GetValue(urls)!, MaxContentBytes = parseResult.GetValue(maxContent) };
            if (options.MaxContentBytes < 1)
                throw new BotStoreValidationException("--max-content-bytes must be positive");
            await using var target = await DatabaseTarget.OpenAsync(parseResult, ct);
            var runner = new MigrationRunner(target.DataSource);
            if (parseResult.GetValue(noMigrate))
            {
                var pending = await runner.PendingAsync(ct);
                if (pending.Count > 0)
                    throw new BotStoreMigrationException($"{pending.Count} migration(s) pending ({string.Join(", ", pending)}): run 'botstore migrate' or start without --no-migrate");
            }
            else
            {
                foreach (var m in (await runner.MigrateAsync(ct)).Applied)
                    Output.Line($"Applied {m}");
            }

            await using var app = ServeApp.Build(target.DataSource, options,
                configure: target.Embedded is { } cluster ? s => s.AddSingleton(cluster).AddHostedService<EmbeddedClusterSupervisor>() : null);
            await app.StartAsync(ct);
            Output.Line($"BotStore API on {string.Join(", ", app.Urls)} (database: {target.Description}). Ctrl+C stops it.");
            if ((await new TenantStore(target.DataSource).ListAsync(limit: 1, ct: ct)).Items.Count == 0)
                PrintFirstSteps(app.Urls.First(), parseResult.GetValue(CommonOptions.DataDir)!);
            await app.WaitForShutdownAsync(ct);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void PrintFirstSteps(string url, string dataDir)
    {
        var dirArg = dataDir == Tooling.Embedded.EmbeddedPostgresOptions.DefaultDataDirectory ? "" : $" --data-dir {dataDir}";
        Output.Line($$"""

            No tenants yet. In another terminal, create one and store a first message:
              TOKEN=$(./botstore tenants create acme{{dirArg}} --json | sed -n -E 's/.*"token": *"([^"]+)".*/\1/p')
              BOT=$(curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"name":"helper","llm_provider":"openai"}' {{url}}/v1/bots | sed -E 's/.*"id": *"([^"]+)".*/\1/')
              USER=$(curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"external_id":"u1","display_name":"Ana"}' {{url}}/v1/users | sed -E 's/.*"id": *"([^"]+)".*/\1/')
              SESSION=$(curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "{\"user_id\":\"$USER\",\"bot_id\":\"$BOT\",\"channel\":\"web\",\"title\":\"hello\"}" {{url}}/v1/sessions | sed -E 's/.*"id": *"([^"]+)".*/\1/')
              curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"role":"user","message_type":"text","content":"Hi!"}' {{url}}/v1/sessions/$SESSION/messages
            The API is described at {{url}}/openapi/v1.json.

            """);
    }
}
