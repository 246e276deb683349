using System.Text;

namespace Floe.Parquet;

/// <summary>
/// The decoded values of one column chunk: one slot per row (null rows hold the type's default; <see cref="Defined"/>
/// tells them apart). The typed accessors return the same array on every call; it belongs to the caller.
/// </summary>
public sealed class ParquetColumnValues
{
    private readonly Array? _values;
    private readonly BinaryValues? _binary;
    private string?[]? _strings;
    private byte[]?[]? _binaries;

    internal ParquetColumnValues(ParquetField field, int count, bool[]? defined, Array values)
    {
        Field = field;
        Count = count;
        Defined = defined;
        _values = values;
    }

    internal ParquetColumnValues(ParquetField field, int count, bool[]? defined, BinaryValues binary)
    {
        Field = field;
        Count = count;
        Defined = defined;
        _binary = binary;
    }

    public ParquetField Field { get; }

    public int Count { get; }

    /// <summary>Which rows hold a value; null when no row of this chunk is null.</summary>
    public bool[]? Defined { get; }

    /// <summary>The number of null rows.</summary>
    public int NullCount => Defined is null ? 0 : Defined.AsSpan().Count(false);

    public int[] AsInt32() => As<int>(ParquetType.Int32);

    public long[] AsInt64() => As<long>(ParquetType.Int64);

    public float[] AsFloat() => As<float>(ParquetType.Float);

    public double[] AsDouble() => As<double>(ParquetType.Double);

    public bool[] AsBoolean() => As<bool>(ParquetType.Boolean);

    /// <summary>BYTE_ARRAY values decoded as UTF-8 (null rows are null). Dictionary-encoded chunks share one string per distinct value.</summary>
    public string?[] AsString()
    {
        var binary = Binary(nameof(AsString));
        if (_strings is not null)
        {
            return _strings;
        }

        var result = new string?[Count];
        if (binary.RowIndex is { } rows)
        {
            var dictionary = new string?[binary.DictionaryCount];
            for (var i = 0; i < Count; i++)
            {
                var index = rows[i];
                if (index >= 0)
                {
                    result[i] = dictionary[index] ??= Encoding.UTF8.GetString(binary.Value(index));
                }
            }
        }
        else
        {
            for (var i = 0; i < Count; i++)
            {
                if (Defined is null || Defined[i])
                {
                    result[i] = Encoding.UTF8.GetString(binary.Value(i));
                }
            }
        }

        return _strings = result;
    }

    /// <summary>BYTE_ARRAY (or FIXED_LEN_BYTE_ARRAY) values, one array per non-null row.</summary>
    public byte[]?[] AsBinary()
    {
        var binary = Binary(nameof(AsBinary));
        if (_binaries is not null)
        {
            return _binaries;
        }

        var result = new byte[]?[Count];
        for (var i = 0; i < Count; i++)
        {
            if (binary.RowIndex is { } rows)
            {
                if (rows[i] >= 0)
                {
                    result[i] = binary.Value(rows[i]).ToArray();
                }
            }
            else if (Defined is null || Defined[i])
            {
                result[i] = binary.Value(i).ToArray();
            }
        }

        return _binaries = result;
    }

    /// <summary>The value of one row boxed as its .NET type, or null (for tests and diagnostics).</summary>
    public object? GetValue(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Count);
        if (Defined is not null && !Defined[row])
        {
            return null;
        }

        return _values is not null ? _values.GetValue(row) : Field.IsString ? AsString()[row] : AsBinary()[row];
    }

    private T[] As<T>(ParquetType wanted)
    {
        if (_values is T[] values && Field.Type == wanted)
        {
            return values;
        }

        throw Mismatch(wanted.ToString());
    }

    private BinaryValues Binary(string accessor) =>
        _binary ?? throw Mismatch(accessor == nameof(AsString) ? "ByteArray (string)" : "ByteArray");

    private InvalidOperationException Mismatch(string wanted) =>
        new($"Parquet column '{Field.Name}' is {Field.Describe()} ({Field.Type}); it cannot be read as {wanted}.");
}

/// <summary>
/// Byte-array values of a chunk: either a dictionary plus one entry index per row (-1 = null), or every row's bytes
/// back to back (null rows empty).
/// </summary>
internal sealed class BinaryValues(byte[] data, int[] offsets, int dictionaryCount, int[]? rowIndex)
{
    /// <summary>Per-row dictionary index, or null when <see cref="Value"/> takes row numbers.</summary>
    public int[]? RowIndex { get; } = rowIndex;

    public int DictionaryCount { get; } = dictionaryCount;

    /// <summary>The bytes of dictionary entry <paramref name="index"/> (dictionary form) or of row <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Value(int index) => data.AsSpan(offsets[index], offsets[index + 1] - offsets[index]);
}
