using System.Text.Json;
using System.Text.Json.Nodes;

namespace Floe.Core;

/// <summary>
/// A Zarr v2 view of Floe's Zarr v3 metadata, in the form zarr-python 2 with numcodecs 0.11 reads: the
/// <c>.zgroup</c>, <c>.zarray</c> and <c>.zattrs</c> documents, and chunks in the encoding <c>.zarray</c> advertises.
/// </summary>
public static class ZarrV2
{
    /// <summary>The attribute in which xarray looks for an array's dimension names.</summary>
    public const string DimensionsAttribute = "_ARRAY_DIMENSIONS";

    // Attributes that describe packed values (CF conventions). Chunks of a packed array are served unpacked, so
    // leaving them in would make xarray apply the packing a second time.
    private static readonly string[] PackingAttributes =
        ["scale_factor", "add_offset", "_FillValue", "missing_value", "valid_min", "valid_max", "valid_range", "_Unsigned"];

    /// <summary>The <c>.zgroup</c> document.</summary>
    public static JsonObject GroupDocument() => new() { ["zarr_format"] = 2 };

    /// <summary>The Zarr v2 description of an array: its <c>.zarray</c> and how its chunks are served.</summary>
    public static ZarrV2Array Describe(ArrayMetadata metadata) => new(metadata);

    /// <summary>A group's <c>.zattrs</c>: its attributes as they are.</summary>
    public static JsonObject GroupAttributes(GroupMetadata group)
    {
        ArgumentNullException.ThrowIfNull(group);
        return group.Attributes.DeepClone().AsObject();
    }

    /// <summary>
    /// An array's <c>.zattrs</c>: its attributes plus <see cref="DimensionsAttribute"/>, without the packing
    /// attributes when the array unpacks values itself (a <c>cf_scale_offset</c> codec).
    /// </summary>
    public static JsonObject ArrayAttributes(ArrayMetadata metadata, string arrayName)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var attributes = metadata.Attributes.DeepClone().AsObject();
        if (metadata.Codecs.Any(c => c.Name == ScaleOffsetCodec.CodecName))
        {
            foreach (var name in PackingAttributes)
            {
                attributes.Remove(name);
            }
        }

        attributes[DimensionsAttribute] = new JsonArray([.. DimensionNames(metadata, arrayName).Select(n => (JsonNode)n)]);
        return attributes;
    }

    /// <summary>
    /// The array's dimension names, with <c>{arrayName}_dim_{d}</c> for those it does not name: xarray needs a name
    /// for every dimension, and one made from the array's own name never joins the dimension of another array.
    /// </summary>
    public static string[] DimensionNames(ArrayMetadata metadata, string arrayName)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentException.ThrowIfNullOrEmpty(arrayName);
        return
        [
            .. Enumerable.Range(0, metadata.Rank).Select(d =>
                metadata.DimensionNames?[d] is { Length: > 0 } name ? name : $"{arrayName}_dim_{d}"),
        ];
    }

    /// <summary>The numpy type string of a data type stored in either byte order (<c>&lt;f4</c>, <c>&gt;i2</c>, <c>|u1</c>, <c>|b1</c>).</summary>
    public static string DataTypeString(DataType dataType, bool bigEndian)
    {
        ArgumentNullException.ThrowIfNull(dataType);
        var kind = dataType.IsBool ? 'b' : dataType.IsComplex ? 'c' : dataType.IsFloat ? 'f' : dataType.IsSignedInteger ? 'i' : 'u';
        var order = dataType.Size == 1 ? '|' : bigEndian ? '>' : '<';
        return $"{order}{kind}{dataType.Size}";
    }

    /// <summary>
    /// The fill value as Zarr v2 writes it: numbers, true/false, "NaN"/"Infinity"/"-Infinity", complex values as
    /// [real, imaginary]. NaNs with other payloads become "NaN", the only NaN v2 can say.
    /// </summary>
    public static JsonNode? FillValueJson(FillValue fillValue)
    {
        ArgumentNullException.ThrowIfNull(fillValue);
        var json = fillValue.ToJson();
        if (!fillValue.DataType.IsFloat)
        {
            return json;
        }

        return fillValue.DataType.IsComplex
            ? new JsonArray(FloatJson(json[0]!, fillValue.Bytes.Span[..(fillValue.DataType.Size / 2)]), FloatJson(json[1]!, fillValue.Bytes.Span[(fillValue.DataType.Size / 2)..]))
            : FloatJson(json, fillValue.Bytes.Span);
    }

    /// <summary>A document as compact UTF-8 JSON.</summary>
    public static byte[] ToBytes(JsonNode document)
    {
        ArgumentNullException.ThrowIfNull(document);
        return JsonSerializer.SerializeToUtf8Bytes(document);
    }

    // v3 writes NaNs with unusual payloads as "0x…" bit patterns; v2 only knows "NaN".
    private static JsonNode FloatJson(JsonNode v3, ReadOnlySpan<byte> bytes)
    {
        if (v3.GetValueKind() != JsonValueKind.String)
        {
            return v3.DeepClone();
        }

        var text = v3.GetValue<string>();
        return JsonValue.Create(text is "Infinity" or "-Infinity" ? text : IsNaN(bytes) ? "NaN" : text)!;
    }

    private static bool IsNaN(ReadOnlySpan<byte> bytes) => bytes.Length switch
    {
        2 => Half.IsNaN(System.Buffers.Binary.BinaryPrimitives.ReadHalfLittleEndian(bytes)),
        4 => float.IsNaN(System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes)),
        _ => double.IsNaN(System.Buffers.Binary.BinaryPrimitives.ReadDoubleLittleEndian(bytes)),
    };
}

