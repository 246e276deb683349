using Floe.Ingest.Sources;

namespace Floe.Ingest.Tests.Sources;

public sealed class ListSourceTests
{
    [Fact]
    public async Task Locations_keep_their_order_and_ordinals_count_from_zero()
    {
        var source = new ListSource(["s3://b/z.nc", "/data/a.nc", "https://host/m.nc"]);

        var files = await source.EnumerateAsync().ToListAsync();

        Assert.Equal(3, source.Count);
        Assert.Equal(["s3://b/z.nc", "/data/a.nc", "https://host/m.nc"], files.Select(f => f.Location));
        Assert.Equal([0L, 1, 2], files.Select(f => f.Ordinal));
        Assert.All(files, f => Assert.Null(f.Time));
        Assert.Equal(["https://host/m.nc"], await source.EnumerateAsync(fromOrdinal: 2).Select(f => f.Location).ToListAsync());
        Assert.Empty(await source.EnumerateAsync(fromOrdinal: 5).ToListAsync());
        Assert.Equal("list of 3 files", source.Description);
    }

    [Fact]
    public async Task A_list_file_ignores_blank_lines_and_comments()
    {
        using var tree = new TempTree();
        var path = tree.Add("files.txt", "# IMERG sample\n/data/a.nc\n\n   \n  /data/b.nc  \r\n  # a note\n/data/c#1.nc\n");

        var source = await ListSource.FromFileAsync(path);

        Assert.Equal(["/data/a.nc", "/data/b.nc", "/data/c#1.nc"], await source.EnumerateAsync().Select(f => f.Location).ToListAsync());
        Assert.Equal($"list file {path} (3 files)", source.Description);
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, path);
        Assert.Equal(source.Description, (await ListSource.FromFileAsync(relative)).Description);
    }

    [Fact]
    public void A_blank_location_is_an_argument_error()
    {
        Assert.Throws<ArgumentException>(() => new ListSource(["/data/a.nc", " "]));
    }
}
