using System.Text;

namespace Floe.Formats.Hdf5;

public enum Hdf5DatatypeClass
{
    FixedPoint = 0,
    FloatingPoint = 1,
    Time = 2,
    String = 3,
    Bitfield = 4,
    Opaque = 5,
    Compound = 6,
    Reference = 7,
    Enum = 8,
    VariableLength = 9,
    Array = 10,
    Complex = 11,
}

public enum Hdf5StringPadding
{
    NullTerminate = 0,
    NullPad = 1,
    SpacePad = 2,
}

public enum Hdf5CharacterSet
{
    Ascii = 0,
    Utf8 = 1,
}

public enum Hdf5ReferenceKind
{
    Object = 0,
    DatasetRegion = 1,
}

/// <summary>A member of a compound datatype at a byte offset within the compound element.</summary>
public sealed record Hdf5CompoundMember(string Name, int Offset, Hdf5Datatype Datatype);

/// <summary>An enumeration member; <paramref name="Value"/> is of the base type's .NET integer type.</summary>
public sealed record Hdf5EnumMember(string Name, object Value, byte[] RawValue);

/// <summary>A datatype message: class, size and the class-specific properties.</summary>
public sealed class Hdf5Datatype
{
    private static readonly IReadOnlyList<Hdf5CompoundMember> NoMembers = [];
    private static readonly IReadOnlyList<Hdf5EnumMember> NoEnumMembers = [];
    private string? _numpy;

    internal Hdf5Datatype(Hdf5DatatypeClass typeClass, int version, int size, int classBits)
    {
        Class = typeClass;
        Version = version;
        Size = size;
        ClassBits = classBits;
    }

    public Hdf5DatatypeClass Class { get; }

    /// <summary>The datatype message version (1 to 5).</summary>
    public int Version { get; }

    /// <summary>Element size in bytes.</summary>
    public int Size { get; }

    /// <summary>The 24 class bit-field bits as stored.</summary>
    public int ClassBits { get; }

    /// <summary>Fixed-point, floating-point, time and bitfield: big-endian byte order.</summary>
    public bool IsBigEndian { get; internal init; }

    /// <summary>Fixed-point: two's complement signed.</summary>
    public bool IsSigned { get; internal init; }

    /// <summary>Fixed-point, floating-point and bitfield: the first significant bit and the number of bits.</summary>
    public int BitOffset { get; internal init; }

    public int BitPrecision { get; internal init; }

    /// <summary>Floating-point: bit positions and sizes of the exponent and mantissa, the exponent bias and the sign bit.</summary>
    public int ExponentLocation { get; internal init; }

    public int ExponentSize { get; internal init; }

    public int MantissaLocation { get; internal init; }

    public int MantissaSize { get; internal init; }

    public uint ExponentBias { get; internal init; }

    public int SignLocation { get; internal init; }

    /// <summary>Floating-point: VAX byte order (not decoded).</summary>
    public bool IsVaxOrder { get; internal init; }

    /// <summary>Strings (fixed and variable-length): padding and character set.</summary>
    public Hdf5StringPadding StringPadding { get; internal init; }

    public Hdf5CharacterSet CharacterSet { get; internal init; }

    /// <summary>A variable-length string (class <see cref="Hdf5DatatypeClass.VariableLength"/>, type 1).</summary>
    public bool IsVariableLengthString { get; internal init; }

    /// <summary>A variable-length sequence of <see cref="BaseType"/> (class <see cref="Hdf5DatatypeClass.VariableLength"/>, type 0).</summary>
    public bool IsVariableLengthSequence => Class == Hdf5DatatypeClass.VariableLength && !IsVariableLengthString;

    /// <summary>Compound members in stored order.</summary>
    public IReadOnlyList<Hdf5CompoundMember> Members { get; internal init; } = NoMembers;

    /// <summary>Enumeration members in stored order.</summary>
    public IReadOnlyList<Hdf5EnumMember> EnumMembers { get; internal init; } = NoEnumMembers;