/// <summary>
/// How one array is served as Zarr v2. When numcodecs can decode the array's own codecs (<c>bytes</c> in either byte
/// order, then <c>shuffle</c>, <c>zlib</c>, <c>gzip</c>, <c>zstd</c> without checksum), <c>.zarray</c> names them
/// and stored chunks are served as they are. Otherwise <c>.zarray</c> advertises the decoded data type compressed
/// with zstd level 1, and every chunk is transcoded: decoded with its own codecs, then compressed so.
/// </summary>
public sealed class ZarrV2Array
{
    private readonly V2Encoding _advertised;
    private readonly CodecPipeline _advertisedPipeline;
    private readonly Lazy<CodecPipeline> _ownPipeline;

    internal ZarrV2Array(ArrayMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        Metadata = metadata;
        _ownPipeline = new Lazy<CodecPipeline>(() => Pipeline(metadata.Codecs));
        if (Express(metadata.Codecs) is { } own)
        {
            Codecs = metadata.Codecs;
            _advertised = own;
            StoredChunksPassThrough = true;
        }
        else
        {
            Codecs = [.. ArrayMetadata.DefaultCodecs(metadata.DataType), new CodecSpec("zstd", new JsonObject { ["level"] = 1 })];
            _advertised = Express(Codecs) ?? throw new InvalidOperationException("the transcoded encoding must be expressible");
        }

        _advertisedPipeline = CodecPipeline.Create(metadata with { Codecs = Codecs });
    }

    /// <summary>The array described.</summary>
    public ArrayMetadata Metadata { get; }

    /// <summary>The advertised encoding as Zarr v3 codecs: chunks stored with these are served as they are.</summary>
    public IReadOnlyList<CodecSpec> Codecs { get; }

    /// <summary>True when chunks stored with the array's own codecs are served byte for byte (no decoding).</summary>
    public bool StoredChunksPassThrough { get; }

    /// <summary>The <c>.zarray</c> document.</summary>
    public JsonObject ToJson() => new()
    {
        ["zarr_format"] = 2,
        ["shape"] = new JsonArray([.. Metadata.Shape.Select(n => (JsonNode)n)]),
        ["chunks"] = new JsonArray([.. Metadata.ChunkShape.Select(n => (JsonNode)n)]),
        ["dtype"] = _advertised.DataType,
        ["compressor"] = _advertised.Compressor?.DeepClone(),
        ["fill_value"] = ZarrV2.FillValueJson(Metadata.FillValue),
        ["order"] = "C",
        ["filters"] = _advertised.Filters.Count == 0 ? null : new JsonArray([.. _advertised.Filters.Select(f => (JsonNode)f.DeepClone())]),
        ["dimension_separator"] = ".",
    };

    /// <summary>
    /// True when a stored chunk can be served as it is: its codecs (<paramref name="chunkCodecs"/>, null for the
    /// array's) come to the advertised encoding, and, for zstd, its frame records its size (numcodecs 0.11 decodes
    /// no other frames).
    /// </summary>
    public bool ServesAsStored(ReadOnlySpan<byte> stored, IReadOnlyList<CodecSpec>? chunkCodecs)
    {
        var advertised = chunkCodecs is null ? StoredChunksPassThrough : Express(chunkCodecs) == _advertised;
        if (!advertised)
        {
            return false;
        }

        if (_advertised.Compressor?["id"]?.GetValue<string>() != "zstd")
        {
            return true;
        }

        try
        {
            return Zstd.FrameContentSize(stored) is not null;
        }
        catch (CodecException)
        {
            // Not a zstd frame at all: transcoding reports that with the reason.
            return false;
        }
    }

    /// <summary>Encodes a decoded chunk (little-endian elements in C order) in the advertised encoding.</summary>
    public byte[] Encode(ReadOnlySpan<byte> decodedChunk) => _advertisedPipeline.Encode(decodedChunk);

