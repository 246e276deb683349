using Floe.Storage;

namespace Floe.Formats.Hdf5.Tests;

/// <summary>An IMERG-layout NetCDF-4 file written by netCDF4-python: its HDF5 structure and what opening it costs.</summary>
[Collection("hdf5 fixtures")]
public sealed class NetCdf4Tests(FixtureSet fixtures)
{
    [Fact]
    public async Task Imerg_layout_structure_and_dimension_scales()
    {
        var file = await fixtures.OpenAsync("imerg.nc");
        var precipitation = Assert.IsType<Hdf5Dataset>(file.Find("/Grid/precipitation"));
        var layout = Assert.IsType<Hdf5ChunkedLayout>(precipitation.Layout);
        Assert.Equal([1, 145, 1800], layout.ChunkShape);
        Assert.Equal([1L, 3600, 1800], precipitation.Dataspace.Dimensions);
        Assert.Equal("<f4", precipitation.Datatype.NumpyTypeString);
        Assert.Equal(["shuffle", "deflate"], precipitation.Filters.Select(f => f.Name));
        Assert.Equal([4u], precipitation.Filters[1].ClientData);
        Assert.Equal(-9999.9f, BitConverter.ToSingle(precipitation.FillValue.Value!));
        Assert.Equal(25, (await file.ReadChunksAsync(precipitation)).Count);

        // Dimension scales: DIMENSION_LIST (vlen of object references) on the variable, REFERENCE_LIST (compound)
        // and CLASS on the coordinate.
        var dimensions = Assert.IsType<object[]>(precipitation.Attribute("DIMENSION_LIST")!.Value);
        var names = dimensions.Select(d => file.FindByAddress(Assert.Single(Assert.IsType<Hdf5ObjectReference[]>(d)).Address)!.Path);
        Assert.Equal(["/Grid/time", "/Grid/lon", "/Grid/lat"], names);
        var lon = file.Find("/Grid/lon")!;
        Assert.Equal("DIMENSION_SCALE", lon.Attribute("CLASS")!.Value);
        var references = Assert.IsType<IReadOnlyDictionary<string, object?>[]>(lon.Attribute("REFERENCE_LIST")!.Value);
        Assert.Contains(references, r => file.FindByAddress(((Hdf5ObjectReference)r["dataset"]!).Address)!.Path == "/Grid/precipitation" && (int)r["dimension"]! == 1);
        Assert.Equal("mm/hr", precipitation.Attribute("units")!.Value);
        Assert.Contains("_NCProperties", file.Root.Attributes.Select(a => a.Name));
    }

    // Speed is measured by `floe bench hdf5`, not here; this checks what the open costs in requests and finds.
    [Fact]
    public async Task Opening_and_listing_every_chunk_takes_few_requests()
    {
        var file = await Hdf5File.OpenAsync(new LocalFileSource(), fixtures.PathOf("imerg.nc"));
        var chunks = 0;
        foreach (var dataset in file.Walk().OfType<Hdf5Dataset>())
        {
            chunks += (await file.ReadChunksAsync(dataset)).Count;
        }

        Assert.Equal(25 * 6 + 2 + 4, chunks);
        Assert.True(file.RequestCount <= 12, $"{file.RequestCount} requests");
    }

    [Fact]
    public async Task Reading_from_an_already_cached_head_reuses_the_reader()
    {
        var reader = new CachingRangeReader(new LocalFileSource(), fixtures.PathOf("imerg.nc"));
        await reader.ReadAsync(0, 8);
        var file = await Hdf5File.OpenAsync(reader);
        Assert.Equal(2, file.SuperblockVersion);
        Assert.NotNull(file.Find("/Grid/lat_bnds"));
    }
}
