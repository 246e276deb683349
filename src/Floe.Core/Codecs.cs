using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Floe.Core;

/// <summary>An array -> array codec: rearranges or converts a chunk without changing its element count.</summary>
internal interface IArrayToArrayCodec
{
    string Name { get; }

    /// <summary>The element type it encodes to, or null when it keeps the type.</summary>
    DataType? EncodedType => null;

    int[] EncodedShape(int[] decodedShape);

    byte[] Encode(ReadOnlySpan<byte> data, int[] decodedShape, int elementSize);

    byte[] Decode(ReadOnlySpan<byte> data, int[] decodedShape, int elementSize);
}

/// <summary>A bytes -> bytes codec (compressor or checksum).</summary>
internal interface IBytesToBytesCodec
{
    string Name { get; }

    /// <summary>Encoded length for a given decoded length when it is fixed, else null.</summary>
    int? EncodedLength(int? decodedLength);

    byte[] Encode(ReadOnlySpan<byte> data);

    /// <summary>Decodes; when <paramref name="expectedLength"/> is known, never returns more than it.</summary>
    byte[] Decode(ReadOnlySpan<byte> data, int? expectedLength);
}

/// <summary>The array -> bytes codec: little-endian in memory, either endianness stored.</summary>
internal sealed class BytesCodec(bool bigEndian, int componentSize)
{
    public const string CodecName = "bytes";

    public bool BigEndian { get; } = bigEndian;

    public bool IsIdentity => !BigEndian || componentSize == 1;

    /// <summary>Swaps in place; the same operation both ways.</summary>
    public void SwapInPlace(Span<byte> data)
    {
        if (IsIdentity)
        {
            return;
        }

        switch (componentSize)
        {
            case 2:
                var u16 = MemoryMarshal.Cast<byte, ushort>(data);
                BinaryPrimitives.ReverseEndianness(u16, u16);
                break;
            case 4:
                var u32 = MemoryMarshal.Cast<byte, uint>(data);
                BinaryPrimitives.ReverseEndianness(u32, u32);
                break;
            case 8:
                var u64 = MemoryMarshal.Cast<byte, ulong>(data);
                BinaryPrimitives.ReverseEndianness(u64, u64);
                break;
            default:
                throw new InvalidOperationException($"No byte swap for {componentSize}-byte components.");
        }
    }
}

/// <summary>Zarr v3 transpose: encoded dimension i is decoded dimension Order[i].</summary>
internal sealed class TransposeCodec(int[] order) : IArrayToArrayCodec
{
    public string Name => "transpose";

    public int[] EncodedShape(int[] decodedShape) => [.. order.Select(d => decodedShape[d])];

    public byte[] Encode(ReadOnlySpan<byte> data, int[] decodedShape, int elementSize) =>
        Permute(data, decodedShape, order, elementSize);

    public byte[] Decode(ReadOnlySpan<byte> data, int[] decodedShape, int elementSize)
    {
        var inverse = new int[order.Length];
        for (var i = 0; i < order.Length; i++)
        {
            inverse[order[i]] = i;
        }

        return Permute(data, EncodedShape(decodedShape), inverse, elementSize);
    }

    /// <summary>Returns the array of <paramref name="shape"/> with its axes reordered so output axis i is input axis perm[i].</summary>
    internal static byte[] Permute(ReadOnlySpan<byte> source, int[] shape, int[] perm, int elementSize)
    {
        var output = new byte[source.Length];
        switch (elementSize)
        {
            case 1:
                Permute(source, output.AsSpan(), shape, perm);
                break;
            case 2:
                Permute(MemoryMarshal.Cast<byte, ushort>(source), MemoryMarshal.Cast<byte, ushort>(output.AsSpan()), shape, perm);
                break;
            case 4:
                Permute(MemoryMarshal.Cast<byte, uint>(source), MemoryMarshal.Cast<byte, uint>(output.AsSpan()), shape, perm);
                break;
            case 8:
                Permute(MemoryMarshal.Cast<byte, ulong>(source), MemoryMarshal.Cast<byte, ulong>(output.AsSpan()), shape, perm);
                break;
            case 16:
                Permute(MemoryMarshal.Cast<byte, Int128>(source), MemoryMarshal.Cast<byte, Int128>(output.AsSpan()), shape, perm);
                break;
            default:
                throw new InvalidOperationException($"No transpose for {elementSize}-byte elements.");
        }

        return output;
    }

