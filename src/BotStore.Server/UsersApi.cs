using BotStore.Data;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BotStore.Server;

/// <summary><c>/v1/users</c>: a tenant's end users (their sessions and unread messages are in SessionsApi and MessagesApi).</summary>
internal static class UsersApi
{
    internal sealed record CreateUserRequest(string? ExternalId, string? DisplayName);

    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/v1/users").WithTags("Users");
        users.MapPost("", CreateUser).WithName(nameof(CreateUser));
        users.MapGet("", ListUsers).WithName(nameof(ListUsers));
        users.MapGet("/{id}", GetUser).WithName(nameof(GetUser));
        return app;
    }

    public static async Task<Created<User>> CreateUser(CallerTenant tenant, CreateUserRequest body, UserStore users, CancellationToken ct)
    {
        var user = await users.CreateAsync(tenant.Id, ApiInput.Required(body.ExternalId, "external_id"), body.DisplayName, ct);
        return TypedResults.Created($"/v1/users/{user.Id}", user);
    }

    public static async Task<Ok<Page<User>>> ListUsers(CallerTenant tenant, UserStore users, ServeOptions options, string? limit, string? after,
        CancellationToken ct) =>
        TypedResults.Ok(await users.ListAsync(tenant.Id, after, ApiInput.Limit(limit, options), ct));

    public static async Task<Ok<User>> GetUser(CallerTenant tenant, string id, UserStore users, CancellationToken ct) =>
        TypedResults.Ok(await users.GetAsync(tenant.Id, ApiInput.Id(id, "user id"), ct));
}
