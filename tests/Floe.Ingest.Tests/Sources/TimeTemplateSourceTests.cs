using System.Globalization;
using Floe.Ingest.Sources;
using Floe.Tests.Shared;

namespace Floe.Ingest.Tests.Sources;

public sealed class TimeTemplateSourceTests
{
    private const string ImergRoot = "s3://gesdisc-cumulus-prod-protected/GPM_L3/GPM_3IMERGHH.07";

    // The seed's own function: the independent oracle for IMERG names.
    private const string ImergOracle = """
        import sys
        from datetime import datetime, timedelta
        def make_url(base_url, date):
            end_date = date + timedelta(minutes=29, seconds=59)
            base_date = datetime(year=date.year, month=date.month, day=date.day)
            delta_minutes = (date - base_date) // timedelta(minutes=1)
            return '/'.join([base_url, "{:04d}".format(date.year), date.strftime('%j'),
                "3B-HHR.MS.MRG.3IMERG." + date.strftime("%Y%m%d") + "-S" + date.strftime("%H%M%S") + "-E" + end_date.strftime("%H%M%S") + ".{:04d}".format(delta_minutes) + ".V07B.HDF5"])
        start = datetime.fromisoformat(sys.argv[2])
        for i in range(int(sys.argv[3])):
            print(make_url(sys.argv[1], start + timedelta(minutes=30) * i))
        """;

