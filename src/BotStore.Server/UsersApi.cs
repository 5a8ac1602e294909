using BotStore.Data;

namespace BotStore.Server;

/// <summary><c>/v1/users</c>: a tenant's end users (their sessions and unread messages are in SessionsApi and MessagesApi).</summary>
internal static class UsersApi
{
    internal sealed record CreateUserRequest(string? ExternalId, string? DisplayName);

    public static RouteGroupBuilder MapUsersApi(this RouteGroupBuilder v1)
    {
        v1.MapPost("/users", async (CallerTenant tenant, CreateUserRequest body, UserStore users, CancellationToken ct) =>
        {
            var user = await users.CreateAsync(tenant.Id, ApiInput.Required(body.ExternalId, "external_id"), body.DisplayName, ct);
            return TypedResults.Created($"/v1/users/{user.Id}", user);
        }).WithName("CreateUser");

        v1.MapGet("/users", async (CallerTenant tenant, UserStore users, ServeOptions options, int? limit, string? after, CancellationToken ct) =>
            TypedResults.Ok(await users.ListAsync(tenant.Id, after, ApiInput.Limit(limit, options), ct))).WithName("ListUsers");

        v1.MapGet("/users/{id}", async (CallerTenant tenant, string id, UserStore users, CancellationToken ct) =>
            TypedResults.Ok(await users.GetAsync(tenant.Id, ApiInput.Id(id, "user id"), ct))).WithName("GetUser");
        return v1;
    }
}
