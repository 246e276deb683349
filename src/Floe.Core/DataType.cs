namespace Floe.Core;

/// <summary>A Zarr v3 element data type; element bytes are always little-endian in memory.</summary>
public sealed class DataType : IEquatable<DataType>
{
    public static readonly DataType Bool = new("bool", 1, Kind.Bool);
    public static readonly DataType Int8 = new("int8", 1, Kind.Signed);
    public static readonly DataType Int16 = new("int16", 2, Kind.Signed);
    public static readonly DataType Int32 = new("int32", 4, Kind.Signed);
    public static readonly DataType Int64 = new("int64", 8, Kind.Signed);
    public static readonly DataType UInt8 = new("uint8", 1, Kind.Unsigned);
    public static readonly DataType UInt16 = new("uint16", 2, Kind.Unsigned);
    public static readonly DataType UInt32 = new("uint32", 4, Kind.Unsigned);
    public static readonly DataType UInt64 = new("uint64", 8, Kind.Unsigned);
    public static readonly DataType Float16 = new("float16", 2, Kind.Float);
    public static readonly DataType Float32 = new("float32", 4, Kind.Float);
    public static readonly DataType Float64 = new("float64", 8, Kind.Float);
    public static readonly DataType Complex64 = new("complex64", 8, Kind.Complex);
    public static readonly DataType Complex128 = new("complex128", 16, Kind.Complex);

    /// <summary>Every supported data type, in declaration order.</summary>
    public static IReadOnlyList<DataType> All { get; } =
    [
        Bool, Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64,
        Float16, Float32, Float64, Complex64, Complex128,
    ];

    private readonly Kind _kind;

    private DataType(string name, int size, Kind kind)
    {
        Name = name;
        Size = size;
        _kind = kind;
    }

    private enum Kind
    {
        Bool,
        Signed,
        Unsigned,
        Float,
        Complex,
    }

    /// <summary>The Zarr v3 name, e.g. "float32".</summary>
    public string Name { get; }

    /// <summary>Bytes per element.</summary>
    public int Size { get; }

    /// <summary>True for float16/32/64 and for complex types (whose parts are floats).</summary>
    public bool IsFloat => _kind is Kind.Float or Kind.Complex;

    public bool IsComplex => _kind == Kind.Complex;

    public bool IsInteger => _kind is Kind.Signed or Kind.Unsigned;

    public bool IsSignedInteger => _kind == Kind.Signed;

    public bool IsBool => _kind == Kind.Bool;

    /// <summary>Size of the unit whose bytes are swapped for big-endian storage (a complex number's part).</summary>
    public int ComponentSize => IsComplex ? Size / 2 : Size;

    /// <summary>Looks up a Zarr v3 data type name; unknown names throw <see cref="FormatException"/>.</summary>
    public static DataType Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var type in All)
        {
            if (type.Name == name)
            {
                return type;
            }
        }

        throw new FormatException($"Unknown data type \"{name}\"; expected one of {string.Join(", ", All.Select(t => t.Name))}.");
    }

    public static bool TryParse(string? name, out DataType? type)
    {
        type = All.FirstOrDefault(t => t.Name == name);
        return type is not null;
    }

    public bool Equals(DataType? other) => other is not null && other.Name == Name;

    public override bool Equals(object? obj) => Equals(obj as DataType);

    public override int GetHashCode() => Name.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => Name;

    public static bool operator ==(DataType? left, DataType? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(DataType? left, DataType? right) => !(left == right);
}
