using BotStore.Tooling.Conversion.Internal;

namespace BotStore.Tests.Conversion;

/// <summary>The rewrite of deparsed SQL (as PostgreSQL 15 prints it) from text values to numbers.</summary>
public sealed class ExpressionRewriterTests
{
    private static readonly Dictionary<string, ColumnRewrite> Status = new()
    {
        ["status"] = new ColumnRewrite("status_n", new Dictionary<string, short> { ["pending"] = 0, ["running"] = 2, ["completed"] = 5, ["failed"] = 6 }),
    };

    [Theory]
    [InlineData("((status)::text <> ALL ((ARRAY['completed'::character varying, 'failed'::character varying])::text[]))", "(\"status_n\" <> ALL ((ARRAY[5, 6])))")]
    [InlineData("((status)::text = ANY ((ARRAY['pending'::character varying, 'running'::character varying])::text[]))", "(\"status_n\" = ANY ((ARRAY[0, 2])))")]
    [InlineData("((status)::text = 'completed'::text)", "(\"status_n\" = 5)")]
    [InlineData("((status)::text <> 'completed'::text)", "(\"status_n\" <> 5)")]
    [InlineData("(status = 'failed'::text)", "(\"status_n\" = 6)")]
    [InlineData("('failed'::text = (status)::text)", "(6 = \"status_n\")")]
    [InlineData("(((status)::text = 'pending'::text) AND (other = 'pending'::text))", "((\"status_n\" = 0) AND (other = 'pending'::text))")]
    [InlineData("USING btree (status, created_at DESC) WHERE ((status)::text = 'running'::text)", "USING btree (\"status_n\", created_at DESC) WHERE (\"status_n\" = 2)")]
    [InlineData("SELECT t.id, t.status FROM tasks t WHERE ((t.status)::text = 'pending'::text)", "SELECT t.id, t.\"status_n\" FROM tasks t WHERE (t.\"status_n\" = 0)")]
    [InlineData("(status IS NOT NULL)", "(\"status_n\" IS NOT NULL)")]
    public void Equalities_with_text_values_become_equalities_with_numbers(string sql, string expected) =>
        Assert.Equal(expected, ExpressionRewriter.Rewrite(sql, Status, "test"));

    [Theory]
    [InlineData("((status)::text < 'pending'::text)", "'<'")]
    [InlineData("((status)::text ~~ 'pend%'::text)", "'~~'")]
    [InlineData("((status)::text = 'archived'::text)", "'archived', which the mapping does not cover")]
    [InlineData("((status)::text = ANY ((ARRAY['pending'::character varying, 'archived'::character varying])::text[]))", "'archived'")]
    public void What_would_change_meaning_is_refused_naming_the_object(string sql, string why)
    {
        var error = Assert.Throws<BotStoreValidationException>(() => ExpressionRewriter.Rewrite(sql, Status, "index idx"));
        Assert.StartsWith("index idx cannot be rewritten for SMALLINT", error.Message);
        Assert.Contains(why, error.Message);
    }
}
