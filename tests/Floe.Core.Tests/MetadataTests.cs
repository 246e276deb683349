using System.Text;
using System.Text.Json.Nodes;

namespace Floe.Core.Tests;

public sealed class MetadataTests
{
    private static ArrayMetadata Sample() => new(
        Shape: [1000, 0, 7],
        DataType: DataType.Float32,
        ChunkShape: [100, 10, 3],
        FillValue: FillValue.FromDouble(DataType.Float32, double.NaN),
        Codecs:
        [
            new CodecSpec("transpose", new JsonObject { ["order"] = new JsonArray(2, 0, 1) }),
            new CodecSpec("bytes", new JsonObject { ["endian"] = "big" }),
            new CodecSpec("shuffle", new JsonObject { ["elementsize"] = 4 }),
            new CodecSpec("zstd", new JsonObject { ["level"] = 5, ["checksum"] = true }),
            new CodecSpec("crc32c"),
        ],
        DimensionNames: ["time", null, "band"],
        Attributes: new JsonObject { ["units"] = "K", ["scale"] = new JsonArray(1.5, 2) });

    private static string Json(ArrayMetadata metadata) => Encoding.UTF8.GetString(metadata.ToJsonBytes());

    private static FormatException ParseError(string json) =>
        Assert.Throws<FormatException>(() => ArrayMetadata.Parse(Encoding.UTF8.GetBytes(json)));

    private const string Minimal = """
        {"zarr_format": 3, "node_type": "array", "shape": [10, 20], "data_type": "int16",
         "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5, 20]}},
         "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
         "fill_value": -1, "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}]}
        """;

    [Fact]
    public void Zarr_json_round_trips_to_an_equal_record()
    {
        var metadata = Sample();

        var parsed = ArrayMetadata.Parse(metadata.ToJsonBytes());

        Assert.Equal(metadata, parsed);
        Assert.Equal(metadata.GetHashCode(), parsed.GetHashCode());
        Assert.Equal(Json(metadata), Json(parsed));
        Assert.Null(parsed.DimensionNames![1]);
        Assert.Equal("K", parsed.Attributes["units"]!.GetValue<string>());
    }

    [Fact]
    public void Written_zarr_json_has_the_spec_fields()
    {
        var root = JsonNode.Parse(Sample().ToJsonBytes())!.AsObject();

        Assert.Equal(3, root["zarr_format"]!.GetValue<int>());
        Assert.Equal("array", root["node_type"]!.GetValue<string>());
        Assert.Equal("[1000,0,7]", root["shape"]!.ToJsonString());
        Assert.Equal("float32", root["data_type"]!.GetValue<string>());
        Assert.Equal("""{"name":"regular","configuration":{"chunk_shape":[100,10,3]}}""", root["chunk_grid"]!.ToJsonString());
        Assert.Equal("""{"name":"default","configuration":{"separator":"/"}}""", root["chunk_key_encoding"]!.ToJsonString());
        Assert.Equal("NaN", root["fill_value"]!.GetValue<string>());
        Assert.Equal("""{"name":"zstd","configuration":{"level":5,"checksum":true}}""", root["codecs"]![3]!.ToJsonString());
        Assert.Equal("""{"name":"crc32c"}""", root["codecs"]![4]!.ToJsonString());
        Assert.Equal("""["time",null,"band"]""", root["dimension_names"]!.ToJsonString());
    }

    [Fact]
    public void Derived_sizes_follow_shape_and_chunks()
    {
        var metadata = Sample();

        Assert.Equal(3, metadata.Rank);
        Assert.Equal([10L, 0L, 3L], metadata.GridShape);
        Assert.Equal(3000, metadata.ChunkElementCount);
        Assert.Equal(12000, metadata.ChunkByteLength);
        Assert.Equal(0, metadata.ChunkCount);
        Assert.Equal([11L, 1L, 1L], metadata.WithShape([1001, 10, 1]).GridShape);
    }

