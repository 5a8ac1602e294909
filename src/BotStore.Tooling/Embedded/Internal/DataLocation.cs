using System.Security.Cryptography;
using System.Text;
using BotStore.Tooling.Internal;

namespace BotStore.Tooling.Embedded.Internal;

/// <summary>
/// Where a cluster's files really are. Run as root, the cluster runs as the <c>postgres</c> system user, which may not
/// be allowed into the folder asked for (a clone in /root, mode 700). Rather than open up folders the user did not make
/// for BotStore, the cluster then lives in a folder of its own under <see cref="EmbeddedPostgresOptions.RelocationRoot"/>
/// named after the checkout, and the folder asked for becomes a symbolic link to it, so later runs find it again.
/// </summary>
/// <param name="DataDirectory">The real data folder (no link in its last part).</param>
/// <param name="LinkedFrom">The folder asked for when it is a link to <paramref name="DataDirectory"/>.</param>
/// <param name="MadeLink">Whether this start made the link (and so removes it when the start fails).</param>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed record DataLocation(string DataDirectory, string? LinkedFrom, bool MadeLink)
{
    /// <summary>The folder name the default data folder (<c>.botstore/pg</c>) lives in.</summary>
    private const string CheckoutMarker = ".botstore";

    public static async Task<DataLocation> ResolveAsync(string requested, string? runAs, string relocationRoot, CancellationToken ct)
    {
        // A link made by an earlier start (or by the user) names the real folder.
        if (new DirectoryInfo(requested).LinkTarget is { } target)
            return new DataLocation(Path.GetFullPath(target, Path.GetDirectoryName(requested)!), requested, MadeLink: false);
        if (runAs is null || await CanTraverseAsync(Path.GetDirectoryName(requested)!, runAs, ct))
            return new DataLocation(requested, null, MadeLink: false);

        if (Directory.Exists(requested) && Directory.EnumerateFileSystemEntries(requested).Any())
            throw new BotStoreConfigurationException(
                $"the {runAs} system user cannot reach {requested} (a parent folder is closed to it) and the folder is not empty: " +
                $"move it under a folder {runAs} can traverse and pass that as --data-dir");
        // An empty folder here was left by a failed start of an older BotStore; the link takes its place.
        if (Directory.Exists(requested))
            Directory.Delete(requested);

        if (!Directory.Exists(relocationRoot))
        {
            Directory.CreateDirectory(relocationRoot);
            // Only root writes here; postgres must pass through to its clusters.
            File.SetUnixFileMode(relocationRoot, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                                 UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        var real = Path.Combine(relocationRoot, FolderName(requested));
        Directory.CreateSymbolicLink(requested, real);
        return new DataLocation(real, requested, MadeLink: true);
    }

    /// <summary>Removes what a failed first start made: the data folder's contents, the folder when it was new, the link.</summary>
    public void Undo(bool folderExisted)
    {
        if (Directory.Exists(DataDirectory))
        {
            if (folderExisted)
            {
                foreach (var entry in new DirectoryInfo(DataDirectory).EnumerateFileSystemInfos())
                    Delete(entry);
            }
            else
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
        }
        if (MadeLink && LinkedFrom is not null)
            File.Delete(LinkedFrom);
    }

    /// <summary>
    /// <c>&lt;checkout&gt;-&lt;hash&gt;</c> for the default <c>&lt;checkout&gt;/.botstore/pg</c>, else
    /// <c>&lt;folder&gt;-&lt;hash&gt;</c>; the hash of the full path keeps two clones of the same name apart.
    /// </summary>
    internal static string FolderName(string requested)
    {
        var parent = Path.GetDirectoryName(requested)!;
        var label = Path.GetFileName(parent) == CheckoutMarker ? Path.GetFileName(Path.GetDirectoryName(parent)) : Path.GetFileName(requested);
        var safe = new string((label ?? "").Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray()).TrimStart('.');
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(requested)))[..8];
        return (safe.Length > 0 ? safe : "cluster") + "-" + hash;
    }

    // Search permission on a folder implies it on every folder above it, or the path would not resolve.
    private static async Task<bool> CanTraverseAsync(string folder, string runAs, CancellationToken ct) =>
        (await ProcessRunner.RunAsync("test", ["-x", folder], runAs, ct)).ExitCode == 0;

    private static void Delete(FileSystemInfo entry)
    {
        if (entry is DirectoryInfo dir && dir.LinkTarget is null)
            dir.Delete(recursive: true);
        else
            entry.Delete();
    }
}
