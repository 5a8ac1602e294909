using System.Net;
using System.Text;
using System.Text.Json;

namespace BotStore.Tests.Hardening;

/// <summary>Raw requests and the assertions the hardening tests share.</summary>
internal static class Http
{
    public static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    public static Task<HttpResponseMessage> PostRaw(this HttpClient client, string url, string json) => client.PostAsync(url, Body(json));

    public static Task<HttpResponseMessage> PutRaw(this HttpClient client, string url, string json) => client.PutAsync(url, Body(json));

    /// <summary>JSON nested <paramref name="depth"/> levels deep (objects and arrays in turn); depth 0 is a number.</summary>
    public static string Nested(int depth)
    {
        var json = "7";
        for (var d = 1; d <= depth; d++)
            json = d % 2 == 0 ? $"[{json}]" : $$"""{"k{{d}}":{{json}}}""";
        return json;
    }

    /// <summary>How deep a JSON value is nested (a scalar: 0).</summary>
    public static int Depth(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => 1 + e.EnumerateObject().Select(p => Depth(p.Value)).DefaultIfEmpty(0).Max(),
        JsonValueKind.Array => 1 + e.EnumerateArray().Select(Depth).DefaultIfEmpty(0).Max(),
        _ => 0,
    };

    /// <summary>Asserts a success status and returns the body.</summary>
    public static async Task<JsonElement> OkAsync(HttpResponseMessage response, HttpStatusCode? status = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status is null ? response.IsSuccessStatusCode : response.StatusCode == status,
            $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.PathAndQuery}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts a problem-details answer with <paramref name="status"/> whose detail contains <paramref name="says"/>.</summary>
    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? says = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        var what = $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.PathAndQuery}: {(int)response.StatusCode} {text}";
        Assert.True(response.StatusCode == status, what);
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", what);
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        if (says is not null)
        {
            var detail = problem.GetProperty("detail").GetString();
            Assert.True(detail?.Contains(says, StringComparison.Ordinal) == true, $"expected '{says}' in: {what}");
        }
        return problem;
    }
}