    /// <summary>Enumeration: the integer base type; variable-length: the element type; array and complex: the element type.</summary>
    public Hdf5Datatype? BaseType { get; internal init; }

    /// <summary>Array: the dimensions of one element.</summary>
    public int[] ArrayDimensions { get; internal init; } = [];

    /// <summary>Reference: object or dataset region.</summary>
    public Hdf5ReferenceKind ReferenceKind { get; internal init; }

    /// <summary>Opaque: the ASCII tag.</summary>
    public string? OpaqueTag { get; internal init; }

    /// <summary>For a committed (named) datatype shared by the message: the named datatype's object header address.</summary>
    public long? CommittedAddress { get; internal set; }

    /// <summary>
    /// numpy's dtype.str for the type as h5py maps it: "&lt;f4", "&gt;i2", "|u1", "|S10", "&lt;f2"; an enumeration
    /// gives its base type's string; compound, array and opaque give "|V{size}"; variable-length and references "|O".
    /// </summary>
    public string NumpyTypeString => _numpy ??= ComputeNumpy();

    public override string ToString() => $"{Class} {NumpyTypeString}";

    private string ComputeNumpy()
    {
        var order = Size == 1 ? "|" : IsBigEndian ? ">" : "<";
        return Class switch
        {
            Hdf5DatatypeClass.FixedPoint => $"{order}{(IsSigned ? 'i' : 'u')}{Size}",
            Hdf5DatatypeClass.Bitfield => $"{order}u{Size}",
            Hdf5DatatypeClass.FloatingPoint => $"{order}f{Size}",
            Hdf5DatatypeClass.Complex => $"{(BaseType is { IsBigEndian: true } ? ">" : "<")}c{Size}",
            Hdf5DatatypeClass.String => $"|S{Size}",
            Hdf5DatatypeClass.Enum => BaseType?.NumpyTypeString ?? $"|V{Size}",
            Hdf5DatatypeClass.VariableLength or Hdf5DatatypeClass.Reference => "|O",
            _ => $"|V{Size}",
        };
    }

    private const int MaxNesting = 32;