    [Fact]
    public void Records_differ_when_any_content_differs()
    {
        var metadata = Sample();

        Assert.NotEqual(metadata, metadata.WithShape([1000, 0, 8]));
        Assert.NotEqual(metadata, metadata with { ChunkShape = [100, 10, 1] });
        Assert.NotEqual(metadata, metadata with { Attributes = new JsonObject { ["units"] = "C" } });
        Assert.NotEqual(metadata, metadata with { DimensionNames = null });
        Assert.NotEqual(metadata, metadata with { Codecs = [.. metadata.Codecs.Take(4)] });
        Assert.Equal(metadata, metadata with { Shape = [1000, 0, 7] });
    }

    [Fact]
    public void Minimal_documents_parse_with_defaults()
    {
        var metadata = ArrayMetadata.Parse(Encoding.UTF8.GetBytes(Minimal));

        Assert.Equal([10L, 20L], metadata.Shape);
        Assert.Equal(DataType.Int16, metadata.DataType);
        Assert.Equal([5, 20], metadata.ChunkShape);
        Assert.Equal(-1.0, metadata.FillValue.ToDouble());
        Assert.Null(metadata.DimensionNames);
        Assert.Empty(metadata.Attributes);
        Assert.Equal([2L, 1L], metadata.GridShape);
    }