    private static void Permute<T>(ReadOnlySpan<T> source, Span<T> destination, int[] shape, int[] perm)
        where T : unmanaged
    {
        var rank = shape.Length;
        if (rank == 0 || source.IsEmpty)
        {
            source.CopyTo(destination);
            return;
        }

        // Stride in the source for a step along each output axis.
        var sourceStrides = new long[rank];
        long stride = 1;
        for (var d = rank - 1; d >= 0; d--)
        {
            sourceStrides[d] = stride;
            stride *= shape[d];
        }

        var outShape = new int[rank];
        var step = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            outShape[i] = shape[perm[i]];
            step[i] = sourceStrides[perm[i]];
        }

        var inner = outShape[rank - 1];
        var innerStep = step[rank - 1];
        var index = new int[rank];
        long sourceOffset = 0;
        for (var o = 0; o < destination.Length; o += inner)
        {
            var s = sourceOffset;
            var row = destination.Slice(o, inner);
            for (var k = 0; k < row.Length; k++, s += innerStep)
            {
                row[k] = source[(int)s];
            }

            for (var d = rank - 2; d >= 0; d--)
            {
                sourceOffset += step[d];
                if (++index[d] < outShape[d])
                {
                    break;
                }

                sourceOffset -= step[d] * outShape[d];
                index[d] = 0;
            }
        }
    }
}

/// <summary>gzip (RFC 1952) or zlib (RFC 1950, HDF5's "deflate") compression.</summary>
internal sealed class DeflateCodec(string name, bool gzip, int level) : IBytesToBytesCodec
{
    public string Name => name;

    public int? EncodedLength(int? decodedLength) => null;

    public byte[] Encode(ReadOnlySpan<byte> data)
    {
        using var output = new MemoryStream();
        var options = new ZLibCompressionOptions { CompressionLevel = level };
        using (Stream compressor = gzip ? new GZipStream(output, options, leaveOpen: true) : new ZLibStream(output, options, leaveOpen: true))
        {
            compressor.Write(data);
        }

        return output.ToArray();
    }

    public unsafe byte[] Decode(ReadOnlySpan<byte> data, int? expectedLength)
    {
        try
        {
            fixed (byte* pointer = data)
            {
                using var input = new UnmanagedMemoryStream(pointer, data.Length);
                using Stream decompressor = gzip ? new GZipStream(input, CompressionMode.Decompress) : new ZLibStream(input, CompressionMode.Decompress);
                byte[] output;
                if (expectedLength is not { } expected)
                {
                    using var all = new MemoryStream();
                    decompressor.CopyTo(all);
                    output = all.ToArray();
                }
                else
                {
                    output = new byte[expected];
                    var read = decompressor.ReadAtLeast(output, expected, throwOnEndOfStream: false);
                    if (read == expected && decompressor.ReadByte() >= 0)
                    {
                        throw new CodecException($"{name}: decoded chunk is longer than the expected {expected} bytes.");
                    }

                    output = read == expected ? output : output[..read];
                }

                var intact = gzip ? DeflateChecksums.GzipTrailerMatches(data, output) : DeflateChecksums.ZlibTrailerMatches(data, output);
                if (!intact)
                {
                    throw new CodecException($"{name}: stream is truncated or its trailer checksum does not match the {output.Length} decoded bytes.");
                }

                return output;
            }
        }
        catch (InvalidDataException ex)
        {
            throw new CodecException($"{name}: corrupt compressed data ({ex.Message})", ex);
        }
    }
}

internal sealed class ZstdCodec(int level, bool checksum) : IBytesToBytesCodec
{
    public string Name => "zstd";

    public int? EncodedLength(int? decodedLength) => null;

    public byte[] Encode(ReadOnlySpan<byte> data) => Zstd.Compress(data, level, checksum);

    public byte[] Decode(ReadOnlySpan<byte> data, int? expectedLength)
    {
        if (expectedLength is not { } expected)
        {
            return Zstd.Decompress(data);
        }

        // Knowing the size bounds the allocation, so a forged frame header cannot make us allocate gigabytes.
        if (Zstd.FrameContentSize(data) is { } declared && declared > expected)
        {
            throw new CodecException($"zstd: frame declares {declared} bytes but the chunk should decode to {expected}.");
        }

        var buffer = new byte[expected];
        var written = Zstd.Decompress(data, buffer);
        return written == expected ? buffer : buffer[..written];
    }
}

/// <summary>HDF5/numcodecs byte shuffle.</summary>
internal sealed class ShuffleCodec(int elementSize) : IBytesToBytesCodec
{
    public string Name => "shuffle";

    public int? EncodedLength(int? decodedLength) => decodedLength;

    public byte[] Encode(ReadOnlySpan<byte> data)
    {
        var output = new byte[data.Length];
        ByteShuffle.Shuffle(data, output, elementSize);
        return output;
    }

    public byte[] Decode(ReadOnlySpan<byte> data, int? expectedLength)
    {
        var output = new byte[data.Length];
        ByteShuffle.Unshuffle(data, output, elementSize);
        return output;
    }
}