    private static DateTimeOffset Utc(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static TimeTemplateSource Imerg(string start, string end) =>
        new(TimeTemplates.Imerg(ImergRoot), Utc(start), Utc(end), TimeTemplates.ImergStep);

    [Fact]
    public void Imerg_names_the_first_file_of_1998_as_nasa_does()
    {
        Assert.Equal(
            "s3://gesdisc-cumulus-prod-protected/GPM_L3/GPM_3IMERGHH.07/1998/001/3B-HHR.MS.MRG.3IMERG.19980101-S000000-E002959.0000.V07B.HDF5",
            TimeTemplates.Expand(TimeTemplates.Imerg(ImergRoot), Utc("1998-01-01T00:00"), TimeTemplates.ImergStep));
    }

    [Fact]
    public async Task Imerg_names_the_last_half_hour_of_a_leap_year_day_366()
    {
        var files = await Imerg("2020-12-31T23:30", "2021-01-01T00:00").EnumerateAsync().ToListAsync();

        var file = Assert.Single(files);
        Assert.Equal(ImergRoot + "/2020/366/3B-HHR.MS.MRG.3IMERG.20201231-S233000-E235959.1410.V07B.HDF5", file.Location);
        Assert.Equal(Utc("2020-12-31T23:30"), file.Time);
        Assert.Equal(0, file.Ordinal);
    }

    [Theory]
    [InlineData("2019-12-30T00:00")] // a year boundary
    [InlineData("2020-02-27T12:00")] // a leap day
    [InlineData("2020-12-29T06:30")] // day 366 and a year boundary
    public async Task Imerg_names_match_the_seed_python_function_for_200_steps(string start)
    {
        const int steps = 200;
        var expected = OraclePython.Run(ImergOracle, ImergRoot, start, steps.ToString(CultureInfo.InvariantCulture))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var source = Imerg(start, Utc(start).AddMinutes(30 * steps).ToString("o", CultureInfo.InvariantCulture));

        var names = await source.EnumerateAsync().Select(f => f.Location).ToListAsync();

        Assert.Equal(steps, expected.Length);
        Assert.Equal(expected, names);
    }

    [Fact]
    public void Era5_names_one_file_per_day_by_year_month_and_day()
    {
        Assert.Equal(
            "/data/era5/2021/03/07/total_precipitation/surface.nc",
            TimeTemplates.Expand(TimeTemplates.Era5("/data/era5/"), Utc("2021-03-07T00:00"), TimeTemplates.Era5Step));
        Assert.Equal(TimeSpan.FromDays(1), TimeTemplates.Era5Step);
        Assert.Equal(TimeSpan.FromMinutes(30), TimeTemplates.ImergStep);
    }

    [Fact]
    public async Task Count_ordinals_and_times_follow_the_steps_with_the_end_exclusive()
    {
        var source = new TimeTemplateSource("f{start:yyyyMMddHHmm}", Utc("2020-01-01T00:00"), Utc("2020-01-02T00:00"), TimeSpan.FromMinutes(30));

        var files = await source.EnumerateAsync().ToListAsync();

        Assert.Equal(48, source.Count);
        Assert.Equal(48, files.Count);
        Assert.Equal(Enumerable.Range(0, 48).Select(i => (long)i), files.Select(f => f.Ordinal));
        Assert.Equal("f202001010000", files[0].Location);
        Assert.Equal("f202001012330", files[^1].Location);
        Assert.Equal(Utc("2020-01-01T23:30"), files[^1].Time);
        Assert.All(files, f => Assert.Equal(f.Location, f.ReadFrom));
        Assert.Equal(Utc("2020-01-01T00:00"), source.Start);
        Assert.Equal(TimeSpan.FromMinutes(30), source.Step);
        Assert.Equal(
            "template f{start:yyyyMMddHHmm} from 2020-01-01T00:00Z to 2020-01-02T00:00Z every 30 min (48 files)",
            source.Description);
    }

    [Fact]
    public async Task A_range_not_a_whole_number_of_steps_includes_the_partial_last_step()
    {
        var source = new TimeTemplateSource("{start:HHmm}", Utc("2020-01-01T00:00"), Utc("2020-01-01T01:01"), TimeSpan.FromMinutes(30));

        Assert.Equal(3, source.Count);
        Assert.Equal(["0000", "0030", "0100"], await source.EnumerateAsync().Select(f => f.Location).ToListAsync());
    }

    [Fact]
    public async Task An_empty_range_has_no_files()
    {
        var source = new TimeTemplateSource("{start:HHmm}", Utc("2020-01-01T00:00"), Utc("2020-01-01T00:00"), TimeSpan.FromMinutes(30));

        Assert.Equal(0, source.Count);
        Assert.Empty(await source.EnumerateAsync().ToListAsync());
    }

    [Fact]
    public async Task From_ordinal_resumes_at_that_step()
    {
        var source = Imerg("1998-01-01T00:00", "1999-01-01T00:00");

        var files = await source.EnumerateAsync(fromOrdinal: 17_519).ToListAsync();

        var file = Assert.Single(files);
        Assert.Equal(17_519, file.Ordinal);
        Assert.Equal(ImergRoot + "/1998/365/3B-HHR.MS.MRG.3IMERG.19981231-S233000-E235959.1410.V07B.HDF5", file.Location);
        Assert.Empty(await source.EnumerateAsync(fromOrdinal: 17_520).ToListAsync());
        Assert.Throws<ArgumentOutOfRangeException>(() => source.EnumerateAsync(fromOrdinal: -1));
    }

    [Fact]
    public async Task Times_with_another_offset_are_named_in_utc()
    {
        var start = new DateTimeOffset(2020, 1, 1, 2, 0, 0, TimeSpan.FromHours(2));
        var source = new TimeTemplateSource("{start:yyyy-MM-dd HH}", start, start.AddHours(1), TimeSpan.FromHours(1));

        var file = Assert.Single(await source.EnumerateAsync().ToListAsync());

        Assert.Equal("2020-01-01 00", file.Location);
        Assert.Equal(TimeSpan.Zero, file.Time!.Value.Offset);
        Assert.Equal(TimeSpan.Zero, source.Start!.Value.Offset);
    }

    [Theory]
    [InlineData("{start:yyyy}/{doy}/{minute}", "2020/060/750")]
    [InlineData("{start:d}-{end:HH:mm:ss}-{minute:0000}-{doy:0}", "29-12:59:59-0750-60")]
    [InlineData("{{literal}}/{start:yyyy}", "{literal}/2020")]
    [InlineData("s3://bucket/a}}b{{c", "s3://bucket/a}b{c")]
    public void Tokens_expand_to_the_step_in_utc(string template, string expected)
    {
        Assert.Equal(expected, TimeTemplates.Expand(template, Utc("2020-02-29T12:30"), TimeSpan.FromMinutes(30)));
    }

    [Fact]
    public void A_root_with_braces_is_taken_literally()
    {
        Assert.StartsWith("/data/{x}/1998/001/", TimeTemplates.Expand(TimeTemplates.Imerg("/data/{x}"), Utc("1998-01-01"), TimeTemplates.ImergStep), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/data/{year}/x.nc", "'{year}'")]
    [InlineData("/data/{Start:yyyy}/x.nc", "'{Start:yyyy}'")]
    [InlineData("/data/{start:yyyy/x.nc", "'{start:yyyy/x.nc'")]
    [InlineData("/data/{start:yyyy/{doy}.nc", "'{start:yyyy/'")]
    [InlineData("/data/{start}/x.nc", "'{start}'")]
    [InlineData("/data/x}.nc", "'}'")]
    public void A_bad_token_or_brace_throws_naming_it_and_the_template(string template, string named)
    {
        var error = Assert.Throws<FormatException>(
            () => new TimeTemplateSource(template, Utc("2020-01-01"), Utc("2020-01-02"), TimeSpan.FromDays(1)));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{template}'", error.Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => TimeTemplates.Expand(template, Utc("2020-01-01"), TimeSpan.FromDays(1)));
    }

    [Fact]
    public void A_step_that_is_not_positive_or_an_end_before_the_start_is_an_argument_error()
    {
        var start = Utc("2020-01-01");
        Assert.Equal("step", Assert.Throws<ArgumentException>(() => new TimeTemplateSource("{start:yyyy}", start, start.AddDays(1), TimeSpan.Zero)).ParamName);
        Assert.Equal("step", Assert.Throws<ArgumentException>(() => new TimeTemplateSource("{start:yyyy}", start, start.AddDays(1), TimeSpan.FromHours(-1))).ParamName);
        Assert.Equal("end", Assert.Throws<ArgumentException>(() => new TimeTemplateSource("{start:yyyy}", start, start.AddDays(-1), TimeSpan.FromDays(1))).ParamName);
    }
}
