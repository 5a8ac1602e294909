using System.Globalization;
using System.Text;
using BotStore.Internal;

namespace BotStore.Tooling.Conversion.Internal;

/// <summary>What a converted column becomes in a rewritten expression: its new name and its names-to-numbers mapping.</summary>
internal sealed record ColumnRewrite(string NewName, IReadOnlyDictionary<string, short> Mapping);

/// <summary>
/// Rewrites SQL that PostgreSQL deparsed (<c>pg_get_expr</c>, <c>pg_get_indexdef</c>, <c>pg_get_viewdef</c>) so that
/// it reads a converted column as SMALLINT: the column gets its new name, text casts applied to it go, and the string
/// literals it is compared with by equality (<c>=</c>, <c>&lt;&gt;</c>, <c>= ANY (ARRAY[...])</c> which is how
/// <c>IN (...)</c> deparses, <c>&lt;&gt; ALL (...)</c> for <c>NOT IN</c>) become their numbers. Ordering comparisons
/// and pattern matches on the text are refused: their meaning would change silently.
/// </summary>
internal static class ExpressionRewriter
{
    private enum Kind { Literal, Ident, Number, Cast, Op, Punct }

    private sealed record Token(Kind Kind, string Text, bool SpaceBefore = false)
    {
        /// <summary>For identifiers: the name (unquoted); for literals: the value.</summary>
        public string Value => Kind switch
        {
            Kind.Literal => Text[1..^1].Replace("''", "'", StringComparison.Ordinal),
            Kind.Ident when Text.StartsWith('"') => Text[1..^1].Replace("\"\"", "\"", StringComparison.Ordinal),
            _ => Text,
        };
    }

    private static readonly string[] TextTypes = ["text", "character varying", "varchar", "character", "bpchar", "char", "name"];

    /// <summary>Whether <paramref name="sql"/> mentions one of the columns.</summary>
    public static bool Mentions(string sql, IReadOnlyDictionary<string, ColumnRewrite> columns) =>
        Tokenize(sql).Any(t => t.Kind == Kind.Ident && columns.ContainsKey(t.Value));