    /// <summary>
    /// Decodes a stored chunk with its codecs (<paramref name="chunkCodecs"/>, null for the array's) and encodes it in
    /// the advertised encoding; a chunk that does not decode throws <see cref="CodecException"/> saying why.
    /// </summary>
    public byte[] Transcode(ReadOnlySpan<byte> stored, IReadOnlyList<CodecSpec>? chunkCodecs)
    {
        var decoded = (chunkCodecs is null ? _ownPipeline.Value : Pipeline(chunkCodecs)).Decode(stored);
        return decoded.Length == Metadata.ChunkByteLength
            ? Encode(decoded)
            : throw new CodecException($"the chunk decodes to {decoded.Length} bytes, not {Metadata.ChunkByteLength}");
    }

    private CodecPipeline Pipeline(IReadOnlyList<CodecSpec> codecs)
    {
        try
        {
            return CodecPipeline.Create(Metadata with { Codecs = codecs });
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException)
        {
            throw new CodecException($"codecs {CodecSpec.ListToJson(codecs)}: {e.Message}", e);
        }
    }

    /// <summary>The v2 form of a codec list for this array, or null when numcodecs 0.11 cannot decode it as one.</summary>
    private V2Encoding? Express(IReadOnlyList<CodecSpec> codecs)
    {
        try
        {
            _ = CodecFactory.Build(codecs, Metadata.DataType, Metadata.ChunkShape);
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException or FormatException)
        {
            return null;
        }

        var bigEndian = false;
        var v2 = new List<JsonObject>();
        // The byte length at this point of the chain while it is still fixed (numcodecs' shuffle needs a multiple of its element size).
        int? length = Metadata.ChunkByteLength;
        foreach (var codec in codecs)
        {
            var configuration = codec.Configuration ?? [];
            switch (codec.Name)
            {
                case BytesCodec.CodecName:
                    bigEndian = Metadata.DataType.ComponentSize > 1 && configuration["endian"]?.GetValue<string>() == "big";
                    break;
                case "shuffle" or "numcodecs.shuffle":
                    var elementSize = IntOf(configuration, "elementsize") ?? Metadata.DataType.Size;
                    if (elementSize > 1 && (length is not { } known || known % elementSize != 0))
                    {
                        return null;
                    }

                    v2.Add(new JsonObject { ["id"] = "shuffle", ["elementsize"] = elementSize });
                    break;
                case "zlib" or "numcodecs.zlib" or "gzip":
                    v2.Add(new JsonObject { ["id"] = codec.Name == "gzip" ? "gzip" : "zlib", ["level"] = IntOf(configuration, "level") ?? 6 });
                    length = null;
                    break;
                case "zstd" when configuration["checksum"]?.GetValueKind() is not JsonValueKind.True:
                    v2.Add(new JsonObject { ["id"] = "zstd", ["level"] = IntOf(configuration, "level") ?? 3 });
                    length = null;
                    break;
                default:
                    // transpose, cf_scale_offset, fletcher32, crc32c and zstd with a checksum have no numcodecs 0.11 equivalent.
                    return null;
            }
        }

        // Only the outermost frame can be checked for a recorded size (see ServesAsStored).
        if (v2.FindIndex(c => c["id"]!.GetValue<string>() == "zstd") is var zstd and >= 0 && zstd != v2.Count - 1)
        {
            return null;
        }

        var compressor = v2.Count > 0 && v2[^1]["id"]!.GetValue<string>() != "shuffle" ? v2[^1] : null;
        return new V2Encoding(ZarrV2.DataTypeString(Metadata.DataType, bigEndian), compressor is null ? v2 : v2.GetRange(0, v2.Count - 1), compressor);
    }

    private static int? IntOf(JsonObject configuration, string key) =>
        configuration[key] is JsonValue value && value.TryGetValue<int>(out var n) ? n : null;

    /// <summary>A v2 encoding; equal when its JSON is.</summary>
    private sealed class V2Encoding(string dataType, List<JsonObject> filters, JsonObject? compressor) : IEquatable<V2Encoding>
    {
        private readonly string _key = $"{dataType}|{new JsonArray([.. filters.Select(f => (JsonNode)f.DeepClone())]).ToJsonString()}|{compressor?.ToJsonString()}";

        public string DataType { get; } = dataType;

        public IReadOnlyList<JsonObject> Filters { get; } = filters;

        public JsonObject? Compressor { get; } = compressor;

        public bool Equals(V2Encoding? other) => other is not null && other._key == _key;

        public override bool Equals(object? obj) => Equals(obj as V2Encoding);

        public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(_key);

        public static bool operator ==(V2Encoding? a, V2Encoding? b) => a is null ? b is null : a.Equals(b);

        public static bool operator !=(V2Encoding? a, V2Encoding? b) => !(a == b);
    }
}
