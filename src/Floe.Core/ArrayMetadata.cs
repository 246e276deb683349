using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Floe.Core;

/// <summary>
/// Zarr v3 array metadata (zarr.json with node_type "array"): a regular chunk grid, the default
/// chunk key encoding with "/" separators, a fill value, a codec pipeline and attributes.
/// </summary>
public sealed record ArrayMetadata(
    long[] Shape,
    DataType DataType,
    int[] ChunkShape,
    FillValue FillValue,
    IReadOnlyList<CodecSpec> Codecs,
    string?[]? DimensionNames,
    JsonObject Attributes)
{
    private static readonly HashSet<string> KnownFields =
    [
        "zarr_format", "node_type", "shape", "data_type", "chunk_grid", "chunk_key_encoding",
        "fill_value", "codecs", "dimension_names", "attributes", "storage_transformers",
    ];

    public int Rank => Shape.Length;

    /// <summary>Chunks per dimension: ceil(Shape[i] / ChunkShape[i]), 0 for empty dimensions.</summary>
    public long[] GridShape
    {
        get
        {
            var grid = new long[Shape.Length];
            for (var i = 0; i < grid.Length; i++)
            {
                grid[i] = Shape[i] == 0 ? 0 : ((Shape[i] - 1) / ChunkShape[i]) + 1;
            }

            return grid;
        }
    }

    /// <summary>Elements in one (full) chunk: the product of <see cref="ChunkShape"/>.</summary>
    public long ChunkElementCount
    {
        get
        {
            long count = 1;
            foreach (var n in ChunkShape)
            {
                count = checked(count * n);
            }

            return count;
        }
    }

    /// <summary>Bytes in one decoded chunk: <see cref="ChunkElementCount"/> × element size.</summary>
    public int ChunkByteLength => checked((int)(ChunkElementCount * DataType.Size));

    /// <summary>Total chunks in the grid.</summary>
    public long ChunkCount => GridShape.Aggregate(1L, (a, b) => checked(a * b));

    /// <summary>Metadata with a zero fill value, little-endian bytes and no compression.</summary>
    public static ArrayMetadata Create(long[] shape, DataType dataType, int[] chunkShape, IReadOnlyList<CodecSpec>? codecs = null) =>
        new(shape, dataType, chunkShape, FillValue.Zero(dataType), codecs ?? DefaultCodecs(dataType), null, new JsonObject());

    /// <summary>The minimal pipeline: a single little-endian bytes codec.</summary>
    public static IReadOnlyList<CodecSpec> DefaultCodecs(DataType dataType) =>
        [dataType.Size == 1 ? new CodecSpec("bytes") : new CodecSpec("bytes", new JsonObject { ["endian"] = "little" })];

    public ArrayMetadata WithShape(long[] shape) => this with { Shape = shape };

    /// <summary>The zarr.json document, UTF-8, indented.</summary>
    public byte[] ToJsonBytes() => ZarrJson.Write(ToJson());

    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["zarr_format"] = 3,
            ["node_type"] = "array",
            ["shape"] = new JsonArray([.. Shape.Select(n => (JsonNode)n)]),
            ["data_type"] = DataType.Name,
            ["chunk_grid"] = new JsonObject
            {
                ["name"] = "regular",
                ["configuration"] = new JsonObject { ["chunk_shape"] = new JsonArray([.. ChunkShape.Select(n => (JsonNode)n)]) },
            },
            ["chunk_key_encoding"] = new JsonObject
            {
                ["name"] = "default",
                ["configuration"] = new JsonObject { ["separator"] = "/" },
            },
            ["fill_value"] = FillValue.ToJson(),
            ["codecs"] = new JsonArray([.. Codecs.Select(c => (JsonNode)c.ToJson())]),
            ["attributes"] = Attributes.DeepClone(),
        };
        if (DimensionNames is not null)
        {
            json["dimension_names"] = new JsonArray([.. DimensionNames.Select(n => (JsonNode?)n)]);
        }

        return json;
    }

    /// <summary>Reads a zarr.json; malformed or inconsistent documents throw <see cref="FormatException"/> naming the field.</summary>
    public static ArrayMetadata Parse(ReadOnlySpan<byte> zarrJson)
    {
        using var document = ZarrJson.ParseDocument(zarrJson);
        var root = ZarrJson.RootObject(document);
        ZarrJson.CheckFormatAndNodeType(root, "array");
        ZarrJson.CheckUnknownFields(root, KnownFields);

        var shapeJson = ZarrJson.Required(root, "shape");
        var shape = ReadIntegers(shapeJson, "shape", min: 0, max: long.MaxValue);

        var typeJson = ZarrJson.Required(root, "data_type");
        if (typeJson.ValueKind != JsonValueKind.String)
        {
            throw new FormatException($"zarr.json: data_type must be a string, got {ZarrJson.Describe(typeJson)}.");
        }

        DataType dataType;
        try
        {
            dataType = DataType.Parse(typeJson.GetString()!);
        }
        catch (FormatException ex)
        {
            throw new FormatException($"zarr.json: data_type: {ex.Message}", ex);
        }

        var chunkShape = ReadChunkGrid(ZarrJson.Required(root, "chunk_grid"));
        CheckChunkKeyEncoding(root);
        var fillValue = FillValue.FromJson(dataType, ZarrJson.Required(root, "fill_value"));
        var codecs = ReadCodecs(ZarrJson.Required(root, "codecs"));
        var dimensionNames = ReadDimensionNames(root);
        CheckStorageTransformers(root);

        var metadata = new ArrayMetadata(shape, dataType, chunkShape, fillValue, codecs, dimensionNames, ZarrJson.ReadAttributes(root));
        try
        {
            metadata.ValidateStructure();
        }
        catch (ArgumentException ex)
        {
            throw new FormatException($"zarr.json: {ex.Message}", ex);
        }

        return metadata;
    }

    /// <summary>
    /// Checks that ranks agree, chunk dimensions are ≥ 1, shape is ≥ 0, the fill value has the array's
    /// data type and the codecs form a supported pipeline; throws <see cref="ArgumentException"/> naming the field.
    /// </summary>
    public void Validate()
    {
        ValidateStructure();
        try
        {
            _ = CodecFactory.Build(Codecs, DataType, ChunkShape);
        }
        catch (NotSupportedException ex)
        {
            throw new ArgumentException(ex.Message, nameof(Codecs), ex);
        }
    }

    internal void ValidateStructure()
    {
        if (Shape is null)
        {
            throw new ArgumentException("shape is required.", nameof(Shape));
        }

        if (ChunkShape is null)
        {
            throw new ArgumentException("chunk_shape is required.", nameof(ChunkShape));
        }

        if (DataType is null)
        {
            throw new ArgumentException("data_type is required.", nameof(DataType));
        }

        if (FillValue is null)
        {
            throw new ArgumentException("fill_value is required.", nameof(FillValue));
        }

        if (Codecs is null)
        {
            throw new ArgumentException("codecs is required.", nameof(Codecs));
        }

        if (Attributes is null)
        {
            throw new ArgumentException("attributes must be an object (possibly empty).", nameof(Attributes));
        }

        for (var i = 0; i < Shape.Length; i++)
        {
            if (Shape[i] < 0)
            {
                throw new ArgumentException($"shape[{i}] is {Shape[i]}; dimensions must be >= 0.", nameof(Shape));
            }
        }

        if (ChunkShape.Length != Shape.Length)
        {
            throw new ArgumentException($"chunk_shape has rank {ChunkShape.Length} but shape has rank {Shape.Length}.", nameof(ChunkShape));
        }

        for (var i = 0; i < ChunkShape.Length; i++)
        {
            if (ChunkShape[i] < 1)
            {
                throw new ArgumentException($"chunk_shape[{i}] is {ChunkShape[i]}; chunk dimensions must be >= 1.", nameof(ChunkShape));
            }
        }

        try
        {
            _ = ChunkByteLength;
        }
        catch (OverflowException)
        {
            throw new ArgumentException($"chunk_shape [{string.Join(", ", ChunkShape)}] of {DataType} exceeds {int.MaxValue} bytes per chunk.", nameof(ChunkShape));
        }

        if (FillValue.DataType != DataType)
        {
            throw new ArgumentException($"fill_value has data type {FillValue.DataType} but the array is {DataType}.", nameof(FillValue));
        }

        if (DimensionNames is not null && DimensionNames.Length != Shape.Length)
        {
            throw new ArgumentException($"dimension_names has {DimensionNames.Length} entries but shape has rank {Shape.Length}.", nameof(DimensionNames));
        }

        if (Codecs.Count == 0)
        {
            throw new ArgumentException("codecs must not be empty; it needs a bytes codec.", nameof(Codecs));
        }

        foreach (var codec in Codecs)
        {
            if (codec is null || string.IsNullOrEmpty(codec.Name))
            {
                throw new ArgumentException("codecs entries need a name.", nameof(Codecs));
            }
        }
    }

    // Records compare arrays and JSON nodes by reference; metadata is equal when its content is.
    public bool Equals(ArrayMetadata? other) =>
        other is not null
        && Shape.AsSpan().SequenceEqual(other.Shape)
        && DataType == other.DataType
        && ChunkShape.AsSpan().SequenceEqual(other.ChunkShape)
        && FillValue.Equals(other.FillValue)
        && Codecs.SequenceEqual(other.Codecs)
        && (DimensionNames is null ? other.DimensionNames is null
            : other.DimensionNames is not null && DimensionNames.AsSpan().SequenceEqual(other.DimensionNames))
        && JsonNode.DeepEquals(Attributes, other.Attributes);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var n in Shape)
        {
            hash.Add(n);
        }

        foreach (var n in ChunkShape)
        {
            hash.Add(n);
        }

        hash.Add(DataType);
        hash.Add(FillValue);
        hash.Add(Codecs.Count);
        hash.Add(Attributes.Count);
        return hash.ToHashCode();
    }

    public override string ToString() => Encoding.UTF8.GetString(ToJsonBytes());

    private static long[] ReadIntegers(JsonElement json, string field, long min, long max)
    {
        if (json.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"zarr.json: {field} must be an array of integers, got {ZarrJson.Describe(json)}.");
        }

        var values = new long[json.GetArrayLength()];
        var i = 0;
        foreach (var item in json.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var value) || value < min || value > max)
            {
                throw new FormatException($"zarr.json: {field}[{i}] must be an integer in [{min}, {max}], got {ZarrJson.Describe(item)}.");
            }

            values[i++] = value;
        }

        return values;
    }

    private static int[] ReadChunkGrid(JsonElement grid)
    {
        if (grid.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"zarr.json: chunk_grid must be an object, got {ZarrJson.Describe(grid)}.");
        }

        if (!grid.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString() != "regular")
        {
            throw new FormatException("zarr.json: chunk_grid name must be \"regular\" (the only supported grid).");
        }

        if (!grid.TryGetProperty("configuration", out var configuration) || configuration.ValueKind != JsonValueKind.Object
            || !configuration.TryGetProperty("chunk_shape", out var chunkShape))
        {
            throw new FormatException("zarr.json: chunk_grid is missing configuration.chunk_shape.");
        }

        return [.. ReadIntegers(chunkShape, "chunk_shape", min: 1, max: int.MaxValue).Select(n => (int)n)];
    }

    private static void CheckChunkKeyEncoding(JsonElement root)
    {
        // Absent means the default encoding; be lenient since it is the only one we write.
        if (!root.TryGetProperty("chunk_key_encoding", out var encoding))
        {
            return;
        }

        if (encoding.ValueKind != JsonValueKind.Object || !encoding.TryGetProperty("name", out var name)
            || name.ValueKind != JsonValueKind.String || name.GetString() != "default")
        {
            throw new FormatException($"zarr.json: chunk_key_encoding must be the \"default\" encoding, got {ZarrJson.Describe(encoding)}.");
        }

        if (encoding.TryGetProperty("configuration", out var configuration)
            && configuration.ValueKind == JsonValueKind.Object
            && configuration.TryGetProperty("separator", out var separator)
            && (separator.ValueKind != JsonValueKind.String || separator.GetString() != "/"))
        {
            throw new FormatException($"zarr.json: chunk_key_encoding separator must be \"/\", got {ZarrJson.Describe(separator)}.");
        }
    }

    internal static List<CodecSpec> ReadCodecs(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"zarr.json: codecs must be an array, got {ZarrJson.Describe(json)}.");
        }

        var codecs = new List<CodecSpec>();
        foreach (var item in json.EnumerateArray())
        {
            switch (item.ValueKind)
            {
                // The spec lets a bare name stand for a codec without configuration.
                case JsonValueKind.String:
                    codecs.Add(new CodecSpec(item.GetString()!));
                    break;
                case JsonValueKind.Object when item.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String:
                    JsonObject? configuration = null;
                    if (item.TryGetProperty("configuration", out var config))
                    {
                        if (config.ValueKind != JsonValueKind.Object)
                        {
                            throw new FormatException($"zarr.json: codecs entry \"{name.GetString()}\" configuration must be an object.");
                        }

                        configuration = ZarrJson.ToObject(config);
                    }

                    codecs.Add(new CodecSpec(name.GetString()!, configuration));
                    break;
                default:
                    throw new FormatException($"zarr.json: codecs entries must be objects with a \"name\", got {ZarrJson.Describe(item)}.");
            }
        }

        return codecs;
    }

    private static string?[]? ReadDimensionNames(JsonElement root)
    {
        if (!root.TryGetProperty("dimension_names", out var json) || json.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (json.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"zarr.json: dimension_names must be an array, got {ZarrJson.Describe(json)}.");
        }

        return
        [
            .. json.EnumerateArray().Select(item => item.ValueKind switch
            {
                JsonValueKind.String => item.GetString(),
                JsonValueKind.Null => null,
                _ => throw new FormatException($"zarr.json: dimension_names entries must be strings or null, got {ZarrJson.Describe(item)}."),
            }),
        ];
    }

    private static void CheckStorageTransformers(JsonElement root)
    {
        if (root.TryGetProperty("storage_transformers", out var transformers)
            && !(transformers.ValueKind == JsonValueKind.Array && transformers.GetArrayLength() == 0))
        {
            throw new FormatException("zarr.json: storage_transformers are not supported.");
        }
    }
}
