using BotStore.Maintenance;
using BotStore.Partitions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quartz;

namespace BotStore.Server.Operations;

/// <summary>
/// Runs every background job of BotStore with one Quartz.NET scheduler: for every shard, partition ensure (and
/// retention, when a table has one) at start and then on its schedule, and the maintenance tasks on theirs; when an
/// <see cref="ExpirySweeper"/> is registered, the expiry sweep (over every shard) every
/// <see cref="SweeperOptions.Interval"/>. On each shard the scheduled operations run one at a time (a firing that
/// finds one busy waits for it; shards are separate servers, so they do not wait for each other) and no job overlaps
/// itself; the sweep is short and runs beside them, so a two-hour reindex does not hold expiries back. With several
/// shards a job's name carries its shard (<c>vacuum@west</c>). Across instances, every job takes its runner lock (a
/// session advisory lock on its shard) and an instance that finds it taken skips that firing: every instance has the
/// same schedule, so the holder does it. <see cref="InstanceJob"/>s (the dashboard's sampler, backups) run on the
/// same scheduler in every instance, whether operations are enabled or not. Start-up checks the whole configuration
/// against every shard's database first and fails, with one clear error, before anything runs.
/// </summary>
public sealed partial class OperationsHostedService : IHostedService, IAsyncDisposable
{
    private const string SweepJob = "expiry";
    private readonly OperationsOptions _options;
    private readonly IReadOnlyList<ScheduledShard> _shards;
    private readonly ILogger<OperationsHostedService> _logger;
    private readonly ExpirySweeper? _sweeper;
    private readonly IEnumerable<InstanceJob>? _instanceJobs;
    private readonly CancellationTokenSource _stopping = new();
    private StandaloneSchedulerFactory? _factory;
    private IScheduler? _scheduler;
    private Task _startRun = Task.CompletedTask;

    /// <summary>The operations of every shard of <paramref name="shards"/> on one scheduler.</summary>
    public OperationsHostedService(OperationsOptions options, OperationsShards shards, ILogger<OperationsHostedService> logger,
        ExpirySweeper? sweeper = null, IEnumerable<InstanceJob>? instanceJobs = null)
        : this(options, shards.All.Select(s => new ScheduledShard(shards.Several ? s.Name : null, s.Partitions, s.Maintenance)).ToList(), logger, sweeper, instanceJobs)
    {
    }

    /// <summary>The operations of one database.</summary>
    public OperationsHostedService(OperationsOptions options, PartitionManager partitions, MaintenanceRunner maintenance,
        ILogger<OperationsHostedService> logger, ExpirySweeper? sweeper = null, IEnumerable<InstanceJob>? instanceJobs = null)
        : this(options, [new ScheduledShard(null, partitions, maintenance)], logger, sweeper, instanceJobs)
    {
    }

    private OperationsHostedService(OperationsOptions options, IReadOnlyList<ScheduledShard> shards, ILogger<OperationsHostedService> logger,
        ExpirySweeper? sweeper, IEnumerable<InstanceJob>? instanceJobs)
    {
        _options = options;
        _shards = shards;
        _logger = logger;
        _sweeper = sweeper;
        _instanceJobs = instanceJobs;
    }

    /// <summary>One shard's operations: its name in job names (null with one shard) and its own turn.</summary>
    private sealed record ScheduledShard(string? Name, PartitionManager Partitions, MaintenanceRunner Maintenance)
    {
        public SemaphoreSlim Turn { get; } = new(1, 1);

        public string Job(string name) => Name is null ? name : $"{name}@{Name}";
    }

