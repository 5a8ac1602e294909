using BotStore.Tooling.Embedded;
using Npgsql;

namespace BotStore.Cli.Infrastructure;

/// <summary>
/// Keeps the embedded cluster that <c>serve</c> runs on alive: it checks every second that the server process lives
/// and, when it is gone (killed, crashed, stopped by hand), starts it again, with a growing pause between failed
/// attempts, logging why. The pool's connections to the dead server are dropped so requests get fresh ones.
/// </summary>
internal sealed partial class EmbeddedClusterSupervisor(EmbeddedPostgres cluster, NpgsqlDataSource dataSource, ILogger<EmbeddedClusterSupervisor> logger)
    : BackgroundService
{
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pause = CheckEvery;
        while (!stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(pause, stoppingToken);
            if (cluster.IsServerAlive(out var reason))
            {
                pause = CheckEvery;
                continue;
            }
            LogServerDown(cluster.DataDirectory, reason);
            try
            {
                if (await cluster.EnsureRunningAsync(stoppingToken))
                    LogRestarted(cluster.DataDirectory);
                dataSource.Clear();
                pause = CheckEvery;
            }
            catch (Exception ex) when (ex is BotStoreException or IOException && !stoppingToken.IsCancellationRequested)
            {
                pause = pause * 2 > LongestPause ? LongestPause : pause * 2;
                LogRestartFailed(ex.Message, pause.TotalSeconds);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Embedded PostgreSQL in {DataDirectory} is down: {Reason}; starting it again")]
    private partial void LogServerDown(string dataDirectory, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded PostgreSQL in {DataDirectory} is running again")]
    private partial void LogRestarted(string dataDirectory);

    [LoggerMessage(Level = LogLevel.Error, Message = "Starting embedded PostgreSQL again failed: {Reason}; next attempt in {Seconds} s")]
    private partial void LogRestartFailed(string reason, double seconds);
}
