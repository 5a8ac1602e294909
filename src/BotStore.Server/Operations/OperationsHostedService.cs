using BotStore.Maintenance;
using BotStore.Partitions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quartz;

namespace BotStore.Server.Operations;

/// <summary>
/// Runs BotStore's operations inside <c>serve</c>: partition ensure (and retention, when a table has one) at start
/// and then on its schedule, and the maintenance tasks on theirs, with a Quartz.NET scheduler whose single worker
/// runs one job at a time in this instance. Across instances, each job takes the runner's advisory lock and an
/// instance that finds it taken skips that firing: every instance has the same schedule, so the holder does it.
/// Start-up checks the whole configuration against the database first and fails, with one clear error, before
/// anything runs.
/// </summary>
public sealed class OperationsHostedService(OperationsOptions options, PartitionManager partitions, MaintenanceRunner maintenance,
    ILogger<OperationsHostedService> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private StandaloneSchedulerFactory? _factory;
    private IScheduler? _scheduler;
    private Task _startRun = Task.CompletedTask;

    /// <summary>Validates the configuration against the database, then starts the schedules.</summary>
    /// <exception cref="BotStoreConfigurationException">A bad schedule, a table that is not partitioned, a retention shorter than the premake window.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        options.Validate();
        await partitions.ValidateAsync(cancellationToken);
        await maintenance.ValidateAsync(cancellationToken);
        if (!options.Enabled)
        {
            logger.LogInformation("BotStore operations are disabled in this instance");
            return;
        }
        var schedules = options.Schedules();
        _factory = QuartzSchedulerBuilder.Create(q =>
        {
            // A scheduler's name must be unique in the process (tests run several instances in one).
            q.ConfigureScheduler(s => s.InstanceName = $"botstore-operations-{Guid.NewGuid():N}");
            // One worker: this instance's jobs never overlap; a firing that finds it busy runs when it is free.
            q.UseDefaultThreadPool(1);
            foreach (var (name, task, cron) in schedules)
            {
                q.ScheduleJob(name, (Func<CancellationToken, Task>)(ct => RunJobAsync(name, task, ct)),
                    trigger => trigger.WithIdentity(name).WithCronSchedule(cron, c => c.InTimeZone(TimeZoneInfo.Utc)));
            }
        }).Build();
        _scheduler = await _factory.GetScheduler(cancellationToken);
        await _scheduler.Start(cancellationToken);
        foreach (var (name, _, cron) in schedules)
            logger.LogInformation("BotStore operations: {Job} on '{Cron}' (UTC), next at {Next:u}", name, cron.CronExpressionString, cron.GetNextValidTimeAfter(DateTimeOffset.UtcNow));
        if (options.RunPartitionsAtStart)
        {
            if (schedules.Any(s => s.Name == "partitions"))
                await _scheduler.TriggerJob(new JobKey("partitions"), null!, cancellationToken);
            else
                _startRun = Task.Run(() => RunJobAsync("partitions", null, _stopping.Token), CancellationToken.None);
        }
    }

    /// <summary>Stops scheduling and interrupts the job under way (its statement is cancelled and rolled back).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _startRun;
        if (_scheduler is not null)
            await _scheduler.Shutdown(waitForJobsToComplete: true, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_factory is not null)
            await _factory.DisposeAsync();
        _stopping.Dispose();
    }

    private async Task RunJobAsync(string name, MaintenanceTask? task, CancellationToken jobToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(jobToken, _stopping.Token);
        var ct = linked.Token;
        try
        {
            if (task is { } t)
                await RunMaintenanceAsync(t, ct);
            else
                await RunPartitionsAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            logger.LogInformation("BotStore operations: {Job} interrupted by shutdown", name);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "BotStore operations: {Job} failed: {Error}", name, ex.Message);
        }
    }

    private async Task RunPartitionsAsync(CancellationToken ct)
    {
        var ensure = await partitions.EnsureAsync(ct: ct);
        if (ensure.Skipped)
        {
            logger.LogInformation("BotStore partitions: another instance holds the partition runner lock; skipped");
            return;
        }
        foreach (var c in ensure.Created)
            logger.LogInformation("BotStore partitions: created {Partition} ({Month:yyyy-MM}), moved {Rows} rows out of the default partition", c.Partition, c.Month, c.RowsMoved);
        foreach (var f in ensure.Failures)
            logger.LogWarning("BotStore partitions: could not create {Target}: {Error}", f.Target, f.Error);
        foreach (var (table, rows) in ensure.DefaultRows.Where(d => d.Value > 0))
            logger.LogWarning("BotStore partitions: {Rows} rows still in the default partition of {Table}", rows, table);
        if (ensure.Created.Count == 0 && ensure.Failures.Count == 0)
            logger.LogInformation("BotStore partitions: every table has its partitions");

        if (!(await partitions.PoliciesAsync(null, ct)).Any(p => p.RetentionMonths is not null))
            return;
        var retain = await partitions.RetainAsync(ct: ct);
        foreach (var p in retain.Partitions)
        {
            if (p.Outcome == MaintenanceOutcome.Succeeded)
                logger.LogInformation("BotStore partitions: retired {Partition} ({From:yyyy-MM}, past the horizon {Horizon}): {Action}", p.Partition, p.From, p.Horizon,
                    p.KeptAs is null ? "dropped" : $"detached, kept as {p.KeptAs}");
            else
                logger.LogWarning("BotStore partitions: could not retire {Partition}: {Error}", p.Partition, p.Error);
        }
    }

    private async Task RunMaintenanceAsync(MaintenanceTask task, CancellationToken ct)
    {
        var result = await maintenance.RunAsync(task, ct: ct);
        var name = MaintenanceRunner.TaskName(task);
        if (result.RunId is null)
        {
            logger.LogInformation("BotStore maintenance: {Task} skipped: {Detail}", name, result.Detail);
            return;
        }
        foreach (var s in result.Steps.Where(s => s.Outcome != MaintenanceOutcome.Succeeded))
            logger.LogWarning("BotStore maintenance: {Task} {Target}: {Outcome}: {Error}", name, s.Target, s.Outcome, s.Error);
        logger.Log(result.Outcome == MaintenanceOutcome.Failed ? LogLevel.Warning : LogLevel.Information,
            "BotStore maintenance: {Task} run {Run} {Outcome}: {Detail}", name, result.RunId, result.Outcome, result.Detail);
    }
}
