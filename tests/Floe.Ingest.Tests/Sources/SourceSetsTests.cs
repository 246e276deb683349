using Floe.Ingest.Sources;

namespace Floe.Ingest.Tests.Sources;

public sealed class SourceSetsTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly TempTree _tree = new("real/a.h5", "real/b.h5", "list.txt");

    public void Dispose() => _tree.Dispose();

    private static ArgumentException Fails(Func<SourceSet> create) => Assert.Throws<ArgumentException>(create);

    [Fact]
    public void Explicit_files_make_a_list()
    {
        var source = Assert.IsType<ListSource>(SourceSets.Create(["/a.nc", "/b.nc"], null, null, null, null, null, null, null));

        Assert.Equal(2, source.Count);
    }

    [Fact]
    public void A_list_file_a_glob_and_a_template_make_their_sets()
    {
        File.WriteAllText(_tree["list.txt"], "# two\n/a.nc\n/b.nc\n");

        Assert.Equal(2, Assert.IsType<ListSource>(SourceSets.Create(null, _tree["list.txt"], null, null, null, null, null, null)).Count);
        Assert.IsType<GlobSource>(SourceSets.Create(null, null, _tree.Root + "/real/*.h5", null, null, null, null, null));
        var template = Assert.IsType<TimeTemplateSource>(
            SourceSets.Create(null, null, null, "/d/{start:yyyyMMdd}.nc", Start, Start.AddDays(3), TimeSpan.FromDays(1), null));
        Assert.Equal(3, template.Count);
    }

    [Fact]
    public async Task Presets_bring_their_template_and_default_step()
    {
        var imerg = SourceSets.Create(null, null, null, "imerg:s3://bucket/imerg", Start, Start.AddDays(1), null, null);
        var era5 = SourceSets.Create(null, null, null, "era5:/data/era5", Start, Start.AddDays(2), null, null);

        Assert.Equal(48, imerg.Count);
        Assert.Equal(
            "s3://bucket/imerg/2020/001/3B-HHR.MS.MRG.3IMERG.20200101-S000000-E002959.0000.V07B.HDF5",
            (await imerg.EnumerateAsync().FirstAsync()).Location);
        Assert.Equal(
            ["/data/era5/2020/01/01/total_precipitation/surface.nc", "/data/era5/2020/01/02/total_precipitation/surface.nc"],
            await era5.EnumerateAsync().Select(f => f.Location).ToListAsync());
        Assert.Equal(TimeSpan.FromHours(1), SourceSets.Create(null, null, null, "imerg:/x", Start, Start.AddDays(1), TimeSpan.FromHours(1), null).Step);
    }

    [Fact]
    public async Task A_stand_in_directory_or_glob_wraps_the_set()
    {
        var byDirectory = Assert.IsType<StandInSource>(SourceSets.Create(null, null, null, "imerg:/x", Start, Start.AddHours(2), null, _tree["real"]));
        var byGlob = Assert.IsType<StandInSource>(SourceSets.Create(["/l/1", "/l/2", "/l/3"], null, null, null, null, null, null, _tree["real/*.h5"]));

        Assert.Equal([_tree["real/a.h5"], _tree["real/b.h5"]], byDirectory.Physical);
        Assert.Equal(
            [_tree["real/a.h5"], _tree["real/b.h5"], _tree["real/a.h5"]],
            await byGlob.EnumerateAsync().Select(f => f.ReadFrom).ToListAsync());
    }

    [Fact]
    public void Errors_name_the_options()
    {
        Assert.Contains("--list-file, --glob or --template", Fails(() => SourceSets.Create(null, null, null, null, null, null, null, null)).Message, StringComparison.Ordinal);
        Assert.Contains("Give only one of file arguments, --glob", Fails(() => SourceSets.Create(["/a.nc"], null, "*.nc", "/x/{doy}", Start, Start, null, null)).Message, StringComparison.Ordinal);
        Assert.Contains("--template needs --start and --end", Fails(() => SourceSets.Create(null, null, null, "imerg:/x", Start, null, null, null)).Message, StringComparison.Ordinal);
        Assert.Contains("--every", Fails(() => SourceSets.Create(null, null, null, "/x/{doy}", Start, Start.AddDays(1), null, null)).Message, StringComparison.Ordinal);
        Assert.Contains("--every", Fails(() => SourceSets.Create(null, null, null, "/x/{doy}", Start, Start.AddDays(1), TimeSpan.Zero, null)).Message, StringComparison.Ordinal);
        Assert.Contains("--end", Fails(() => SourceSets.Create(null, null, null, "/x/{doy}", Start, Start.AddDays(-1), TimeSpan.FromDays(1), null)).Message, StringComparison.Ordinal);
        Assert.Contains("--start", Fails(() => SourceSets.Create(["/a.nc"], null, null, null, Start, null, null, null)).Message, StringComparison.Ordinal);
        Assert.Contains("--list-file", Fails(() => SourceSets.Create(null, _tree["missing.txt"], null, null, null, null, null, null)).Message, StringComparison.Ordinal);
        Assert.Contains("--glob", Fails(() => SourceSets.Create(null, null, "", null, null, null, null, null)).Message, StringComparison.Ordinal);
        Assert.Contains("--stand-in", Fails(() => SourceSets.Create(["/a.nc"], null, null, null, null, null, null, _tree["real/*.nc"])).Message, StringComparison.Ordinal);
        Assert.Contains("--template", Fails(() => SourceSets.Create(null, null, null, "imerg:", Start, Start.AddDays(1), null, null)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_template_token_is_an_argument_error_naming_the_option_and_the_token()
    {
        var error = Fails(() => SourceSets.Create(null, null, null, "/x/{year}.nc", Start, Start.AddDays(1), TimeSpan.FromDays(1), null));

        Assert.StartsWith("--template: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("'{year}'", error.Message, StringComparison.Ordinal);
        Assert.IsType<FormatException>(error.InnerException);
    }
}
