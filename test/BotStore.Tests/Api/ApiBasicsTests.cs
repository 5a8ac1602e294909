using BotStore.Data;
using System.Net;
using System.Text.Json;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Api;

public sealed class ApiBasicsTests(ApiServer api) : IClassFixture<ApiServer>
{
    [Fact]
    public async Task V1_without_a_token_or_with_a_wrong_one_is_401_problem_details()
    {
        using var anonymous = api.Anonymous();
        var none = await anonymous.GetAsync("/v1/enums");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("application/problem+json", none.Content.Headers.ContentType?.MediaType);

        anonymous.DefaultRequestHeaders.Authorization = new("Bearer", "bst_not-a-real-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/enums")).StatusCode);
    }

    [Fact]
    public async Task Enums_endpoint_returns_the_catalog_by_name()
    {
        var (_, client) = await api.NewTenantAsync();
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/v1/enums"));
        Assert.Contains(doc.RootElement.EnumerateArray(), e =>
            e.GetProperty("domain").GetString() == "task_status" && e.GetProperty("value").GetInt32() == 4
            && e.GetProperty("name").GetString() == "waiting_approval" && e.GetProperty("description").GetString() == "Needs approval");
    }

    [Fact]
    public async Task Health_and_readiness_answer_without_a_token()
    {
        using var anonymous = api.Anonymous();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        var ready = await anonymous.GetStringAsync("/readyz");
        Assert.Contains("\"ready\"", ready, StringComparison.Ordinal);
        Assert.Contains("\"openapi\"", await anonymous.GetStringAsync("/openapi/v1.json"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_administrator_token_cannot_act_as_a_tenant()
    {
        var token = await new BotStore.Data.TenantStore(api.Database.DataSource).RotateAdminTokenAsync();
        using var admin = api.Anonymous();
        admin.DefaultRequestHeaders.Authorization = new("Bearer", token);
        Assert.Equal(HttpStatusCode.Unauthorized, (await admin.GetAsync("/v1/enums")).StatusCode);
    }

    [Fact]
    public async Task Metrics_and_admin_reports_need_the_administrator_token()
    {
        var (_, tenant) = await api.NewTenantAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.GetAsync("/admin/db/tables")).StatusCode);
        using var anonymous = api.Anonymous();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);

        var token = await new TenantStore(api.Database.DataSource).RotateAdminTokenAsync();
        using var admin = api.Anonymous();
        admin.DefaultRequestHeaders.Authorization = new("Bearer", token);
        await tenant.GetAsync("/v1/enums");
        var metrics = await admin.GetStringAsync("/metrics");
        Assert.Contains("# TYPE", metrics, StringComparison.Ordinal);
        Assert.Contains("/v1/enums", metrics, StringComparison.Ordinal);
        using var tables = JsonDocument.Parse(await admin.GetStringAsync("/admin/db/tables"));
        Assert.NotEqual(JsonValueKind.Undefined, tables.RootElement.ValueKind);
    }
}