    /// <summary>Parses a datatype message (or an embedded datatype description) at the cursor.</summary>
    internal static Hdf5Datatype Parse(ref FieldReader r, int depth = 0)
    {
        if (depth > MaxNesting)
        {
            throw r.Error($"datatype nesting deeper than {MaxNesting}");
        }

        var start = r.FileOffset;
        var classAndVersion = r.U8("class and version");
        var version = classAndVersion >> 4;
        var typeClass = classAndVersion & 0x0F;
        int bits = r.U8("class bits");
        bits |= r.U8("class bits") << 8;
        bits |= r.U8("class bits") << 16;
        var size = r.Count(4, "size", int.MaxValue);
        if (version is < 1 or > 5)
        {
            throw r.Error($"datatype version {version} is not 1 to 5 (at byte {start})");
        }

        if (size == 0)
        {
            throw r.Error("datatype size is 0");
        }

        switch ((Hdf5DatatypeClass)typeClass)
        {
            case Hdf5DatatypeClass.FixedPoint:
                return new Hdf5Datatype(Hdf5DatatypeClass.FixedPoint, version, size, bits)
                {
                    IsBigEndian = (bits & 1) != 0,
                    IsSigned = (bits & 8) != 0,
                    BitOffset = r.U16("bit offset"),
                    BitPrecision = r.U16("bit precision"),
                };
            case Hdf5DatatypeClass.FloatingPoint:
                {
                    var order = (bits & 1) | ((bits >> 5) & 2);
                    var bitOffset = r.U16("bit offset");
                    var precision = r.U16("bit precision");
                    var exponentLocation = r.U8("exponent location");
                    var exponentSize = r.U8("exponent size");
                    var mantissaLocation = r.U8("mantissa location");
                    var mantissaSize = r.U8("mantissa size");
                    var bias = r.U32("exponent bias");
                    return new Hdf5Datatype(Hdf5DatatypeClass.FloatingPoint, version, size, bits)
                    {
                        IsBigEndian = order == 1,
                        IsVaxOrder = order == 3,
                        SignLocation = (bits >> 8) & 0xFF,
                        BitOffset = bitOffset,
                        BitPrecision = precision,
                        ExponentLocation = exponentLocation,
                        ExponentSize = exponentSize,
                        MantissaLocation = mantissaLocation,
                        MantissaSize = mantissaSize,
                        ExponentBias = bias,
                    };
                }

            case Hdf5DatatypeClass.Time:
                return new Hdf5Datatype(Hdf5DatatypeClass.Time, version, size, bits)
                {
                    IsBigEndian = (bits & 1) != 0,
                    BitPrecision = r.U16("bit precision"),
                };
            case Hdf5DatatypeClass.String:
                return new Hdf5Datatype(Hdf5DatatypeClass.String, version, size, bits)
                {
                    StringPadding = (Hdf5StringPadding)(bits & 0x0F),
                    CharacterSet = (Hdf5CharacterSet)((bits >> 4) & 0x0F),
                };
            case Hdf5DatatypeClass.Bitfield:
                return new Hdf5Datatype(Hdf5DatatypeClass.Bitfield, version, size, bits)
                {
                    IsBigEndian = (bits & 1) != 0,
                    BitOffset = r.U16("bit offset"),
                    BitPrecision = r.U16("bit precision"),
                };
            case Hdf5DatatypeClass.Opaque:
                {
                    var tagLength = bits & 0xFF;
                    var tag = r.Bytes(tagLength, "opaque tag");
                    var end = tag.IndexOf((byte)0);
                    return new Hdf5Datatype(Hdf5DatatypeClass.Opaque, version, size, bits)
                    {
                        OpaqueTag = Encoding.ASCII.GetString(end < 0 ? tag : tag[..end]),
                    };
                }

            case Hdf5DatatypeClass.Compound:
                return ParseCompound(ref r, version, size, bits, depth);
            case Hdf5DatatypeClass.Reference:
                return new Hdf5Datatype(Hdf5DatatypeClass.Reference, version, size, bits)
                {
                    ReferenceKind = (Hdf5ReferenceKind)(bits & 0x0F),
                };
            case Hdf5DatatypeClass.Enum:
                return ParseEnum(ref r, version, size, bits, depth);
            case Hdf5DatatypeClass.VariableLength:
                {
                    var kind = bits & 0x0F;
                    if (kind > 1)
                    {
                        throw r.Error($"variable-length type {kind} is not 0 (sequence) or 1 (string)");
                    }

                    var baseType = Parse(ref r, depth + 1);
                    return new Hdf5Datatype(Hdf5DatatypeClass.VariableLength, version, size, bits)
                    {
                        IsVariableLengthString = kind == 1,
                        StringPadding = (Hdf5StringPadding)((bits >> 4) & 0x0F),
                        CharacterSet = (Hdf5CharacterSet)((bits >> 8) & 0x0F),
                        BaseType = baseType,
                    };
                }

            case Hdf5DatatypeClass.Array:
                {
                    var rank = r.U8("array rank");
                    if (rank is 0 or > 32)
                    {
                        throw r.Error($"array datatype rank {rank} is not 1 to 32");
                    }

                    if (version < 3)
                    {
                        r.Skip(3, "reserved");
                    }

                    var dims = new int[rank];
                    long elements = 1;
                    for (var i = 0; i < rank; i++)
                    {
                        dims[i] = r.Count(4, "array dimension");
                        elements = Math.Min(elements * Math.Max(dims[i], 0), int.MaxValue);
                    }

                    if (version < 3)
                    {
                        r.Skip(4 * rank, "permutation indices");
                    }

                    var baseType = Parse(ref r, depth + 1);
                    if (elements * baseType.Size != size)
                    {
                        throw r.Error($"array datatype of {elements} elements of {baseType.Size} bytes does not make its size {size}");
                    }

                    return new Hdf5Datatype(Hdf5DatatypeClass.Array, version, size, bits) { ArrayDimensions = dims, BaseType = baseType };
                }

            case Hdf5DatatypeClass.Complex:
                {
                    var baseType = Parse(ref r, depth + 1);
                    return new Hdf5Datatype(Hdf5DatatypeClass.Complex, version, size, bits) { BaseType = baseType };
                }

            default:
                throw r.Error($"unknown datatype class {typeClass}");
        }
    }

