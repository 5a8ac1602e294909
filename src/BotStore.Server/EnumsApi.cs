using BotStore.Enums;
using BotStore.Server.Internal;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BotStore.Server;

/// <summary><c>GET /v1/enums</c>: the seed's reference table, as <c>botstore enums --json</c> prints it.</summary>
internal static class EnumsApi
{
    public static IEndpointRouteBuilder MapEnumsApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/enums").WithTags("Enums").Get("", ListEnums);
        return app;
    }

    public static Ok<IEnumerable<EnumEntry>> ListEnums() => TypedResults.Ok(EnumCatalog.Entries);
}
