using BotStore.Maintenance;
using BotStore.Partitions;
using BotStore.Server.Operations;

namespace BotStore.Server.Dashboard.Internal;

/// <summary>Maintenance: the schedule, the journal of runs, and "run now" for each task after a confirmation that shows its plan.</summary>
internal static class MaintenancePage
{
    /// <summary>What can be run now: the partition job and each maintenance task.</summary>
    private static readonly string[] Tasks = ["partitions", .. Enum.GetValues<MaintenanceTask>().Select(MaintenanceRunner.TaskName)];

    public static async Task<IResult> RenderAsync(HttpContext http, CancellationToken ct)
    {
        var page = new DashboardPage(http);
        var options = page.Service<OperationsOptions>();
        var answers = await page.Shards.SomeAsync(async (s, t) => (Last: (await s.Maintenance.LastRunsAsync(t)).ToDictionary(r => r.Task),
            History: await s.Maintenance.HistoryAsync(30, null, true, t)), ct);
        var answered = answers.Where(a => a.Error is null).Select(a => (Shard: a.Shard.Name, a.Value.Last, a.Value.History)).ToList();
        var now = DateTimeOffset.UtcNow;
        var schedules = options.Schedules().ToDictionary(s => s.Name);

        var html = page.Unanswered(new Html(), answers);
        if (!options.Enabled)
            html.Raw("<p class=\"notice\">This instance schedules nothing (BotStore:Operations:Enabled is false); another instance may.</p>");
        if (page.Several)
            html.Raw("<p class=\"muted\">Every shard runs the same schedule on its own database; each task's last run and <strong>Run now</strong> are per shard.</p>");
        html.Raw("<h2>Schedule</h2>").Table(page.Headers("task", "schedule (UTC)", "next run", "last run", "outcome", ""),
            Tasks.SelectMany(task => answered.Select(shard =>
            {
                var scheduled = schedules.TryGetValue(task, out var s);
                var lastRun = shard.Last.GetValueOrDefault(task == "partitions" ? PartitionManager.EnsureTask : task);
                return page.Cells(shard.Shard,
                    task, scheduled ? s.Cron.CronExpressionString : "off", scheduled && options.Enabled ? Html.Time(s.Cron.GetNextValidTimeAfter(now)) : "",
                    Html.Time(lastRun?.StartedAt), lastRun is null ? "" : Outcome(lastRun.Outcome),
                    new Markup(new Html().Raw("<form method=\"post\" action=\"/dashboard/maintenance/run\">").Antiforgery(page)
                        .Raw($"<input type=\"hidden\" name=\"task\" value=\"{task}\"><input type=\"hidden\" name=\"shard\" value=\"{Html.Attr(shard.Shard)}\">")
                        .Raw("<button type=\"submit\" class=\"small\">Run now…</button></form>").ToString()));
            })), "schedule");

        html.Raw("<h2>Journal</h2><p class=\"muted\">The latest runs, newest first, each with its steps (from <code>maintenance_runs</code>).</p>");
        html.Table(page.Headers("started", "task", "target", ">duration", "outcome", "host", "detail"),
            answered.SelectMany(shard => shard.History.Select(r => page.Cells(shard.Shard,
                r.RunId is null ? Html.Time(r.StartedAt) : new Markup("<span class=\"step\">↳ step</span>"), r.Task, r.Target,
                r.FinishedAt is { } f ? Html.Duration((f - r.StartedAt).TotalSeconds) : "running", Outcome(r.Outcome), r.Host,
                r.Error is { } e ? new Markup($"{Html.Attr(r.Detail)} <span class=\"error\">{Html.Attr(e)}</span>") : r.Detail))),
            "journal", "no maintenance has run yet");
        return page.Render("maintenance", "Maintenance", html.ToString());
    }

    /// <summary>POST: without <c>confirm</c>, the confirmation with the task's plan; with it, the run and what it did.</summary>
    public static async Task<IResult> RunAsync(HttpContext http, CancellationToken ct)
    {
        var page = new DashboardPage(http);
        var form = await http.Request.ReadFormAsync(ct);
        var task = form["task"].ToString();
        if (!Tasks.Contains(task))
            return page.Render("maintenance", "Run now", new Html().El("p", $"unknown task '{task}'", "error").ToString(), StatusCodes.Status400BadRequest);
        var confirmed = form["confirm"] == "yes";
        OperationsShard shard;
        try
        {
            shard = page.Shards.Get(form["shard"] is { Count: > 0 } named ? named.ToString() : page.Shards.All[0].Name);
        }
        catch (BotStoreValidationException ex)
        {
            return page.Render("maintenance", "Run now", new Html().El("p", ex.Message, "error").ToString(), StatusCodes.Status400BadRequest);
        }
        return task == "partitions"
            ? await PartitionsAsync(page, shard, confirmed, ct)
            : await MaintenanceAsync(page, shard, MaintenanceRunner.ParseTask(task), confirmed, ct);
    }

