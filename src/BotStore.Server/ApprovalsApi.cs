using BotStore.Data;
using BotStore.Enums;
using BotStore.Server.Internal;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BotStore.Server;

/// <summary>
/// Approvals of a task's steps: requested and listed under <c>/v1/tasks/{id}/approvals</c>, read and decided under
/// <c>/v1/approvals</c>. A second decision answers 409 naming the current state.
/// </summary>
internal static class ApprovalsApi
{
    /// <summary>The longest an approval may wait, in seconds (a year and a day).</summary>
    private const int MaxExpirySeconds = 366 * 24 * 3600;

    internal sealed record ApprovalRequest(string? Step, RiskLevel? RiskLevel, DateTimeOffset? ExpiresAt, long? ExpiresInSeconds);

    internal sealed record DecisionRequest(string? Decision, string? Reason, string? DecidedBy);

    public static IEndpointRouteBuilder MapApprovalsApi(this IEndpointRouteBuilder app)
    {
        var ofTask = app.MapGroup("/v1/tasks/{id}/approvals").WithTags("Approvals");
        ofTask.Post("", RequestApproval);
        ofTask.Get("", ListApprovals);

        var approvals = app.MapGroup("/v1/approvals").WithTags("Approvals");
        approvals.Get("/{id}", GetApproval);
        approvals.Post("/{id}/decision", DecideApproval);
        return app;
    }

    public static async Task<Created<TaskApproval>> RequestApproval(string id, ApprovalRequest body, CallerTenant tenant,
        ApprovalStore approvals, TimeProvider clock, CancellationToken ct)
    {
        var expiresAt = (body.ExpiresAt, body.ExpiresInSeconds) switch
        {
            ({ } at, null) => at,
            (null, > 0 and <= MaxExpirySeconds) => clock.GetUtcNow().AddSeconds(body.ExpiresInSeconds.Value),
            (null, { } seconds) => throw new BotStoreValidationException($"expires_in_seconds must be between 1 and {MaxExpirySeconds} (got {seconds})"),
            (null, null) => throw new BotStoreValidationException("give expires_at or expires_in_seconds"),
            _ => throw new BotStoreValidationException("give expires_at or expires_in_seconds, not both"),
        };
        var approval = await approvals.RequestAsync(tenant.Id, ApiInput.Id(id, "task id"), ApiInput.Required(body.Step, "step"),
            body.RiskLevel ?? RiskLevel.None, expiresAt, ct);
        return TypedResults.Created($"/v1/approvals/{approval.Id}", approval);
    }

    public static async Task<Ok<Page<TaskApproval>>> ListApprovals(string id, string? status, string? limit, string? after, CallerTenant tenant,
        ApprovalStore approvals, ServeOptions options, CancellationToken ct)
    {
        var pendingOnly = status switch
        {
            "pending" => true,
            null or "all" => false,
            _ => throw new BotStoreValidationException($"status must be pending or all (got '{status}')"),
        };
        return TypedResults.Ok(await approvals.ListAsync(tenant.Id, ApiInput.Id(id, "task id"), pendingOnly, after, ApiInput.Limit(limit, options), ct));
    }

    public static async Task<Ok<TaskApproval>> GetApproval(string id, CallerTenant tenant, ApprovalStore approvals, CancellationToken ct) =>
        TypedResults.Ok(await approvals.GetAsync(tenant.Id, ApiInput.Id(id, "approval id"), ct));

    public static async Task<Ok<ApprovalDecision>> DecideApproval(string id, DecisionRequest body, CallerTenant tenant, ApprovalStore approvals, CancellationToken ct)
    {
        var decision = body.Decision switch
        {
            "approve" => ApprovalStatus.Approved,
            "reject" => ApprovalStatus.Rejected,
            "skip" => ApprovalStatus.Skipped,
            null => throw new BotStoreValidationException("decision is required: approve, reject or skip"),
            _ => throw new BotStoreValidationException($"'{body.Decision}' is not a decision: approve, reject or skip"),
        };
        return TypedResults.Ok(await approvals.DecideAsync(tenant.Id, ApiInput.Id(id, "approval id"), decision, body.Reason, body.DecidedBy, ct));
    }
}
