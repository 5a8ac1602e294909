using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using BotStore.Data;
using BotStore.Server;
using BotStore.Tests.Api;
using static BotStore.Tests.Hardening.Http;

namespace BotStore.Tests.Hardening;

/// <summary>
/// The hostile suite: every route of the OpenAPI document, with malformed ids, bodies, queries, sizes, NULs, lone
/// surrogates, invalid UTF-8 and deep JSON. No answer is a 5xx, every error is problem details, a refused request
/// writes nothing (the tenant's row counts before and after), and afterwards, on a pool of <see cref="PoolSize"/>
/// connections, another tenant is served at once and no connection is left busy.
/// </summary>
public sealed class HostileSuiteTests : IAsyncLifetime
{
    private const int PoolSize = 4;
    private readonly SmallPoolServer _server = new(PoolSize, "botstore-hostile", new ServeOptions { MaxRequestBytes = 1024 * 1024 });

    public Task InitializeAsync() => _server.StartAsync();

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task Every_route_survives_hostile_input_with_problem_details_and_writes_nothing_when_refused()
    {
        var (tenantId, client) = await _server.TenantClientAsync();
        var (_, bystander) = await _server.TenantClientAsync();
        using var admin = new HttpClient { BaseAddress = _server.BaseAddress };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await new TenantStore(_server.Pool).RotateAdminTokenAsync());
        var w = await ApiWorld.CreateAsync(client);
        var task = (await OkAsync(await client.PostRaw("/v1/tasks", $$"""{"bot_id":"{{w.BotId}}","title":"t"}"""))).GetProperty("id").GetGuid();
        var valid = new Dictionary<string, string>
        {
            ["bots"] = w.BotId.ToString(), ["users"] = w.UserId.ToString(), ["sessions"] = w.SessionId.ToString(), ["tasks"] = task.ToString(),
            ["approvals"] = Guid.CreateVersion7().ToString(), ["messages"] = Guid.CreateVersion7().ToString(),
        };