    private static Hdf5Datatype ParseCompound(ref FieldReader r, int version, int size, int bits, int depth)
    {
        var count = bits & 0xFFFF;
        if (count > r.Remaining / 2)
        {
            throw r.Error($"compound claims {count} members, more than its {r.Remaining} bytes can hold");
        }

        var offsetBytes = EncodedSize((ulong)size);
        var members = new Hdf5CompoundMember[count];
        for (var i = 0; i < count; i++)
        {
            var name = r.NulTerminated("member name", version < 3 ? 8 : 1);
            int offset;
            Hdf5Datatype type;
            if (version == 1)
            {
                offset = r.Count(4, "member offset");
                var rank = r.U8("member dimensionality");
                r.Skip(3, "reserved");
                r.Skip(4, "dimension permutation");
                r.Skip(4, "reserved");
                var dims = new int[4];
                for (var d = 0; d < 4; d++)
                {
                    dims[d] = r.Count(4, "member dimension");
                }

                type = Parse(ref r, depth + 1);
                if (rank > 4)
                {
                    throw r.Error($"compound member dimensionality {rank} is more than 4");
                }

                if (rank > 0)
                {
                    var arrayDims = dims[..rank];
                    long elements = 1;
                    foreach (var d in arrayDims)
                    {
                        elements = Math.Min(elements * d, int.MaxValue);
                    }

                    type = new Hdf5Datatype(Hdf5DatatypeClass.Array, 2, checked((int)Math.Min(elements * type.Size, int.MaxValue)), 0)
                    {
                        ArrayDimensions = arrayDims,
                        BaseType = type,
                    };
                }
            }
            else
            {
                offset = version == 2 ? r.Count(4, "member offset") : r.Count(offsetBytes, "member offset");
                type = Parse(ref r, depth + 1);
            }

            if ((long)offset + type.Size > size)
            {
                throw r.Error($"compound member \"{name}\" at offset {offset} of {type.Size} bytes lies outside the {size}-byte compound");
            }

            members[i] = new Hdf5CompoundMember(name, offset, type);
        }

        return new Hdf5Datatype(Hdf5DatatypeClass.Compound, version, size, bits) { Members = members };
    }

    private static Hdf5Datatype ParseEnum(ref FieldReader r, int version, int size, int bits, int depth)
    {
        var count = bits & 0xFFFF;
        var baseType = Parse(ref r, depth + 1);
        if (baseType.Class != Hdf5DatatypeClass.FixedPoint || baseType.Size != size)
        {
            throw r.Error($"enumeration base type is {baseType.Class} of {baseType.Size} bytes, not an integer of {size} bytes");
        }

        if (count > r.Remaining)
        {
            throw r.Error($"enumeration claims {count} members, more than its {r.Remaining} bytes can hold");
        }

        var names = new string[count];
        for (var i = 0; i < count; i++)
        {
            names[i] = r.NulTerminated("enumeration member name", version < 3 ? 8 : 1);
        }

        var members = new Hdf5EnumMember[count];
        for (var i = 0; i < count; i++)
        {
            var raw = r.Bytes(size, "enumeration member value").ToArray();
            members[i] = new Hdf5EnumMember(names[i], ValueDecoder.DecodeInteger(baseType, raw), raw);
        }

        return new Hdf5Datatype(Hdf5DatatypeClass.Enum, version, size, bits) { BaseType = baseType, EnumMembers = members };
    }

    /// <summary>Bytes needed to encode <paramref name="value"/> (HDF5's H5VM_limit_enc_size): log2(value) / 8 + 1.</summary>
    internal static int EncodedSize(ulong value) => (value == 0 ? 0 : 63 - System.Numerics.BitOperations.LeadingZeroCount(value)) / 8 + 1;
}
