using BotStore.Enums;

namespace BotStore.Server;

/// <summary><c>GET /v1/enums</c>: the seed's reference table, as <c>botstore enums --json</c> prints it.</summary>
internal static class EnumsApi
{
    public static RouteGroupBuilder MapEnumsApi(this RouteGroupBuilder v1)
    {
        v1.MapGet("/enums", () => TypedResults.Ok(EnumCatalog.Entries)).WithName("ListEnums");
        return v1;
    }
}
