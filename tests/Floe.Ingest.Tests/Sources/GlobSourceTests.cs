using Floe.Ingest.Sources;

namespace Floe.Ingest.Tests.Sources;

public sealed class GlobSourceTests : IDisposable
{
    private readonly TempTree _tree = new(
        "2020/001/a.nc",
        "2020/001/b.nc",
        "2020/001/b.txt",
        "2020/001/.hidden.nc",
        "2020/002/a.nc",
        "2020/002/sub/deep.nc",
        "2021/001/c.nc",
        ".cache/skip.nc",
        "x1.nc",
        "x2.nc",
        "xa.nc",
        "x10.nc",
        "order/b.nc",
        "order/b/x.nc",
        "order/b0.nc",
        "order/b-x.nc");

    public void Dispose() => _tree.Dispose();

    private async Task<List<string>> MatchAsync(string relativePattern, long fromOrdinal = 0) =>
        await new GlobSource(Path.Combine(_tree.Root, relativePattern)).EnumerateAsync(fromOrdinal).Select(f => f.Location).ToListAsync();

    private List<string> Paths(params string[] relative) => [.. relative.Select(r => _tree[r])];

    [Fact]
    public async Task Double_star_matches_any_number_of_directories_sorted_and_absolute()
    {
        var matches = await MatchAsync("**/*.nc");

        Assert.Equal(
            Paths("2020/001/a.nc", "2020/001/b.nc", "2020/002/a.nc", "2020/002/sub/deep.nc", "2021/001/c.nc",
                "order/b-x.nc", "order/b.nc", "order/b/x.nc", "order/b0.nc", "x1.nc", "x10.nc", "x2.nc", "xa.nc"),
            matches);
        Assert.Equal(matches.Order(StringComparer.Ordinal), matches);
        Assert.All(matches, m => Assert.True(Path.IsPathFullyQualified(m)));
    }

    [Fact]
    public async Task Double_star_also_matches_zero_directories_and_alone_matches_every_file_under()
    {
        Assert.Equal(Paths("2020/001/a.nc", "2020/002/a.nc"), await MatchAsync("2020/**/a.nc"));
        Assert.Equal(Paths("2020/002/sub/deep.nc"), await MatchAsync("**/deep.nc"));
        Assert.Equal(Paths("2020/002/a.nc", "2020/002/sub/deep.nc"), await MatchAsync("2020/002/**"));
        Assert.Equal(Paths("2020/002/a.nc", "2020/002/sub/deep.nc"), await MatchAsync("2020/**/**/002/**"));
    }

    [Fact]
    public async Task Star_and_question_mark_match_within_one_name()
    {
        Assert.Equal(Paths("2020/001/a.nc", "2020/001/b.nc", "2020/002/a.nc", "2021/001/c.nc", "order/b/x.nc"), await MatchAsync("*/*/*.nc"));
        Assert.Equal(Paths("x1.nc", "x2.nc", "xa.nc"), await MatchAsync("x?.nc"));
        Assert.Equal(Paths("2020/001/b.nc", "2020/001/b.txt"), await MatchAsync("20?0/001/b.*"));
    }

    [Fact]
    public async Task Character_classes_match_sets_ranges_and_negations()
    {
        Assert.Equal(Paths("x1.nc", "x2.nc"), await MatchAsync("x[12].nc"));
        Assert.Equal(Paths("xa.nc"), await MatchAsync("x[a-z].nc"));
        Assert.Equal(Paths("x2.nc", "xa.nc"), await MatchAsync("x[!1].nc"));
        Assert.Equal(Paths("2020/001/a.nc", "2020/002/a.nc"), await MatchAsync("202[0]/00[0-9]/[a].nc"));
    }

    [Fact]
    public async Task Hidden_names_match_only_a_pattern_that_starts_with_a_dot()
    {
        Assert.DoesNotContain(await MatchAsync("**/*"), m => m.Contains("/.", StringComparison.Ordinal));
        Assert.Equal(Paths("2020/001/.hidden.nc"), await MatchAsync("2020/001/.*.nc"));
        Assert.Equal(Paths(".cache/skip.nc"), await MatchAsync(".cache/*.nc"));
    }

    [Fact]
    public async Task Double_star_does_not_follow_directory_links_so_a_loop_ends()
    {
        Directory.CreateSymbolicLink(_tree["2020/002/sub/loop"], _tree["2020"]);
        Directory.CreateSymbolicLink(_tree["link"], _tree["2021"]);

        Assert.Equal(Paths("2020/001/a.nc", "2020/002/a.nc"), await MatchAsync("**/a.nc"));
        Assert.Equal(Paths("link/001/c.nc"), await MatchAsync("link/*/c.nc"));
        Assert.Equal(Paths("2020/002/sub/loop/001/a.nc", "2020/002/sub/loop/002/a.nc"), await MatchAsync("2020/*/sub/*/*/a.nc"));
    }

    [Fact]
    public async Task A_pattern_without_wildcards_yields_that_file_if_it_exists()
    {
        Assert.Equal(Paths("2020/001/a.nc"), await MatchAsync("2020/001/a.nc"));
        Assert.Empty(await MatchAsync("2020/001/missing.nc"));
        Assert.Empty(await MatchAsync("2020/001"));
    }

    [Fact]
    public async Task A_pattern_matching_nothing_yields_nothing()
    {
        Assert.Empty(await MatchAsync("**/*.hdf5"));
        Assert.Empty(await MatchAsync("missing/**/*.nc"));
    }

    [Fact]
    public async Task A_relative_pattern_resolves_against_the_current_directory()
    {
        var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), _tree["2020"]);

        var matches = await new GlobSource(relative + "/*/a.nc").EnumerateAsync().Select(f => f.Location).ToListAsync();

        Assert.Equal(Paths("2020/001/a.nc", "2020/002/a.nc"), matches);
        Assert.Equal(Paths("2021/001/c.nc"), await new GlobSource("*/*/c.nc", _tree.Root).EnumerateAsync().Select(f => f.Location).ToListAsync());
    }

    [Fact]
    public async Task Ordinals_count_matches_in_order_and_from_ordinal_skips()
    {
        var all = await new GlobSource(Path.Combine(_tree.Root, "x*.nc")).EnumerateAsync().ToListAsync();
        var rest = await new GlobSource(Path.Combine(_tree.Root, "x*.nc")).EnumerateAsync(fromOrdinal: 2).ToListAsync();

        Assert.Equal([0L, 1, 2, 3], all.Select(f => f.Ordinal));
        Assert.Equal(all.Skip(2), rest);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void An_empty_pattern_is_an_argument_error(string pattern)
    {
        var error = Assert.Throws<ArgumentException>(() => new GlobSource(pattern));

        Assert.Equal("pattern", error.ParamName);
        Assert.Contains($"'{pattern}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unclosed_character_class_is_an_argument_error_naming_the_pattern()
    {
        var error = Assert.Throws<ArgumentException>(() => new GlobSource("/data/x[12.nc"));

        Assert.Contains("'/data/x[12.nc'", error.Message, StringComparison.Ordinal);
    }
}