/// <summary>A 4-byte little-endian checksum appended to the data (fletcher32 or crc32c).</summary>
internal sealed class ChecksumCodec(string name, Func<ReadOnlySpan<byte>, uint> compute, Func<uint, uint>? alternative = null)
    : IBytesToBytesCodec
{
    public string Name => name;

    public int? EncodedLength(int? decodedLength) => decodedLength + 4;

    public byte[] Encode(ReadOnlySpan<byte> data)
    {
        var output = new byte[data.Length + 4];
        data.CopyTo(output);
        BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(data.Length), compute(data));
        return output;
    }

    public byte[] Decode(ReadOnlySpan<byte> data, int? expectedLength)
    {
        if (data.Length < 4)
        {
            throw new CodecException($"{name}: chunk of {data.Length} bytes is too short to hold a 4-byte checksum.");
        }

        var payload = data[..^4];
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]);
        var computed = compute(payload);
        if (stored != computed && (alternative is null || stored != alternative(computed)))
        {
            throw new CodecException($"{name} checksum mismatch: stored 0x{stored:x8}, computed 0x{computed:x8}.");
        }

        return payload.ToArray();
    }
}

/// <summary>The codecs of a pipeline, checked and split by kind.</summary>
internal sealed record CodecChain(
    IReadOnlyList<IArrayToArrayCodec> ArrayToArray,
    IReadOnlyList<int[]> ArrayShapes,
    IReadOnlyList<DataType> ArrayTypes,
    BytesCodec Bytes,
    IReadOnlyList<IBytesToBytesCodec> BytesToBytes);

/// <summary>Builds codecs from their specs; unknown names -> NotSupportedException, bad configuration -> ArgumentException.</summary>
internal static class CodecFactory
{
    private const string Param = "Codecs";

    public static CodecChain Build(IReadOnlyList<CodecSpec> specs, DataType dataType, int[] chunkShape)
    {
        var arrayToArray = new List<IArrayToArrayCodec>();
        var shapes = new List<int[]> { chunkShape };
        var types = new List<DataType> { dataType };
        BytesCodec? bytes = null;
        var bytesToBytes = new List<IBytesToBytesCodec>();

        foreach (var spec in specs)
        {
            var name = spec.Name;
            var config = new Config(spec);
            switch (name)
            {
                case "transpose":
                    if (bytes is not null)
                    {
                        throw Bad(name, "is an array -> array codec and must come before the bytes codec");
                    }

                    var transpose = new TransposeCodec(config.Order(shapes[^1].Length));
                    arrayToArray.Add(transpose);
                    shapes.Add(transpose.EncodedShape(shapes[^1]));
                    types.Add(types[^1]);
                    break;
                case ScaleOffsetCodec.CodecName:
                    if (bytes is not null)
                    {
                        throw Bad(name, "is an array -> array codec and must come before the bytes codec");
                    }

                    var packing = new ScaleOffsetCodec(
                        config.Type("packed_type"), types[^1], config.Number("scale_factor"), config.Number("add_offset"),
                        config.Numbers("mask"), config.Number("valid_min"), config.Number("valid_max"));
                    arrayToArray.Add(packing);
                    shapes.Add(shapes[^1]);
                    types.Add(packing.EncodedType);
                    break;
                case BytesCodec.CodecName:
                    if (bytes is not null)
                    {
                        throw Bad(name, "appears twice; a pipeline has exactly one array -> bytes codec");
                    }

                    bytes = new BytesCodec(config.Endian(types[^1]), types[^1].ComponentSize);
                    break;
                case "gzip":
                case "zlib" or "numcodecs.zlib":
                    var gzip = name == "gzip";
                    bytesToBytes.Add(new DeflateCodec(gzip ? "gzip" : "zlib", gzip, config.Int("level", 6, 0, 9)));
                    break;
                case "zstd":
                    bytesToBytes.Add(new ZstdCodec(config.Int("level", 3, Zstd.MinLevel, Zstd.MaxLevel), config.Bool("checksum", false)));
                    break;
                case "shuffle" or "numcodecs.shuffle":
                    // Like zarr-python's numcodecs.shuffle, an absent element size means the data type's size.
                    bytesToBytes.Add(new ShuffleCodec(config.Int("elementsize", types[^1].Size, 1, int.MaxValue)));
                    break;
                case "fletcher32" or "numcodecs.fletcher32":
                    bytesToBytes.Add(new ChecksumCodec("fletcher32", Fletcher32.Compute, Fletcher32.Reversed));
                    break;
                case "crc32c":
                    bytesToBytes.Add(new ChecksumCodec("crc32c", Crc32C.Compute));
                    break;
                default:
                    throw new NotSupportedException($"Codec \"{name}\" is not supported.");
            }

            if (bytes is null && bytesToBytes.Count > 0)
            {
                throw Bad(name, "is a bytes -> bytes codec and must come after the bytes codec");
            }

            config.CheckAllRead();
        }

        if (bytes is null)
        {
            throw new ArgumentException("codecs must contain exactly one array -> bytes codec (\"bytes\").", Param);
        }

        return new CodecChain(arrayToArray, shapes, types, bytes, bytesToBytes);
    }

