using System.Diagnostics;
using BotStore.Data;
using BotStore.Enums;
using BotStore.Schema;
using BotStore.Sharding;
using BotStore.Sharding.Moves;
using Npgsql;

namespace BotStore.Bench;

/// <summary>
/// A tenant move under load: a tenant with <c>messages</c> messages on the source, one client appending to it
/// throughout (retrying on 503 as an API client does), moved to the target. Prints the copy's rows/s beside the
/// tenant's own bulk load (the strongest yardstick here: the same rows written by COPY), the catch-up time and the
/// fence duration.
/// </summary>
internal static class MoveBench
{
    public static async Task RunAsync(string sourceUrl, string targetUrl, int messages)
    {
        await using var source = ConnectionSettings.Default.CreateDataSource(sourceUrl, "botstore-bench");
        await using var target = ConnectionSettings.Default.CreateDataSource(targetUrl, "botstore-bench");
        await new MigrationRunner(source).MigrateAsync();
        await new MigrationRunner(target).MigrateAsync();
        await using var router = new ShardRouter([new Shard("source", source), new Shard("target", target)]);
        var (tenant, _) = await new TenantStore(router).CreateAsync($"move-bench-{Guid.NewGuid():N}"[..24], "source");
        var bot = await new BotRegistry(router).CreateAsync(tenant.Id, "bench", LlmProvider.Anthropic);
        var user = await new UserStore(router).CreateAsync(tenant.Id, "bench-user");
        var sessions = new Guid[100];
        for (var i = 0; i < sessions.Length; i++)
            sessions[i] = (await new SessionStore(router).CreateAsync(tenant.Id, user.Id, bot.Id, ChannelType.Api)).Id;
        var store = new MessageStore(router);
        var content = new string('x', 120);
        var loading = Stopwatch.StartNew();
        for (var done = 0; done < messages; done += 5_000)
        {
            var batch = Enumerable.Range(done, Math.Min(5_000, messages - done))
                .Select(i => new NewMessage(sessions[i % sessions.Length], MessageRole.User, content) { Id = Uuid7.New() }).ToList();
            await store.BulkAppendAsync(tenant.Id, batch);
        }
        var loadRate = messages / loading.Elapsed.TotalSeconds;

        long writes = 0, retries = 0;
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var message = new NewMessage(sessions[writes % sessions.Length], MessageRole.User, content) { Id = Uuid7.New() };
                while (true)
                {
                    try
                    {
                        await store.AppendAsync(tenant.Id, message);
                        writes++;
                        break;
                    }
                    catch (BotStoreUnavailableException)
                    {
                        retries++;
                        await Task.Delay(50);
                    }
                }
            }
        });
        var mover = new TenantMover(router.Directory, [
            new MoveShard("source", source, MoveShard.ToConnInfo(sourceUrl.StartsWith("postgres", StringComparison.Ordinal) ? DatabaseUrl.ToConnectionString(sourceUrl) : sourceUrl)),
            new MoveShard("target", target, MoveShard.ToConnInfo(targetUrl.StartsWith("postgres", StringComparison.Ordinal) ? DatabaseUrl.ToConnectionString(targetUrl) : targetUrl)),
        ]);
        var total = Stopwatch.StartNew();
        var report = await mover.MoveAsync(tenant.Id, "target", new Lines());
        await stop.CancelAsync();
        await writer;

        Console.WriteLine($"| tenant move, {messages:N0} messages, one client appending throughout | figure |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine($"| initial copy (logical replication), rows/s | {report.RowsMoved / report.CopySeconds!.Value:N0} |");
        Console.WriteLine($"| the same rows bulk-loaded (COPY), rows/s: yardstick | {loadRate:N0} |");
        Console.WriteLine($"| copy / bulk load | {report.RowsMoved / report.CopySeconds!.Value / loadRate:0.00}x |");
        Console.WriteLine($"| catch-up after the copy, s | {report.CatchUpSeconds:0.0} |");
        Console.WriteLine($"| write fence (lock, last writes, verification, switch), ms | {report.FenceMilliseconds:0} |");
        Console.WriteLine($"| whole move incl. deleting the source copy, s | {total.Elapsed.TotalSeconds:0.0} |");
        Console.WriteLine($"| appends acknowledged during the move / retried on 503 | {writes:N0} / {retries:N0} |");
    }

    private sealed class Lines : IProgress<MoveProgress>
    {
        public void Report(MoveProgress value) => Console.Error.WriteLine($"{value.Step.Name()}: {value.Message}");
    }
}
