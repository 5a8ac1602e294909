using System.Net;
using System.Net.Sockets;
using BotStore.Tooling.Embedded;
using BotStore.Tooling.Embedded.Internal;

namespace BotStore.Tooling.Backup;

/// <summary>What <see cref="PointInTimeRestore.RestoreAsync"/> made.</summary>
/// <param name="DataDirectory">The restored cluster's real data folder.</param>
/// <param name="LinkedFrom">The folder asked for, when it links to <paramref name="DataDirectory"/> (see issue 14's relocation).</param>
/// <param name="Port">The port the restored cluster starts on.</param>
public sealed record RestoredCluster(string DataDirectory, string? LinkedFrom, int Port);

/// <summary>
/// Point-in-time recovery of an embedded cluster into a new data folder: the running original first archives its
/// current WAL segment (so "now" can be restored), pgBackRest restores the latest backup before the target time
/// and the WAL up to it, and the new cluster is started once to replay up to that time, promoted, and stopped.
/// The original keeps running; the copy gets its own port and, at its first start, its own repository.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public static class PointInTimeRestore
{
    public static async Task<RestoredCluster> RestoreAsync(EmbeddedPostgres source, string targetDirectory, DateTimeOffset time, int? port,
        CancellationToken ct)
    {
        var backups = source.Backups
            ?? throw new BotStoreConfigurationException($"the cluster in {source.DataDirectory} does not archive its WAL: nothing to restore from");
        var requested = Path.GetFullPath(targetDirectory);
        if (requested == source.DataDirectory || requested == source.LinkedFrom)
            throw new BotStoreValidationException("restore into a new data folder, not the cluster's own");
        if (Path.Exists(requested) && (!Directory.Exists(requested) || Directory.EnumerateFileSystemEntries(requested).Any()))
            throw new BotStoreValidationException($"{requested} is not empty: restore into a new or empty folder");
        if (time > DateTimeOffset.UtcNow)
            throw new BotStoreValidationException($"{time:O} is in the future");

        await source.ArchiveCurrentWalAsync(ct);
        Directory.CreateDirectory(Path.GetDirectoryName(requested)!);
        var location = await DataLocation.ResolveAsync(requested, source.RunAs, EmbeddedPostgresOptions.DefaultRelocationRoot, ct);
        var existed = Directory.Exists(location.DataDirectory);
        try
        {
            await EmbeddedPostgres.PrepareDataFolderAsync(location.DataDirectory, source.RunAs, ct);
            await backups.RestoreAsync(location.DataDirectory, time, ct);
            var newPort = port ?? FreePort();
            await EmbeddedPostgres.SetPortAsync(location.DataDirectory, newPort, source.RunAs, ct);
            // The first start replays the archived WAL up to the target and promotes the copy to a cluster of its own.
            await using (await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = requested, Port = newPort }, ct))
            {
            }
            return new RestoredCluster(location.DataDirectory, location.LinkedFrom, newPort);
        }
        catch
        {
            location.Undo(existed);
            var repository = location.DataDirectory + ".backup";
            if (Directory.Exists(repository))
                Directory.Delete(repository, recursive: true);
            throw;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
