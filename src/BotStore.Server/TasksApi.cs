using System.Text.Json;
using BotStore.Data;
using BotStore.Enums;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BotStore.Server;

/// <summary>
/// <c>/v1/tasks</c> and <c>/v1/approvals</c>: tasks, their state machine, progress, and approvals of their steps.
/// Illegal or lost transitions and second decisions answer 409 naming the current state.
/// </summary>
internal static class TasksApi
{
    public static RouteGroupBuilder MapTasksApi(this RouteGroupBuilder v1)
    {
        v1.MapPost("/tasks", async Task<Created<AutoTask>> (CreateTaskRequest body, CallerTenant tenant, TaskStore tasks, CancellationToken ct) =>
        {
            var task = await tasks.CreateAsync(tenant.Id, new NewTask(
                ApiArgs.Required(body.BotId, "bot_id"), body.Title ?? throw new BotStoreValidationException("title is required"),
                body.IntentType ?? IntentType.Unknown, body.Priority ?? TaskPriority.Normal, body.ExecutionMode ?? ExecutionMode.Supervised,
                body.RiskLevel ?? RiskLevel.None, body.SessionId, body.Payload), ct);
            return TypedResults.Created($"/v1/tasks/{task.Id}", task);
        }).WithName("CreateTask");

        v1.MapGet("/tasks/{id}", async (string id, CallerTenant tenant, TaskStore tasks, CancellationToken ct) =>
            TypedResults.Ok(await tasks.GetAsync(tenant.Id, ApiArgs.Id(id, "task"), ct))).WithName("GetTask");

        v1.MapGet("/tasks", async (string? state, string? bot_id, string? limit, string? after, CallerTenant tenant, TaskStore tasks,
            ServeOptions options, CancellationToken ct) =>
        {
            var active = state switch
            {
                null or "active" => true,
                "all" => false,
                _ => throw new BotStoreValidationException($"state must be active or all (got '{state}')"),
            };
            return TypedResults.Ok(await tasks.ListAsync(tenant.Id, active, ApiArgs.OptionalId(bot_id, "bot"), after,
                ApiArgs.Limit(limit, options), ct));
        }).WithName("ListTasks");

        v1.MapPost("/tasks/{id}/transitions", async (string id, TransitionRequest body, CallerTenant tenant, TaskStore tasks, CancellationToken ct) =>
            TypedResults.Ok(await tasks.TransitionAsync(tenant.Id, ApiArgs.Id(id, "task"), ApiArgs.Required(body.To, "to"), body.From, body.Error, ct)))
            .WithName("TransitionTask");

        v1.MapPatch("/tasks/{id}", async (string id, ProgressRequest body, CallerTenant tenant, TaskStore tasks, CancellationToken ct) =>
            TypedResults.Ok(await tasks.UpdateProgressAsync(tenant.Id, ApiArgs.Id(id, "task"), body.Progress, body.Error, ct)))
            .WithName("UpdateTaskProgress");

        v1.MapPost("/tasks/{id}/approvals", async Task<Created<TaskApproval>> (string id, ApprovalRequest body, CallerTenant tenant,
            ApprovalStore approvals, TimeProvider clock, CancellationToken ct) =>
        {
            var expiresAt = (body.ExpiresAt, body.ExpiresInSeconds) switch
            {
                ({ } at, null) => at,
                (null, > 0 and <= 366 * 24 * 3600) => clock.GetUtcNow().AddSeconds(body.ExpiresInSeconds.Value),
                (null, { } seconds) => throw new BotStoreValidationException($"expires_in_seconds must be between 1 and {366 * 24 * 3600} (got {seconds})"),
                (null, null) => throw new BotStoreValidationException("give expires_at or expires_in_seconds"),
                _ => throw new BotStoreValidationException("give expires_at or expires_in_seconds, not both"),
            };
            var approval = await approvals.RequestAsync(tenant.Id, ApiArgs.Id(id, "task"),
                body.Step ?? throw new BotStoreValidationException("step is required"), body.RiskLevel ?? RiskLevel.None, expiresAt, ct);
            return TypedResults.Created($"/v1/approvals/{approval.Id}", approval);
        }).WithName("RequestApproval");

        v1.MapGet("/tasks/{id}/approvals", async (string id, string? status, string? limit, string? after, CallerTenant tenant,
            ApprovalStore approvals, ServeOptions options, CancellationToken ct) =>
        {
            var pendingOnly = status switch
            {
                "pending" => true,
                null or "all" => false,
                _ => throw new BotStoreValidationException($"status must be pending or all (got '{status}')"),
            };
            return TypedResults.Ok(await approvals.ListAsync(tenant.Id, ApiArgs.Id(id, "task"), pendingOnly, after, ApiArgs.Limit(limit, options), ct));
        }).WithName("ListApprovals");

        v1.MapGet("/approvals/{id}", async (string id, CallerTenant tenant, ApprovalStore approvals, CancellationToken ct) =>
            TypedResults.Ok(await approvals.GetAsync(tenant.Id, ApiArgs.Id(id, "approval"), ct))).WithName("GetApproval");

        v1.MapPost("/approvals/{id}/decision", async (string id, DecisionRequest body, CallerTenant tenant, ApprovalStore approvals, CancellationToken ct) =>
        {
            var decision = body.Decision switch
            {
                "approve" => ApprovalStatus.Approved,
                "reject" => ApprovalStatus.Rejected,
                "skip" => ApprovalStatus.Skipped,
                null => throw new BotStoreValidationException("decision is required: approve, reject or skip"),
                _ => throw new BotStoreValidationException($"'{body.Decision}' is not a decision: approve, reject or skip"),
            };
            return TypedResults.Ok(await approvals.DecideAsync(tenant.Id, ApiArgs.Id(id, "approval"), decision, body.Reason, body.DecidedBy, ct));
        }).WithName("DecideApproval");
        return v1;
    }

    internal sealed record CreateTaskRequest(
        Guid? BotId, Guid? SessionId, string? Title, IntentType? IntentType, TaskPriority? Priority, ExecutionMode? ExecutionMode,
        RiskLevel? RiskLevel, JsonElement? Payload);

    internal sealed record TransitionRequest(AutoTaskStatus? To, AutoTaskStatus? From, string? Error);

    internal sealed record ProgressRequest(int? Progress, string? Error);

    internal sealed record ApprovalRequest(string? Step, RiskLevel? RiskLevel, DateTimeOffset? ExpiresAt, long? ExpiresInSeconds);

    internal sealed record DecisionRequest(string? Decision, string? Reason, string? DecidedBy);
}
