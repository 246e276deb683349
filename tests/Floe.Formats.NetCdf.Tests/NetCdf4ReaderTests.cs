using System.Text.Json;
using Floe.Core;
using Floe.Storage;
using Floe.Tests.Shared;

namespace Floe.Formats.NetCdf.Tests;

/// <summary>
/// NetCDF4 files written by netCDF4-python (and h5py where netCDF4 cannot), read as virtual arrays and checked against
/// the oracles: every chunk's offset, size and filter mask against h5py's get_chunk_info, and every decoded value
/// against netCDF4-python's own reading of the file.
/// </summary>
public sealed class NetCdf4ReaderTests : IClassFixture<NetCdf4ReaderTests.Files>
{
    private readonly Files _files;

    public NetCdf4ReaderTests(Files files) => _files = files;

    /// <summary>Writes the fixtures once: one full-size IMERG-layout file and a file of every NetCDF4 feature.</summary>
    public sealed class Files : IDisposable
    {
        public Files()
        {
            Directory = Path.Combine(Path.GetTempPath(), "floe-nc4-" + Guid.NewGuid().ToString("N")[..8]);
            System.IO.Directory.CreateDirectory(Directory);
            Imerg = OraclePython.Run(File.ReadAllText(FixtureScript("imerg.py")), Directory, "1").Trim();
            Features = Path.Combine(Directory, "features.nc");
            OraclePython.Run(FeaturesScript, Features);
        }

        public string Directory { get; }

        public string Imerg { get; }

        public string Features { get; }

        public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
    }

    private const string FeaturesScript = """
import sys, numpy as np, netCDF4, h5py
path = sys.argv[1]
rng = np.random.default_rng(3)
ds = netCDF4.Dataset(path, "w", format="NETCDF4")
ds.title = "features"
ds.history = np.array([1.5, 2.5])
ds.createDimension("time", None)
ds.createDimension("y", 37)
ds.createDimension("x", 50)
ds.createDimension("nchar", 8)
t = ds.createVariable("time", "f8", ("time",))
t.units = "hours since 1900-01-01 00:00:00"
t.calendar = "gregorian"
t[:] = np.arange(5) * 6.0
y = ds.createVariable("y", "f4", ("y",)); y[:] = np.linspace(-90, 90, 37)
x = ds.createVariable("x", "f4", ("x",)); x[:] = np.linspace(0, 360, 50, endpoint=False)
# ERA5-style packing, float64 attributes, with fill and missing values
tp = ds.createVariable("tp", "i2", ("time", "y", "x"), zlib=True, shuffle=True, fletcher32=True, chunksizes=(2, 16, 25), fill_value=-32767)
tp.scale_factor = 1.7e-7
tp.add_offset = 0.0055
tp.missing_value = np.int16(-32767)
tp.units = "m"
raw = rng.integers(-32000, 32000, (5, 37, 50)).astype(np.int16)
raw[0, :3, :3] = -32767
tp.set_auto_maskandscale(False); tp[:] = raw
# float32 packing of int16 and uint8
t2 = ds.createVariable("t2m", "i2", ("time", "y", "x"), zlib=True, chunksizes=(1, 37, 50))
t2.scale_factor = np.float32(0.01); t2.add_offset = np.float32(273.15)
t2.set_auto_maskandscale(False); t2[:] = rng.integers(-3000, 3000, (5, 37, 50)).astype(np.int16)
# big-endian, contiguous, unlimited with partial edge chunks, scalar, nested group
be = ds.createVariable("big", "f8", ("y", "x"), endian="big", zlib=True, complevel=1)
be[:] = rng.random((37, 50))
ct = ds.createVariable("contiguous", "i4", ("y", "x"), contiguous=True)
ct[:] = rng.integers(0, 1000, (37, 50))
sc = ds.createVariable("scalar", "f4", ())
sc[...] = 3.25
g = ds.createGroup("forecast")
g2 = g.createGroup("members")
m = g2.createVariable("u", "f4", ("time", "y", "x"), chunksizes=(3, 10, 10), fill_value=np.float32(-1e30))
m[:4] = rng.random((4, 37, 50)).astype(np.float32)
s = ds.createVariable("names", "S1", ("x", "nchar"))
s[:] = netCDF4.stringtochar(np.array([f"n{i}" for i in range(50)], "S8"))
vs = ds.createVariable("labels", str, ("y",))
vs[:] = np.array([f"label {i}" for i in range(37)], object)
ds.close()
# A chunk stored without its filters (mask 1 = deflate skipped) through h5py's direct chunk write.
with h5py.File(path, "a") as f:
    d = f.create_dataset("masked", (4, 6), dtype="<i4", chunks=(2, 6), compression="gzip")
    d[:] = np.arange(24).reshape(4, 6)
    d.id.write_direct_chunk((2, 0), (np.arange(12, dtype="<i4") * 100).tobytes(), filter_mask=1)
""";

