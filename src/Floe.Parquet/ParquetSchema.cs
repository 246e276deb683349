namespace Floe.Parquet;

/// <summary>
/// The physical types this library writes. Reading maps FIXED_LEN_BYTE_ARRAY to <see cref="ByteArray"/> and
/// INT96 (legacy timestamps) to <see cref="Int64"/> nanoseconds since the epoch.
/// </summary>
public enum ParquetType
{
    Boolean,
    Int32,
    Int64,
    Float,
    Double,
    ByteArray,
}

/// <summary>Page compression codecs. The last four can appear in files' metadata but cannot be decoded or written here.</summary>
public enum ParquetCompression
{
    Uncompressed,
    Snappy,
    Zstd,
    Gzip,
    Brotli,
    Lzo,
    Lz4,
    Lz4Raw,
}

public enum ParquetTimeUnit
{
    Millis,
    Micros,
    Nanos,
}

/// <summary>The logical annotation of a column.</summary>
public enum ParquetLogicalType
{
    /// <summary>Just the physical type.</summary>
    None,

    /// <summary>UTF-8 text in a BYTE_ARRAY.</summary>
    String,

    /// <summary>INT64 count of <see cref="ParquetField.TimestampUnit"/> since 1970-01-01 (UTC when <see cref="ParquetField.IsUtc"/>).</summary>
    Timestamp,

    /// <summary>INT32 days since 1970-01-01.</summary>
    Date,

    /// <summary>An integer narrower than its physical type, or unsigned (<see cref="ParquetField.IntegerBits"/>, <see cref="ParquetField.IsSigned"/>).</summary>
    Integer,

    /// <summary>An annotation this library reads as its physical values only (decimal, time, JSON, enum, UUID, ...); <see cref="ParquetField.Annotation"/> names it.</summary>
    Other,
}

/// <summary>
/// One column of a flat schema. Use the factories for annotated types; the positional constructor gives a bare
/// physical type.
/// </summary>
public sealed record ParquetField(string Name, ParquetType Type, bool Nullable = false)
{
    public ParquetLogicalType Logical { get; init; }

    /// <summary>The unit of a <see cref="ParquetLogicalType.Timestamp"/> column, else null.</summary>
    public ParquetTimeUnit? TimestampUnit { get; init; }

    /// <summary>Whether a timestamp is adjusted to UTC (an instant) rather than a local date-time.</summary>
    public bool IsUtc { get; init; }

    /// <summary>8, 16, 32 or 64 for a <see cref="ParquetLogicalType.Integer"/> column, else null.</summary>
    public int? IntegerBits { get; init; }

    /// <summary>False for unsigned integer columns (whose values are stored in the same-width signed .NET type).</summary>
    public bool IsSigned { get; init; } = true;

    /// <summary>For <see cref="ParquetLogicalType.Other"/>: the annotation's name as the file spells it (e.g. "DECIMAL(10,2)"); else null.</summary>
    public string? Annotation { get; init; }

    public bool IsString => Logical == ParquetLogicalType.String;

    public bool IsDate => Logical == ParquetLogicalType.Date;

    public bool IsTimestamp => Logical == ParquetLogicalType.Timestamp;

    public static ParquetField Int32(string name, bool nullable = false) => new(name, ParquetType.Int32, nullable);

    public static ParquetField Int64(string name, bool nullable = false) => new(name, ParquetType.Int64, nullable);

    public static ParquetField Float(string name, bool nullable = false) => new(name, ParquetType.Float, nullable);

    public static ParquetField Double(string name, bool nullable = false) => new(name, ParquetType.Double, nullable);

    public static ParquetField Boolean(string name, bool nullable = false) => new(name, ParquetType.Boolean, nullable);

    /// <summary>A BYTE_ARRAY column without annotation (raw bytes).</summary>
    public static ParquetField Binary(string name, bool nullable = false) => new(name, ParquetType.ByteArray, nullable);

    public static ParquetField String(string name, bool nullable = false) =>
        new(name, ParquetType.ByteArray, nullable) { Logical = ParquetLogicalType.String };

    /// <summary>An INT64 count of <paramref name="unit"/> since 1970-01-01.</summary>
    public static ParquetField Timestamp(string name, ParquetTimeUnit unit = ParquetTimeUnit.Micros, bool utc = true, bool nullable = false) =>
        new(name, ParquetType.Int64, nullable) { Logical = ParquetLogicalType.Timestamp, TimestampUnit = unit, IsUtc = utc };

    /// <summary>An INT32 count of days since 1970-01-01.</summary>
    public static ParquetField Date(string name, bool nullable = false) =>
        new(name, ParquetType.Int32, nullable) { Logical = ParquetLogicalType.Date };

