using System.CommandLine;
using BotStore.Cli.Infrastructure;
using BotStore.Data;
using Spectre.Console;

namespace BotStore.Cli.Commands;

/// <summary>
/// <c>botstore tenants erase TENANT</c>: deletes everything the tenant owns (GDPR erasure), in batches, with a
/// progress display. Interrupted, it can simply be run again.
/// </summary>
internal static class TenantsEraseCommand
{
    public static Command Create()
    {
        var tenantArg = new Argument<string>("tenant") { Description = "the tenant's id or name" };
        var yes = new Option<bool>("--yes") { Description = "do not ask for confirmation (required when not on a terminal)" };
        var batchSize = new Option<int>("--batch-size") { Description = "rows deleted per transaction", DefaultValueFactory = _ => 10_000 };
        var erase = new Command("erase", "Delete a tenant and everything it owns, in batches (resumable: run it again after an interruption).")
        {
            tenantArg, yes, batchSize, CommonOptions.Json,
        };
        erase.Runs(async (parseResult, ct) =>
        {
            var size = parseResult.GetValue(batchSize);
            if (size < 1)
                throw new BotStoreValidationException($"--batch-size must be positive (got {size})");
            await using var shards = await ShardTargets.OpenAsync(parseResult, ct);
            var (tenant, target) = await shards.FindTenantAsync(parseResult.GetValue(tenantArg)!, ct);
            await TenantsCommand.EnsureMigratedAsync(target, ct);
            var eraser = new TenantEraser(target.DataSource);
            var json = parseResult.GetValue(CommonOptions.Json);
            var onTerminal = !json && !Console.IsInputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
            if (!parseResult.GetValue(yes) && !onTerminal)
                throw new BotStoreValidationException($"erasing tenant {tenant.Id} ({tenant.Name}) cannot be undone: pass --yes to confirm");

            long deleted;
            if (!onTerminal)
            {
                deleted = await eraser.EraseAsync(tenant.Id, size, null, ct);
            }
            else
            {
                var remaining = await eraser.RemainingAsync(tenant.Id, ct);
                if (!parseResult.GetValue(yes))
                    Confirm(tenant, remaining);
                deleted = await AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
                    .StartAsync(async ctx =>
                    {
                        var bars = remaining.ToDictionary(r => r.Table, r => ctx.AddTask(r.Table, maxValue: Math.Max(r.Rows, 1)));
                        return await eraser.EraseAsync(tenant.Id, size, new Reporter(p => Show(bars[p.Table], p)), ct);
                    });
            }
            if (json)
                Output.Json(new { tenant_id = tenant.Id, name = tenant.Name, rows_deleted = deleted });
            else
                Output.Line($"Erased tenant {tenant.Id} ({tenant.Name}): {deleted} row(s) deleted.");
            return ExitCodes.Ok;
        });
        return erase;
    }

    /// <summary><c>botstore tenants erase-user TENANT USER --yes</c>: erases one end user of a tenant (by id or external id).</summary>
    public static Command CreateEraseUser()
    {
        var tenantArg = new Argument<string>("tenant") { Description = "the tenant's id or name" };
        var userArg = new Argument<string>("user") { Description = "the user's id, or the tenant's external_id for it" };
        var yes = new Option<bool>("--yes") { Description = "confirm: the erasure cannot be undone" };
        var batchSize = new Option<int>("--batch-size") { Description = "rows deleted per transaction", DefaultValueFactory = _ => 10_000 };
        var command = new Command("erase-user",
            "Delete one end user of a tenant and everything held about them (sessions, messages, memories, events), in batches (resumable).")
        {
            tenantArg, userArg, yes, batchSize, CommonOptions.Json,
        };
        command.Runs(async (parseResult, ct) =>
        {
            await using var shards = await ShardTargets.OpenAsync(parseResult, ct);
            var (tenant, target) = await shards.FindTenantAsync(parseResult.GetValue(tenantArg)!, ct);
            await TenantsCommand.EnsureMigratedAsync(target, ct);
            var user = parseResult.GetValue(userArg)!;
            var userId = Guid.TryParse(user, out var id) ? id : await UserIdAsync(target, tenant.Id, user, ct);
            if (!parseResult.GetValue(yes))
                throw new BotStoreValidationException($"erasing user {userId} of tenant {tenant.Id} cannot be undone: pass --yes to confirm");
            var counts = await new UserEraser(target.DataSource).EraseAsync(tenant.Id, userId, parseResult.GetValue(batchSize), ct);
            if (parseResult.GetValue(CommonOptions.Json))
            {
                Output.Json(new { tenant_id = tenant.Id, user_id = userId, deleted = counts.ToDictionary(c => c.Table, c => c.Rows), total = counts.Sum(c => c.Rows) });
            }
            else
            {
                var table = Output.Table("table", ">rows deleted");
                foreach (var (t, rows) in counts)
                    table.Row(t, rows);
                Output.Print(table);
                Output.Line($"Erased user {userId} of tenant {tenant.Id} ({tenant.Name}): {counts.Sum(c => c.Rows)} row(s) deleted.");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<Guid> UserIdAsync(DatabaseTarget target, long tenantId, string externalId, CancellationToken ct)
    {
        await using var cmd = target.DataSource.CreateCommand("SELECT id FROM users WHERE tenant_id = $1 AND external_id = $2");
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = tenantId });
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = externalId });
        return await cmd.ExecuteScalarAsync(ct) as Guid? ?? throw new BotStoreNotFoundException($"tenant {tenantId} has no user '{externalId}'");
    }

    private static void Confirm(Tenant tenant, IReadOnlyList<(string Table, long Rows)> remaining)
    {
        var table = Output.Table("table", ">rows");
        foreach (var (name, rows) in remaining)
            table.Row(name, rows);
        Output.Print(table);
        if (!AnsiConsole.Confirm($"Delete tenant {tenant.Id} ({Markup.Escape(tenant.Name)}) and all these rows? This cannot be undone.", defaultValue: false))
            throw new BotStoreValidationException("erasure not confirmed: nothing was deleted");
    }

    private static void Show(ProgressTask bar, ErasureProgress p)
    {
        bar.MaxValue = Math.Max(bar.MaxValue, p.RowsDeleted);
        bar.Value = p.RowsDeleted;
        bar.Description = p.Partition is null ? $"{p.Table} ({p.RowsDeleted})" : $"{p.Table} ({p.RowsDeleted}, {p.Partition})";
        if (p.Done)
        {
            bar.Description = $"{p.Table} ({p.RowsDeleted})";
            bar.Value = bar.MaxValue;
            bar.StopTask();
        }
    }

    // Progress<T> would post reports to the thread pool out of order; the display wants them as they happen.
    private sealed class Reporter(Action<ErasureProgress> report) : IProgress<ErasureProgress>
    {
        public void Report(ErasureProgress value) => report(value);
    }
}
