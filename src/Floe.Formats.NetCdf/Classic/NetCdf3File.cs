using System.Buffers.Binary;
using System.Text;
using Floe.Storage;

namespace Floe.Formats.NetCdf;

/// <summary>The three NetCDF-3 variants, by their version byte.</summary>
public enum NetCdf3Version
{
    /// <summary>CDF-1, "CDF\x01": 32-bit offsets.</summary>
    Classic = 1,

    /// <summary>CDF-2, "CDF\x02": 64-bit variable offsets.</summary>
    Offset64 = 2,

    /// <summary>CDF-5, "CDF\x05": 64-bit counts, sizes and offsets, and unsigned and 64-bit integer types.</summary>
    Data64 = 5,
}

/// <summary>
/// A NetCDF-3 file's header: its dimensions, global attributes and variables, with the byte ranges where each
/// variable's data lies. Produced by <see cref="NetCdf3Reader"/>.
/// </summary>
public sealed class NetCdf3File
{
    /// <summary>The file's location as given to the reader.</summary>
    public required string Location { get; init; }

    /// <summary>The file's size and version when it was read.</summary>
    public required SourceInfo Source { get; init; }

    public required NetCdf3Version Version { get; init; }

    /// <summary>"netcdf3-classic", "netcdf3-64bit-offset" or "netcdf3-64bit-data".</summary>
    public string Format => Version switch
    {
        NetCdf3Version.Classic => "netcdf3-classic",
        NetCdf3Version.Offset64 => "netcdf3-64bit-offset",
        _ => "netcdf3-64bit-data",
    };

    /// <summary>Records in the file: the header's count, or for streaming files the complete records the file holds.</summary>
    public required long RecordCount { get; init; }

    /// <summary>True when the header's record count was STREAMING (all ones) and <see cref="RecordCount"/> was computed from the file's size.</summary>
    public required bool IsStreaming { get; init; }

    /// <summary>Bytes from one record to the next: the record variables' padded sizes summed, or, with exactly one record variable, its unpadded size.</summary>
    public required long RecordSize { get; init; }

    /// <summary>Bytes of the header (where parsing ended; data starts at or after it).</summary>
    public required long HeaderLength { get; init; }

    /// <summary>Every dimension in file order; the record dimension has <see cref="NetCdf3Dimension.IsRecord"/> and length <see cref="RecordCount"/>.</summary>
    public required IReadOnlyList<NetCdf3Dimension> Dimensions { get; init; }

    /// <summary>Global attributes in file order.</summary>
    public required IReadOnlyList<NetCdf3Attribute> Attributes { get; init; }

    /// <summary>Variables in file order.</summary>
    public required IReadOnlyList<NetCdf3Variable> Variables { get; init; }

    /// <summary>Requests sent to the source while reading the header and the bytes of tiny variables.</summary>
    public required int Requests { get; init; }

    /// <summary>Bytes fetched while reading the header and the bytes of tiny variables.</summary>
    public required long BytesRead { get; init; }

    /// <summary>Times the reader waited on the source (requests sent together count once).</summary>
    public int RoundTrips { get; init; }

    /// <summary>The record (unlimited) dimension, if the file has one.</summary>
    public NetCdf3Dimension? RecordDimension => Dimensions.FirstOrDefault(d => d.IsRecord);

    public NetCdf3Variable? Variable(string name) => Variables.FirstOrDefault(v => v.Name == name);

    public NetCdf3Attribute? Attribute(string name) => Attributes.FirstOrDefault(a => a.Name == name);
}

/// <summary>A dimension. The record dimension is stored with length 0; here its length is the file's record count.</summary>
public sealed record NetCdf3Dimension(int Id, string Name, long Length, bool IsRecord);

/// <summary>A variable: its shape, type, attributes and where its data is.</summary>
public sealed class NetCdf3Variable
{
    public required int Id { get; init; }

    public required string Name { get; init; }

    public required NetCdf3Type Type { get; init; }

    public required IReadOnlyList<NetCdf3Dimension> Dimensions { get; init; }

    public required IReadOnlyList<NetCdf3Attribute> Attributes { get; init; }

    /// <summary>The current shape; for record variables the first length is the record count.</summary>
    public required long[] Shape { get; init; }

    /// <summary>True when the first dimension is the record dimension: one slab per record, records interleaved.</summary>
    public required bool IsRecord { get; init; }

    /// <summary>File offset of the variable's data (of its first record's slab for record variables).</summary>
    public required long Begin { get; init; }

    /// <summary>The vsize field as stored (redundant, and all ones for very large variables in CDF-1/2).</summary>
    public required long HeaderVsize { get; init; }

    /// <summary>File offset of the variable's entry in the header.</summary>
    public required long HeaderOffset { get; init; }

    /// <summary>Exact bytes of data (no padding): of one record's slab for record variables, of everything otherwise.</summary>
    public required long SlabBytes { get; init; }

    /// <summary>Bytes from one record's slab to the next (the file's record size); 0 for fixed variables.</summary>
    public required long RecordStride { get; init; }

    /// <summary>For variables of at most <see cref="NetCdf3Reader.InlineThreshold"/> bytes, their stored (big-endian) bytes, records concatenated.</summary>
    public byte[]? InlineData { get; init; }

    public int Rank => Shape.Length;

    /// <summary>Records of data (the record count for record variables, 1 for fixed variables).</summary>
    public long RecordCount => IsRecord ? Shape[0] : 1;

    /// <summary>Exact bytes of the variable's data.</summary>
    public long DataBytes => IsRecord ? SlabBytes * Shape[0] : SlabBytes;

