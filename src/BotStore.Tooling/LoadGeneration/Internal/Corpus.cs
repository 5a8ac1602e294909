using System.Text;

namespace BotStore.Tooling.LoadGeneration.Internal;

/// <summary>
/// Text for generated messages, titles and names: slices of one fixed 1 MB corpus of words drawn with Zipf
/// frequencies, so content looks and compresses like conversation (pglz and TOAST behave as in production) and
/// costs one substring per message.
/// </summary>
internal static class Corpus
{
    private const int Size = 1 << 20;

    private static readonly string[] Words =
    [
        "the", "to", "and", "you", "a", "i", "is", "it", "for", "of", "can", "your", "in", "my", "please", "order", "on",
        "this", "that", "with", "be", "have", "we", "me", "not", "are", "help", "what", "do", "will", "account", "thanks",
        "if", "how", "here", "need", "from", "an", "or", "at", "would", "payment", "there", "sure", "when", "check",
        "could", "invoice", "delivery", "number", "email", "address", "our", "any", "was", "refund", "time", "status",
        "like", "just", "see", "get", "know", "let", "update", "want", "one", "today", "support", "team", "issue",
        "password", "reset", "link", "also", "plan", "subscription", "price", "after", "before", "about", "more",
        "service", "product", "information", "details", "send", "again", "still", "working", "error", "message",
        "problem", "store", "booking", "date", "ticket", "request", "customer", "shipping", "tracking", "code", "app",
        "login", "phone", "card", "bank", "transfer", "balance", "report", "schedule", "meeting", "tomorrow", "week",
        "month", "confirm", "confirmed", "cancel", "change", "new", "old", "available", "option", "options", "next",
        "step", "steps", "follow", "below", "above", "page", "settings", "profile", "document", "file", "upload",
        "download", "form", "sign", "access", "data", "question", "answer", "assist", "happy", "glad", "sorry",
        "unfortunately", "however", "currently", "already", "usually", "within", "business", "days", "hours", "minutes",
        "agent", "human", "transfer", "chat", "call", "back", "soon", "possible", "right", "now", "all", "some", "no",
        "yes", "ok", "great", "perfect", "hello", "hi", "good", "morning", "afternoon", "evening", "name", "user",
        "task", "approve", "approval", "run", "job", "result", "results", "summary", "total", "amount", "due",
        "receipt", "warranty", "return", "exchange", "size", "color", "model", "version", "install", "device",
        "network", "connection", "slow", "fast", "fixed", "resolved", "open", "closed", "pending", "priority",
    ];

    /// <summary>The corpus: the same text on every machine and every run.</summary>
    public static readonly string Text = Build();

    /// <summary>About <paramref name="length"/> characters of text starting at a word.</summary>
    public static string Slice(SeededRandom rng, int length)
    {
        length = Math.Min(length, Size / 2);
        var start = rng.Next(Size - length - 32);
        // Start at a word: after the next space (words are short, so this moves a few characters).
        var space = Text.IndexOf(' ', start);
        start = space < 0 ? start : space + 1;
        var end = Math.Min(start + length, Text.Length);
        return Text[start..end].TrimEnd();
    }

    /// <summary>A short title-like phrase of two to five words.</summary>
    public static string Phrase(SeededRandom rng, int minWords = 2, int maxWords = 5)
    {
        var count = rng.Between(minWords, maxWords);
        var builder = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            var word = Words[rng.Next(Words.Length)];
            builder.Append(i == 0 ? char.ToUpperInvariant(word[0]) + word[1..] : " " + word);
        }
        return builder.ToString();
    }

    private static string Build()
    {
        var rng = new SeededRandom(0, SeededRandom.Stream.Corpus);
        // Zipf(1) over the word list, most common first.
        var cumulative = SeededRandom.Weights(Enumerable.Range(1, Words.Length).Select(r => 1.0 / r).ToArray());
        var builder = new StringBuilder(Size + 64);
        var sentenceStart = true;
        while (builder.Length < Size)
        {
            var word = Words[rng.Pick(cumulative)];
            builder.Append(sentenceStart ? char.ToUpperInvariant(word[0]) + word[1..] : word);
            sentenceStart = rng.Chance(0.09);
            builder.Append(sentenceStart ? (rng.Chance(0.15) ? "? " : ". ") : rng.Chance(0.05) ? ", " : " ");
        }
        return builder.ToString(0, Size);
    }
}
