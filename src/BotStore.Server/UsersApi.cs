using BotStore.Data;
using BotStore.Server.Internal;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BotStore.Server;

/// <summary><c>/v1/users</c>: a tenant's end users (their sessions and unread messages are in SessionsApi and MessagesApi).</summary>
internal static class UsersApi
{
    internal sealed record CreateUserRequest(string? ExternalId, string? DisplayName);

    /// <summary>What an erasure deleted, per table, and in all.</summary>
    internal sealed record ErasureAnswer(Guid UserId, IReadOnlyDictionary<string, long> Deleted, long Total);

    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/v1/users").WithTags("Users");
        users.Post("", CreateUser);
        users.Get("", ListUsers);
        users.Get("/{id}", GetUser);
        users.Delete("/{id}", EraseUser);
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

    /// <summary>
    /// Erases the user and everything the tenant holds about them (see <see cref="UserEraser"/>), in batches; 200 with
    /// the rows deleted per table. Interrupted, it is finished by sending it again.
    /// </summary>
    public static async Task<Ok<ErasureAnswer>> EraseUser(CallerTenant tenant, string id, UserEraser eraser, CancellationToken ct)
    {
        var userId = ApiInput.Id(id, "user id");
        var counts = await eraser.EraseAsync(tenant.Id, userId, ct: ct);
        return TypedResults.Ok(new ErasureAnswer(userId, counts.ToDictionary(c => c.Table, c => c.Rows), counts.Sum(c => c.Rows)));
    }
}