    /// <summary>Validates the configuration against the database, then starts the schedules.</summary>
    /// <exception cref="BotStoreConfigurationException">A bad schedule, a table that is not partitioned, a retention shorter than the premake window.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _options.Validate();
        foreach (var shard in _shards)
        {
            await shard.Partitions.ValidateAsync(cancellationToken);
            await shard.Maintenance.ValidateAsync(cancellationToken);
        }
        var instance = _instanceJobs?.ToList() ?? [];
        if (!_options.Enabled)
        {
            LogDisabled();
            if (instance.Count == 0)
                return;
        }
        var schedules = _options.Enabled ? _options.Schedules() : [];
        var sweep = _options.Enabled ? _sweeper : null;
        _factory = QuartzSchedulerBuilder.Create(q =>
        {
            // A scheduler's name must be unique in the process (tests run several instances in one).
            q.ConfigureScheduler(s => s.InstanceName = $"botstore-operations-{Guid.NewGuid():N}");
            // A slot per job: no job overlaps itself, the operations take turns (_operationsTurn), the sweep never waits for them.
            q.UseDefaultThreadPool(schedules.Count * _shards.Count + 1 + instance.Count);
            foreach (var shard in _shards)
            {
                foreach (var (name, task, cron) in schedules)
                {
                    var job = shard.Job(name);
                    q.AddJob(job, (Func<CancellationToken, Task>)(ct => RunOperationAsync(shard, job, task, ct)), j => j.DisallowConcurrentExecution());
                    q.AddTrigger(t => t.ForJob(job).WithIdentity(job).WithCronSchedule(cron, c => c.InTimeZone(TimeZoneInfo.Utc)));
                }
            }
            if (sweep is not null)
            {
                q.AddJob(SweepJob, (Func<CancellationToken, Task>)(ct => RunGuardedAsync(SweepJob, sweep.SweepAsync, ct)), j => j.DisallowConcurrentExecution());
                q.AddTrigger(t => t.ForJob(SweepJob).WithIdentity(SweepJob).StartNow()
                    .WithSimpleSchedule(s => s.WithInterval(sweep.Options.Interval).RepeatForever()));
            }
            foreach (var job in instance)
            {
                q.AddJob(job.Name, (Func<CancellationToken, Task>)(ct => RunGuardedAsync(job.Name, job.RunAsync, ct)), j => j.DisallowConcurrentExecution());
                q.AddTrigger(t =>
                {
                    t.ForJob(job.Name).WithIdentity(job.Name);
                    if (job.Cron is { } cron)
                        t.WithCronSchedule(cron.CronExpressionString, c => c.InTimeZone(TimeZoneInfo.Utc));
                    else
                        t.StartNow().WithSimpleSchedule(s => s.WithInterval(job.Interval).RepeatForever());
                });
            }
        }).Build();
        _scheduler = await _factory.GetScheduler(cancellationToken);
        await _scheduler.Start(cancellationToken);
        foreach (var shard in _shards)
        {
            foreach (var (name, _, cron) in schedules)
                LogScheduled(shard.Job(name), cron.CronExpressionString, cron.GetNextValidTimeAfter(DateTimeOffset.UtcNow));
        }
        if (sweep is not null)
            LogSweepScheduled(sweep.Options.Interval, sweep.Options.BatchSize);
        foreach (var job in instance)
        {
            if (job.Cron is { } cron)
                LogScheduled(job.Name, cron.CronExpressionString, cron.GetNextValidTimeAfter(DateTimeOffset.UtcNow));
            else
                LogInstanceJobScheduled(job.Name, job.Interval);
        }
        if (_options.Enabled && _options.RunPartitionsAtStart)
        {
            if (schedules.Any(s => s.Name == "partitions"))
            {
                foreach (var shard in _shards)
                    await _scheduler.TriggerJob(new JobKey(shard.Job("partitions")), null!, cancellationToken);
            }
            else
            {
                _startRun = Task.WhenAll(_shards.Select(shard =>
                    Task.Run(() => RunOperationAsync(shard, shard.Job("partitions"), null, _stopping.Token), CancellationToken.None)));
            }
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
        foreach (var shard in _shards)
            shard.Turn.Dispose();
    }

    private Task RunOperationAsync(ScheduledShard shard, string job, MaintenanceTask? task, CancellationToken jobToken) => RunGuardedAsync(job, async ct =>
    {
        await shard.Turn.WaitAsync(ct);
        try
        {
            if (task is { } t)
                await RunMaintenanceAsync(shard.Maintenance, job, t, ct);
            else
                await RunPartitionsAsync(shard.Partitions, job, ct);
        }
        finally
        {
            shard.Turn.Release();
        }
    }, jobToken);

