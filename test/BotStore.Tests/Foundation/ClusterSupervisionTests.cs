using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using BotStore.Tests.Infrastructure;
using BotStore.Tooling.Embedded;
using Npgsql;

namespace BotStore.Tests.Foundation;

/// <summary>
/// Issue 8 item 6, as fault tests on real processes: serve brings its cluster back after <c>kill -9</c> of the
/// postmaster under write load, losing nothing it acknowledged; two serve processes share one cluster, which outlives
/// the one that started it.
/// </summary>
public sealed class ClusterSupervisionTests
{
    [Fact]
    public async Task Serve_restarts_its_cluster_after_kill_9_under_writes_and_loses_nothing_acknowledged()
    {
        var folder = TestCluster.NewTempFolder("botstore-kill9");
        var dataDir = Path.Combine(folder, "pg");
        string[] where = ["--data-dir", dataDir, "--pg-port", TestCluster.FreePort().ToString(CultureInfo.InvariantCulture)];
        try
        {
            await using var serve = await ServeProcess.StartAsync(where);
            using var http = await NewTenantClientAsync(serve, where);
            var session = await NewSessionAsync(http);

            var acknowledged = new ConcurrentBag<Guid>();
            var afterKill = 0;
            var killed = false;
            using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    try
                    {
                        using var response = await http.PostAsJsonAsync(new Uri($"/v1/sessions/{session}/messages", UriKind.Relative),
                            new { role = "user", message_type = "text", content = $"writer {w} message {i}" }, CancellationToken.None);
                        if (response.StatusCode == HttpStatusCode.Created)
                        {
                            acknowledged.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid());
                            if (Volatile.Read(ref killed) && Interlocked.Increment(ref afterKill) >= 40)
                                await stop.CancelAsync();
                            continue;
                        }
                    }
                    catch (HttpRequestException)
                    {
                        // The API itself stays up; only the database goes away.
                    }
                    await Task.Delay(50);
                }
            })).ToArray();

            while (acknowledged.Count < 40 && !stop.IsCancellationRequested)
                await Task.Delay(50);
            var oldPid = PostmasterPid(dataDir);
            await RunAsync("kill", "-9", oldPid.ToString(CultureInfo.InvariantCulture));
            Volatile.Write(ref killed, true);
            await Task.WhenAll(writers);

            Assert.True(afterKill >= 40, $"serve did not write again after kill -9 ({afterKill} acknowledged since):\n{serve.Output}");
            Assert.NotEqual(oldPid, PostmasterPid(dataDir));
            Assert.Contains("is down: the server process", serve.Output, StringComparison.Ordinal);
            Assert.Contains("is running again", serve.Output, StringComparison.Ordinal);

            await using (var attached = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = dataDir }))
            {
                Assert.False(attached.StartedServer);
                await using var conn = new NpgsqlConnection(attached.ConnectionStringFor("botstore") + ";Pooling=false");
                await conn.OpenAsync();
                await using var count = new NpgsqlCommand("SELECT count(*) FROM message_history WHERE id = ANY($1)", conn) { Parameters = { new() { Value = acknowledged.ToArray() } } };
                Assert.Equal(acknowledged.Count, Convert.ToInt32(await count.ExecuteScalarAsync(), CultureInfo.InvariantCulture));
            }
            Assert.Equal(0, await serve.StopAsync());
            Assert.False(File.Exists(Path.Combine(dataDir, "postmaster.pid")), "the cluster outlived the last process using it");
        }
        finally
        {
            await StopAndRemoveAsync(folder, dataDir);
        }
    }

    [Fact]
    public async Task Two_serves_share_one_cluster_which_outlives_the_one_that_started_it()
    {
        var folder = TestCluster.NewTempFolder("botstore-twoserves");
        var dataDir = Path.Combine(folder, "pg");
        string[] where = ["--data-dir", dataDir, "--pg-port", TestCluster.FreePort().ToString(CultureInfo.InvariantCulture)];
        try
        {
            await using var first = await ServeProcess.StartAsync(where);
            var pid = PostmasterPid(dataDir);
            await using var second = await ServeProcess.StartAsync(where);
            Assert.Equal(0, await first.StopAsync());

            // The same server, still running: not stopped by the first and brought back by the second's supervisor.
            Assert.Equal(pid, PostmasterPid(dataDir));
            using var http = await NewTenantClientAsync(second, where);
            await NewSessionAsync(http);
            Assert.DoesNotContain("is down", second.Output, StringComparison.Ordinal);

            Assert.Equal(0, await second.StopAsync());
            Assert.False(File.Exists(Path.Combine(dataDir, "postmaster.pid")), "the cluster outlived the last process using it");
        }
        finally
        {
            await StopAndRemoveAsync(folder, dataDir);
        }
    }

    internal static int PostmasterPid(string dataDir) =>
        int.Parse(File.ReadLines(Path.Combine(dataDir, "postmaster.pid")).First(), CultureInfo.InvariantCulture);

    // A tenant made by the CLI, which attaches to the cluster serve runs.
    private static async Task<HttpClient> NewTenantClientAsync(ServeProcess serve, string[] where)
    {
        var created = await Infrastructure.Cli.RunAsync(["tenants", "create", $"t{Guid.NewGuid():N}"[..12], "--json", .. where]);
        Assert.True(created.ExitCode == 0, created.Stderr);
        var token = JsonDocument.Parse(created.Stdout).RootElement.GetProperty("token").GetString();
        var http = new HttpClient { BaseAddress = serve.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static async Task<string> NewSessionAsync(HttpClient http)
    {
        async Task<string> CreateAsync(string path, object body)
        {
            using var response = await http.PostAsJsonAsync(new Uri(path, UriKind.Relative), body);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }
        var bot = await CreateAsync("/v1/bots", new { name = "helper", llm_provider = "openai" });
        var user = await CreateAsync("/v1/users", new { external_id = "u1", display_name = "Ana" });
        return await CreateAsync("/v1/sessions", new { user_id = user, bot_id = bot, channel = "web", title = "hello" });
    }

    internal static async Task RunAsync(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true, UseShellExecute = false })!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)}: {await stderr}");
    }

    // Should a serve have died before stopping its cluster, stop it by its pid before removing the folder.
    private static async Task StopAndRemoveAsync(string folder, string dataDir)
    {
        if (File.Exists(Path.Combine(dataDir, "postmaster.pid")))
        {
            var pid = PostmasterPid(dataDir);
            using (Process.Start("kill", ["-INT", pid.ToString(CultureInfo.InvariantCulture)])) { }
            for (var i = 0; i < 100 && Directory.Exists($"/proc/{pid}"); i++)
                await Task.Delay(100);
        }
        Directory.Delete(folder, recursive: true);
    }
}
