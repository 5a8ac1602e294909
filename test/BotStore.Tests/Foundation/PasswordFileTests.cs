using System.Diagnostics;
using BotStore.Tooling.Embedded.Internal;

namespace BotStore.Tests.Foundation;

/// <summary>Issue 8 item 8: the superuser password initdb reads is never readable by other users, and is gone afterwards.</summary>
public sealed class PasswordFileTests
{
    [Fact]
    public async Task The_password_for_initdb_is_private_to_its_user_and_removed_afterwards()
    {
        var root = Environment.UserName == "root";
        var runAs = root ? "postgres" : null;
        string folder, path;
        using (var file = await PasswordFile.WriteAsync("s3cret-pw", runAs, CancellationToken.None))
        {
            (folder, path) = (file.Folder, file.Path);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
            Assert.Equal("s3cret-pw", await File.ReadAllTextAsync(path));
            if (root)
            {
                Assert.Equal("postgres", await RunAsync("stat", "-c", "%U", path));
                Assert.Equal("postgres", await RunAsync("stat", "-c", "%U", folder));
                Assert.Equal("s3cret-pw", await RunAsync("runuser", "-u", "postgres", "--", "cat", path));
                await Assert.ThrowsAsync<InvalidOperationException>(() => RunAsync("runuser", "-u", "nobody", "--", "cat", path));
            }
        }
        Assert.False(Path.Exists(folder));
    }

    private static async Task<string> RunAsync(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)}: {await stderr}");
        return (await stdout).Trim();
    }
}
