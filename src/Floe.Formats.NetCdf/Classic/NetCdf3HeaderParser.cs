using System.Buffers.Binary;
using System.Text;

namespace Floe.Formats.NetCdf;

/// <summary>
/// Parses a NetCDF-3 header (CDF-1, CDF-2, CDF-5) from a prefix of the file. Every count is checked against the
/// bytes that remain before anything is allocated for it, so a damaged header fails with a
/// <see cref="NetCdfFormatException"/> instead of allocating or looping. When the prefix ends before the header
/// does, <see cref="MoreBytesNeeded"/> tells the caller how far to read.
/// </summary>
internal sealed class NetCdf3HeaderParser
{
    // List tags (32-bit in every version).
    private const int TagDimension = 0x0A;
    private const int TagVariable = 0x0B;
    private const int TagAttribute = 0x0C;

    /// <summary>Most dimensions a variable may have (netCDF's NC_MAX_VAR_DIMS).</summary>
    public const int MaxRank = 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _buffer;
    private readonly int _available;
    private readonly long _fileLength;
    private readonly long _headerLimit;
    private readonly string _location;
    private int _position;
    private NetCdf3Version _version;

    public NetCdf3HeaderParser(byte[] buffer, int available, long fileLength, long headerLimit, string location)
    {
        _buffer = buffer;
        _available = available;
        _fileLength = fileLength;
        _headerLimit = Math.Min(fileLength, headerLimit);
        _location = location;
    }

    private bool IsCdf5 => _version == NetCdf3Version.Data64;

    // Bytes of a NON_NEG field (counts, lengths, dimension ids, vsize).
    private int NonNegSize => IsCdf5 ? 8 : 4;

    // Bytes of the smallest name: its length and one character padded to 4.
    private int MinNameSize => NonNegSize + 4;

