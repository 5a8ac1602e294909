using System.Text.Json;
using System.Text.Json.Nodes;
using BotStore.Monitoring;
using BotStore.Sharding;

namespace BotStore.Server.Internal;

/// <summary>
/// How the administrator views put every shard's figures together: each row labelled with its shard, in configuration
/// order; rankings (tenants, statements) merged across shards; a shard that failed shown as its error in its place.
/// Shared by <c>/admin/db</c> (JSON) and the dashboard (pages), so both say the same thing.
/// </summary>
internal static class ShardViews
{
    /// <summary>Every shard's rows, each with its shard.</summary>
    public static IEnumerable<(string Shard, T Row)> Rows<T>(IEnumerable<ShardAnswer<IReadOnlyList<T>>> answers) =>
        answers.Where(a => a.Error is null).SelectMany(a => a.Value!.Select(row => (a.Shard.Name, row)));

    /// <summary>The shards that failed, with their errors.</summary>
    public static IEnumerable<(string Shard, string Error)> Failures<T>(IEnumerable<ShardAnswer<T>> answers) =>
        answers.Where(a => a.Error is not null).Select(a => (a.Shard.Name, a.Error!.Message));

    /// <summary>The tenants with most messages over every shard that answered, most first.</summary>
    public static IReadOnlyList<(string Shard, TenantUsage Tenant)> TopTenants(IReadOnlyList<ShardAnswer<TenantReport>> answers, int limit) =>
        answers.Where(a => a.Error is null).SelectMany(a => a.Value!.Top.Select(t => (a.Shard.Name, t)))
            .OrderByDescending(x => x.t.Messages).ThenBy(x => x.t.Id).Take(limit).ToList();

    /// <summary>The costliest statements over every shard that answered, ranked by <paramref name="order"/>.</summary>
    public static IReadOnlyList<(string Shard, QueryStats Query)> TopQueries(IReadOnlyList<ShardAnswer<SlowQueryReport>> answers, QueryOrder order, int limit) =>
        answers.Where(a => a.Error is null && a.Value!.Available).SelectMany(a => a.Value!.Queries.Select(q => (a.Shard.Name, q)))
            .OrderByDescending(x => order switch { QueryOrder.Mean => x.q.MeanMs, QueryOrder.Calls => x.q.Calls, _ => x.q.TotalMs })
            .Take(limit).ToList();

    /// <summary><paramref name="value"/> as a JSON object with <c>shard</c> as its first field.</summary>
    public static JsonObject Label<T>(string shard, T value, JsonSerializerOptions json)
    {
        var labelled = new JsonObject { ["shard"] = shard };
        foreach (var (key, node) in JsonSerializer.SerializeToNode(value, json)!.AsObject())
            labelled[key] = node?.DeepClone();
        return labelled;
    }

    /// <summary>Every shard's rows labelled; a shard that failed is one row <c>{shard, error}</c> (or <paramref name="failed"/>'s) in its place.</summary>
    public static JsonArray JsonRows<T>(IReadOnlyList<ShardAnswer<IReadOnlyList<T>>> answers, JsonSerializerOptions json, Func<string, T>? failed = null)
    {
        var array = new JsonArray();
        foreach (var answer in answers)
        {
            if (answer.Error is { } error)
                array.Add(failed is null ? Error(answer.Shard.Name, error) : Label(answer.Shard.Name, failed(error.Message), json));
            else
            {
                foreach (var row in answer.Value!)
                    array.Add(Label(answer.Shard.Name, row, json));
            }
        }
        return array;
    }

    /// <summary>Per shard: <paramref name="summary"/> of its answer, or its error.</summary>
    public static JsonArray JsonShards<T>(IReadOnlyList<ShardAnswer<T>> answers, JsonSerializerOptions json, Func<T, object> summary) =>
        new(answers.Select(a => (JsonNode)(a.Error is { } error ? Error(a.Shard.Name, error) : Label(a.Shard.Name, summary(a.Value!), json))).ToArray());

    private static JsonObject Error(string shard, Exception error) => new() { ["shard"] = shard, ["error"] = error.Message };
}
