using Floe.Ingest.Sources;

namespace Floe.Ingest.Tests.Sources;

public sealed class StandInSourceTests
{
    private static readonly DateTimeOffset Start = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static TimeTemplateSource Logical() =>
        new(TimeTemplates.Imerg("s3://bucket/imerg"), Start, Start.AddHours(5), TimeTemplates.ImergStep);

    [Fact]
    public async Task Read_from_cycles_through_the_physical_files_while_locations_stay_logical()
    {
        var logical = Logical();
        var source = new StandInSource(logical, ["/local/a.h5", "/local/b.h5", "/local/c.h5"]);

        var files = await source.EnumerateAsync().ToListAsync();
        var expected = await logical.EnumerateAsync().ToListAsync();

        Assert.Equal(expected.Select(f => (f.Location, f.Ordinal, f.Time)), files.Select(f => (f.Location, f.Ordinal, f.Time)));
        Assert.Equal(
            ["/local/a.h5", "/local/b.h5", "/local/c.h5", "/local/a.h5", "/local/b.h5", "/local/c.h5", "/local/a.h5", "/local/b.h5", "/local/c.h5", "/local/a.h5"],
            files.Select(f => f.ReadFrom));
    }

    [Fact]
    public async Task From_ordinal_keeps_the_mapping_by_ordinal()
    {
        var source = new StandInSource(Logical(), ["/local/a.h5", "/local/b.h5", "/local/c.h5"]);

        var first = await source.EnumerateAsync(fromOrdinal: 4).FirstAsync();

        Assert.Equal(4, first.Ordinal);
        Assert.Equal("/local/b.h5", first.ReadFrom);
        Assert.EndsWith("20200101-S020000-E022959.0120.V07B.HDF5", first.Location, StringComparison.Ordinal);
    }

    [Fact]
    public void Count_start_and_step_come_from_the_logical_set()
    {
        var source = new StandInSource(Logical(), ["/local/a.h5"]);

        Assert.Equal(10, source.Count);
        Assert.Equal(Start, source.Start);
        Assert.Equal(TimeSpan.FromMinutes(30), source.Step);
        Assert.Null(new StandInSource(new ListSource(["/x"]), ["/y"]).Start);
    }

    [Fact]
    public void No_physical_files_is_an_argument_error()
    {
        Assert.Equal("physical", Assert.Throws<ArgumentException>(() => new StandInSource(Logical(), [])).ParamName);
    }
}
