using BotStore.Data;
using Microsoft.Extensions.Logging;

namespace BotStore.Server.Operations;

/// <summary>
/// The expiry sweep, one of the jobs of <see cref="OperationsHostedService"/>'s scheduler: expires overdue approvals
/// (failing the tasks left waiting on them) and deletes expired memories, across all tenants, as the owner. Each
/// store takes its runner lock, so one instance sweeps a kind at a time and the others skip that firing.
/// </summary>
public sealed partial class ExpirySweeper(ApprovalStore approvals, MemoryStore memories, SweeperOptions options, ILogger<ExpirySweeper> logger)
{
    /// <summary>The interval and batch size.</summary>
    public SweeperOptions Options => options;

    /// <summary>One sweep of both kinds; a failure is thrown to the scheduler's job, which logs it and waits for the next firing.</summary>
    public async Task SweepAsync(CancellationToken ct)
    {
        var swept = await approvals.ExpireOverdueAsync(options.BatchSize, ct);
        if (swept.Expired > 0)
            LogApprovalsExpired(swept.Expired, swept.TasksFailed);
        if (await memories.DeleteExpiredAsync(options.BatchSize, ct) is > 0 and var deleted)
            LogMemoriesDeleted(deleted);
    }

    [LoggerMessage(LogLevel.Information, "expired {Approvals} overdue approval(s), failed {Tasks} task(s)")]
    private partial void LogApprovalsExpired(long approvals, long tasks);

    [LoggerMessage(LogLevel.Information, "deleted {Memories} expired memories")]
    private partial void LogMemoriesDeleted(long memories);
}