    /// <summary>The rewritten text; throws <see cref="BotStoreValidationException"/> naming <paramref name="what"/> when it cannot be rewritten safely.</summary>
    public static string Rewrite(string sql, IReadOnlyDictionary<string, ColumnRewrite> columns, string what)
    {
        var tokens = Tokenize(sql);
        // Pass 1: find the column references (a name not called as a function; possibly qualified by a table alias).
        var refs = new Dictionary<int, string>();
        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokens[i].Kind == Kind.Ident && columns.ContainsKey(tokens[i].Value) && !(i + 1 < tokens.Count && tokens[i + 1].Text == "("))
                refs[i] = tokens[i].Value;
        }
        var output = new List<Token>();
        var skip = new HashSet<int>();
        for (var i = 0; i < tokens.Count; i++)
        {
            if (skip.Contains(i))
                continue;
            if (!refs.TryGetValue(i, out var column))
            {
                output.Add(tokens[i]);
                continue;
            }
            var rewrite = columns[column];
            // "(status)::text" or "(t.status)::text": drop the parentheses and the cast; "status::text": drop the cast.
            var qualified = i >= 2 && tokens[i - 1].Text == "." && tokens[i - 2].Kind == Kind.Ident ? 2 : 0;
            var start = i - qualified;
            var end = i;
            var spaceBefore = tokens[start].SpaceBefore;
            if (start > 0 && tokens[start - 1].Text == "(" && i + 2 < tokens.Count && tokens[i + 1].Text == ")" && IsTextCast(tokens[i + 2]))
            {
                spaceBefore = tokens[start - 1].SpaceBefore;
                output.RemoveAt(output.Count - 1 - qualified);
                if (qualified > 0)
                    output[^qualified] = output[^qualified] with { SpaceBefore = spaceBefore };
                start--;
                end = i + 2;
            }
            else if (i + 1 < tokens.Count && IsTextCast(tokens[i + 1]))
            {
                end = i + 1;
            }
            output.Add(new Token(Kind.Ident, SqlText.Ident(rewrite.NewName), qualified > 0 ? false : spaceBefore));
            for (var k = i; k <= end; k++)
                skip.Add(k);
            // A literal before the column: 'x'::text = (status)::text.
            if (start >= 2 && tokens[start - 1].Text is "=" or "<>" or "!=")
            {
                var literalAt = start - 2;
                if (literalAt >= 1 && IsTextCast(tokens[literalAt]) && tokens[literalAt - 1].Kind == Kind.Literal)
                    literalAt--;
                if (tokens[literalAt].Kind == Kind.Literal)
                {
                    var castTokens = IsTextCast(tokens[literalAt + 1]) ? 1 : 0;
                    var literalIndex = output.Count - 2 - 1 - castTokens;
                    output.RemoveRange(literalIndex, 1 + castTokens);
                    output.Insert(literalIndex, Number(tokens[literalAt], rewrite, column, what));
                }
            }
            // What follows the column: an equality with a literal or a list; anything textual is refused.
            var next = end + 1;
            if (next < tokens.Count && tokens[next].Kind == Kind.Op)
            {
                var op = tokens[next].Text;
                if (op is "=" or "<>" or "!=")
                {
                    output.Add(tokens[next]);
                    skip.Add(next);
                    ConvertOperand(tokens, next + 1, rewrite, column, what, output, skip);
                }
                else if (op is "<" or ">" or "<=" or ">=" or "~~" or "!~~" or "~~*" or "!~~*" or "~" or "~*" or "||")
                {
                    if (Operand(tokens, next + 1).Any(t => t.Kind == Kind.Literal))
                        throw Refuse(what, $"compares {column} with '{op}' on its text, which means something else on numbers");
                }
            }
        }
        return Render(output);
    }

    /// <summary>Rewrites the operand after an equality: a literal, or ANY/ALL over an ARRAY of literals (with their casts).</summary>
    private static void ConvertOperand(List<Token> tokens, int at, ColumnRewrite rewrite, string column, string what, List<Token> output, HashSet<int> skip)
    {
        if (at >= tokens.Count)
            return;
        if (tokens[at].Kind == Kind.Literal)
        {
            output.Add(Number(tokens[at], rewrite, column, what));
            skip.Add(at);
            if (at + 1 < tokens.Count && IsTextCast(tokens[at + 1]))
                skip.Add(at + 1);
            return;
        }
        if (tokens[at].Kind != Kind.Ident || tokens[at].Text.ToUpperInvariant() is not ("ANY" or "ALL") || at + 1 >= tokens.Count || tokens[at + 1].Text != "(")
            return;
        // ANY ( ... ): everything up to the matching parenthesis: literals become numbers, text casts go.
        var depth = 0;
        for (var k = at; k < tokens.Count; k++)
        {
            var t = tokens[k];
            skip.Add(k);
            if (t.Text == "(")
                depth++;
            else if (t.Text == ")")
                depth--;
            if (t.Kind == Kind.Literal)
                output.Add(Number(t, rewrite, column, what));
            else if (IsTextCast(t))
                continue;
            else if (t.Kind == Kind.Ident && !(t.Text.ToUpperInvariant() is "ANY" or "ALL" or "ARRAY"))
                throw Refuse(what, $"compares {column} with something other than constant values");
            else
                output.Add(t);
            if (depth == 0 && k > at)
                return;
        }
    }

    private static IEnumerable<Token> Operand(List<Token> tokens, int at) => tokens.Skip(at).Take(2);

    private static Token Number(Token literal, ColumnRewrite rewrite, string column, string what) =>
        rewrite.Mapping.TryGetValue(literal.Value, out var number)
            ? new Token(Kind.Number, number.ToString(CultureInfo.InvariantCulture), literal.SpaceBefore)
            : throw Refuse(what, $"compares {column} with '{literal.Value}', which the mapping does not cover");

    private static BotStoreValidationException Refuse(string what, string why) =>
        new($"{what} cannot be rewritten for SMALLINT: it {why}; change or drop it first");

    private static bool IsTextCast(Token t)
    {
        if (t.Kind != Kind.Cast)
            return false;
        var type = t.Text[2..].Trim();
        var paren = type.IndexOf('(', StringComparison.Ordinal);
        if (paren >= 0)
            type = type[..paren].Trim() + (type.EndsWith("[]", StringComparison.Ordinal) ? "[]" : "");
        type = type.Replace("[]", "", StringComparison.Ordinal).Trim();
        return TextTypes.Contains(type, StringComparer.OrdinalIgnoreCase);
    }

    private static string Render(List<Token> tokens) => string.Concat(tokens.Select(t => t.SpaceBefore ? " " + t.Text : t.Text)).Trim();

    private static List<Token> Tokenize(string sql)
    {
        var tokens = new List<Token>();
        var i = 0;
        var space = false;
        void Add(Kind kind, string text)
        {
            tokens.Add(new Token(kind, text, space));
            space = false;
        }
        while (i < sql.Length)
        {
            var c = sql[i];
            var start = i;
            if (char.IsWhiteSpace(c))
            {
                while (i < sql.Length && char.IsWhiteSpace(sql[i]))
                    i++;
                space = true;
                continue;
            }
            else if (c == '\'')
            {
                i++;
                while (i < sql.Length && !(sql[i] == '\'' && (i + 1 >= sql.Length || sql[i + 1] != '\'')))
                    i += sql[i] == '\'' ? 2 : 1;
                i++;
                Add(Kind.Literal, sql[start..Math.Min(i, sql.Length)]);
            }
            else if (c == '"')
            {
                i++;
                while (i < sql.Length && !(sql[i] == '"' && (i + 1 >= sql.Length || sql[i + 1] != '"')))
                    i += sql[i] == '"' ? 2 : 1;
                i++;
                Add(Kind.Ident, sql[start..Math.Min(i, sql.Length)]);
            }
            else if (char.IsLetter(c) || c == '_')
            {
                while (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] is '_' or '$'))
                    i++;
                Add(Kind.Ident, sql[start..i]);
            }
            else if (char.IsDigit(c))
            {
                while (i < sql.Length && (char.IsDigit(sql[i]) || sql[i] == '.'))
                    i++;
                Add(Kind.Number, sql[start..i]);
            }
            else if (c == ':' && i + 1 < sql.Length && sql[i + 1] == ':')
            {
                i += 2;
                // A type name: words (character varying), an optional (n) and optional [].
                while (i < sql.Length && sql[i] == ' ')
                    i++;
                while (i < sql.Length)
                {
                    if (char.IsLetterOrDigit(sql[i]) || sql[i] is '_' or '"' or '.')
                        i++;
                    else if (sql[i] == ' ' && i + 1 < sql.Length && char.IsLetter(sql[i + 1]) && IsTypeWordContinuation(sql, i + 1))
                        i++;
                    else if (sql[i] == '(' && sql.IndexOf(')', i) is var close and > 0 && sql[(i + 1)..close].All(ch => char.IsDigit(ch) || ch is ',' or ' '))
                        i = close + 1;
                    else if (sql[i] == '[' && i + 1 < sql.Length && sql[i + 1] == ']')
                        i += 2;
                    else
                        break;
                }
                Add(Kind.Cast, sql[start..i]);
            }
            else if ("+-*/<>=~!@#%^&|`?".Contains(c, StringComparison.Ordinal))
            {
                while (i < sql.Length && "+-*/<>=~!@#%^&|`?".Contains(sql[i], StringComparison.Ordinal))
                    i++;
                Add(Kind.Op, sql[start..i]);
            }
            else
            {
                i++;
                Add(Kind.Punct, sql[start..i]);
            }
        }
        return tokens;
    }

    // The second word of multi-word type names (character varying, double precision, with time zone...).
    private static bool IsTypeWordContinuation(string sql, int at)
    {
        foreach (var word in new[] { "varying", "precision", "with time zone", "without time zone", "zone", "time" })
        {
            if (string.Compare(sql, at, word, 0, word.Length, StringComparison.OrdinalIgnoreCase) == 0
                && (at + word.Length >= sql.Length || !char.IsLetterOrDigit(sql[at + word.Length])))
                return true;
        }
        return false;
    }
}