    // Prints, for every dataset, h5py's chunk info, and writes netCDF4-python's values (masked -> NaN for packed
    // variables, raw otherwise) as little-endian bytes beside the file.
    private const string OracleScript = """
import sys, json, os, numpy as np, h5py, netCDF4
path, out = sys.argv[1], sys.argv[2]
result = {}
with h5py.File(path, "r") as f:
    def visit(name, obj):
        if not isinstance(obj, h5py.Dataset):
            return
        chunks = []
        if obj.chunks is not None:
            for i in range(obj.id.get_num_chunks()):
                info = obj.id.get_chunk_info(i)
                chunks.append([[o // c for o, c in zip(info.chunk_offset, obj.chunks)], info.byte_offset, info.size, info.filter_mask])
        elif obj.id.get_offset() is not None:
            chunks.append([[0] * len(obj.shape), obj.id.get_offset(), obj.id.get_storage_size(), 0])
        result["/" + name] = {"shape": list(obj.shape), "dtype": obj.dtype.str, "chunks": list(obj.chunks) if obj.chunks else None, "stored": chunks}
    f.visititems(visit)
def groups(g):
    yield g
    for child in g.groups.values():
        yield from groups(child)
with netCDF4.Dataset(path) as ds:
    for g in groups(ds):
        for name, v in g.variables.items():
            full = (g.path.rstrip("/") + "/" + name)
            if v.dtype == str or v.dtype.kind == "S":
                continue
            packed = "scale_factor" in v.ncattrs() or "add_offset" in v.ncattrs()
            if not packed:
                v.set_auto_maskandscale(False)
            data = v[...]
            if np.ma.isMaskedArray(data):
                data = data.filled(np.nan)
            data = np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("<"))
            file = os.path.join(out, full.strip("/").replace("/", "__") + ".bin")
            data.tofile(file)
            result.setdefault(full, {})["values"] = {"file": file, "dtype": data.dtype.str, "dims": list(v.dimensions), "shape": list(v.shape)}
print(json.dumps(result))
""";