    /// <summary>
    /// An integer of <paramref name="bits"/> (8, 16, 32 or 64), signed or not. 8 to 32 bits are INT32 (values passed as
    /// <see cref="int"/>; unsigned 32-bit values as their bit pattern), 64 bits INT64 (unsigned as the bit pattern in a
    /// <see cref="long"/>). The writer rejects values outside the range of 8- and 16-bit types.
    /// </summary>
    public static ParquetField Integer(string name, int bits, bool signed = true, bool nullable = false)
    {
        if (bits is not (8 or 16 or 32 or 64))
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, $"Parquet integer column '{name}' must have 8, 16, 32 or 64 bits.");
        }

        var type = bits == 64 ? ParquetType.Int64 : ParquetType.Int32;

        // A signed integer as wide as its physical type is the physical type itself.
        return signed && bits is 32 or 64
            ? new ParquetField(name, type, nullable)
            : new ParquetField(name, type, nullable) { Logical = ParquetLogicalType.Integer, IntegerBits = bits, IsSigned = signed };
    }

    /// <summary>The .NET type of the column's values and statistics: int, long, float, double, bool, string or byte[].</summary>
    public System.Type ClrType => Type switch
    {
        ParquetType.Boolean => typeof(bool),
        ParquetType.Int32 => typeof(int),
        ParquetType.Int64 => typeof(long),
        ParquetType.Float => typeof(float),
        ParquetType.Double => typeof(double),
        _ => IsString ? typeof(string) : typeof(byte[]),
    };

    /// <summary>Whether values order as unsigned integers (unsigned integer annotations; bytes always compare unsigned).</summary>
    internal bool IsUnsignedInteger => Logical == ParquetLogicalType.Integer && !IsSigned;

    /// <summary>A short description for messages, e.g. "INT64 TIMESTAMP(MICROS, UTC)".</summary>
    public string Describe()
    {
        var physical = Type switch
        {
            ParquetType.Boolean => "BOOLEAN",
            ParquetType.Int32 => "INT32",
            ParquetType.Int64 => "INT64",
            ParquetType.Float => "FLOAT",
            ParquetType.Double => "DOUBLE",
            _ => "BYTE_ARRAY",
        };
        var logical = Logical switch
        {
            ParquetLogicalType.String => " STRING",
            ParquetLogicalType.Date => " DATE",
            ParquetLogicalType.Timestamp => $" TIMESTAMP({TimestampUnit?.ToString().ToUpperInvariant()}, {(IsUtc ? "UTC" : "local")})",
            ParquetLogicalType.Integer => $" {(IsSigned ? "INT" : "UINT")}{IntegerBits}",
            ParquetLogicalType.Other => " " + Annotation,
            _ => "",
        };
        return physical + logical + (Nullable ? " (nullable)" : "");
    }
}

/// <summary>A flat list of uniquely named columns.</summary>
public sealed class ParquetSchema
{
    private readonly Dictionary<string, int> _indexes = new(StringComparer.Ordinal);

    public ParquetSchema(IReadOnlyList<ParquetField> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Count == 0)
        {
            throw new ArgumentException("A Parquet schema needs at least one column.", nameof(fields));
        }

        var copy = new ParquetField[fields.Count];
        for (var i = 0; i < fields.Count; i++)
        {
            var field = fields[i] ?? throw new ArgumentException($"Parquet schema column {i} is null.", nameof(fields));
            if (string.IsNullOrEmpty(field.Name))
            {
                throw new ArgumentException($"Parquet schema column {i} has no name.", nameof(fields));
            }

            if (!_indexes.TryAdd(field.Name, i))
            {
                throw new ArgumentException($"Parquet schema has two columns named '{field.Name}'.", nameof(fields));
            }

            Validate(field);
            copy[i] = field;
        }

        Fields = copy;
    }

    public IReadOnlyList<ParquetField> Fields { get; }

    /// <summary>The column's position, or -1 when there is no such column.</summary>
    public int IndexOf(string name) => _indexes.GetValueOrDefault(name, -1);

    public override string ToString() => string.Join(", ", Fields.Select(f => $"{f.Name}: {f.Describe()}"));

    private static void Validate(ParquetField field)
    {
        var ok = field.Logical switch
        {
            ParquetLogicalType.None or ParquetLogicalType.Other => true,
            ParquetLogicalType.String => field.Type == ParquetType.ByteArray,
            ParquetLogicalType.Date => field.Type == ParquetType.Int32,
            ParquetLogicalType.Timestamp => field.Type == ParquetType.Int64 && field.TimestampUnit is not null,
            ParquetLogicalType.Integer => field.IntegerBits switch
            {
                8 or 16 or 32 => field.Type == ParquetType.Int32,
                64 => field.Type == ParquetType.Int64,
                _ => false,
            },
            _ => false,
        };
        if (!ok)
        {
            throw new ArgumentException($"Parquet column '{field.Name}': annotation {field.Logical} does not fit physical type {field.Type}.");
        }
    }
}