        using var openApi = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));
        var schemas = openApi.RootElement.GetProperty("components").GetProperty("schemas");
        var sent = 0;
        var failures = new List<string>();
        foreach (var path in openApi.RootElement.GetProperty("paths").EnumerateObject())
        {
            if (!path.Name.StartsWith("/v1/", StringComparison.Ordinal) && !path.Name.StartsWith("/admin/", StringComparison.Ordinal))
                continue;
            var caller = path.Name.StartsWith("/admin/", StringComparison.Ordinal) ? admin : client;
            foreach (var operation in path.Value.EnumerateObject())
            {
                var method = new HttpMethod(operation.Name.ToUpperInvariant());
                foreach (var (url, body) in Variants(path.Name, operation.Value, schemas, valid))
                {
                    sent++;
                    var before = await CountsAsync(tenantId);
                    using var request = new HttpRequestMessage(method, url) { Content = body };
                    // The server refuses an oversized body from its Content-Length and closes the connection; with
                    // 100-continue the client waits for that answer instead of writing into a closed socket.
                    request.Headers.ExpectContinue = body is not null;
                    using var response = await caller.SendAsync(request);
                    var status = (int)response.StatusCode;
                    var what = $"{method} {url} [{await DescribeAsync(body)}] -> {status}";
                    if (status >= 500)
                        failures.Add($"{what}: {await response.Content.ReadAsStringAsync()}");
                    else if (status >= 400 && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                        failures.Add($"{what}: not problem details ({response.Content.Headers.ContentType})");
                    else if (status >= 400 && await CountsAsync(tenantId) != before)
                        failures.Add($"{what}: a refused request changed the tenant's rows");
                }
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} hostile requests misbehaved:\n{string.Join("\n", failures.Take(40))}");
        Assert.True(sent > 300, $"only {sent} requests were sent");

        // The pool is whole: another tenant is served at once, and nothing is left busy.
        await OkAsync(await bystander.PostRaw("/v1/users", """{"external_id":"after the storm"}"""), HttpStatusCode.Created);
        Assert.Equal(0L, await _server.BusyConnectionsAsync());
    }

    private static readonly string[] BadIds = ["not-a-uuid", Guid.Empty.ToString(), "%C3%28", "a%0Ab", "1", new string('f', 2000), "..%2F..%2Fx"];

    private static readonly string[] BadQueryValues = ["%00", "-1", "99999999999999999999", "1", "abc%C3%28", "bSQ", "%F0%9F%98%80", new string('z', 1000)];

    private static IEnumerable<(string Url, HttpContent? Body)> Variants(string template, JsonElement operation, JsonElement schemas,
        Dictionary<string, string> valid)
    {
        var segments = template.Split('/');
        string Fill(int? bad, string? badValue)
        {
            var parts = new string[segments.Length];
            for (var i = 0; i < segments.Length; i++)
            {
                var s = segments[i];
                parts[i] = !s.StartsWith('{') ? s
                    : i == bad ? badValue!
                    : s switch
                    {
                        "{type}" => "long",
                        "{key}" => "k",
                        "{path}" or "{**path}" => "doc.md",
                        _ => valid.GetValueOrDefault(segments[i - 1], Guid.CreateVersion7().ToString()),
                    };
            }
            return string.Join('/', parts);
        }

        var properties = RequestProperties(operation, schemas);
        var hasBody = properties is not null;
        HttpContent? GoodBody() => hasBody ? Body("{}") : null;

        // Malformed path values, one parameter at a time.
        for (var i = 0; i < segments.Length; i++)
        {
            if (segments[i].StartsWith('{'))
            {
                foreach (var bad in BadIds)
                    yield return (Fill(i, bad), GoodBody());
            }
        }
        var url = Fill(null, null);

        // Hostile query values for every query parameter.
        if (operation.TryGetProperty("parameters", out var parameters))
        {
            foreach (var p in parameters.EnumerateArray().Where(p => p.GetProperty("in").GetString() == "query"))
            {
                foreach (var value in BadQueryValues)
                    yield return ($"{url}?{p.GetProperty("name").GetString()}={value}", GoodBody());
            }
        }
        if (!hasBody)
            yield break;

        // Bodies that do not parse or are the wrong shape.
        foreach (var raw in new[] { "", "{", "[]", "null", "\"x\"", "{\"a\":1}}", Deep(80), $$"""{"x":{{Deep(40)}}}""" })
            yield return (url, Body(raw));
        yield return (url, new ByteArrayContent([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D]) { Headers = { ContentType = new("application/json") } });
        yield return (url, new StringContent(new string('[', 2000), Encoding.UTF8, "application/json"));
        yield return (url, new StringContent("{\"a\":\"" + new string('x', 2 * 1024 * 1024) + "\"}", Encoding.UTF8, "application/json"));

        // Each property in turn with hostile values; the others absent.
        foreach (var name in properties!)
        {
            foreach (var value in new[] { "\"a\\u0000b\"", "\"\\ud800\"", "\"1\"", "1", "-1", "2147483648", "true", "[]", Deep(40), "\"" + new string('é', 5000) + "\"", "{\"k\":\"\\u0000\"}" })
                yield return (url, Body($$"""{"{{name}}":{{value}}}"""));
        }
    }

    private static string Deep(int depth) => string.Concat(Enumerable.Repeat("[", depth)) + string.Concat(Enumerable.Repeat("]", depth));

    private static List<string>? RequestProperties(JsonElement operation, JsonElement schemas)
    {
        if (!operation.TryGetProperty("requestBody", out var body) || !body.GetProperty("content").TryGetProperty("application/json", out var json))
            return null;
        var schema = json.GetProperty("schema");
        if (schema.TryGetProperty("$ref", out var reference))
            schema = schemas.GetProperty(reference.GetString()!.Split('/')[^1]);
        return schema.TryGetProperty("properties", out var props) ? props.EnumerateObject().Select(p => p.Name).ToList() : [];
    }

    private static async Task<string> DescribeAsync(HttpContent? body)
    {
        if (body is null)
            return "";
        var text = await body.ReadAsStringAsync();
        return text.Length > 60 ? text[..60] + "..." : text;
    }

    private async Task<string> CountsAsync(long tenantId) => await _server.Database.ScalarAsync<string>("""
        SELECT concat_ws(',', (SELECT count(*) FROM users WHERE tenant_id = $1), (SELECT count(*) FROM bots WHERE tenant_id = $1),
            (SELECT count(*) FROM bot_channels WHERE tenant_id = $1), (SELECT count(*) FROM user_sessions WHERE tenant_id = $1),
            (SELECT count(*) FROM message_history WHERE tenant_id = $1), (SELECT count(*) FROM analytics_events WHERE tenant_id = $1),
            (SELECT count(*) FROM auto_tasks WHERE tenant_id = $1), (SELECT count(*) FROM task_approvals WHERE tenant_id = $1),
            (SELECT count(*) FROM bot_memories WHERE tenant_id = $1), (SELECT count(*) FROM kb_documents WHERE tenant_id = $1),
            (SELECT max(updated_at) FROM auto_tasks WHERE tenant_id = $1), (SELECT count(*) FROM bots WHERE tenant_id = $1 AND NOT is_active))
        """, tenantId);
}
