using System.Text.Json;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Sharding;

/// <summary>The verbs over two shards (<c>--shard NAME=URL</c>), and their answers to bad input.</summary>
public sealed class ShardedCliTests(TwoShards shards) : IClassFixture<TwoShards>
{
    [Fact]
    public async Task Migrate_create_on_a_named_shard_list_route_and_status_work_over_both_shards()
    {
        var migrate = await Infrastructure.Cli.RunAsync(["migrate", .. shards.CliShardArgs()]);
        Assert.True(migrate.ExitCode == 0, migrate.Stderr);
        Assert.Contains("== shard west", migrate.Stdout, StringComparison.Ordinal);

        var name = $"cli-{Guid.NewGuid():N}"[..16];
        var created = await Infrastructure.Cli.RunAsync(["tenants", "create", name, "--shard", "west", "--json", .. shards.CliShardArgs()]);
        Assert.True(created.ExitCode == 0, created.Stderr);
        using var tenant = JsonDocument.Parse(created.Stdout);
        Assert.Equal("west", tenant.RootElement.GetProperty("shard").GetString());
        var id = tenant.RootElement.GetProperty("tenant_id").GetInt64();
        Assert.Equal(1L, await shards.West.ScalarAsync<long>("SELECT count(*) FROM tenants WHERE id = $1", id));
        Assert.Equal(0L, await shards.East.ScalarAsync<long>("SELECT count(*) FROM tenants WHERE id = $1", id));
        Assert.Equal("west", await shards.East.ScalarAsync<string>("SELECT shard FROM tenant_directory WHERE tenant_id = $1", id));

        var route = await Infrastructure.Cli.RunAsync(["shards", "route", name, "--json", .. shards.CliShardArgs()]);
        Assert.True(route.ExitCode == 0, route.Stderr);
        Assert.Contains("\"shard\": \"west\"", route.Stdout, StringComparison.Ordinal);

        var list = await Infrastructure.Cli.RunAsync(["tenants", "list", "--json", .. shards.CliShardArgs()]);
        Assert.Contains(name, list.Stdout, StringComparison.Ordinal);

        var status = await Infrastructure.Cli.RunAsync(["shards", "status", "--json", .. shards.CliShardArgs()]);
        Assert.True(status.ExitCode == 0, status.Stderr + status.Stdout);
        using var rows = JsonDocument.Parse(status.Stdout);
        Assert.Equal(["east", "west"], rows.RootElement.EnumerateArray().Select(r => r.GetProperty("shard").GetString()));
        Assert.All(rows.RootElement.EnumerateArray(), r => Assert.True(r.GetProperty("reachable").GetBoolean()));
        Assert.All(rows.RootElement.EnumerateArray(), r => Assert.Empty(r.GetProperty("missing").EnumerateArray()));
    }

    [Fact]
    public async Task Serve_over_both_shards_serves_a_tenant_created_on_the_second_through_its_pgbouncer()
    {
        Assert.Equal(0, (await Infrastructure.Cli.RunAsync(["migrate", .. shards.CliShardArgs()])).ExitCode);
        var created = await Infrastructure.Cli.RunAsync(["tenants", "create", $"serve-{Guid.NewGuid():N}"[..16], "--shard", "west", "--json", .. shards.CliShardArgs()]);
        using var tenant = JsonDocument.Parse(created.Stdout);
        var token = tenant.RootElement.GetProperty("token").GetString();
        await using var serve = await ServeProcess.StartAsync([.. shards.CliShardArgs()], new Dictionary<string, string>
        {
            ["BOTSTORE__Shards__west__PgBouncer"] = shards.West.Bouncer.ConnectionString,
        });
        Assert.Contains("tenants through PgBouncer", serve.Output, StringComparison.Ordinal);
        using var client = new HttpClient { BaseAddress = serve.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var externalId = $"u-{Guid.NewGuid():N}";
        var response = await client.PostAsync("/v1/users", new StringContent($$"""{"external_id":"{{externalId}}"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(1L, await shards.West.ScalarAsync<long>("SELECT count(*) FROM users WHERE external_id = $1", externalId));
        Assert.Equal(0L, await shards.East.ScalarAsync<long>("SELECT count(*) FROM users WHERE external_id = $1", externalId));
    }

    [Fact]
    public async Task Bad_shard_input_is_one_line_and_a_non_zero_exit_and_changes_nothing()
    {
        var before = await shards.East.ScalarAsync<long>("SELECT count(*) FROM tenant_directory");
        var east = $"east={shards.East.DirectConnectionString}";
        var unreachable = $"west=postgres://botstore@127.0.0.1:{TestCluster.FreePort()}/botstore";
        var cases = new (string[] Args, string Says)[]
        {
            (["tenants", "create", "x", "--shard", "north", .. shards.CliShardArgs()], "unknown shard 'north'"),
            (["tenants", "create", "x", "--shard", east, "--shard", $"again={shards.East.DirectConnectionString}"], "name the same database"),
            (["tenants", "create", "x", "--shard", east, "--shard", unreachable], "shard 'west'"),
            (["migrate", "--shard", "east"], "expected --shard NAME=URL"),
            (["migrate", "--shard", "East=postgres://x/y"], "cannot name a shard"),
            (["migrate", "--shard", east, "--shard", east], "given twice"),
            (["shards", "route", "987654321", .. shards.CliShardArgs()], "no tenant has the id or name"),
            (["audit", "storage", .. shards.CliShardArgs()], "works on one database"),
        };
        foreach (var (args, says) in cases)
        {
            var result = await Infrastructure.Cli.RunAsync(args);
            Assert.True(result.ExitCode != 0, $"{string.Join(' ', args)} exited 0");
            var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains(says, line, StringComparison.Ordinal);
        }
        Assert.Equal(before, await shards.East.ScalarAsync<long>("SELECT count(*) FROM tenant_directory"));
    }
}
