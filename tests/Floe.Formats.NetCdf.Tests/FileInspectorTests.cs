using Floe.Storage;

namespace Floe.Formats.NetCdf.Tests;

/// <summary>The `floe inspect` document: the fields docs/formats.md promises, with values the oracles agree on.</summary>
public sealed class FileInspectorTests(NetCdf4ReaderTests.Files files) : IClassFixture<NetCdf4ReaderTests.Files>
{
    [Fact]
    public async Task Inspect_lists_every_dataset_with_its_layout_filters_and_refs()
    {
        var document = await FileInspector.InspectAsync(new LocalFileSource(), files.Features, includeRefs: true);
        var mapped = await VirtualFileReader.ReadAsync(new LocalFileSource(), files.Features);

        Assert.Equal("netcdf4", document["format"]!.GetValue<string>());
        var arrays = document["arrays"]!.AsArray().Select(a => a!.AsObject()).ToDictionary(a => a["path"]!.GetValue<string>());
        var tp = arrays["/tp"];
        Assert.Equal("<i2", tp["dtype"]!.GetValue<string>());
        Assert.Equal("chunked", tp["layout"]!.GetValue<string>());
        Assert.Equal("[2,16,25]", tp["chunk_shape"]!.ToJsonString());
        Assert.Equal(["fletcher32", "shuffle", "deflate"], tp["filters"]!.AsArray().Select(f => f!["name"]!.GetValue<string>()));
        Assert.Equal(-32767, tp["fill_value"]!.GetValue<decimal>());
        Assert.Equal("m", tp["attributes"]!["units"]!.GetValue<string>());
        var tpRefs = tp["refs"]!.AsArray();
        var tpChunks = mapped.Arrays.Single(a => a.Path == "/tp").Chunks;
        Assert.Equal(tpChunks.Count, tpRefs.Count);
        Assert.All(tpRefs, r => Assert.Contains(tpChunks, c => c.Offset == r!["offset"]!.GetValue<long>() && c.Length == r["length"]!.GetValue<long>()));

        Assert.Equal("contiguous", arrays["/contiguous"]["layout"]!.GetValue<string>());
        Assert.Null(arrays["/contiguous"]["chunk_shape"]);
        Assert.Equal(1, arrays["/masked"]["refs"]!.AsArray().Count(r => r!["filter_mask"]!.GetValue<uint>() == 1));
        Assert.Equal(">f8", arrays["/big"]["dtype"]!.GetValue<string>());
        Assert.Null(arrays["/labels"]["floe"]);
        Assert.Contains(document["skipped"]!.AsArray(), s => s!["path"]!.GetValue<string>() == "/labels");
    }

    [Fact]
    public async Task A_file_of_neither_format_is_refused_naming_it()
    {
        var path = Path.Combine(files.Directory, "not-a-dataset.txt");
        await File.WriteAllTextAsync(path, "just some text, long enough to be read");

        var ex = await Assert.ThrowsAsync<FormatException>(() => VirtualFileReader.ReadAsync(new LocalFileSource(), path));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_truncated_netcdf4_file_fails_naming_the_file_and_an_offset()
    {
        var bytes = await File.ReadAllBytesAsync(files.Features);
        var path = Path.Combine(files.Directory, "truncated.nc");
        await File.WriteAllBytesAsync(path, bytes.AsSpan(0, 3000).ToArray());

        var ex = await Assert.ThrowsAnyAsync<Hdf5.Hdf5FormatException>(() => VirtualFileReader.ReadAsync(new LocalFileSource(), path));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("at byte", ex.Message, StringComparison.Ordinal);
    }
}
