using BotStore.Data;

namespace BotStore.Server;

/// <summary>How often the expiry sweeper runs and how many rows it handles per transaction.</summary>
public sealed record SweeperOptions
{
    /// <summary>The time between two sweeps.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Rows per transaction.</summary>
    public int BatchSize { get; init; } = 1000;
}

/// <summary>
/// The background worker of <c>serve</c> that expires overdue approvals (failing the tasks left waiting on them)
/// and deletes expired memories, across all tenants, as the owner. Every instance runs one; the advisory locks in
/// the stores let only one of them work on each kind at a time. A failed sweep is logged and retried next time.
/// </summary>
internal sealed class ExpirySweeper(ApprovalStore approvals, MemoryStore memories, SweeperOptions options, ILogger<ExpirySweeper> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Interval);
        do
        {
            try
            {
                var swept = await approvals.ExpireOverdueAsync(options.BatchSize, stoppingToken);
                if (swept.Expired > 0)
                    logger.LogInformation("expired {Approvals} overdue approval(s), failed {Tasks} task(s)", swept.Expired, swept.TasksFailed);
                if (await memories.DeleteExpiredAsync(options.BatchSize, stoppingToken) is > 0 and var deleted)
                    logger.LogInformation("deleted {Memories} expired memories", deleted);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // A worker that threw would stop the whole host; a sweep that failed can wait for the next tick.
                logger.LogWarning(ex is BotStoreException ? null : ex, "expiry sweep failed, retrying in {Interval}: {Error}", options.Interval, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
