using System.Text.Json;
using BotStore.Data;
using BotStore.Enums;
using BotStore.Server.Internal;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace BotStore.Server;

/// <summary>
/// <c>/v1/tasks</c>: tasks, their state machine and progress (their approvals are in <see cref="ApprovalsApi"/>).
/// Illegal or lost transitions answer 409 naming the current state.
/// </summary>
internal static class TasksApi
{
    internal sealed record CreateTaskRequest(
        Guid? BotId, Guid? SessionId, string? Title, IntentType? IntentType, TaskPriority? Priority, ExecutionMode? ExecutionMode,
        RiskLevel? RiskLevel, JsonElement? Payload);

    internal sealed record TransitionRequest(AutoTaskStatus? To, AutoTaskStatus? From, string? Error);

    internal sealed record ProgressRequest(int? Progress, string? Error);

    public static IEndpointRouteBuilder MapTasksApi(this IEndpointRouteBuilder app)
    {
        var tasks = app.MapGroup("/v1/tasks").WithTags("Tasks");
        tasks.Post("", CreateTask);
        tasks.Get("/{id}", GetTask);
        tasks.Get("", ListTasks);
        tasks.Post("/{id}/transitions", TransitionTask);
        tasks.Patch("/{id}", UpdateTaskProgress);
        return app;
    }

    public static async Task<Created<AutoTask>> CreateTask(CreateTaskRequest body, CallerTenant tenant, TaskStore tasks, CancellationToken ct)
    {
        var task = await tasks.CreateAsync(tenant.Id, new NewTask(
            ApiInput.Required(body.BotId, "bot_id"), ApiInput.Required(body.Title, "title"),
            body.IntentType ?? IntentType.Unknown, body.Priority ?? TaskPriority.Normal, body.ExecutionMode ?? ExecutionMode.Supervised,
            body.RiskLevel ?? RiskLevel.None, body.SessionId, body.Payload), ct);
        return TypedResults.Created($"/v1/tasks/{task.Id}", task);
    }

    public static async Task<Ok<AutoTask>> GetTask(string id, CallerTenant tenant, TaskStore tasks, CancellationToken ct) =>
        TypedResults.Ok(await tasks.GetAsync(tenant.Id, ApiInput.Id(id, "task id"), ct));

    public static async Task<Ok<Page<AutoTask>>> ListTasks(string? state, [FromQuery(Name = "bot_id")] string? botId, string? limit, string? after,
        CallerTenant tenant, TaskStore tasks, ServeOptions options, CancellationToken ct)
    {
        var active = state switch
        {
            null or "active" => true,
            "all" => false,
            _ => throw new BotStoreValidationException($"state must be active or all (got '{state}')"),
        };
        return TypedResults.Ok(await tasks.ListAsync(tenant.Id, active, ApiInput.OptionalId(botId, "bot_id"), after, ApiInput.Limit(limit, options), ct));
    }

    public static async Task<Ok<AutoTask>> TransitionTask(string id, TransitionRequest body, CallerTenant tenant, TaskStore tasks, CancellationToken ct) =>
        TypedResults.Ok(await tasks.TransitionAsync(tenant.Id, ApiInput.Id(id, "task id"), ApiInput.Required(body.To, "to"), body.From, body.Error, ct));

    public static async Task<Ok<AutoTask>> UpdateTaskProgress(string id, ProgressRequest body, CallerTenant tenant, TaskStore tasks, CancellationToken ct) =>
        TypedResults.Ok(await tasks.UpdateProgressAsync(tenant.Id, ApiInput.Id(id, "task id"), body.Progress, body.Error, ct));
}
