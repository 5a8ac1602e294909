using System.Security.Claims;
using BotStore.Data;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace BotStore.Server.Dashboard.Internal;

/// <summary>
/// Signing in with the administrator token: the token is checked with <see cref="TenantStore.AuthenticateAsync"/>
/// and kept (encrypted by ASP.NET Core data protection) in an HTTP-only, same-site=strict cookie, which is checked
/// again on every request, so rotating the administrator token signs every dashboard out. Tenant tokens are refused.
/// </summary>
internal static class DashboardAuth
{
    public const string Scheme = "BotStore.Dashboard";
    private const string TokenItem = "botstore.admin_token";

    public static void ConfigureCookie(CookieAuthenticationOptions o, DashboardOptions options)
    {
        o.Cookie.Name = "botstore_dashboard";
        o.Cookie.Path = "/dashboard";
        o.Cookie.HttpOnly = true;
        o.Cookie.SameSite = SameSiteMode.Strict;
        o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest; // Secure whenever the dashboard is served over HTTPS
        o.ExpireTimeSpan = options.SignInFor;
        o.SlidingExpiration = true;
        o.LoginPath = "/dashboard/sign-in";
        o.Events.OnValidatePrincipal = async context =>
        {
            var token = context.Properties.Items.TryGetValue(TokenItem, out var t) ? t : null;
            var store = context.HttpContext.RequestServices.GetRequiredService<TenantStore>();
            if (token is null || await store.AuthenticateAsync(token, context.HttpContext.RequestAborted) is not { IsAdmin: true })
            {
                context.RejectPrincipal();
                await context.HttpContext.SignOutAsync(Scheme);
            }
        };
    }

    public static void ConfigureAntiforgery(AntiforgeryOptions o)
    {
        o.Cookie.Name = "botstore_dashboard_af";
        o.Cookie.Path = "/dashboard";
        o.Cookie.SameSite = SameSiteMode.Strict;
        o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.FormFieldName = "__af";
    }

    /// <summary>Endpoint filter of the pages: a signed-in administrator, else the sign-in page.</summary>
    public static async ValueTask<object?> RequireAdmin(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var result = await http.AuthenticateAsync(Scheme);
        if (!result.Succeeded)
        {
            var back = HttpMethods.IsGet(http.Request.Method) ? (http.Request.Path + http.Request.QueryString).ToString() : "/dashboard/";
            return Results.Redirect("/dashboard/sign-in?return=" + Uri.EscapeDataString(back));
        }
        http.User = result.Principal!;
        if (!HttpMethods.IsGet(http.Request.Method) && !await ValidAntiforgeryAsync(http))
            return Refused(http);
        return await next(context);
    }

    public static IResult SignInForm(HttpContext http, string? error = null, int status = StatusCodes.Status200OK)
    {
        var page = new Html().Raw("<main class=\"sign-in\"><h1>BotStore</h1><p>Sign in with the administrator token (<code>botstore tenants admin-token</code>).</p>");
        if (error is not null)
            page.Raw("<p class=\"error\" role=\"alert\">").Text(error).Raw("</p>");
        var tokens = http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http);
        page.Raw("<form method=\"post\" action=\"/dashboard/sign-in\">")
            .Raw($"<input type=\"hidden\" name=\"{Html.Attr(tokens.FormFieldName)}\" value=\"{Html.Attr(tokens.RequestToken)}\">")
            .Raw($"<input type=\"hidden\" name=\"return\" value=\"{Html.Attr(SafeReturn(http.Request.Query["return"]))}\">")
            .Raw("<label for=\"token\">Administrator token</label><input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required autofocus>")
            .Raw("<button type=\"submit\">Sign in</button></form></main>");
        return DashboardPage.Document("Sign in", page.ToString(), status);
    }

    public static async Task<IResult> SignInAsync(HttpContext http, CancellationToken ct)
    {
        if (!await ValidAntiforgeryAsync(http))
            return Refused(http);
        var form = await http.Request.ReadFormAsync(ct);
        var token = form["token"].ToString().Trim();
        var owner = token.Length == 0 ? null : await http.RequestServices.GetRequiredService<TenantStore>().AuthenticateAsync(token, ct);
        if (owner is not { IsAdmin: true })
        {
            http.Request.QueryString = QueryString.Create("return", form["return"].ToString());
            return owner is null
                ? SignInForm(http, "That token is not valid.", StatusCodes.Status401Unauthorized)
                : SignInForm(http, "That is a tenant's token: the dashboard needs the administrator token.", StatusCodes.Status403Forbidden);
        }
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "administrator"), new Claim(ClaimTypes.Role, "admin")], Scheme);
        var properties = new AuthenticationProperties { Items = { [TokenItem] = token } };
        await http.SignInAsync(Scheme, new ClaimsPrincipal(identity), properties);
        return Results.Redirect(SafeReturn(form["return"]));
    }

    public static async Task<IResult> SignOutAsync(HttpContext http, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        await http.SignOutAsync(Scheme);
        return Results.Redirect("/dashboard/sign-in");
    }

    private static async Task<bool> ValidAntiforgeryAsync(HttpContext http)
    {
        try
        {
            await http.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(http);
            return true;
        }
        catch (AntiforgeryValidationException)
        {
            return false;
        }
    }

    private static IResult Refused(HttpContext http) => DashboardPage.Document("Refused",
        "<main class=\"sign-in\"><h1>Refused</h1><p class=\"error\">This form did not come from this dashboard (or it expired). <a href=\"/dashboard/\">Go back</a> and try again.</p></main>",
        StatusCodes.Status400BadRequest);

    /// <summary>Only a path of this dashboard: never a redirect to another site.</summary>
    private static string SafeReturn(string? path) =>
        path is { Length: > 0 } p && p.StartsWith("/dashboard", StringComparison.Ordinal) && !p.StartsWith("//", StringComparison.Ordinal) && !p.Contains('\\')
            ? p
            : "/dashboard/";
}
