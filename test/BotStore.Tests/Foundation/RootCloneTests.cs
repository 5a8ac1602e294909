using System.Diagnostics;
using System.Globalization;
using BotStore.Tooling.Embedded;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Foundation;

/// <summary>
/// Issue 14: as root, from a clone in a folder closed to other users (as /root is), the embedded default works with
/// no flag: the cluster lives under /var/lib/botstore, the checkout's .botstore/pg links to it, and no folder the
/// user made is opened up.
/// </summary>
public sealed class RootCloneTests
{
    private const UnixFileMode Closed = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    [RootFact("the embedded cluster runs as postgres only when started by root")]
    public async Task A_clone_in_a_closed_folder_migrates_reports_and_serves_on_the_embedded_default()
    {
        var closed = TestCluster.NewTempFolder("botstore-closed");
        File.SetUnixFileMode(closed, Closed);
        var checkout = Path.Combine(closed, "botstore");
        var link = Path.Combine(checkout, ".botstore", "pg");
        string? real = null;
        try
        {
            await RunAsync("git", "clone", "--quiet", RepoRoot.Folder, checkout);
            SeedLauncherBuild(checkout);
            // A free port rather than the default 54329, which another run on this machine may hold; the data folder is the default.
            string[] port = ["--pg-port", TestCluster.FreePort().ToString(CultureInfo.InvariantCulture)];

            var migrate = await Infrastructure.Cli.RunLauncherAsync(checkout, ["migrate", .. port]);
            Assert.True(migrate.ExitCode == 0, migrate.Stderr);
            real = new DirectoryInfo(link).LinkTarget;
            Assert.NotNull(real);
            Assert.StartsWith(EmbeddedPostgresOptions.DefaultRelocationRoot + "/botstore-", real, StringComparison.Ordinal);
            Assert.Contains($"data lives in {real}", migrate.Stderr, StringComparison.Ordinal);
            Assert.Equal(Closed, File.GetUnixFileMode(closed));

            var status = await Infrastructure.Cli.RunLauncherAsync(checkout, ["db", "status", .. port]);
            Assert.True(status.ExitCode == 0, status.Stderr);
            Assert.Contains($"in {real} (linked from {link})", status.Stdout, StringComparison.Ordinal);
            Assert.Contains("up to date", status.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("data lives in", status.Stderr, StringComparison.Ordinal);

            // serve starts the cluster; a verb run meanwhile attaches to it and leaves it running.
            await using (var serve = await ServeProcess.StartInCheckoutAsync(checkout, port))
            {
                var tenant = await Infrastructure.Cli.RunLauncherAsync(checkout, ["tenants", "create", "acme", "--json", .. port]);
                Assert.True(tenant.ExitCode == 0, tenant.Stderr);
                using var http = new HttpClient { BaseAddress = serve.BaseAddress };
                Assert.True((await http.GetAsync(new Uri("/readyz", UriKind.Relative))).IsSuccessStatusCode, serve.Output);
                Assert.Equal(0, await serve.StopAsync());
            }
            Assert.False(File.Exists(Path.Combine(real, "postmaster.pid")), "the cluster outlived the last process using it");
            Assert.Equal(Closed, File.GetUnixFileMode(closed));
        }
        finally
        {
            if (real is not null)
            {
                // Only when a step above failed: stop the cluster by hand, whatever state it is in.
                if (File.Exists(Path.Combine(real, "postmaster.pid")))
                    Process.Start("runuser", ["-u", "postgres", "--", (await PostgresBinaries.LocateAsync()).Program("pg_ctl"), "stop", "-D", real, "-m", "immediate"]).WaitForExit();
                Directory.Delete(real, recursive: true);
                File.Delete(real + ".lock");
                File.Delete(real + ".users");
            }
            Directory.Delete(closed, recursive: true);
        }
    }

    [RootFact("the embedded cluster runs as postgres only when started by root")]
    public async Task A_first_start_that_fails_in_a_closed_folder_leaves_nothing_behind()
    {
        var closed = TestCluster.NewTempFolder("botstore-closed");
        File.SetUnixFileMode(closed, Closed);
        var relocationRoot = TestCluster.NewTempFolder("botstore-relocated");
        var requested = Path.Combine(closed, "clone", ".botstore", "pg");
        var options = new EmbeddedPostgresOptions
        {
            DataDirectory = requested, RelocationRoot = relocationRoot, Port = TestCluster.FreePort(), MaxConnections = 20,
            SharedBuffers = "not-a-size",
        };
        try
        {
            await Assert.ThrowsAsync<BotStoreConfigurationException>(async () => await EmbeddedPostgres.StartAsync(options));
            Assert.False(Path.Exists(requested), "the link (or folder) of a failed first start was left behind");
            Assert.Empty(Directory.GetDirectories(relocationRoot));

            await using var started = await EmbeddedPostgres.StartAsync(options with { SharedBuffers = "16MB" });
            Assert.True(started.Created);
            Assert.Equal(requested, started.LinkedFrom);
            Assert.Equal(Path.Combine(relocationRoot, Path.GetFileName(started.DataDirectory)), started.DataDirectory);
            Assert.StartsWith("clone-", Path.GetFileName(started.DataDirectory), StringComparison.Ordinal);
            Assert.Equal(started.DataDirectory, new DirectoryInfo(requested).LinkTarget);
            Assert.Equal(Closed, File.GetUnixFileMode(closed));
        }
        finally
        {
            Directory.Delete(closed, recursive: true);
            Directory.Delete(relocationRoot, recursive: true);
        }
    }

    // The launcher builds on first use (a minute of Release build); the tests' own output holds the same CLI, so the
    // clone gets a copy with a fresh stamp and the launcher runs it as is.
    private static void SeedLauncherBuild(string checkout)
    {
        var build = Path.Combine(checkout, ".botstore", "build");
        foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(build, Path.GetRelativePath(AppContext.BaseDirectory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        File.WriteAllText(Path.Combine(build, ".stamp"), "");
    }

    private static async Task RunAsync(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true, UseShellExecute = false })!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)}: {await stderr}");
    }
}