    public NetCdf3Attribute? Attribute(string name) => Attributes.FirstOrDefault(a => a.Name == name);

    /// <summary>The byte ranges holding the variable's data in C order: one for fixed variables, one per record otherwise.</summary>
    public IEnumerable<(long Offset, long Length)> Extents()
    {
        for (long r = 0; r < RecordCount; r++)
        {
            yield return (Begin + (r * RecordStride), SlabBytes);
        }
    }
}

/// <summary>An attribute: a name, a type and its values (text for char attributes).</summary>
public sealed class NetCdf3Attribute
{
    private readonly byte[] _raw;

    public NetCdf3Attribute(string name, NetCdf3Type type, byte[] bigEndianValues, long offset = -1)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(bigEndianValues);
        if (bigEndianValues.Length % NetCdf3Types.SizeOf(type) != 0)
        {
            throw new ArgumentException($"{bigEndianValues.Length} bytes are not a whole number of {NetCdf3Types.NameOf(type)} values.", nameof(bigEndianValues));
        }

        Name = name;
        Type = type;
        _raw = bigEndianValues;
        Offset = offset;
    }

    public string Name { get; }

    public NetCdf3Type Type { get; }

    /// <summary>File offset of the attribute's entry in the header, or -1.</summary>
    public long Offset { get; }

    /// <summary>Number of values (characters for char attributes).</summary>
    public int Count => _raw.Length / NetCdf3Types.SizeOf(Type);

    /// <summary>The values as stored: big-endian, without padding.</summary>
    public ReadOnlyMemory<byte> RawValues => _raw;

    public bool IsText => Type == NetCdf3Type.Char;

    /// <summary>
    /// A char attribute's text: UTF-8 (invalid sequences replaced with U+FFFD) with trailing NULs removed; null for
    /// numeric attributes.
    /// </summary>
    public string? Text => IsText ? Encoding.UTF8.GetString(_raw.AsSpan(0, _raw.AsSpan().TrimEnd((byte)0).Length)) : null;

    /// <summary>
    /// The values as a typed array: sbyte[], short[], int[], float[], double[], byte[] (ubyte, and char bytes),
    /// ushort[], uint[], long[] or ulong[].
    /// </summary>
    public Array Values => Type switch
    {
        NetCdf3Type.Byte => Read(1, s => (sbyte)s[0]),
        NetCdf3Type.Char or NetCdf3Type.UByte => _raw.ToArray(),
        NetCdf3Type.Short => Read(2, BinaryPrimitives.ReadInt16BigEndian),
        NetCdf3Type.Int => Read(4, BinaryPrimitives.ReadInt32BigEndian),
        NetCdf3Type.Float => Read(4, BinaryPrimitives.ReadSingleBigEndian),
        NetCdf3Type.Double => Read(8, BinaryPrimitives.ReadDoubleBigEndian),
        NetCdf3Type.UShort => Read(2, BinaryPrimitives.ReadUInt16BigEndian),
        NetCdf3Type.UInt => Read(4, BinaryPrimitives.ReadUInt32BigEndian),
        NetCdf3Type.Int64 => Read(8, BinaryPrimitives.ReadInt64BigEndian),
        NetCdf3Type.UInt64 => Read(8, BinaryPrimitives.ReadUInt64BigEndian),
        _ => throw new InvalidOperationException($"attribute {Name} has no type"),
    };

    /// <summary>True for float and double attributes.</summary>
    internal bool IsFloatingPoint => Type is NetCdf3Type.Float or NetCdf3Type.Double;

    /// <summary>Value <paramref name="i"/> of a float or double attribute, widened exactly to double.</summary>
    internal double FloatAt(int i) => Type == NetCdf3Type.Float
        ? BinaryPrimitives.ReadSingleBigEndian(_raw.AsSpan(i * 4))
        : BinaryPrimitives.ReadDoubleBigEndian(_raw.AsSpan(i * 8));

    /// <summary>Value <paramref name="i"/> of an integer attribute.</summary>
    internal Int128 IntegerAt(int i)
    {
        var at = _raw.AsSpan(i * NetCdf3Types.SizeOf(Type));
        return Type switch
        {
            NetCdf3Type.Byte => (sbyte)at[0],
            NetCdf3Type.UByte => at[0],
            NetCdf3Type.Short => BinaryPrimitives.ReadInt16BigEndian(at),
            NetCdf3Type.UShort => BinaryPrimitives.ReadUInt16BigEndian(at),
            NetCdf3Type.Int => BinaryPrimitives.ReadInt32BigEndian(at),
            NetCdf3Type.UInt => BinaryPrimitives.ReadUInt32BigEndian(at),
            NetCdf3Type.Int64 => BinaryPrimitives.ReadInt64BigEndian(at),
            NetCdf3Type.UInt64 => BinaryPrimitives.ReadUInt64BigEndian(at),
            _ => throw new InvalidOperationException($"attribute {Name} is not an integer attribute"),
        };
    }

    /// <summary>Value <paramref name="i"/> of a numeric attribute as a double (rounded for large 64-bit integers).</summary>
    internal double DoubleAt(int i) => IsFloatingPoint ? FloatAt(i) : (double)IntegerAt(i);

    private T[] Read<T>(int size, ReadValue<T> read)
    {
        var values = new T[_raw.Length / size];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = read(_raw.AsSpan(i * size, size));
        }

        return values;
    }

    private delegate T ReadValue<T>(ReadOnlySpan<byte> source);

    public override string ToString() =>
        $"{Name} ({NetCdf3Types.NameOf(Type)}) = {(IsText ? "\"" + Text + "\"" : string.Join(", ", Values.Cast<object>()))}";
}
