namespace BotStore.Monitoring.Internal;

/// <summary>
/// What makes two indexes interchangeable: table, method, key columns with their operator classes and sort options,
/// all stored columns (keys and INCLUDE), expressions and predicate.
/// </summary>
internal sealed record IndexShape(uint Oid, uint Table, string Method, short[] Keys, uint[] OpClasses, short[] Options, short[] Columns,
    string Expressions, string Predicate, bool IsUnique, bool IsPrimary)
{
    /// <summary>
    /// Whether <paramref name="other"/> serves every query this index serves: same table, method, expressions and
    /// predicate; its keys start with all of this one's; and it stores every column this one stores (so no
    /// index-only scan is lost). A primary key is never redundant; a unique index only with another unique index on
    /// exactly its keys. Of two identical indexes, the one enforcing less, else the newer one (higher oid), is.
    /// </summary>
    public bool IsRedundantWith(IndexShape other)
    {
        if (IsPrimary || Table != other.Table || Method != other.Method || Expressions != other.Expressions || Predicate != other.Predicate)
            return false;
        if (Keys.Length > other.Keys.Length || (Method != "btree" && Keys.Length != other.Keys.Length))
            return false;
        for (var i = 0; i < Keys.Length; i++)
        {
            if (Keys[i] != other.Keys[i] || OpClasses[i] != other.OpClasses[i] || Options[i] != other.Options[i])
                return false;
        }
        if (!Columns.ToHashSet().IsSubsetOf(other.Columns) || (IsUnique && (!other.IsUnique || Keys.Length != other.Keys.Length)))
            return false;
        if (Keys.Length < other.Keys.Length || Columns.Distinct().Count() < other.Columns.Distinct().Count())
            return true;
        if (IsUnique != other.IsUnique || IsPrimary != other.IsPrimary)
            return !IsUnique && !IsPrimary;
        return Oid > other.Oid;
    }
}