    [Theory]
    [InlineData("\"shape\": [10, 20], ", "", "shape")]
    [InlineData("\"zarr_format\": 3", "\"zarr_format\": 2", "zarr_format")]
    [InlineData("\"node_type\": \"array\"", "\"node_type\": \"group\"", "node_type")]
    [InlineData("\"data_type\": \"int16\"", "\"data_type\": \"int17\"", "data_type")]
    [InlineData("\"data_type\": \"int16\"", "\"data_type\": 16", "data_type")]
    [InlineData("[10, 20]", "[10, -20]", "shape")]
    [InlineData("[10, 20]", "[10, 2.5]", "shape")]
    [InlineData("[5, 20]", "[5, 0]", "chunk_shape")]
    [InlineData("[5, 20]", "[5]", "chunk_shape")]
    [InlineData("\"regular\"", "\"rectilinear\"", "chunk_grid")]
    [InlineData("\"separator\": \"/\"", "\"separator\": \".\"", "chunk_key_encoding")]
    [InlineData("\"fill_value\": -1", "\"fill_value\": 1.5", "fill_value")]
    [InlineData("\"fill_value\": -1, ", "", "fill_value")]
    [InlineData("[{\"name\": \"bytes\", \"configuration\": {\"endian\": \"little\"}}]", "5", "codecs")]
    [InlineData("{\"name\": \"bytes\", ", "{\"nom\": \"bytes\", ", "codecs")]
    [InlineData("\"fill_value\": -1", "\"fill_value\": -1, \"dimension_names\": [\"a\"]", "dimension_names")]
    [InlineData("\"fill_value\": -1", "\"fill_value\": -1, \"attributes\": []", "attributes")]
    [InlineData("\"fill_value\": -1", "\"fill_value\": -1, \"storage_transformers\": [{\"name\": \"x\"}]", "storage_transformers")]
    [InlineData("\"fill_value\": -1", "\"fill_value\": -1, \"mystery\": {\"must_understand\": true}", "mystery")]
    public void Parse_errors_name_the_field(string find, string replace, string field)
    {
        var json = Minimal.Replace(find, replace, StringComparison.Ordinal);
        Assert.NotEqual(Minimal, json);

        var ex = ParseError(json);

        Assert.Contains(field, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_fields_that_need_not_be_understood_are_ignored()
    {
        var json = Minimal.Replace("\"fill_value\": -1", "\"fill_value\": -1, \"extra\": {\"must_understand\": false}", StringComparison.Ordinal);

        Assert.Equal([10L, 20L], ArrayMetadata.Parse(Encoding.UTF8.GetBytes(json)).Shape);
    }

    [Fact]
    public void Invalid_json_and_non_objects_throw_format_exception()
    {
        Assert.Contains("JSON", ParseError("{\"zarr_format\": 3,").Message, StringComparison.Ordinal);
        Assert.Contains("object", ParseError("[1, 2]").Message, StringComparison.Ordinal);
        Assert.Contains("after", ParseError(Minimal + " {}").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_keeps_unknown_codecs_for_the_pipeline_to_reject()
    {
        var json = Minimal.Replace("\"codecs\": [", "\"codecs\": [\"sharding_indexed\", ", StringComparison.Ordinal);

        var metadata = ArrayMetadata.Parse(Encoding.UTF8.GetBytes(json));

        Assert.Equal("sharding_indexed", metadata.Codecs[0].Name);
        var ex = Assert.Throws<NotSupportedException>(() => CodecPipeline.Create(metadata));
        Assert.Contains("sharding_indexed", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_accepts_good_metadata()
    {
        Sample().Validate();
        ArrayMetadata.Create([5], DataType.Bool, [5]).Validate();
    }

    public static TheoryData<string, string> InvalidMetadata() => new()
    {
        { "shape rank", "ChunkShape" },
        { "negative shape", "Shape" },
        { "zero chunk", "ChunkShape" },
        { "fill type", "FillValue" },
        { "dimension names", "DimensionNames" },
        { "unknown codec", "Codecs" },
        { "no bytes codec", "Codecs" },
        { "two bytes codecs", "Codecs" },
        { "compressor before bytes", "Codecs" },
        { "transpose after bytes", "Codecs" },
        { "missing endian", "Codecs" },
        { "bad endian", "Codecs" },
        { "bad level", "Codecs" },
        { "bad order", "Codecs" },
        { "unknown setting", "Codecs" },
        { "huge chunk", "ChunkShape" },
    };

    [Theory]
    [MemberData(nameof(InvalidMetadata))]
    public void Validate_errors_name_the_parameter(string problem, string parameter)
    {
        var good = ArrayMetadata.Create([10, 10], DataType.Int32, [5, 5]);
        var bytes = good.Codecs[0];
        var metadata = problem switch
        {
            "shape rank" => good with { ChunkShape = [5] },
            "negative shape" => good with { Shape = [10, -1] },
            "zero chunk" => good with { ChunkShape = [5, 0] },
            "fill type" => good with { FillValue = FillValue.Zero(DataType.Int64) },
            "dimension names" => good with { DimensionNames = ["x"] },
            "unknown codec" => good with { Codecs = [bytes, new CodecSpec("lz4")] },
            "no bytes codec" => good with { Codecs = [new CodecSpec("transpose", new JsonObject { ["order"] = new JsonArray(1, 0) })] },
            "two bytes codecs" => good with { Codecs = [bytes, bytes] },
            "compressor before bytes" => good with { Codecs = [new CodecSpec("gzip", new JsonObject { ["level"] = 1 }), bytes] },
            "transpose after bytes" => good with { Codecs = [bytes, new CodecSpec("transpose", new JsonObject { ["order"] = new JsonArray(1, 0) })] },
            "missing endian" => good with { Codecs = [new CodecSpec("bytes")] },
            "bad endian" => good with { Codecs = [new CodecSpec("bytes", new JsonObject { ["endian"] = "middle" })] },
            "bad level" => good with { Codecs = [bytes, new CodecSpec("zlib", new JsonObject { ["level"] = 10 })] },
            "bad order" => good with { Codecs = [new CodecSpec("transpose", new JsonObject { ["order"] = new JsonArray(0, 0) }), bytes] },
            "unknown setting" => good with { Codecs = [bytes, new CodecSpec("gzip", new JsonObject { ["lvl"] = 1 })] },
            "huge chunk" => good with { ChunkShape = [100_000, 100_000] },
            _ => throw new ArgumentOutOfRangeException(nameof(problem)),
        };

        var ex = Assert.Throws<ArgumentException>(metadata.Validate);

        Assert.Equal(parameter, ex.ParamName);
    }

    [Fact]
    public void Group_metadata_round_trips_and_rejects_arrays()
    {
        var group = new GroupMetadata(new JsonObject { ["title"] = "floe", ["n"] = 3 });

        var bytes = group.ToJsonBytes();
        var parsed = GroupMetadata.Parse(bytes);

        Assert.Equal(group, parsed);
        Assert.Equal("""{"zarr_format":3,"node_type":"group","attributes":{"title":"floe","n":3}}""", JsonNode.Parse(bytes)!.ToJsonString());
        Assert.Empty(GroupMetadata.Parse("""{"zarr_format":3,"node_type":"group"}"""u8).Attributes);
        var ex = Assert.Throws<FormatException>(() => GroupMetadata.Parse(Sample().ToJsonBytes()));
        Assert.Contains("node_type", ex.Message, StringComparison.Ordinal);
    }
}
