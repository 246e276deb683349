using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Floe.Api.V1;
using Floe.Core;
using Floe.Grains;
using Floe.Server.Grains;
using Floe.Tests.Shared;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;

namespace Floe.Server.Tests;

/// <summary>
/// The Zarr v2 view over HTTP, read by unmodified xarray and zarr-python 2 (fsspec's HTTP file system) and checked
/// against the values written, or against netCDF4-python reading the original files.
/// </summary>
public sealed class ZarrHttpTests : ApiTestBase
{
    // "alpha" is anonymously readable; the token "reader" may read alpha only.
    private int _httpPort;

    private Uri Base => new($"http://127.0.0.1:{_httpPort.ToString(CultureInfo.InvariantCulture)}/zarr/");

    private string Url(string repository, string reference) => new Uri(Base, $"{repository}/{reference}").ToString();

    protected override IDictionary<string, string?>? Settings()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            _httpPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        return new Dictionary<string, string?>
        {
            ["Floe:Server:HttpListen"] = $"http://127.0.0.1:{_httpPort.ToString(CultureInfo.InvariantCulture)}",
            ["Floe:Auth:AnonymousRead:0"] = "alpha",
        };
    }

    // ---- native arrays written through the gRPC write API ----

    private static readonly long[] Grid2 = [25, 45];
    private static readonly int[] Chunk2 = [10, 20];

    // Noisy values compress badly, so temp's full chunks are stored as native objects, the others' inline.
    private static readonly float[] Temp = Noise(25 * 45);
    private static readonly short[] Count = [.. Enumerable.Range(0, 25 * 45).Select(i => (short)((i * 7) - 3000))];
    private static readonly int[] Scaled = [.. Enumerable.Range(0, 25 * 45).Select(i => (i * 1000) - 7)];
    private static readonly byte[] Flag = [.. Enumerable.Range(0, 45).Select(i => (byte)(i * 5))];
    private static readonly byte[] Mask = [.. Enumerable.Range(0, 5).Select(i => (byte)(i % 2 == 0 ? 1 : 0))];
    private static readonly double[] Deep = [1.5, -2.25, 1e10];

    private static CodecSpec Bytes(string endian = "little") => new("bytes", new JsonObject { ["endian"] = endian });

    private static CodecSpec Codec(string name, string key, JsonNode value) => new(name, new JsonObject { [key] = value });

    private static string ZarrJson(long[] shape, DataType type, int[] chunks, double fill, string?[]? dimensions, JsonObject? attributes, params CodecSpec[] codecs) =>
        Encoding.UTF8.GetString(new ArrayMetadata(shape, type, chunks, FillValue.FromDouble(type, fill), codecs, dimensions, attributes ?? new JsonObject()).ToJsonBytes());

    private static Change CreateArray(string path, string zarrJson) => new() { CreateArray = new CreateArray { Path = path, ZarrJson = zarrJson } };

    private static Change CreateGroup(string path, string attributes) => new() { CreateGroup = new CreateGroup { Path = path, AttributesJson = attributes } };

    /// <summary>Every chunk of a C-order array but the missing ones, as decoded bytes (edge chunks padded).</summary>
    private static ChunkRefEntry[] Chunks<T>(T[] whole, long[] shape, int[] chunks, T pad, params long[][] missing)
        where T : unmanaged
    {
        var entries = new List<ChunkRefEntry>();
        foreach (var coords in ChunkCoords(shape, chunks))
        {
            if (missing.Any(m => m.SequenceEqual(coords)))
            {
                continue;
            }

            var chunk = new T[chunks.Aggregate(1, (a, b) => a * b)];
            for (var e = 0; e < chunk.Length; e++)
            {
                chunk[e] = GlobalIndex(shape, chunks, coords, e) is { } g ? whole[g] : pad;
            }

            var entry = new ChunkRefEntry { Decoded = ByteString.CopyFrom(MemoryMarshal.AsBytes(chunk.AsSpan())) };
            entry.Coords.AddRange(coords);
            entries.Add(entry);
        }

        return [.. entries];
    }

    /// <summary>The values readers must see: the array with its missing chunks' elements replaced by <paramref name="fill"/>.</summary>
    private static double?[] Expected<T>(T[] whole, long[] shape, int[] chunks, Func<T, double?> value, double? fill, params long[][] missing)
        where T : unmanaged
    {
        var expected = whole.Select(value).ToArray();
        foreach (var coords in missing)
        {
            for (var e = 0; e < chunks.Aggregate(1, (a, b) => a * b); e++)
            {
                if (GlobalIndex(shape, chunks, coords, e) is { } g)
                {
                    expected[g] = fill;
                }
            }
        }

        return expected;
    }

    private static IEnumerable<long[]> ChunkCoords(long[] shape, int[] chunks)
    {
        var grid = shape.Select((n, d) => (n + chunks[d] - 1) / chunks[d]).ToArray();
        var coords = new long[shape.Length];
        while (true)
        {
            yield return (long[])coords.Clone();
            var d = shape.Length - 1;
            while (d >= 0 && ++coords[d] == grid[d])
            {
                coords[d--] = 0;
            }

            if (d < 0)
            {
                yield break;
            }
        }
    }

    // The index in the whole array of element e of a chunk, or null when that element lies beyond the array's edge.
    private static int? GlobalIndex(long[] shape, int[] chunks, long[] coords, int e)
    {
        long offset = 0;
        var rest = e;
        var strides = new int[chunks.Length];
        for (var d = chunks.Length - 1; d >= 0; d--)
        {
            strides[d] = rest % chunks[d];
            rest /= chunks[d];
        }

        for (var d = 0; d < shape.Length; d++)
        {
            var index = (coords[d] * chunks[d]) + strides[d];
            if (index >= shape[d])
            {
                return null;
            }

            offset = (offset * shape[d]) + index;
        }

        return (int)offset;
    }

    private static double? Number(float v) => float.IsNaN(v) ? null : v;

    private static float[] Noise(int count)
    {
        var random = new Random(1);
        var values = Enumerable.Range(0, count).Select(_ => (float)Math.Round((random.NextDouble() * 60) - 20, 3)).ToArray();
        values[17] = float.NaN;
        return values;
    }

    private async Task<CommitResponse> CreateNativeAsync()
    {
        await Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "alpha" });
        return await CommitAsync(Admin, "alpha", "native arrays",
            new Change { UpdateAttributes = new UpdateAttributes { Path = "/", AttributesJson = """{"title": "native arrays"}""" } },
            CreateArray("/temp", ZarrJson(Grid2, DataType.Float32, Chunk2, double.NaN, ["y", "x"], new JsonObject { ["units"] = "degC" },
                Bytes(), Codec("shuffle", "elementsize", 4), Codec("zlib", "level", 5))),
            SetChunks("/temp", Chunks(Temp, Grid2, Chunk2, float.NaN, [1, 1])),
            CreateArray("/count", ZarrJson(Grid2, DataType.Int16, Chunk2, -999, ["y", "x"], null, Bytes("big"), Codec("gzip", "level", 6))),
            SetChunks("/count", Chunks(Count, Grid2, Chunk2, (short)0, [2, 0])),
            // transpose has no Zarr v2 equivalent: its chunks are transcoded.
            CreateArray("/scaled", ZarrJson(Grid2, DataType.Int32, Chunk2, 7, ["y", "x"], null,
                Codec("transpose", "order", new JsonArray(1, 0)), Bytes(), Codec("zlib", "level", 1))),
            SetChunks("/scaled", Chunks(Scaled, Grid2, Chunk2, 0, [0, 2])),
            CreateArray("/flag", ZarrJson([45], DataType.UInt8, [20], 0, ["x"], null, new CodecSpec("bytes"))),
            SetChunks("/flag", Chunks(Flag, [45], [20], (byte)0)),
            // No dimension names: the view names them after the array.
            CreateArray("/mask", ZarrJson([5], DataType.Bool, [2], 0, null, null, new CodecSpec("bytes"))),
            SetChunks("/mask", Chunks(Mask, [5], [2], (byte)0, [1])),
            CreateArray("/scalar", ZarrJson([], DataType.Float64, [], 0, [], null, Bytes())),
            SetChunks("/scalar", Chunks([3.25], [], [], 0.0)),
            CreateGroup("/g", """{"kind": "outer"}"""),
            CreateGroup("/g/h", """{"kind": "inner"}"""),
            CreateArray("/g/h/deep", ZarrJson([3], DataType.Float64, [2], double.NaN, ["z"], null, Bytes(), Codec("zstd", "level", 3))),
            SetChunks("/g/h/deep", Chunks(Deep, [3], [2], 0.0)));
    }

    [Fact]
    public async Task Native_arrays_of_several_types_read_through_xarray_and_zarr_as_written_with_missing_chunks_as_fill()
    {
        await CreateNativeAsync();
        var url = Url("alpha", "main");

        var answers = ReadPython(
            new JsonObject { ["mode"] = "xarray", ["url"] = url, ["raw"] = true },
            new JsonObject { ["mode"] = "xarray", ["url"] = url },
            new JsonObject { ["mode"] = "xarray", ["url"] = url, ["group"] = "g/h" },
            new JsonObject { ["mode"] = "tree", ["url"] = url });

        var raw = answers[0];
        Assert.Equal("native arrays", raw.GetProperty("attrs").GetProperty("title").GetString());
        var variables = raw.GetProperty("variables");
        AssertVariable(variables, "temp", "<f4", ["y", "x"], Expected(Temp, Grid2, Chunk2, Number, null, [1, 1]));
        Assert.Equal("degC", variables.GetProperty("temp").GetProperty("attrs").GetProperty("units").GetString());
        // xarray turns big-endian data native; zarr itself (the tree below) shows the stored order.
        AssertVariable(variables, "count", "<i2", ["y", "x"], Expected(Count, Grid2, Chunk2, v => v, -999, [2, 0]));
        AssertVariable(variables, "scaled", "<i4", ["y", "x"], Expected(Scaled, Grid2, Chunk2, v => v, 7, [0, 2]));
        AssertVariable(variables, "flag", "|u1", ["x"], Expected(Flag, [45], [20], v => v, 0));
        AssertVariable(variables, "mask", "|b1", ["mask_dim_0"], Expected(Mask, [5], [2], v => v, 0, [1]));
        AssertVariable(variables, "scalar", "<f8", [], [3.25]);

        // Masked the default way, the integer fill value reads as missing.
        var masked = answers[1].GetProperty("variables").GetProperty("count");
        Assert.Equal(Expected(Count, Grid2, Chunk2, v => v, null, [2, 0]), Values(masked));

        var deep = answers[2].GetProperty("variables");
        AssertVariable(deep, "deep", "<f8", ["z"], [.. Deep.Select(v => (double?)v)]);
        Assert.Equal("inner", answers[2].GetProperty("attrs").GetProperty("kind").GetString());

        var tree = answers[3];
        Assert.Equal(new[] { "count", "flag", "g/h/deep", "mask", "scalar", "scaled", "temp" }, tree.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(-999, tree.GetProperty("count").GetProperty("fill_value").GetInt32());
        Assert.Equal(">i2", tree.GetProperty("count").GetProperty("dtype").GetString());
        Assert.Equal(Expected(Count, Grid2, Chunk2, v => v, -999, [2, 0]), Values(tree.GetProperty("count")));
        Assert.Equal(JsonValueKind.Null, tree.GetProperty("temp").GetProperty("fill_value").ValueKind);
    }

    [Fact]
    public async Task Stored_chunks_are_served_byte_for_byte_when_zarr_v2_can_decode_them_and_transcoded_otherwise()
    {
        await CreateNativeAsync();
        using var http = new HttpClient();
        var main = Url("alpha", "main");

        var temp = JsonNode.Parse(await http.GetStringAsync($"{main}/temp/.zarray"))!;
        var scaled = JsonNode.Parse(await http.GetStringAsync($"{main}/scaled/.zarray"))!;
        var stored = await Admin.Repositories.ReadChunkAsync(new ReadChunkRequest { Repository = "alpha", Path = "/temp", Coords = { 0, 1 } });
        using var chunk = await http.GetAsync(new Uri($"{main}/temp/0.1"));
        var storedScaled = await Admin.Repositories.ReadChunkAsync(new ReadChunkRequest { Repository = "alpha", Path = "/scaled", Coords = { 0, 0 } });
        var transcoded = await http.GetByteArrayAsync(new Uri($"{main}/scaled/0.0"));

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"zarr_format": 2, "shape": [25, 45], "chunks": [10, 20], "dtype": "<f4", "compressor": {"id": "zlib", "level": 5},
             "fill_value": "NaN", "order": "C", "filters": [{"id": "shuffle", "elementsize": 4}], "dimension_separator": "."}
            """), temp), temp.ToJsonString());
        Assert.Equal(ChunkKind.Native, stored.Kind);
        Assert.Equal(stored.Data.ToByteArray(), await chunk.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/octet-stream", chunk.Content.Headers.ContentType?.MediaType);
        Assert.Equal(stored.Data.Length, chunk.Content.Headers.ContentLength);
        Assert.Equal("""{"id":"zstd","level":1}""", scaled["compressor"]!.ToJsonString());
        Assert.Equal("<i4", scaled["dtype"]!.GetValue<string>());
        Assert.NotEqual(storedScaled.Data.ToByteArray(), transcoded);
        Assert.Equal(Scaled[..20].SelectMany(BitConverter.GetBytes), Zstd.Decompress(transcoded)[..80]);
    }

    [Fact]
    public async Task Http_and_grpc_reads_share_the_grains_cached_manifest_shards()
    {
        await CreateNativeAsync();
        var shards = Server.Services.GetRequiredService<GrainRuntime>();
        var before = shards.GetCounters<IManifestShardGrain>().CreatedActivations;
        using var http = new HttpClient();

        // temp's chunks share one manifest shard: the HTTP read loads it into its grain, the gRPC read finds it there.
        Assert.NotEmpty(await http.GetByteArrayAsync(new Uri($"{Url("alpha", "main")}/temp/0.0")));
        Assert.Equal(1, shards.GetCounters<IManifestShardGrain>().CreatedActivations - before);
        var overGrpc = await Admin.Repositories.ReadChunkAsync(new ReadChunkRequest { Repository = "alpha", Path = "/temp", Coords = { 1, 0 } });
        Assert.Equal(ChunkKind.Native, overGrpc.Kind);
        Assert.Equal(1, shards.GetCounters<IManifestShardGrain>().CreatedActivations - before);
    }

    [Fact]
    public async Task Branches_tags_and_snapshot_ids_each_serve_their_own_data_and_only_snapshot_urls_are_cacheable()
    {
        await Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "alpha" });
        var first = await CommitAsync(Admin, "alpha", "v1",
            CreateArray("/v", ZarrJson([4], DataType.Float32, [2], double.NaN, ["i"], null, Bytes())),
            SetChunks("/v", Decoded([1, 2], 0), Decoded([3, 4], 1)));
        await Admin.Repositories.CreateTagAsync(new CreateRefRequest { Repository = "alpha", Name = "v1", From = "main" });
        await Admin.Repositories.CreateBranchAsync(new CreateRefRequest { Repository = "alpha", Name = "dev", From = "main" });
        await CommitAsync(Admin, "alpha", "v2", SetChunks("/v", Decoded([10, 20], 0)), new Change { DeleteChunks = new DeleteChunks { Path = "/v", Chunks = { new ChunkCoords { Values = { 1 } } } } });
        var snapshot = first.SnapshotId;

        var answers = ReadPython(
            new JsonObject { ["mode"] = "xarray", ["url"] = Url("alpha", "main") },
            new JsonObject { ["mode"] = "xarray", ["url"] = Url("alpha", "v1") },
            new JsonObject { ["mode"] = "xarray", ["url"] = Url("alpha", snapshot) },
            new JsonObject { ["mode"] = "xarray", ["url"] = Url("alpha", "dev") });

        Assert.Equal(new double?[] { 10, 20, null, null }, Values(answers[0].GetProperty("variables").GetProperty("v")));
        foreach (var older in answers[1..])
        {
            Assert.Equal(new double?[] { 1, 2, 3, 4 }, Values(older.GetProperty("variables").GetProperty("v")));
        }

        using var http = new HttpClient();
        using var byBranch = await http.GetAsync(new Uri($"{Url("alpha", "main")}/v/0"));
        using var byTag = await http.GetAsync(new Uri($"{Url("alpha", "v1")}/.zmetadata"));
        using var bySnapshot = await http.GetAsync(new Uri($"{Url("alpha", snapshot)}/v/0"));
        Assert.True(byBranch.Headers.CacheControl!.NoCache);
        Assert.True(byTag.Headers.CacheControl!.NoCache);
        Assert.Equal(TimeSpan.FromDays(365), bySnapshot.Headers.CacheControl!.MaxAge);
        Assert.Contains("immutable", bySnapshot.Headers.CacheControl.Extensions.Select(e => e.Name));
        Assert.Equal(Floats(1, 2), await bySnapshot.Content.ReadAsByteArrayAsync());

        // The snapshot id is the entity tag: a client holding it gets 304 until the branch moves.
        using var revalidate = new HttpRequestMessage(HttpMethod.Get, new Uri($"{Url("alpha", "main")}/v/0"));
        revalidate.Headers.IfNoneMatch.Add(byBranch.Headers.ETag!);
        using var notModified = await http.SendAsync(revalidate);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        await CommitAsync(Admin, "alpha", "v3", SetChunks("/v", Decoded([5, 6], 0)));
        using var again = new HttpRequestMessage(HttpMethod.Get, new Uri($"{Url("alpha", "main")}/v/0"));
        again.Headers.IfNoneMatch.Add(byBranch.Headers.ETag!);
        using var modified = await http.SendAsync(again);
        Assert.Equal(HttpStatusCode.OK, modified.StatusCode);
        Assert.Equal(Floats(5, 6), await modified.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Unknown_names_malformed_keys_and_missing_chunks_are_404_refused_callers_401_or_403_and_writes_405()
    {
        await CreateNativeAsync();
        await Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "beta" });
        using var anonymous = new HttpClient();
        using var admin = new HttpClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RunningServer.AdminToken);
        using var reader = new HttpClient();
        reader.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RunningServer.ReaderToken);
        using var stranger = new HttpClient();
        stranger.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "floe_not_a_known_token");
        var main = Url("alpha", "main");

        using var metadata = await anonymous.GetAsync(new Uri($"{main}/.zmetadata"));
        Assert.Equal(HttpStatusCode.OK, metadata.StatusCode);
        Assert.Equal("application/json", metadata.Content.Headers.ContentType?.MediaType);
        var consolidated = JsonNode.Parse(await metadata.Content.ReadAsStringAsync())!;
        Assert.Equal(1, consolidated["zarr_consolidated_format"]!.GetValue<int>());
        Assert.Equal(
            new[]
            {
            ".zattrs", ".zgroup", "count/.zarray", "count/.zattrs", "flag/.zarray", "flag/.zattrs", "g/.zattrs", "g/.zgroup", "g/h/.zattrs", "g/h/.zgroup",
             "g/h/deep/.zarray", "g/h/deep/.zattrs", "mask/.zarray", "mask/.zattrs", "scalar/.zarray", "scalar/.zattrs", "scaled/.zarray", "scaled/.zattrs",
             "temp/.zarray", "temp/.zattrs",
            },
            consolidated["metadata"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal("""{"kind":"outer"}""", await anonymous.GetStringAsync(new Uri($"{main}/g/.zattrs")));
        Assert.Equal("""{"zarr_format":2}""", await anonymous.GetStringAsync(new Uri($"{main}/g/h/.zgroup")));
        Assert.Equal("""{"_ARRAY_DIMENSIONS":[]}""", await anonymous.GetStringAsync(new Uri($"{main}/scalar/.zattrs")));
        Assert.Equal(BitConverter.GetBytes(3.25), await anonymous.GetByteArrayAsync(new Uri($"{main}/scalar/0")));

        await ExpectAsync(admin, "nope/main/.zmetadata", HttpStatusCode.NotFound, "repository 'nope' does not exist");
        await ExpectAsync(admin, "Not_A_Name/main/.zmetadata", HttpStatusCode.NotFound, "is not a repository name");
        await ExpectAsync(anonymous, "alpha/nope/.zmetadata", HttpStatusCode.NotFound, "'nope' is not a branch, tag or snapshot id");
        await ExpectAsync(anonymous, "alpha/main/nope/.zarray", HttpStatusCode.NotFound, "has no key 'nope/.zarray'");
        await ExpectAsync(anonymous, "alpha/main/.zarray", HttpStatusCode.NotFound, "has no key '.zarray'");
        await ExpectAsync(anonymous, "alpha/main/temp/.zgroup", HttpStatusCode.NotFound, "has no key 'temp/.zgroup'");
        await ExpectAsync(anonymous, "alpha/main", HttpStatusCode.NotFound, "has no key ''");
        await ExpectAsync(anonymous, "alpha/main/temp/1.1", HttpStatusCode.NotFound, "chunk 1.1 of array '/temp'", "holds no data: it reads as the fill value");
        await ExpectAsync(anonymous, "alpha/main/temp/1.x", HttpStatusCode.NotFound, "'x' is not a chunk index");
        await ExpectAsync(anonymous, "alpha/main/temp/-1.0", HttpStatusCode.NotFound, "'-1' is not a chunk index");
        await ExpectAsync(anonymous, "alpha/main/temp/1", HttpStatusCode.NotFound, "expected 2 chunk indexes");
        await ExpectAsync(anonymous, "alpha/main/temp/3.0", HttpStatusCode.NotFound, "outside the chunk grid [3, 3]");
        await ExpectAsync(anonymous, "alpha/main/scalar/0.0", HttpStatusCode.NotFound, "a rank-0 array has the one chunk '0'");
        await ExpectAsync(anonymous, "alpha/main/g/0", HttpStatusCode.NotFound, "has no key 'g/0'");

        using (var refused = await anonymous.GetAsync(new Uri(Base, "beta/main/.zmetadata")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("Bearer", refused.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Contains("read needs a token", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await ExpectAsync(reader, "beta/main/.zmetadata", HttpStatusCode.Forbidden, "token 'reader' may not read it");
        await ExpectAsync(stranger, "alpha/main/.zmetadata", HttpStatusCode.Unauthorized, "unknown token");
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(new Uri($"{main}/temp/0.0"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(new Uri(Base, "beta/main/.zgroup"))).StatusCode);

        foreach (var method in new[] { HttpMethod.Put, HttpMethod.Post, HttpMethod.Delete })
        {
            using var write = new HttpRequestMessage(method, new Uri($"{main}/temp/0.0")) { Content = new ByteArrayContent([1, 2, 3]) };
            using var refused = await admin.SendAsync(write);
            Assert.Equal(HttpStatusCode.MethodNotAllowed, refused.StatusCode);
            Assert.Equal(new[] { "GET", "HEAD" }, refused.Content.Headers.Allow.Order(StringComparer.Ordinal));
        }

        using var head = await anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri($"{main}/.zmetadata")));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(metadata.Content.Headers.ContentLength, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    // ---- virtual arrays ingested from real files ----

    // Three NetCDF4 files of two hours each: temp float32 (zlib, shuffle, chunks 1×16×20 over 30×20, so edge chunks
    // are partial) with a fill value inside and one chunk never written; level int16 (zlib, shuffle). Large enough
    // that ingestion references the chunks in the files instead of copying them inline.
    private const string NetCdfFiles = """
import sys, os, numpy as np, netCDF4
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
paths = []
for k in range(3):
    path = os.path.join(out, f"obs_{k}.nc")
    ds = netCDF4.Dataset(path, "w", format="NETCDF4")
    ds.createDimension("time", None)
    ds.createDimension("y", 30)
    ds.createDimension("x", 20)
    t = ds.createVariable("time", "i4", ("time",))
    t.units = "hours since 2000-01-01 00:00:00"
    t[:] = [2 * k, 2 * k + 1]
    ds.createVariable("y", "f4", ("y",))[:] = np.arange(30) * 0.5
    ds.createVariable("x", "f4", ("x",))[:] = np.arange(20) * 2.0
    temp = ds.createVariable("temp", "f4", ("time", "y", "x"), zlib=True, shuffle=True, complevel=5,
                             chunksizes=(1, 16, 20), fill_value=np.float32(-9999))
    temp.units = "K"
    rng = np.random.default_rng(k)
    values = (rng.random((2, 30, 20)) * 40 + 250).astype("f4")
    values[0, 1, 2] = -9999
    temp[0] = values[0]
    temp[1, :16, :] = values[1, :16, :]
    level = ds.createVariable("level", "i2", ("time", "y", "x"), zlib=True, shuffle=True, chunksizes=(2, 30, 20),
                              fill_value=np.int16(-1))
    level[:] = rng.integers(0, 1000, (2, 30, 20)).astype("i2")
    ds.close()
    paths.append(path)
print("\n".join(paths))
""";

    private List<string> WriteSources(string script, string directory, params string[] arguments)
    {
        var output = OraclePython.Run(script, [Path.Combine(Server.SourceDirectory, directory), .. arguments]);
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Path.GetFullPath)];
    }

    private async Task IngestAsync(string repository, IReadOnlyList<string> files)
    {
        await Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = repository });
        var request = new StartIngestionRequest { Repository = repository };
        request.Files.AddRange(files);
        var started = await Admin.Ingestion.StartIngestionAsync(request);
        var final = (await ReadAllAsync(Admin.Ingestion.WatchIngestion(new IngestionRequest { JobId = started.JobId })))[^1];
        Assert.True(final.State == IngestionState.Succeeded, final.ToString());
    }

    [Fact]
    public async Task Virtual_arrays_ingested_from_netcdf4_files_with_zlib_and_shuffle_read_as_netcdf4_python_reads_the_files()
    {
        var files = WriteSources(NetCdfFiles, "nc");
        await IngestAsync("beta", files);
        var url = Url("beta", "main");

        var answers = ReadPython(
            new JsonObject { ["mode"] = "xarray", ["url"] = url, ["token"] = RunningServer.AdminToken },
            new JsonObject { ["mode"] = "netcdf", ["files"] = Paths(files), ["variable"] = "temp" },
            new JsonObject { ["mode"] = "netcdf", ["files"] = Paths(files), ["variable"] = "level" },
            new JsonObject { ["mode"] = "netcdf", ["files"] = Paths(files), ["variable"] = "time" },
            new JsonObject { ["mode"] = "netcdf", ["files"] = Paths(files[..1]), ["variable"] = "y" });

        var variables = answers[0].GetProperty("variables");
        var temp = Values(answers[1]);
        Assert.Equal(6 * 30 * 20, temp.Length);
        Assert.Contains(null, temp);
        AssertVariable(variables, "temp", "<f4", ["time", "y", "x"], temp);
        // Masked (as netCDF4-python masks), the int16 values come as float32.
        AssertVariable(variables, "level", "<f4", ["time", "y", "x"], Values(answers[2]));
        Assert.Equal(Values(answers[3]), Values(variables.GetProperty("time")));
        Assert.Equal(Values(answers[4]), Values(variables.GetProperty("y")));
        Assert.Equal("K", variables.GetProperty("temp").GetProperty("attrs").GetProperty("units").GetString());

        // The files' own chunks are served: zarr decodes them with the files' shuffle and zlib.
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RunningServer.AdminToken);
        var zarray = JsonNode.Parse(await http.GetStringAsync($"{url}/temp/.zarray"))!;
        Assert.Equal("""[{"id":"shuffle","elementsize":4}]""", zarray["filters"]!.ToJsonString());
        Assert.Equal("zlib", zarray["compressor"]!["id"]!.GetValue<string>());
        var stored = await Admin.Repositories.ReadChunkAsync(new ReadChunkRequest { Repository = "beta", Path = "/temp", Coords = { 2, 1, 0 } });
        Assert.Equal(ChunkKind.Virtual, stored.Kind);
        Assert.Equal(stored.Data.ToByteArray(), await http.GetByteArrayAsync(new Uri($"{url}/temp/2.1.0")));
    }

    [Fact]
    public async Task Era5_days_packed_each_with_their_own_scale_and_offset_read_as_netcdf4_python_reads_each_file()
    {
        var script = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "era5.py"));
        var files = WriteSources(script, "era5", "3", "--small");
        await IngestAsync("beta", files);
        var url = Url("beta", "main");

        var answers = ReadPython(
            new JsonObject { ["mode"] = "xarray", ["url"] = url, ["token"] = RunningServer.AdminToken },
            new JsonObject { ["mode"] = "netcdf", ["files"] = Paths(files), ["variable"] = "tp" },
            new JsonObject { ["mode"] = "netcdf", ["files"] = Paths(files), ["variable"] = "time" },
            new JsonObject { ["mode"] = "netcdf", ["files"] = Paths(files[..1]), ["variable"] = "latitude" });

        var variables = answers[0].GetProperty("variables");
        var tp = Values(answers[1]);
        Assert.Equal(72 * 19 * 36, tp.Length);
        AssertVariable(variables, "tp", "<f8", ["time", "latitude", "longitude"], tp);
        Assert.Equal(Values(answers[2]), Values(variables.GetProperty("time")));
        Assert.Equal(Values(answers[3]), Values(variables.GetProperty("latitude")));
        var attributes = variables.GetProperty("tp").GetProperty("attrs");
        Assert.Equal("m", attributes.GetProperty("units").GetString());
        Assert.False(attributes.TryGetProperty("scale_factor", out _), "the served values are unpacked already");
        Assert.False(attributes.TryGetProperty("add_offset", out _), "the served values are unpacked already");

        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RunningServer.AdminToken);
        var zarray = JsonNode.Parse(await http.GetStringAsync($"{url}/tp/.zarray"))!;
        Assert.Equal("<f8", zarray["dtype"]!.GetValue<string>());
        Assert.Equal("""{"id":"zstd","level":1}""", zarray["compressor"]!.ToJsonString());
    }

    [Fact]
    public async Task A_chunk_whose_source_file_was_deleted_is_a_5xx_naming_the_array_chunk_and_cause_never_fill_values()
    {
        var files = WriteSources(NetCdfFiles, "nc");
        await IngestAsync("beta", files);
        File.Delete(files[1]);
        var url = Url("beta", "main");
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RunningServer.AdminToken);

        using var failed = await http.GetAsync(new Uri($"{url}/temp/2.0.0"));
        var message = await failed.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Contains("array '/temp' chunk 2.0.0 ([2, 0, 0])", message, StringComparison.Ordinal);
        Assert.Contains($"virtual chunk source '{files[1]}': the source file is missing", message, StringComparison.Ordinal);
        Assert.True(failed.Headers.CacheControl!.NoStore);
        // Chunks of the other files are still served.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri($"{url}/temp/0.0.0"))).StatusCode);

        // A zarr reader that does not turn errors into fill values (zarr 2.13's FSStore does) sees the failure.
        var answer = ReadPython(new JsonObject { ["mode"] = "strict", ["url"] = url, ["array"] = "temp", ["token"] = RunningServer.AdminToken })[0];
        Assert.False(answer.TryGetProperty("values", out _), answer.ToString());
        Assert.Contains("502", answer.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    // ---- helpers ----

    private static JsonArray Paths(IEnumerable<string> files) => [.. files.Select(f => (JsonNode)f)];

    private static JsonElement[] ReadPython(params JsonObject[] requests)
    {
        var script = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Interop", "zarr_http.py"));
        var output = OraclePython.Run(script, new JsonArray([.. requests]).ToJsonString());
        using var document = JsonDocument.Parse(output);
        return [.. document.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    private static double?[] Values(JsonElement answer) =>
        [.. answer.GetProperty("values").EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? (double?)null : v.GetDouble())];

    private static void AssertVariable(JsonElement variables, string name, string dtype, string[] dims, double?[] expected)
    {
        Assert.True(variables.TryGetProperty(name, out var variable), $"xarray has no variable {name}: {variables}");
        Assert.Equal(dtype, variable.GetProperty("dtype").GetString());
        Assert.Equal(dims, variable.GetProperty("dims").EnumerateArray().Select(d => d.GetString()));
        Assert.Equal(expected, Values(variable));
    }

    private async Task ExpectAsync(HttpClient client, string path, HttpStatusCode status, params string[] messages)
    {
        using var response = await client.GetAsync(new Uri(Base, path));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{path}: {response.StatusCode} {body}");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        foreach (var message in messages)
        {
            Assert.Contains(message, body, StringComparison.Ordinal);
        }
    }
}