    private static ArgumentException Bad(string codec, string why) => new($"codec {codec} {why}.", Param);

    /// <summary>Reads a codec's configuration and notices keys nobody asked for.</summary>
    private sealed class Config(CodecSpec spec)
    {
        private readonly JsonElement _root = ZarrJson.ToElement(spec.Configuration);
        private readonly HashSet<string> _read = [];

        public int Int(string key, int fallback, int min, int max)
        {
            if (!TryGet(key, out var value))
            {
                return fallback;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var n) || n < min || n > max)
            {
                throw Bad(spec.Name, $"configuration \"{key}\" must be an integer in [{min}, {max}], got {ZarrJson.Describe(value)}");
            }

            return n;
        }

        public double? Number(string key)
        {
            if (!TryGet(key, out var value))
            {
                return null;
            }

            return value.ValueKind == JsonValueKind.Number
                ? value.GetDouble()
                : throw Bad(spec.Name, $"configuration \"{key}\" must be a number, got {ZarrJson.Describe(value)}");
        }

        public double[] Numbers(string key)
        {
            if (!TryGet(key, out var value))
            {
                return [];
            }

            if (value.ValueKind == JsonValueKind.Number)
            {
                return [value.GetDouble()];
            }

            return value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number)
                ? [.. value.EnumerateArray().Select(e => e.GetDouble())]
                : throw Bad(spec.Name, $"configuration \"{key}\" must be a number or an array of numbers, got {ZarrJson.Describe(value)}");
        }

        public DataType Type(string key)
        {
            if (!TryGet(key, out var value))
            {
                throw Bad(spec.Name, $"configuration \"{key}\" is required");
            }

            return value.ValueKind == JsonValueKind.String && DataType.TryParse(value.GetString(), out var type)
                ? type!
                : throw Bad(spec.Name, $"configuration \"{key}\" must be a data type name, got {ZarrJson.Describe(value)}");
        }

        public bool Bool(string key, bool fallback)
        {
            if (!TryGet(key, out var value))
            {
                return fallback;
            }

            return value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Bad(spec.Name, $"configuration \"{key}\" must be true or false, got {ZarrJson.Describe(value)}"),
            };
        }

        public bool Endian(DataType dataType)
        {
            if (!TryGet("endian", out var value))
            {
                return dataType.ComponentSize == 1
                    ? false
                    : throw Bad(spec.Name, $"configuration \"endian\" is required for multi-byte type {dataType}");
            }

            return value.ValueKind == JsonValueKind.String ? value.GetString() switch
            {
                "little" => false,
                "big" => true,
                _ => throw Bad(spec.Name, $"configuration \"endian\" must be \"little\" or \"big\", got {ZarrJson.Describe(value)}"),
            }
            : throw Bad(spec.Name, $"configuration \"endian\" must be \"little\" or \"big\", got {ZarrJson.Describe(value)}");
        }

        public int[] Order(int rank)
        {
            if (!TryGet("order", out var value))
            {
                throw Bad(spec.Name, "configuration \"order\" is required");
            }

            // Early v3 drafts allowed "C" and "F" as shorthands.
            if (value.ValueKind == JsonValueKind.String && value.GetString() is "C" or "F")
            {
                var order = Enumerable.Range(0, rank).ToArray();
                return value.GetString() == "F" ? [.. order.Reverse()] : order;
            }

            var permutation = value.ValueKind == JsonValueKind.Array
                ? value.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var d) ? d : -1).ToArray()
                : [];
            var sorted = permutation.Order();
            if (permutation.Length != rank || !sorted.SequenceEqual(Enumerable.Range(0, rank)))
            {
                throw Bad(spec.Name, $"configuration \"order\" must be a permutation of 0..{rank - 1}, got {ZarrJson.Describe(value)}");
            }

            return permutation;
        }

        public void CheckAllRead()
        {
            if (_root.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            foreach (var property in _root.EnumerateObject())
            {
                if (!_read.Contains(property.Name))
                {
                    throw Bad(spec.Name, $"has unknown configuration \"{property.Name}\"");
                }
            }
        }

        private bool TryGet(string key, out JsonElement value)
        {
            _read.Add(key);
            return _root.TryGetProperty(key, out value);
        }
    }
}
