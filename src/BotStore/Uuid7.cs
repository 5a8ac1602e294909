using System.Buffers.Binary;

namespace BotStore;

/// <summary>
/// UUIDv7 ids made by the application (<see cref="Guid.CreateVersion7()"/>): time-ordered, so B-tree inserts stay
/// at the right edge, and carrying their own millisecond timestamp, which is the <c>created_at</c> of messages and
/// events (the database checks it).
/// </summary>
public static class Uuid7
{
    /// <summary>A new id for now.</summary>
    public static Guid New() => Guid.CreateVersion7();

    /// <summary>A new id for the given instant (backfills, load generation).</summary>
    public static Guid At(DateTimeOffset when) => Guid.CreateVersion7(when);

    /// <summary>Whether <paramref name="id"/> is a version-7 UUID of the RFC 9562 variant.</summary>
    public static bool IsVersion7(Guid id) => id.Version == 7 && (id.Variant & 0b1100) == 0b1000;

    /// <summary>The id's timestamp, to the millisecond: the <c>created_at</c> the database requires for it.</summary>
    public static DateTimeOffset Timestamp(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        var ms = (long)(BinaryPrimitives.ReadUInt64BigEndian(bytes) >> 16);
        return DateTimeOffset.FromUnixTimeMilliseconds(ms);
    }
}
