using System.CommandLine;
using System.Text.Json.Nodes;
using BotStore.Server;
using BotStore.Sharding;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace BotStore.Cli.Infrastructure;

/// <summary>
/// The shards a verb works on: <c>--shard NAME=URL</c> (repeated), else <c>--database</c>, else the shards of the
/// configuration (<c>BotStore:Shards</c> in ./appsettings.json or <c>BOTSTORE__Shards__NAME</c>), else the one
/// database of <see cref="DatabaseTarget"/> (the shard <c>default</c>). Every shard must answer, and no two may be
/// the same database, before anything is changed.
/// </summary>
internal sealed class ShardTargets : IAsyncDisposable
{
    private ShardTargets(IReadOnlyList<DatabaseTarget> targets, string? directoryShard)
    {
        Targets = targets;
        Router = new ShardRouter(targets.Select(t => new Shard(t.ShardName, t.DataSource)), directoryShard);
    }

    /// <summary>One target per shard, in configuration order.</summary>
    public IReadOnlyList<DatabaseTarget> Targets { get; }

    /// <summary>A router over the targets' (direct, owner) data sources.</summary>
    public ShardRouter Router { get; }

    /// <summary>Whether there is one shard.</summary>
    public bool IsSingle => Targets.Count == 1;

    /// <summary>The configuration the CLI reads: ./appsettings.json, then environment variables (BOTSTORE__Shards__NAME).</summary>
    public static IConfiguration Configuration() => new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
        .AddEnvironmentVariables()
        .Build();

    /// <summary>The shards the command line and configuration name, or none (one database).</summary>
    public static IReadOnlyList<ShardOptions> Named(ParseResult parseResult, IConfiguration configuration, bool allowPlacement = false)
    {
        // On 'tenants create', --shard NAME (no '=') names where the tenant goes; everywhere else it must be NAME=URL.
        var given = (parseResult.GetValue(CommonOptions.Shard) ?? []).Where(v => !allowPlacement || v.Contains('=')).ToArray();
        if (given.Length > 0 && parseResult.GetValue(CommonOptions.Database) is not null)
            throw new BotStoreConfigurationException("give --database (one database) or --shard NAME=URL (shards), not both");
        if (given.Length > 0)
            return given.Select(ShardOptions.Parse).ToArray();
        return parseResult.GetValue(CommonOptions.Database) is null ? ShardOptions.Read(configuration) : [];
    }

    /// <summary>The shard a new tenant goes to (<c>tenants create NAME --shard S</c>), or null.</summary>
    public static string? Placement(ParseResult parseResult)
    {
        var names = (parseResult.GetValue(CommonOptions.Shard) ?? []).Where(v => !v.Contains('=')).ToArray();
        return names.Length > 1
            ? throw new BotStoreValidationException($"a tenant goes to one shard, but --shard names {string.Join(", ", names)}")
            : names.SingleOrDefault();
    }

