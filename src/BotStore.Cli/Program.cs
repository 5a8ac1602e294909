[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]

return await BotStore.Cli.BotStoreCli.RunAsync(args);