    /// <summary>Runs a job until shutdown; a failure is logged and the next firing tries again (a job that threw would stop nothing, but would say less).</summary>
    private async Task RunGuardedAsync(string name, Func<CancellationToken, Task> job, CancellationToken jobToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(jobToken, _stopping.Token);
        var ct = linked.Token;
        try
        {
            await job(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            LogInterrupted(name);
        }
        catch (BotStoreException ex)
        {
            // A translated error (a refused statement, a timeout) says all in its message: no stack trace every firing.
            LogFailed(null, name, ex.Message);
        }
        catch (Exception ex)
        {
            LogFailed(ex, name, ex.Message);
        }
    }

    private async Task RunPartitionsAsync(PartitionManager partitions, string job, CancellationToken ct)
    {
        var ensure = await partitions.EnsureAsync(ct: ct);
        if (ensure.Skipped)
        {
            LogPartitionsSkipped(job);
            return;
        }
        foreach (var c in ensure.Created)
            LogPartitionCreated(job, c.Partition, c.Month, c.RowsMoved);
        foreach (var f in ensure.Failures)
            LogPartitionFailed(job, f.Target, f.Error);
        foreach (var (table, rows) in ensure.DefaultRows.Where(d => d.Value > 0))
            LogDefaultRows(job, rows, table);
        if (ensure.Created.Count == 0 && ensure.Failures.Count == 0)
            LogPartitionsComplete(job);

        if (!(await partitions.PoliciesAsync(null, ct)).Any(p => p.RetentionMonths is not null))
            return;
        var retain = await partitions.RetainAsync(ct: ct);
        foreach (var p in retain.Partitions)
        {
            if (p.Outcome == MaintenanceOutcome.Succeeded)
                LogRetired(job, p.Partition, p.From, p.Horizon, p.KeptAs is null ? "dropped" : $"detached, kept as {p.KeptAs}");
            else
                LogRetireFailed(job, p.Partition, p.Error);
        }
    }

    private async Task RunMaintenanceAsync(MaintenanceRunner maintenance, string name, MaintenanceTask task, CancellationToken ct)
    {
        var result = await maintenance.RunAsync(task, ct: ct);
        if (result.RunId is null)
        {
            LogMaintenanceSkipped(name, result.Detail);
            return;
        }
        foreach (var s in result.Steps.Where(s => s.Outcome != MaintenanceOutcome.Succeeded))
            LogMaintenanceStep(name, s.Target, s.Outcome, s.Error);
        LogMaintenanceRun(result.Outcome == MaintenanceOutcome.Failed ? LogLevel.Warning : LogLevel.Information, name, result.RunId, result.Outcome, result.Detail);
    }

    [LoggerMessage(LogLevel.Information, "BotStore operations are disabled in this instance")]
    private partial void LogDisabled();

    [LoggerMessage(LogLevel.Information, "BotStore operations: {Job} on '{Cron}' (UTC), next at {Next:u}")]
    private partial void LogScheduled(string job, string cron, DateTimeOffset? next);

    [LoggerMessage(LogLevel.Information, "BotStore operations: expiry sweep every {Interval}, {BatchSize} rows per transaction")]
    private partial void LogSweepScheduled(TimeSpan interval, int batchSize);

    [LoggerMessage(LogLevel.Debug, "BotStore operations: {Job} every {Interval} in this instance")]
    private partial void LogInstanceJobScheduled(string job, TimeSpan interval);

    [LoggerMessage(LogLevel.Information, "BotStore operations: {Job} interrupted by shutdown")]
    private partial void LogInterrupted(string job);

    [LoggerMessage(LogLevel.Error, "BotStore operations: {Job} failed: {Error}")]
    private partial void LogFailed(Exception? ex, string job, string error);

    [LoggerMessage(LogLevel.Information, "BotStore {Job}: another instance holds the partition runner lock; skipped")]
    private partial void LogPartitionsSkipped(string job);

    [LoggerMessage(LogLevel.Information, "BotStore {Job}: created {Partition} ({Month:yyyy-MM}), moved {Rows} rows out of the default partition")]
    private partial void LogPartitionCreated(string job, string partition, DateOnly month, long rows);

    [LoggerMessage(LogLevel.Warning, "BotStore {Job}: could not create {Target}: {Error}")]
    private partial void LogPartitionFailed(string job, string target, string? error);

    [LoggerMessage(LogLevel.Warning, "BotStore {Job}: {Rows} rows still in the default partition of {Table}")]
    private partial void LogDefaultRows(string job, long rows, string table);

    [LoggerMessage(LogLevel.Information, "BotStore {Job}: every table has its partitions")]
    private partial void LogPartitionsComplete(string job);

    [LoggerMessage(LogLevel.Information, "BotStore {Job}: retired {Partition} ({From:yyyy-MM}, past the horizon {Horizon}): {Action}")]
    private partial void LogRetired(string job, string partition, DateTimeOffset from, DateOnly horizon, string action);

    [LoggerMessage(LogLevel.Warning, "BotStore {Job}: could not retire {Partition}: {Error}")]
    private partial void LogRetireFailed(string job, string partition, string? error);

    [LoggerMessage(LogLevel.Information, "BotStore maintenance: {Task} skipped: {Detail}")]
    private partial void LogMaintenanceSkipped(string task, string? detail);

    [LoggerMessage(LogLevel.Warning, "BotStore maintenance: {Task} {Target}: {Outcome}: {Error}")]
    private partial void LogMaintenanceStep(string task, string target, MaintenanceOutcome outcome, string? error);

    [LoggerMessage("BotStore maintenance: {Task} run {Run} {Outcome}: {Detail}")]
    private partial void LogMaintenanceRun(LogLevel level, string task, long? run, MaintenanceOutcome outcome, string? detail);
}
