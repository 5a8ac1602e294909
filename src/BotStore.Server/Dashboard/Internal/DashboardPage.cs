using System.Text;
using BotStore.Server.Internal;
using BotStore.Server.Operations;
using Microsoft.AspNetCore.Antiforgery;

namespace BotStore.Server.Dashboard.Internal;

/// <summary>One request to a dashboard page: its context and the antiforgery token its forms carry.</summary>
internal sealed class DashboardPage(HttpContext http)
{
    /// <summary>The pages, in the order of the navigation bar: path under /dashboard and label.</summary>
    public static readonly (string Path, string Label)[] Pages =
    [
        ("", "Overview"), ("space", "Space"), ("partitions", "Partitions"), ("queries", "Queries"), ("maintenance", "Maintenance"),
        ("tenants", "Tenants"), ("shards", "Shards"),
    ];

    public HttpContext Http { get; } = http;

    public AntiforgeryTokenSet Antiforgery { get; } = http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http);

    public T Service<T>() where T : notnull => Http.RequestServices.GetRequiredService<T>();

    /// <summary>Every shard's operations; pages gather from all of them at once and name the shard of each figure when there are several.</summary>
    public OperationsShards Shards => Service<OperationsShards>();

    /// <summary>Whether there are several shards: then tables get a shard column and the navigation a Shards page.</summary>
    public bool Several => Shards.Several;

    /// <summary>A "shard" header first when there are several shards.</summary>
    public string[] Headers(params string[] headers) => Several ? ["shard", .. headers] : headers;

    /// <summary>A row with its shard first when there are several shards.</summary>
    public object?[] Cells(string shard, params object?[] cells) => Several ? [shard, .. cells] : cells;

    /// <summary>A notice per shard that did not answer (nothing with one shard: the page then fails as a whole).</summary>
    public Html Unanswered<T>(Html html, IEnumerable<Sharding.ShardAnswer<T>> answers)
    {
        foreach (var (shard, error) in ShardViews.Failures(answers))
            html.Raw("<p class=\"error shard-error\" role=\"alert\" data-shard=\"").Raw(Html.Attr(shard)).Raw("\">").Text($"shard '{shard}' did not answer: {error}").Raw("</p>");
        return html;
    }

    /// <summary>The whole page around <paramref name="body"/>, as an HTML result (never cached).</summary>
    public IResult Render(string active, string title, string body, int status = StatusCodes.Status200OK)
    {
        var nav = new StringBuilder();
        foreach (var (path, label) in Pages)
        {
            if (path == "shards" && !Several)
                continue;
            nav.Append("<a href=\"/dashboard/").Append(path).Append('"').Append(path == active ? " class=\"active\" aria-current=\"page\"" : "")
               .Append('>').Append(label).Append("</a>");
        }
        nav.Append("<a href=\"/docs/\">API reference</a>");
        var signOut = new Html().Raw("<form method=\"post\" action=\"/dashboard/sign-out\" class=\"sign-out\">").Antiforgery(this)
            .Raw("<button type=\"submit\">Sign out</button></form>");
        return Document(title, $"<header><a class=\"brand\" href=\"/dashboard/\">BotStore</a><nav>{nav}</nav>{signOut}</header><main><h1>{Html.Attr(title)}</h1>{body}</main>", status);
    }

    /// <summary>A bare page (the sign-in form).</summary>
    public static IResult Document(string title, string content, int status = StatusCodes.Status200OK) =>
        new HtmlResult($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{Html.Attr(title)} · BotStore</title><link rel="stylesheet" href="/dashboard/assets/dashboard.css"><link rel="icon" href="data:,">
            </head><body>{content}</body></html>
            """, status);

    private sealed class HtmlResult(string html, int status) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = status;
            http.Response.ContentType = "text/html; charset=utf-8";
            http.Response.Headers.CacheControl = "no-store";
            // Everything comes from this server: no script, style, font or image from anywhere else.
            http.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";
            http.Response.Headers.XContentTypeOptions = "nosniff";
            return http.Response.WriteAsync(html, http.RequestAborted);
        }
    }
}
