using System.Globalization;
using System.Text.Json;
using BotStore.Tooling.Internal;

namespace BotStore.Tooling.Backup;

/// <summary>One backup in a pgBackRest repository.</summary>
/// <param name="Label">pgBackRest's label, e.g. <c>20261202-071500F</c>.</param>
/// <param name="Type"><c>full</c>, <c>diff</c> or <c>incr</c>.</param>
/// <param name="Started">When the backup started.</param>
/// <param name="Stopped">When it ended: the earliest time it can be restored to.</param>
/// <param name="DatabaseBytes">Size of the cluster when backed up.</param>
/// <param name="RepositoryBytes">What this backup added to the repository (compressed, changed files only).</param>
public sealed record BackupInfo(string Label, string Type, DateTimeOffset Started, DateTimeOffset Stopped, long DatabaseBytes, long RepositoryBytes);

/// <summary>
/// The pgBackRest repository of one embedded cluster: <c>&lt;data&gt;.backup/</c> beside the data folder holds its
/// configuration, repository, logs and locks, so two clusters never share a stanza lock. The cluster archives every
/// WAL segment there (archive_command), which with a full or incremental backup allows point-in-time recovery.
/// Run as root, pgBackRest runs as the <c>postgres</c> user, like the server.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class PgBackRest
{
    /// <summary>The stanza (pgBackRest's name for a cluster) BotStore uses.</summary>
    public const string Stanza = "botstore";

    private const string InstallHint = "install it with: apt-get install pgbackrest";
    private readonly string? _runAs;

    internal PgBackRest(string dataDirectory, string? runAs)
    {
        DataDirectory = dataDirectory;
        _runAs = runAs;
    }

    /// <summary>The data folder of the cluster this repository belongs to.</summary>
    public string DataDirectory { get; }

    /// <summary>The folder holding configuration, repository, logs and locks.</summary>
    public string Folder => DataDirectory + ".backup";

    /// <summary>pgBackRest's configuration file for this cluster.</summary>
    public string ConfigFile => Path.Combine(Folder, "pgbackrest.conf");

    /// <summary>The repository (repo1-path).</summary>
    public string Repository => Path.Combine(Folder, "repo");

    /// <summary>The archive_command that pushes a WAL segment into the repository.</summary>
    internal string ArchiveCommand => $"{Program} --config={ConfigFile} --stanza={Stanza} archive-push %p";

    internal static string Program => "/usr/bin/pgbackrest";

    /// <summary>Whether pgBackRest is installed.</summary>
    public static bool IsInstalled => File.Exists(Program);

    /// <summary>Writes the configuration (port and socket may change between starts) and creates the folders.</summary>
    internal async Task ConfigureAsync(int port, string socketDirectory, CancellationToken ct)
    {
        if (!IsInstalled)
            throw new BotStoreConfigurationException($"the embedded cluster archives its WAL with pgBackRest, which is not installed: {InstallHint}");
        foreach (var dir in new[] { Folder, Repository, Path.Combine(Folder, "log"), Path.Combine(Folder, "lock") })
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var conf = $"""
            # Written by BotStore at every start of the cluster in {DataDirectory}.
            [global]
            repo1-path={Repository}
            repo1-retention-full=2
            log-path={Path.Combine(Folder, "log")}
            lock-path={Path.Combine(Folder, "lock")}
            log-level-console=warn
            log-level-file=info
            start-fast=y
            compress-type=lz4

            [{Stanza}]
            pg1-path={DataDirectory}
            pg1-port={port}
            pg1-socket-path={socketDirectory}
            pg1-user=postgres

            """;
        await File.WriteAllTextAsync(ConfigFile, conf, ct);
        if (_runAs is not null)
            await ProcessRunner.RunCheckedAsync("chown", ["-R", $"{_runAs}:{_runAs}", Folder], "chown", ct: ct);
    }

    /// <summary>Creates the stanza once the server runs (pgBackRest reads its system identifier); nothing when it exists.</summary>
    internal async Task EnsureStanzaAsync(CancellationToken ct)
    {
        if (!File.Exists(Path.Combine(Repository, "backup", Stanza, "backup.info")))
            await RunAsync(["stanza-create"], "pgbackrest stanza-create", ct);
    }

    /// <summary>Takes a backup: <c>full</c>, <c>diff</c> or <c>incr</c> (pgBackRest makes the first one full).</summary>
    public async Task BackupAsync(string type, CancellationToken ct)
    {
        if (type is not ("full" or "diff" or "incr"))
            throw new BotStoreValidationException($"backup type '{type}' is not one of full, diff, incr");
        await RunAsync([$"--type={type}", "backup"], $"pgbackrest backup (log in {Path.Combine(Folder, "log")})", ct);
    }

    /// <summary>The backups in the repository, oldest first.</summary>
    public async Task<IReadOnlyList<BackupInfo>> ListAsync(CancellationToken ct)
    {
        var json = await RunAsync(["--output=json", "info"], "pgbackrest info", ct);
        using var doc = JsonDocument.Parse(json);
        var list = new List<BackupInfo>();
        foreach (var stanza in doc.RootElement.EnumerateArray())
        {
            foreach (var b in stanza.GetProperty("backup").EnumerateArray())
            {
                var time = b.GetProperty("timestamp");
                var info = b.GetProperty("info");
                list.Add(new BackupInfo(b.GetProperty("label").GetString()!, b.GetProperty("type").GetString()!,
                    DateTimeOffset.FromUnixTimeSeconds(time.GetProperty("start").GetInt64()),
                    DateTimeOffset.FromUnixTimeSeconds(time.GetProperty("stop").GetInt64()),
                    info.GetProperty("size").GetInt64(), info.GetProperty("repository").GetProperty("delta").GetInt64()));
            }
        }
        return list;
    }

    /// <summary>
    /// Restores into <paramref name="target"/> (empty, owned by the user the server runs as) the state as of
    /// <paramref name="time"/>: the latest backup before it, then the archived WAL up to it. The cluster, once
    /// started, replays to that time and is promoted.
    /// </summary>
    public async Task RestoreAsync(string target, DateTimeOffset time, CancellationToken ct)
    {
        var at = time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00";
        await RunAsync([$"--pg1-path={target}", "--type=time", $"--target={at}", "--target-action=promote", "restore"],
            $"pgbackrest restore (log in {Path.Combine(Folder, "log")})", ct);
    }

    private Task<string> RunAsync(IEnumerable<string> args, string what, CancellationToken ct) =>
        ProcessRunner.RunCheckedAsync(Program, [$"--config={ConfigFile}", $"--stanza={Stanza}", .. args], what, _runAs, ct);
}