    public ParsedHeader Parse()
    {
        if (_fileLength < 4)
        {
            throw Error(null, 0, $"the file is {_fileLength} bytes, too short for the 4-byte magic number");
        }

        Need(4, null, "magic number");
        var magic = _buffer.AsSpan(0, 4);
        if (magic[0] != (byte)'C' || magic[1] != (byte)'D' || magic[2] != (byte)'F')
        {
            var hint = magic.SequenceEqual((ReadOnlySpan<byte>)[0x89, (byte)'H', (byte)'D', (byte)'F']) ? " (this is an HDF5 file, perhaps NetCDF-4)" : "";
            throw Error(null, 0, $"not a NetCDF-3 file: magic number is {Hex(magic)}, expected \"CDF\" and a version byte{hint}");
        }

        _version = magic[3] switch
        {
            1 => NetCdf3Version.Classic,
            2 => NetCdf3Version.Offset64,
            5 => NetCdf3Version.Data64,
            _ => throw Error(null, 3, $"unknown NetCDF-3 version byte 0x{magic[3]:X2} (expected 0x01, 0x02 or 0x05)"),
        };
        _position = 4;

        long numRecords;
        bool streaming;
        if (IsCdf5)
        {
            Need(8, null, "numrecs");
            numRecords = BinaryPrimitives.ReadInt64BigEndian(_buffer.AsSpan(_position));
            streaming = numRecords == -1;
            if (numRecords < -1)
            {
                throw Error(null, _position, $"numrecs is negative ({numRecords})");
            }

            _position += 8;
        }
        else
        {
            Need(4, null, "numrecs");
            var raw = BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_position));
            streaming = raw == uint.MaxValue;
            numRecords = streaming ? -1 : raw;
            _position += 4;
        }

        var dimensions = ReadDimensions();
        var attributes = ReadAttributes(null);
        var variables = ReadVariables(dimensions.Count);
        return new ParsedHeader(_version, streaming ? -1 : numRecords, dimensions, attributes, variables, _position);
    }

    private List<ParsedDimension> ReadDimensions()
    {
        var count = ReadListHeader(TagDimension, "dimension list", "NC_DIMENSION");
        CheckCount(count, MinNameSize + NonNegSize, "dimension list", "dimensions");
        var dimensions = new List<ParsedDimension>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var recordDimension = -1;
        for (var i = 0; i < count; i++)
        {
            var offset = _position;
            var name = ReadName($"dimension #{i}", "name");
            var what = $"dimension \"{name}\"";
            if (!names.Add(name))
            {
                throw Error(what, offset, "a dimension of this name appears twice");
            }

            var lengthOffset = _position;
            var length = ReadNonNeg(what, "length");
            if (length == 0)
            {
                if (recordDimension >= 0)
                {
                    throw Error(what, lengthOffset, $"second record dimension (length 0); \"{dimensions[recordDimension].Name}\" is already the record dimension");
                }

                recordDimension = i;
            }

            dimensions.Add(new ParsedDimension(name, length, offset));
        }

        return dimensions;
    }

    private List<NetCdf3Attribute> ReadAttributes(string? owner)
    {
        var list = owner is null ? "global attribute list" : $"attribute list of variable \"{owner}\"";
        var count = ReadListHeader(TagAttribute, list, "NC_ATTRIBUTE");
        CheckCount(count, MinNameSize + 4 + NonNegSize, list, "attributes");
        var attributes = new List<NetCdf3Attribute>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var offset = _position;
            var name = ReadName(owner is null ? $"global attribute #{i}" : $"attribute #{i} of variable \"{owner}\"", "name");
            var what = owner is null ? $"global attribute \"{name}\"" : $"attribute \"{owner}:{name}\"";
            if (!names.Add(name))
            {
                throw Error(what, offset, "an attribute of this name appears twice");
            }

            var type = ReadType(what);
            var countOffset = _position;
            var values = ReadNonNeg(what, "value count");
            var size = NetCdf3Types.SizeOf(type);
            if (values > (_headerLimit - _position) / size)
            {
                throw Error(what, countOffset, $"{values} {NetCdf3Types.NameOf(type)} values need {values}×{size} bytes but only {Room()}");
            }

            var bytes = (int)(values * size);
            Need(Pad4(bytes), what, "values");
            var data = _buffer.AsSpan(_position, bytes).ToArray();
            _position += Pad4(bytes);
            attributes.Add(new NetCdf3Attribute(name, type, data, offset));
        }

        return attributes;
    }

    private List<ParsedVariable> ReadVariables(int dimensionCount)
    {
        var count = ReadListHeader(TagVariable, "variable list", "NC_VARIABLE");
        var offsetSize = _version == NetCdf3Version.Classic ? 4 : 8;
        CheckCount(count, MinNameSize + NonNegSize + 4 + NonNegSize + 4 + NonNegSize + offsetSize, "variable list", "variables");
        var variables = new List<ParsedVariable>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var offset = _position;
            var name = ReadName($"variable #{i}", "name");
            var what = $"variable \"{name}\"";
            if (!names.Add(name))
            {
                throw Error(what, offset, "a variable of this name appears twice");
            }

            var rankOffset = _position;
            var rank = ReadNonNeg(what, "number of dimensions");
            if (rank > MaxRank)
            {
                throw Error(what, rankOffset, $"{rank} dimensions; at most {MaxRank} are allowed");
            }

            CheckCount(rank, NonNegSize, what, "dimension ids");
            var dimensionIds = new int[rank];
            for (var d = 0; d < rank; d++)
            {
                var idOffset = _position;
                var id = ReadNonNeg(what, "dimension id");
                if (id >= dimensionCount)
                {
                    throw Error(what, idOffset, $"dimension id {id} does not exist (the file has {dimensionCount} dimensions)");
                }

                dimensionIds[d] = (int)id;
            }

            var attributes = ReadAttributes(name);
            var type = ReadType(what);
            var vsize = ReadNonNeg(what, "vsize");
            var beginOffset = _position;
            long begin;
            if (offsetSize == 4)
            {
                Need(4, what, "begin");
                begin = BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(_position));
            }
            else
            {
                Need(8, what, "begin");
                begin = BinaryPrimitives.ReadInt64BigEndian(_buffer.AsSpan(_position));
            }

            if (begin < 0)
            {
                throw Error(what, beginOffset, $"data offset (begin) is negative ({begin})");
            }

            _position += offsetSize;
            variables.Add(new ParsedVariable(name, dimensionIds, attributes, type, vsize, begin, offset, beginOffset));
        }

        return variables;
    }

    // Reads a list's tag and element count. An empty list may carry any tag (ABSENT is zero, zero), as netCDF reads it.
    private long ReadListHeader(int expectedTag, string what, string tagName)
    {
        var tagOffset = _position;
        Need(4, what, "tag");
        var tag = BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(_position));
        _position += 4;
        var count = ReadNonNeg(what, "element count");
        if (count != 0 && tag != expectedTag)
        {
            throw Error(what, tagOffset, $"tag is 0x{tag:X8}, expected {tagName} (0x{expectedTag:X8}) or ABSENT");
        }

        return count;
    }

    private NetCdf3Type ReadType(string what)
    {
        var offset = _position;
        Need(4, what, "type");
        var code = BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(_position));
        if (!NetCdf3Types.IsDefined(code, _version))
        {
            var allowed = IsCdf5 ? "1 to 11" : "1 to 6 in CDF-1 and CDF-2 files";
            throw Error(what, offset, $"unknown type code {code} (expected {allowed})");
        }

        _position += 4;
        return (NetCdf3Type)code;
    }

    private string ReadName(string what, string field)
    {
        var offset = _position;
        var length = ReadNonNeg(what, field + " length");
        if (length == 0)
        {
            throw Error(what, offset, "empty name");
        }

        if (length > _headerLimit - _position)
        {
            throw Error(what, offset, $"a name of {length} bytes cannot fit: only {Room()}");
        }

        Need(Pad4((int)length), what, field);
        string name;
        try
        {
            name = StrictUtf8.GetString(_buffer, _position, (int)length);
        }
        catch (DecoderFallbackException)
        {
            throw Error(what, _position, $"name is not valid UTF-8 (bytes {Hex(_buffer.AsSpan(_position, (int)Math.Min(length, 32)))})");
        }

        _position += Pad4((int)length);
        return name;
    }

    private long ReadNonNeg(string what, string field)
    {
        var offset = _position;
        if (IsCdf5)
        {
            Need(8, what, field);
            var value = BinaryPrimitives.ReadInt64BigEndian(_buffer.AsSpan(_position));
            if (value < 0)
            {
                throw Error(what, offset, $"{field} is negative ({value})");
            }

            _position += 8;
            return value;
        }

        Need(4, what, field);
        var raw = BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_position));
        _position += 4;
        return raw;
    }

    // A count of items each at least minBytes long must fit in what is left of the file (and of the header limit).
    private void CheckCount(long count, int minBytes, string what, string items)
    {
        var remaining = Math.Max(0, _headerLimit - _position);
        if (count > remaining / minBytes)
        {
            throw Error(what, _position - NonNegSize,
                $"{count} {items} need at least {count}×{minBytes} bytes but only {Room()}");
        }
    }

    private void Need(int count, string? what, string field)
    {
        if (_position + (long)count <= _available)
        {
            return;
        }

        if (_position + (long)count > _fileLength)
        {
            throw Error(what, _position, $"the file ends ({_fileLength} bytes) inside the {field}: truncated header");
        }

        if (_position + (long)count > _headerLimit)
        {
            throw Error(what, _position, $"the header is longer than {_headerLimit} bytes, more than this reader accepts");
        }

        throw new MoreBytesNeeded(_position + (long)count);
    }

    private static int Pad4(int n) => (n + 3) & ~3;

    // What is left for the rest of the header, for messages.
    private string Room() => _headerLimit < _fileLength
        ? $"{Math.Max(0, _headerLimit - _position)} bytes remain of the {_headerLimit} this reader accepts for a header"
        : $"{Math.Max(0, _fileLength - _position)} bytes remain in the file";

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);

    private NetCdfFormatException Error(string? what, long offset, string message) => new(_location, what, offset, message);

    /// <summary>The header continues past the bytes given; parse again with at least <see cref="Length"/> bytes.</summary>
    internal sealed class MoreBytesNeeded(long length) : Exception($"the header needs at least {length} bytes")
    {
        public long Length { get; } = length;
    }
}

internal sealed record ParsedDimension(string Name, long Length, long Offset);

internal sealed record ParsedVariable(
    string Name, int[] DimensionIds, List<NetCdf3Attribute> Attributes, NetCdf3Type Type, long Vsize, long Begin, long Offset, long BeginOffset);

/// <summary>A parsed header; <see cref="NumRecords"/> is -1 for STREAMING.</summary>
internal sealed record ParsedHeader(
    NetCdf3Version Version, long NumRecords, List<ParsedDimension> Dimensions, List<NetCdf3Attribute> Attributes, List<ParsedVariable> Variables, long Length);