    /// <summary>Opens every shard (or the one database) with <paramref name="settings"/>.</summary>
    /// <exception cref="BotStoreConfigurationException">A name given twice, two shards on one database, a bad --shard.</exception>
    /// <exception cref="BotStoreUnavailableException">A shard does not answer (its name in the message).</exception>
    public static async Task<ShardTargets> OpenAsync(ParseResult parseResult, CancellationToken ct, ConnectionSettings? settings = null,
        IConfiguration? configuration = null, bool allowPlacement = false)
    {
        configuration ??= Configuration();
        var named = Named(parseResult, configuration, allowPlacement);
        if (named.Count == 0)
            return new ShardTargets([await DatabaseTarget.OpenAsync(parseResult, ct, settings)], null);
        if (named.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new BotStoreConfigurationException($"shard '{twice.Key}' is given twice");
        var opened = await Task.WhenAll(named.Select(async s =>
        {
            try
            {
                return (Target: (DatabaseTarget?)await DatabaseTarget.OpenUrlAsync(s.Url, s.Name, settings ?? ConnectionSettings.Default, ct), Error: (Exception?)null);
            }
            catch (BotStoreException ex)
            {
                return (Target: (DatabaseTarget?)null, Error: (Exception?)ex);
            }
        }));
        var targets = opened.Where(o => o.Target is not null).Select(o => o.Target!).ToList();
        try
        {
            if (opened.Select((o, i) => (o.Error, Shard: named[i])).FirstOrDefault(o => o.Error is not null) is { Error: { } error } failed)
                throw new BotStoreUnavailableException($"shard '{failed.Shard.Name}': {error.Message}", error);
            await CheckDistinctAsync(targets, ct);
            return new ShardTargets(targets, configuration[ShardOptions.DirectoryKey]);
        }
        catch
        {
            foreach (var target in targets)
                await target.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Runs a verb's body on every shard in turn. With one shard it is the body; with several, text output gets a
    /// heading per shard and <c>--json</c> one object keyed by shard name. A shard that fails is reported on stderr
    /// (named) and the others still run; the exit code is the worst.
    /// </summary>
    public static async Task<int> EachAsync(ParseResult parseResult, CancellationToken ct, Func<DatabaseTarget, Task<int>> body)
    {
        await using var shards = await OpenAsync(parseResult, ct);
        if (shards.IsSingle)
            return await body(shards.Targets[0]);
        var json = parseResult.GetValue(CommonOptions.Json);
        var merged = new JsonObject();
        var worst = ExitCodes.Ok;
        var stdout = Console.Out;
        foreach (var target in shards.Targets)
        {
            using var captured = new StringWriter();
            if (json)
                Console.SetOut(captured);
            else
                Output.Line($"== shard {target.ShardName}: {target.Description}");
            try
            {
                worst = Math.Max(worst, await body(target));
            }
            catch (Exception ex) when (ex is BotStoreException || PostgresErrors.Translate(ex) is not null)
            {
                var error = ex as BotStoreException ?? PostgresErrors.Translate(ex)!;
                await Console.Error.WriteLineAsync($"botstore: shard '{target.ShardName}': {error.Message.ReplaceLineEndings(" ")}");
                worst = Math.Max(worst, ExitCodes.Failure);
            }
            finally
            {
                Console.SetOut(stdout);
            }
            if (json)
                merged[target.ShardName] = captured.ToString() is { Length: > 0 } text ? JsonNode.Parse(text) : null;
        }
        if (json)
            Output.Line(merged.ToJsonString(Output.JsonOptions));
        return worst;
    }

    /// <summary>The tenant with this id or name, and the target of the shard that holds it.</summary>
    /// <exception cref="BotStoreNotFoundException">No such tenant.</exception>
    public async Task<(Data.Tenant Tenant, DatabaseTarget Target)> FindTenantAsync(string idOrName, CancellationToken ct)
    {
        var store = new Data.TenantStore(Router);
        var tenant = await store.FindAsync(idOrName, ct) ?? throw new BotStoreNotFoundException($"no tenant has the id or name '{idOrName}'");
        var shard = await store.ShardOfAsync(tenant.Id, ct);
        return (tenant, Targets.Single(t => t.ShardName == shard));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var target in Targets)
            await target.DisposeAsync();
    }

    // Two names for one database would let the directory place a tenant on "both".
    private static async Task CheckDistinctAsync(IReadOnlyList<DatabaseTarget> targets, CancellationToken ct)
    {
        var seen = new Dictionary<string, string>();
        foreach (var target in targets)
        {
            await using var cmd = target.DataSource.CreateCommand(
                "SELECT (SELECT system_identifier FROM pg_control_system())::text || '/' || current_database()");
            var identity = (string)(await cmd.ExecuteScalarAsync(ct))!;
            if (!seen.TryAdd(identity, target.ShardName))
                throw new BotStoreConfigurationException(
                    $"shards '{seen[identity]}' and '{target.ShardName}' name the same database ({target.Description}): each shard needs a database of its own");
        }
    }
}
