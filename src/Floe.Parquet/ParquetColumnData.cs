namespace Floe.Parquet;

/// <summary>
/// The values of one column for one row group: a dense array with one slot per row and, for nullable columns, an
/// optional <c>defined</c> mask of the same length (false = null; the value slot of a null row is ignored).
/// String and binary columns take a list in which null means a null row.
/// </summary>
public sealed class ParquetColumnData
{
    private ParquetColumnData(ParquetType type, int count, ReadOnlyMemory<bool> defined, string kind)
    {
        Type = type;
        Count = count;
        Defined = defined;
        Kind = kind;
        if (!defined.IsEmpty && defined.Length != count)
        {
            throw new ArgumentException($"The defined mask has {defined.Length} entries for {count} values.", nameof(defined));
        }
    }

    /// <summary>The physical type the values fit.</summary>
    public ParquetType Type { get; }

    /// <summary>The number of rows.</summary>
    public int Count { get; }

    /// <summary>The null mask (empty when every row has a value, or for string and binary lists, whose nulls are in the list).</summary>
    public ReadOnlyMemory<bool> Defined { get; }

    /// <summary>What was given, for messages: "int[]", "string list", ...</summary>
    internal string Kind { get; }

    internal ReadOnlyMemory<int> Int32Values { get; private init; }

    internal ReadOnlyMemory<long> Int64Values { get; private init; }

    internal ReadOnlyMemory<float> FloatValues { get; private init; }

    internal ReadOnlyMemory<double> DoubleValues { get; private init; }

    internal ReadOnlyMemory<bool> BooleanValues { get; private init; }

    internal IReadOnlyList<string?>? StringValues { get; private init; }

    internal IReadOnlyList<byte[]?>? BinaryValues { get; private init; }

    public static ParquetColumnData Of(ReadOnlyMemory<int> values, ReadOnlyMemory<bool> defined = default) =>
        new(ParquetType.Int32, values.Length, defined, "int values") { Int32Values = values };

    public static ParquetColumnData Of(ReadOnlyMemory<long> values, ReadOnlyMemory<bool> defined = default) =>
        new(ParquetType.Int64, values.Length, defined, "long values") { Int64Values = values };

    public static ParquetColumnData Of(ReadOnlyMemory<float> values, ReadOnlyMemory<bool> defined = default) =>
        new(ParquetType.Float, values.Length, defined, "float values") { FloatValues = values };

    public static ParquetColumnData Of(ReadOnlyMemory<double> values, ReadOnlyMemory<bool> defined = default) =>
        new(ParquetType.Double, values.Length, defined, "double values") { DoubleValues = values };

    public static ParquetColumnData Of(ReadOnlyMemory<bool> values, ReadOnlyMemory<bool> defined = default) =>
        new(ParquetType.Boolean, values.Length, defined, "bool values") { BooleanValues = values };

    /// <summary>Strings (UTF-8 in the file); null is a null row.</summary>
    public static ParquetColumnData Of(IReadOnlyList<string?> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return new(ParquetType.ByteArray, values.Count, default, "string values") { StringValues = values };
    }

    /// <summary>Byte arrays; null is a null row.</summary>
    public static ParquetColumnData Of(IReadOnlyList<byte[]?> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return new(ParquetType.ByteArray, values.Count, default, "byte[] values") { BinaryValues = values };
    }
}
