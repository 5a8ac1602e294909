using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using BotStore.Server.Internal;

namespace BotStore.Server.Internal;

/// <summary>
/// Maps a named handler under the handler's own name (the endpoint name: OpenAPI's operationId and link
/// generation), so a route table says each name once: <c>bots.Post("", CreateBot)</c> rather than
/// <c>bots.Post("", CreateBot)</c>. Pass a method group, never a lambda.
/// </summary>
internal static class NamedRoutes
{
    public static RouteHandlerBuilder Get(this IEndpointRouteBuilder group, [StringSyntax("Route")] string pattern, Delegate handler,
        [CallerArgumentExpression(nameof(handler))] string name = "") => group.MapGet(pattern, handler).WithName(name);

    public static RouteHandlerBuilder Post(this IEndpointRouteBuilder group, [StringSyntax("Route")] string pattern, Delegate handler,
        [CallerArgumentExpression(nameof(handler))] string name = "") => group.MapPost(pattern, handler).WithName(name);

    public static RouteHandlerBuilder Put(this IEndpointRouteBuilder group, [StringSyntax("Route")] string pattern, Delegate handler,
        [CallerArgumentExpression(nameof(handler))] string name = "") => group.MapPut(pattern, handler).WithName(name);

    public static RouteHandlerBuilder Patch(this IEndpointRouteBuilder group, [StringSyntax("Route")] string pattern, Delegate handler,
        [CallerArgumentExpression(nameof(handler))] string name = "") => group.MapPatch(pattern, handler).WithName(name);

    public static RouteHandlerBuilder Delete(this IEndpointRouteBuilder group, [StringSyntax("Route")] string pattern, Delegate handler,
        [CallerArgumentExpression(nameof(handler))] string name = "") => group.MapDelete(pattern, handler).WithName(name);
}
