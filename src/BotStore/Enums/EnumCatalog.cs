using System.Collections.Frozen;
using System.Globalization;
using System.Reflection;

namespace BotStore.Enums;

/// <summary>One value of an enum domain, as the seed's reference table lists it.</summary>
public sealed record EnumEntry(string Domain, short Value, string Name, string Description);

/// <summary>One SMALLINT enum domain: its CLR type and its values in value order.</summary>
public sealed class EnumDomain
{
    private readonly FrozenDictionary<string, EnumEntry> _byName;
    private readonly FrozenDictionary<short, EnumEntry> _byValue;

    internal EnumDomain(string name, Type clrType, IReadOnlyList<EnumEntry> entries)
    {
        Name = name;
        ClrType = clrType;
        Entries = entries;
        _byName = entries.ToFrozenDictionary(e => e.Name, StringComparer.Ordinal);
        _byValue = entries.ToFrozenDictionary(e => e.Value);
    }

    /// <summary>The snake_case domain name, e.g. <c>task_status</c>.</summary>
    public string Name { get; }

    /// <summary>The C# enum that represents the domain.</summary>
    public Type ClrType { get; }

    /// <summary>The values in ascending order.</summary>
    public IReadOnlyList<EnumEntry> Entries { get; }

    /// <summary>The allowed names, comma separated, for error messages.</summary>
    public string AllowedNames => string.Join(", ", Entries.Select(e => e.Name));

    /// <summary>
    /// Finds a value by its snake_case name only (what the API accepts: a number written as a string is refused,
    /// so a client cannot come to depend on the numbering); throws <see cref="BotStoreValidationException"/> otherwise.
    /// </summary>
    public EnumEntry ParseName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.TryGetValue(name, out var entry)
            ? entry
            : throw new BotStoreValidationException($"'{name}' is not a {Name}: allowed names are {AllowedNames}");
    }

    /// <summary>Finds a value by its snake_case name or its number; throws <see cref="BotStoreValidationException"/> otherwise.</summary>
    public EnumEntry Parse(string nameOrValue)
    {
        ArgumentNullException.ThrowIfNull(nameOrValue);
        if (_byName.TryGetValue(nameOrValue, out var byName))
            return byName;
        if (short.TryParse(nameOrValue, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
            && _byValue.TryGetValue(number, out var byNumber))
            return byNumber;
        throw new BotStoreValidationException(
            $"'{nameOrValue}' is not a {Name}: allowed names are {AllowedNames}");
    }

    /// <summary>Finds a value by its number; throws <see cref="BotStoreValidationException"/> when the number is not in the domain.</summary>
    public EnumEntry FromValue(short value) =>
        _byValue.TryGetValue(value, out var entry)
            ? entry
            : throw new BotStoreValidationException($"{value} is not a {Name}: allowed names are {AllowedNames}");

    /// <summary>Whether <paramref name="value"/> belongs to the domain.</summary>
    public bool IsDefined(short value) => _byValue.ContainsKey(value);
}

/// <summary>
/// The catalog of every SMALLINT enum domain. It is the one source of truth: the CHECK constraints,
/// column comments and <c>docs/enums.md</c> are generated from it, and tests fail when they drift.
/// </summary>
public static class EnumCatalog
{
    private static readonly FrozenDictionary<Type, EnumDomain> ByType = typeof(EnumCatalog).Assembly
        .GetTypes()
        .Where(t => t.IsEnum && t.GetCustomAttribute<EnumDomainAttribute>() is not null)
        .ToFrozenDictionary(t => t, Describe);

    /// <summary>Every domain, in the order of the seed's reference tables.</summary>
    public static IReadOnlyList<EnumDomain> Domains { get; } = SeedOrder
        .Select(t => ByType[t])
        .ToArray();

    private static Type[] SeedOrder =>
    [
        typeof(ChannelType), typeof(MessageRole), typeof(MessageType), typeof(LlmProvider),
        typeof(AutoTaskStatus), typeof(TaskPriority), typeof(ExecutionMode), typeof(RiskLevel),
        typeof(ApprovalStatus), typeof(IntentType), typeof(MemoryType), typeof(SyncStatus),
    ];

    /// <summary>Every value of every domain.</summary>
    public static IEnumerable<EnumEntry> Entries => Domains.SelectMany(d => d.Entries);

    /// <summary>The domain of a C# enum type.</summary>
    public static EnumDomain Of<T>() where T : struct, Enum => Of(typeof(T));

    /// <summary>The domain of a C# enum type.</summary>
    public static EnumDomain Of(Type enumType) =>
        ByType.TryGetValue(enumType, out var domain)
            ? domain
            : throw new ArgumentException($"{enumType.Name} is not a BotStore enum domain", nameof(enumType));

    /// <summary>Whether <paramref name="type"/> is one of the catalog's enums.</summary>
    public static bool Contains(Type type) => ByType.ContainsKey(type);

    /// <summary>The domain with the given snake_case name.</summary>
    public static EnumDomain Named(string name) =>
        Domains.FirstOrDefault(d => d.Name == name)
        ?? throw new BotStoreValidationException(
            $"'{name}' is not an enum domain: known domains are {string.Join(", ", Domains.Select(d => d.Name))}");

    /// <summary>Parses a snake_case name (never a number) into <typeparamref name="T"/>, with an error naming the domain.</summary>
    public static T ParseName<T>(string name) where T : struct, Enum =>
        (T)Enum.ToObject(typeof(T), Of<T>().ParseName(name).Value);

    /// <summary>Parses a snake_case name (or number) into <typeparamref name="T"/>, with an error naming the domain.</summary>
    public static T Parse<T>(string nameOrValue) where T : struct, Enum =>
        (T)Enum.ToObject(typeof(T), Of<T>().Parse(nameOrValue).Value);

    /// <summary>The seed's snake_case name of a value.</summary>
    public static string NameOf<T>(T value) where T : struct, Enum =>
        Of<T>().FromValue(Convert.ToInt16(value, CultureInfo.InvariantCulture)).Name;

    private static EnumDomain Describe(Type type)
    {
        var name = type.GetCustomAttribute<EnumDomainAttribute>()!.Name;
        var entries = type.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (Field: f, Attr: f.GetCustomAttribute<EnumValueAttribute>()
                ?? throw new InvalidOperationException($"{type.Name}.{f.Name} lacks [EnumValue]")))
            .Select(x => new EnumEntry(name, Convert.ToInt16(x.Field.GetRawConstantValue(), CultureInfo.InvariantCulture), x.Attr.Name, x.Attr.Description))
            .OrderBy(e => e.Value)
            .ToArray();
        return new EnumDomain(name, type, entries);
    }
}
