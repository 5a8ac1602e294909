namespace BotStore.Tooling.StorageAudit;

/// <summary>What <see cref="StorageAudit"/> looks at and how.</summary>
public sealed record StorageAuditOptions
{
    /// <summary>Rows sampled per table (<c>TABLESAMPLE SYSTEM ... REPEATABLE</c>): sizes are measured on them.</summary>
    public int SampleRows { get; init; } = 20_000;

    /// <summary>Tables with fewer rows are skipped: their storage does not matter.</summary>
    public long MinRows { get; init; } = 1_000;

    /// <summary>A text column with at most this many distinct values in the sample behaves like an enum.</summary>
    public int MaxDistinct { get; init; } = 64;

    /// <summary>Only these schemas; empty means every schema but PostgreSQL's own.</summary>
    public IReadOnlyList<string> Schemas { get; init; } = [];

    /// <summary>Only this table (<c>name</c> or <c>schema.name</c>), when set.</summary>
    public string? Table { get; init; }
}

/// <summary>
/// A text column that behaves like an enum, with what it costs and would cost as SMALLINT, measured on a sample
/// of its own rows. "Tuple bytes" are what a row takes in a heap page: its line pointer (4) plus the tuple
/// (header, null bitmap, aligned data) rounded up to MAXALIGN (8), as <c>pg_column_size</c> of the row gives it.
/// </summary>
/// <param name="Table">Schema-qualified table.</param>
/// <param name="Column">The column.</param>
/// <param name="Type">Its type, e.g. <c>character varying(50)</c>.</param>
/// <param name="Rows">Rows in the table (planner estimate, or counted when there is none).</param>
/// <param name="SampledRows">Rows measured.</param>
/// <param name="DistinctValues">Distinct non-null values in the sample.</param>
/// <param name="Values">Those values, in order.</param>
/// <param name="BytesNow">Average bytes of the column's value (0 for NULL).</param>
/// <param name="BytesAsSmallint">The same as SMALLINT: 2 per non-null value.</param>
/// <param name="TupleBytesNow">Average tuple bytes of a row now.</param>
/// <param name="TupleBytesAsSmallint">Average tuple bytes with this column as SMALLINT (the others unchanged).</param>
public sealed record EnumLikeColumn(string Table, string Column, string Type, long Rows, long SampledRows, int DistinctValues,
    IReadOnlyList<string> Values, double BytesNow, double BytesAsSmallint, double TupleBytesNow, double TupleBytesAsSmallint)
{
    /// <summary>Heap bytes a row saves: the tuple difference (alignment included, so 0 or a multiple of 8 per row).</summary>
    public double SavingPerRow => TupleBytesNow - TupleBytesAsSmallint;

    /// <summary>Heap bytes the table would save at its current size.</summary>
    public double SavingForTable => SavingPerRow * Rows;

    /// <summary>Heap bytes saved per billion rows.</summary>
    public double SavingPerBillionRows => SavingPerRow * 1e9;
}

/// <summary>All enum-like columns of one table converted together (their alignment interacts, so the sum of the single savings can differ).</summary>
/// <param name="Table">Schema-qualified table.</param>
/// <param name="Rows">Rows in the table.</param>
/// <param name="Columns">The enum-like columns.</param>
/// <param name="TupleBytesNow">Average tuple bytes now.</param>
/// <param name="TupleBytesAsSmallint">Average tuple bytes with every one of them as SMALLINT.</param>
public sealed record EnumLikeTable(string Table, long Rows, IReadOnlyList<string> Columns, double TupleBytesNow, double TupleBytesAsSmallint)
{
    /// <summary>Heap bytes a row saves.</summary>
    public double SavingPerRow => TupleBytesNow - TupleBytesAsSmallint;

    /// <summary>Heap bytes the table would save at its current size.</summary>
    public double SavingForTable => SavingPerRow * Rows;
}

/// <summary>A table whose column order wastes alignment padding, and the order that wastes none.</summary>
/// <param name="Table">Schema-qualified table.</param>
/// <param name="Rows">Rows in the table.</param>
/// <param name="SampledRows">Rows measured.</param>
/// <param name="TupleBytesNow">Average tuple bytes in the current column order.</param>
/// <param name="TupleBytesReordered">Average tuple bytes in <paramref name="SuggestedOrder"/>.</param>
/// <param name="SuggestedOrder">Fixed-width columns by alignment (8, 4, 2, 1 bytes), then variable-width ones.</param>
public sealed record PaddingFinding(string Table, long Rows, long SampledRows, double TupleBytesNow, double TupleBytesReordered,
    IReadOnlyList<string> SuggestedOrder)
{
    /// <summary>Heap bytes a row saves.</summary>
    public double SavingPerRow => TupleBytesNow - TupleBytesReordered;

    /// <summary>Heap bytes the table would save at its current size.</summary>
    public double SavingForTable => SavingPerRow * Rows;
}

/// <summary>What <see cref="StorageAudit"/> found.</summary>
/// <param name="TablesAudited">Tables measured (those with at least <see cref="StorageAuditOptions.MinRows"/> rows).</param>
/// <param name="EnumLikeColumns">Enum-like text columns, largest saving first.</param>
/// <param name="EnumLikeTables">Per table, all its enum-like columns converted together.</param>
/// <param name="Padding">Tables whose column order wastes padding, largest saving first.</param>
public sealed record StorageAuditReport(int TablesAudited, IReadOnlyList<EnumLikeColumn> EnumLikeColumns,
    IReadOnlyList<EnumLikeTable> EnumLikeTables, IReadOnlyList<PaddingFinding> Padding);

/// <summary>A table's average tuple size now and in the padding-free column order.</summary>
/// <param name="Rows">Rows in the table.</param>
/// <param name="SampledRows">Rows measured.</param>
/// <param name="TupleBytesNow">Average tuple bytes (line pointer + MAXALIGNed tuple) now.</param>
/// <param name="TupleBytesBestOrder">The same in the padding-free order: the physical minimum for these columns and values.</param>
public sealed record TupleLayout(long Rows, long SampledRows, double TupleBytesNow, double TupleBytesBestOrder);
