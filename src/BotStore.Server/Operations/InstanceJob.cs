namespace BotStore.Server.Operations;

/// <summary>
/// A job each server instance runs for itself on the operations scheduler (<see cref="OperationsHostedService"/>), every
/// <paramref name="Interval"/> from start (or on <paramref name="Cron"/>, in UTC, when it has one), never overlapping itself: no runner lock (every instance runs it), and it
/// runs when <see cref="OperationsOptions.Enabled"/> is false too. E.g. the dashboard's sampler: one scheduler for all of
/// the server's background work. A failure is logged and the next firing tries again.
/// </summary>
/// <param name="Name">The job's name in the logs.</param>
/// <param name="Interval">How often it runs.</param>
/// <param name="RunAsync">The work.</param>
/// <param name="Cron">A schedule instead of the interval, e.g. the embedded cluster's backups.</param>
public sealed record InstanceJob(string Name, TimeSpan Interval, Func<CancellationToken, Task> RunAsync, Quartz.CronExpression? Cron = null);