    private static async Task<IResult> MaintenanceAsync(DashboardPage page, OperationsShard shard, MaintenanceTask task, bool confirmed, CancellationToken ct)
    {
        var runner = shard.Maintenance;
        var name = MaintenanceRunner.TaskName(task);
        var on = page.Several ? $" on shard {shard.Name}" : "";
        var html = new Html();
        if (!confirmed)
        {
            var plan = await runner.PlanAsync(task, null, ct);
            html.Raw("<p>").Text($"{name} would run these {plan.Count} statements{on} now, one at a time:").Raw("</p>")
                .Table(["target", "statement", "why"], plan.Select(s => new object?[] { s.Target, Markup.Code(s.Statement), s.Reason }), "plan", "nothing to do");
            return page.Render("maintenance", $"Run {name}{on} now?", Confirm(html, page, name, shard.Name).ToString());
        }
        var result = await runner.RunAsync(task, null, false, false, ct);
        html.Raw("<p class=\"notice\" role=\"status\">").Text($"{name}: {result.Outcome.ToString().ToLowerInvariant()}: {result.Detail}").Raw("</p>")
            .Table(["target", "statement", "outcome", ">duration", "error"],
                result.Steps.Select(s => new object?[] { s.Target, Markup.Code(s.Statement), Outcome(s.Outcome), Html.Duration(s.Seconds), s.Error }), "steps", "no step");
        return page.Render("maintenance", $"Ran {name}{on}", html.Raw("<p><a href=\"/dashboard/maintenance\">Back to maintenance</a></p>").ToString());
    }

    private static async Task<IResult> PartitionsAsync(DashboardPage page, OperationsShard shard, bool confirmed, CancellationToken ct)
    {
        var partitions = shard.Partitions;
        var on = page.Several ? $" on shard {shard.Name}" : "";
        var html = new Html();
        if (!confirmed)
        {
            var status = await partitions.StatusAsync(null, ct);
            html.Raw("<p>Partitions ensure premakes the missing months of each table and moves rows out of its default partition:</p>")
                .Table(["table", ">runway", ">premake target", ">default rows"],
                    status.Select(s => new object?[] { s.Table, s.RunwayMonths, s.Policy.PremakeMonths, s.DefaultRows }), "plan");
            return page.Render("maintenance", $"Run partitions ensure{on} now?", Confirm(html, page, "partitions", shard.Name).ToString());
        }
        var result = await partitions.EnsureAsync(null, false, ct);
        html.Raw("<p class=\"notice\" role=\"status\">").Text(result.Skipped
                ? "another instance is managing partitions: nothing done"
                : $"partitions ensure: {result.Created.Count} partitions created, {result.Created.Sum(c => c.RowsMoved)} rows moved, {result.Failures.Count} failures").Raw("</p>")
            .Table(["table", "partition", "month", ">rows moved"], result.Created.Select(c => new object?[] { c.Table, c.Partition, c.Month.ToString("yyyy-MM"), c.RowsMoved }), "created")
            .Table(["table", "target", "error"], result.Failures.Select(f => new object?[] { f.Table, f.Target, f.Error }), "failures", "no failure");
        return page.Render("maintenance", $"Ran partitions ensure{on}", html.Raw("<p><a href=\"/dashboard/maintenance\">Back to maintenance</a></p>").ToString());
    }

    private static Html Confirm(Html html, DashboardPage page, string task, string shard) =>
        html.Raw("<form method=\"post\" action=\"/dashboard/maintenance/run\" class=\"confirm\">").Antiforgery(page)
            .Raw($"<input type=\"hidden\" name=\"task\" value=\"{Html.Attr(task)}\"><input type=\"hidden\" name=\"confirm\" value=\"yes\">")
            .Raw($"<input type=\"hidden\" name=\"shard\" value=\"{Html.Attr(shard)}\">")
            .Raw("<button type=\"submit\" class=\"danger\">Yes, run it now</button> <a href=\"/dashboard/maintenance\">Cancel</a></form>");

    private static Markup Outcome(MaintenanceOutcome outcome) => outcome switch
    {
        MaintenanceOutcome.Succeeded => Markup.Badge(true, "succeeded"),
        MaintenanceOutcome.Failed => Markup.Badge(false, badText: "failed"),
        _ => new Markup($"<span class=\"badge\">{outcome.ToString().ToLowerInvariant()}</span>"),
    };
}