    private static string FixtureScript(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    [Fact]
    public async Task Imerg_layout_file_matches_h5py_chunk_for_chunk_and_netCDF4_value_for_value()
    {
        await CheckAgainstOraclesAsync(_files.Imerg);
    }

    [Fact]
    public async Task Every_netcdf4_feature_matches_the_oracles()
    {
        var dataset = await CheckAgainstOraclesAsync(_files.Features);

        Assert.Equal("netcdf4", dataset.Format);
        var tp = Array(dataset, "/tp");
        Assert.Equal(DataType.Float64, tp.Metadata.DataType);
        Assert.Equal("time,y,x", string.Join(",", tp.Metadata.DimensionNames!));
        // netCDF-C puts fletcher32 first: the checksum covers the raw bytes, then shuffle and deflate.
        Assert.Equal(["cf_scale_offset", "bytes", "fletcher32", "shuffle", "zlib"], tp.Metadata.Codecs.Select(c => c.Name));
        Assert.Equal(DataType.Float32, Array(dataset, "/t2m").Metadata.DataType);
        Assert.Equal("big", Array(dataset, "/big").Metadata.Codecs[0].Configuration!["endian"]!.GetValue<string>());
        Assert.Equal([3, 10, 10], Array(dataset, "/forecast/members/u").Metadata.ChunkShape);
        Assert.Contains(dataset.Groups, g => g.Path == "/forecast/members");
        Assert.All(Array(dataset, "/scalar").Chunks, c => Assert.NotNull(c.Inline));
        Assert.Equal(1u, Array(dataset, "/masked").Chunks.Single(c => c.Index[0] == 1).FilterMask);
        Assert.Contains(dataset.Skipped, s => s.Path == "/names");
        Assert.Contains(dataset.Skipped, s => s.Path == "/labels");
        Assert.Equal("hours since 1900-01-01 00:00:00", Array(dataset, "/time").Metadata.Attributes["units"]!.GetValue<string>());
        Assert.False(Array(dataset, "/time").Metadata.Attributes.ContainsKey("_Netcdf4Dimid"));
    }

    [Fact]
    public async Task Over_http_a_netcdf4_file_costs_one_request_per_level_of_its_metadata_and_gives_the_same_refs()
    {
        using var nginx = NginxServer.Start(_files.Directory);
        await using var objectStoreLike = await RangeServer.StartAsync(_files.Directory, CancellationToken.None);
        using var http = new HttpClient();
        var name = Path.GetFileName(_files.Imerg);

        var local = await NetCdf4Reader.ReadVirtualAsync(new LocalFileSource(), _files.Imerg);
        var multiRange = await NetCdf4Reader.ReadVirtualAsync(new HttpSource(http), nginx.UrlOf(name));
        var singleRange = await NetCdf4Reader.ReadVirtualAsync(new HttpSource(http) { UseMultipleRanges = false }, objectStoreLike.UrlOf(name));

        // The metadata is a chain of four dependent reads: the head (superblock, root and Grid headers), Grid's
        // children, Grid/Intermediate's child, and that variable's chunk B-tree, which netCDF-C puts beside its data.
        // Each level is fetched at once: one multi-range GET from nginx, one GET per far-apart range (all sent
        // together) from a server that does single ranges only.
        Assert.Equal(4, multiRange.RoundTrips);
        Assert.Equal(4, multiRange.Requests);
        Assert.Equal(4, singleRange.RoundTrips);
        Assert.Equal(7, singleRange.Requests);
        foreach (var remote in new[] { multiRange, singleRange })
        {
            Assert.Equal(local.Arrays.Select(a => a.Path), remote.Arrays.Select(a => a.Path));
            Assert.Equal(
                local.Arrays.SelectMany(a => a.Chunks.Select(c => (c.Offset, c.Length, c.FilterMask))),
                remote.Arrays.SelectMany(a => a.Chunks.Select(c => (c.Offset, c.Length, c.FilterMask))));
        }
    }

    private static VirtualArray Array(VirtualDataset dataset, string path) =>
        dataset.Arrays.SingleOrDefault(a => a.Path == path) ?? throw new Xunit.Sdk.XunitException($"{path} not mapped; skipped: {string.Join("; ", dataset.Skipped)}");

    private static async Task<VirtualDataset> CheckAgainstOraclesAsync(string path)
    {
        var valuesDirectory = Path.Combine(Path.GetDirectoryName(path)!, Path.GetFileNameWithoutExtension(path) + "-values");
        Directory.CreateDirectory(valuesDirectory);
        var oracle = OraclePython.RunJson(OracleScript, path, valuesDirectory);
        var dataset = await NetCdf4Reader.ReadVirtualAsync(new LocalFileSource(), path);
        var bytes = await File.ReadAllBytesAsync(path);

        foreach (var array in dataset.Arrays)
        {
            Assert.True(oracle.TryGetProperty(array.Path, out var expected), $"{array.Path} is not in the file according to h5py");
            // netCDF's shape where netCDF4-python reads the variable (an unlimited dimension's length is shared), else HDF5's.
            var shape = expected.TryGetProperty("values", out var read) ? read.GetProperty("shape") : expected.GetProperty("shape");
            Assert.Equal(shape.EnumerateArray().Select(e => e.GetInt64()), array.Metadata.Shape);

            // Chunk refs: chunked datasets exactly as h5py lists them (contiguous ones are split, so compare coverage).
            var stored = expected.GetProperty("stored").EnumerateArray()
                .Select(s => (Index: s[0].EnumerateArray().Select(e => e.GetInt64()).ToArray(), Offset: s[1].GetInt64(), Size: s[2].GetInt64(), Mask: s[3].GetUInt32()))
                .ToList();
            var inline = array.Chunks.Count > 0 && array.Chunks.All(c => c.Inline is not null);
            if (expected.GetProperty("chunks").ValueKind != JsonValueKind.Null)
            {
                Assert.Equal(stored.Count, array.Chunks.Count);
                var byIndex = array.Chunks.ToDictionary(c => string.Join(",", c.Index));
                foreach (var s in stored)
                {
                    var chunk = byIndex[string.Join(",", s.Index)];
                    Assert.Equal((s.Offset, s.Size, s.Mask), (chunk.Offset, chunk.Length, chunk.FilterMask));
                }
            }
            else if (stored.Count == 1)
            {
                Assert.Equal(stored[0].Offset, array.Chunks.Min(c => c.Offset));
                Assert.Equal(stored[0].Size, array.Chunks.Sum(c => c.Length));
            }

            // Values: decode every chunk through Floe's codecs and compare with netCDF4-python.
            if (!expected.TryGetProperty("values", out var values))
            {
                continue;
            }

            var actual = Assemble(array, chunk => chunk.Inline ?? bytes.AsSpan((int)chunk.Offset, (int)chunk.Length).ToArray());
            var oracleBytes = await File.ReadAllBytesAsync(values.GetProperty("file").GetString()!);
            Assert.True(inline || array.Chunks.Count == 0 || array.Chunks.All(c => c.Inline is null), array.Path);
            AssertSameValues(array.Path, array.Metadata.DataType, oracleBytes, actual);
            if (array.Metadata.DimensionNames is { } names)
            {
                Assert.Equal(string.Join(",", values.GetProperty("dims").EnumerateArray().Select(e => e.GetString())), string.Join(",", names));
            }
        }

        return dataset;
    }

    /// <summary>The whole array, decoded chunk by chunk and clipped at the edges; chunks not stored read as the fill value.</summary>
    internal static byte[] Assemble(VirtualArray array, Func<VirtualChunk, byte[]> read)
    {
        var metadata = array.Metadata;
        var size = metadata.DataType.Size;
        var total = metadata.Shape.Aggregate(1L, (a, b) => a * b);
        var output = new byte[total * size];
        for (long i = 0; i < total; i++)
        {
            metadata.FillValue.Fill(output.AsSpan((int)(i * size), size));
        }

        var rank = metadata.Rank;
        foreach (var chunk in array.Chunks)
        {
            var decoded = CodecPipeline.Create(array.MetadataFor(chunk)).Decode(read(chunk));
            var chunkCount = metadata.ChunkElementCount;
            var position = new long[rank];
            for (long e = 0; e < chunkCount; e++)
            {
                var rest = e;
                long target = 0;
                var inside = true;
                for (var d = rank - 1; d >= 0; d--)
                {
                    position[d] = rest % metadata.ChunkShape[d];
                    rest /= metadata.ChunkShape[d];
                }

                for (var d = 0; d < rank; d++)
                {
                    var coordinate = (chunk.Index[d] * metadata.ChunkShape[d]) + position[d];
                    inside &= coordinate < metadata.Shape[d];
                    target = (target * metadata.Shape[d]) + coordinate;
                }

                if (inside)
                {
                    decoded.AsSpan((int)(e * size), size).CopyTo(output.AsSpan((int)(target * size), size));
                }
            }
        }

        return output;
    }

    internal static void AssertSameValues(string path, DataType type, byte[] expected, byte[] actual)
    {
        Assert.True(expected.Length == actual.Length, $"{path}: {actual.Length} bytes decoded, netCDF4-python read {expected.Length}");
        if (expected.AsSpan().SequenceEqual(actual))
        {
            return;
        }

        // Only NaNs may differ in their bits.
        for (var i = 0; i < expected.Length; i += type.Size)
        {
            var e = expected.AsSpan(i, type.Size);
            var a = actual.AsSpan(i, type.Size);
            if (e.SequenceEqual(a))
            {
                continue;
            }

            var bothNaN = type == DataType.Float64
                ? double.IsNaN(BitConverter.ToDouble(e)) && double.IsNaN(BitConverter.ToDouble(a))
                : type == DataType.Float32 && float.IsNaN(BitConverter.ToSingle(e)) && float.IsNaN(BitConverter.ToSingle(a));
            Assert.True(bothNaN, $"{path}: element {i / type.Size} differs: netCDF4-python {Convert.ToHexString(e)}, Floe {Convert.ToHexString(a)}");
        }
    }
}
