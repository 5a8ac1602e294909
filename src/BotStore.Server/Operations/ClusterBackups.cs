using BotStore.Tooling.Backup;
using Microsoft.Extensions.Logging;

namespace BotStore.Server.Operations;

/// <summary>
/// Scheduled pgBackRest backups of the embedded cluster <c>serve</c> runs on: a job of the operations scheduler
/// (<see cref="InstanceJob"/> on <see cref="OperationsOptions.BackupSchedule"/>). Each firing takes a full backup when
/// the newest full one is <see cref="OperationsOptions.FullBackupEveryDays"/> days old or more (or there is none), else
/// an incremental one. Why scheduled at all: the cluster archives every WAL segment, and pgBackRest expires archived
/// WAL only together with the full backups it no longer keeps (<c>repo1-retention-full=2</c>), so a cluster nobody
/// backs up keeps every WAL segment it ever wrote (a 10M-row conversion left 37 GB of archive).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public static partial class ClusterBackups
{
    /// <summary>The job for <paramref name="backups"/>, or null when <see cref="OperationsOptions.BackupSchedule"/> is empty.</summary>
    public static InstanceJob? Job(PgBackRest backups, OperationsOptions options, ILogger logger) =>
        options.BackupCron() is { } cron
            ? new InstanceJob("backup", TimeSpan.FromDays(1), ct => RunAsync(backups, options.FullBackupEveryDays, logger, ct), cron)
            : null;

    /// <summary>Takes one backup, full or incremental as described above, and logs what it took.</summary>
    public static async Task RunAsync(PgBackRest backups, int fullEveryDays, ILogger logger, CancellationToken ct)
    {
        var lastFull = (await backups.ListAsync(ct)).Where(b => b.Type == "full").Select(b => (DateTimeOffset?)b.Stopped).Max();
        var type = lastFull is { } at && DateTimeOffset.UtcNow - at < TimeSpan.FromDays(fullEveryDays) ? "incr" : "full";
        var started = DateTimeOffset.UtcNow;
        await backups.BackupAsync(type, ct);
        LogBackedUp(logger, type, (DateTimeOffset.UtcNow - started).TotalSeconds, backups.Repository);
    }

    [LoggerMessage(LogLevel.Information, "BotStore backup: {Type} backup of the embedded cluster taken in {Seconds:0.0} s (repository {Repository}; WAL older than the second-newest full backup is expired)")]
    private static partial void LogBackedUp(ILogger logger, string type, double seconds, string repository);
}
