using BotStore.Tooling.Internal;

namespace BotStore.Tooling.Embedded.Internal;

/// <summary>
/// The superuser password handed to initdb (<c>--pwfile</c>): mode 0600 from its creation, in a fresh folder of mode
/// 0700 that belongs to the user initdb runs as, so only that user and root can read it; both go when disposed.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class PasswordFile : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private PasswordFile(string folder) => Folder = folder;

    /// <summary>The private folder holding <see cref="Path"/>.</summary>
    public string Folder { get; }

    /// <summary>The password file.</summary>
    public string Path => System.IO.Path.Combine(Folder, "pw");

    public static async Task<PasswordFile> WriteAsync(string password, string? runAs, CancellationToken ct)
    {
        // CreateTempSubdirectory makes the folder with mode 0700.
        var file = new PasswordFile(Directory.CreateTempSubdirectory("botstore-initdb-").FullName);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnly };
            await using (var stream = new FileStream(file.Path, options))
            await using (var writer = new StreamWriter(stream))
                await writer.WriteAsync(password.AsMemory(), ct);
            if (runAs is not null)
                await ProcessRunner.RunCheckedAsync("chown", ["-R", $"{runAs}:{runAs}", file.Folder], "chown", ct: ct);
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
