using System.CommandLine;
using BotStore.Cli.Infrastructure;
using BotStore.Data;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore tenants</c>: create tenants and manage their bearer tokens (the platform operator's side).</summary>
internal static class TenantsCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "the tenant's name" };
        var create = new Command("create",
            "Create a tenant and print its bearer token (shown once; stored hashed). With shards: on --shard NAME, else on the shard with the fewest tenants.")
        {
            name, CommonOptions.Json,
        };
        create.Runs(async (parseResult, ct) =>
        {
            await using var shards = await ShardTargets.OpenAsync(parseResult, ct, allowPlacement: true);
            foreach (var target in shards.Targets)
                await EnsureMigratedAsync(target, ct);
            var store = new TenantStore(shards.Router);
            var (tenant, token) = await store.CreateAsync(parseResult.GetValue(name)!, ShardTargets.Placement(parseResult), ct);
            var shard = await store.ShardOfAsync(tenant.Id, ct);
            if (parseResult.GetValue(CommonOptions.Json))
                Output.Json(new { tenant_id = tenant.Id, name = tenant.Name, shard, token });
            else
                Output.Line($"Created tenant {tenant.Id} ({tenant.Name}) on shard '{shard}'. Its token, shown only now:\n{token}");
            return ExitCodes.Ok;
        });

        var tenantArg = new Argument<string>("tenant") { Description = "the tenant's id or name" };
        var rotate = new Option<bool>("--rotate") { Description = "revoke the tenant's tokens and issue a new one" };
        var token = new Command("token", "Issue a new token for a tenant, revoking its old ones (--rotate).") { tenantArg, rotate, CommonOptions.Json };
        token.Runs(async (parseResult, ct) =>
        {
            if (!parseResult.GetValue(rotate))
                throw new BotStoreValidationException("tokens are stored hashed and cannot be shown again: pass --rotate to replace the tenant's token");
            await using var shards = await ShardTargets.OpenAsync(parseResult, ct);
            var store = new TenantStore(shards.Router);
            var tenant = await store.FindAsync(parseResult.GetValue(tenantArg)!, ct)
                ?? throw new BotStoreNotFoundException($"no tenant has the id or name '{parseResult.GetValue(tenantArg)}'");
            var newToken = await store.RotateTokenAsync(tenant.Id, ct);
            if (parseResult.GetValue(CommonOptions.Json))
                Output.Json(new { tenant_id = tenant.Id, token = newToken });
            else
                Output.Line($"New token for tenant {tenant.Id} ({tenant.Name}); the old ones are revoked:\n{newToken}");
            return ExitCodes.Ok;
        });

        var list = new Command("list", "List tenants.") { CommonOptions.Json };
        list.Runs(async (parseResult, ct) =>
        {
            await using var shards = await ShardTargets.OpenAsync(parseResult, ct);
            var all = new List<Tenant>();
            string? after = null;
            var store = new TenantStore(shards.Router);
            do
            {
                var page = await store.ListAsync(after, 200, ct);
                all.AddRange(page.Items);
                after = page.Next;
            }
            while (after is not null);
            var placed = new List<(Tenant Tenant, string Shard)>();
            foreach (var t in all)
                placed.Add((t, await store.ShardOfAsync(t.Id, ct)));
            if (parseResult.GetValue(CommonOptions.Json))
            {
                Output.Json(placed.Select(p => new { p.Tenant.Id, p.Tenant.Name, p.Tenant.IsActive, p.Tenant.CreatedAt, p.Shard }));
                return ExitCodes.Ok;
            }
            var table = Output.Table(">id", "name", "shard", "active", "created");
            foreach (var (t, shard) in placed)
                table.Row(t.Id, t.Name, shard, t.IsActive ? "yes" : "no", t.CreatedAt);
            Output.Print(table);
            return ExitCodes.Ok;
        });

        var admin = new Command("admin-token", "Issue a new administrator token for /admin and /metrics, revoking the old ones.") { CommonOptions.Json };
        admin.Runs(async (parseResult, ct) =>
        {
            await using var shards = await ShardTargets.OpenAsync(parseResult, ct);
            foreach (var target in shards.Targets)
                await EnsureMigratedAsync(target, ct);
            var newToken = await new TenantStore(shards.Router).RotateAdminTokenAsync(ct);
            if (parseResult.GetValue(CommonOptions.Json))
                Output.Json(new { token = newToken });
            else
                Output.Line($"New administrator token; the old ones are revoked:\n{newToken}");
            return ExitCodes.Ok;
        });

        return new Command("tenants", "Create tenants and manage their tokens.") { create, token, list, admin, TenantsEraseCommand.Create(), TenantsEraseCommand.CreateEraseUser(), TenantsMoveCommand.Create() };
    }

    internal static async Task EnsureMigratedAsync(DatabaseTarget target, CancellationToken ct)
    {
        var pending = await new Schema.MigrationRunner(target.DataSource).PendingAsync(ct);
        if (pending.Count > 0)
            throw new BotStoreMigrationException(
                $"{pending.Count} migration(s) pending{(target.ShardName == Sharding.ShardRouter.DefaultShardName ? "" : $" on shard '{target.ShardName}'")}: run 'botstore migrate' first");
    }
}
