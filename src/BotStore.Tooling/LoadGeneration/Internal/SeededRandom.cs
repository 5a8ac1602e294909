using System.Buffers.Binary;

namespace BotStore.Tooling.LoadGeneration.Internal;

/// <summary>
/// SplitMix64: a tiny, fast generator whose output depends only on its seed, on every .NET version (unlike
/// <see cref="Random"/>, whose algorithm is an implementation detail). Streams are keyed by (seed, purpose, a, b), so
/// the rows of one day or one session come out the same whatever was generated before them: a resumed load
/// writes exactly what an uninterrupted one would.
/// </summary>
internal sealed class SeededRandom
{
    private ulong _state;

    public SeededRandom(long seed, Stream purpose, long a = 0, long b = 0)
    {
        _state = Mix(Mix(Mix((ulong)seed ^ 0x9E3779B97F4A7C15UL) ^ (ulong)purpose) ^ (ulong)a) ^ Mix((ulong)b + 0x632BE59BD9B4E019UL);
    }

    /// <summary>Independent streams: one per kind of thing generated.</summary>
    public enum Stream : ulong
    {
        Tenant = 1, Bot, BotChannel, User, BotMemory, UserMemory, Day, SessionTime, SessionContent, Tasks, Corpus,
    }

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, max).</summary>
    public int Next(int max) => (int)((NextUInt64() >> 33) * (ulong)max >> 31);

    /// <summary>Uniform in [0, max).</summary>
    public long NextLong(long max) => (long)(NextDouble() * max);

    /// <summary>Uniform in [min, max].</summary>
    public int Between(int min, int max) => min + Next(max - min + 1);

    public bool Chance(double p) => NextDouble() < p;

    /// <summary>Log-normal around <paramref name="median"/>, clamped to [min, max]: message lengths, gaps, sizes.</summary>
    public int LogNormal(double median, double sigma, int min, int max)
    {
        // Box-Muller; 1 - u keeps the logarithm finite.
        var u1 = 1.0 - NextDouble();
        var u2 = NextDouble();
        var normal = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
        return (int)Math.Clamp(median * Math.Exp(sigma * normal), min, max);
    }

    /// <summary>An index drawn with the given cumulative weights (see <see cref="Weights"/>).</summary>
    public int Pick(double[] cumulative)
    {
        var x = NextDouble() * cumulative[^1];
        var i = Array.BinarySearch(cumulative, x);
        return i < 0 ? Math.Min(~i, cumulative.Length - 1) : Math.Min(i + 1, cumulative.Length - 1);
    }

    /// <summary>A value drawn from (value, weight) pairs.</summary>
    public T Pick<T>(WeightedChoice<T> choice) => choice.Values[Pick(choice.Cumulative)];

    /// <summary>A version-7 UUID for the millisecond <paramref name="unixMs"/> whose random bits come from this stream.</summary>
    public Guid Uuid7(long unixMs)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, (ulong)unixMs << 16);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], NextUInt64());
        var randA = NextUInt64();
        bytes[6] = (byte)(0x70 | ((randA >> 8) & 0x0F));
        bytes[7] = (byte)randA;
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>Cumulative sums of <paramref name="weights"/>, for <see cref="Pick(double[])"/>.</summary>
    public static double[] Weights(params double[] weights)
    {
        var cumulative = new double[weights.Length];
        var sum = 0.0;
        for (var i = 0; i < weights.Length; i++)
            cumulative[i] = sum += weights[i];
        return cumulative;
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>Values with weights, drawn by <see cref="SeededRandom.Pick{T}(WeightedChoice{T})"/>.</summary>
internal sealed class WeightedChoice<T>
{
    public WeightedChoice(params (T Value, double Weight)[] choices)
    {
        Values = choices.Select(c => c.Value).ToArray();
        Cumulative = SeededRandom.Weights(choices.Select(c => c.Weight).ToArray());
    }

    public T[] Values { get; }

    public double[] Cumulative { get; }
}
