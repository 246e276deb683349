using Floe.Ingest.Sources;

namespace Floe.Ingest.Tests.Sources;

public sealed class DurationsTests
{
    [Theory]
    [InlineData("30m", 30 * 60)]
    [InlineData("30min", 30 * 60)]
    [InlineData("30 min", 30 * 60)]
    [InlineData("1h", 3600)]
    [InlineData("6h", 6 * 3600)]
    [InlineData("1d", 86400)]
    [InlineData("90s", 90)]
    [InlineData("2w", 14 * 86400)]
    [InlineData(" 3 hours ", 3 * 3600)]
    [InlineData("PT30M", 30 * 60)]
    [InlineData("P1D", 86400)]
    [InlineData("PT1H30M", 5400)]
    [InlineData("P1DT12H", 36 * 3600)]
    [InlineData("PT90S", 90)]
    [InlineData("P2W", 14 * 86400)]
    [InlineData("pt30m", 30 * 60)]
    public void Parse_reads_short_and_iso_8601_forms(string text, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), Durations.Parse(text));
    }

    [Fact]
    public void Parse_reads_fractional_iso_seconds_and_milliseconds()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(1500), Durations.Parse("PT1.5S"));
        Assert.Equal(TimeSpan.FromMilliseconds(250), Durations.Parse("250ms"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("30")]
    [InlineData("m")]
    [InlineData("-30m")]
    [InlineData("1.5h")]
    [InlineData("3 fortnights")]
    [InlineData("1M")]
    [InlineData("P1M")]
    [InlineData("P1Y")]
    [InlineData("P")]
    [InlineData("PT")]
    [InlineData("PT30")]
    [InlineData("99999999999999w")]
    public void Parse_rejects_what_is_not_a_fixed_duration_naming_the_text(string text)
    {
        var error = Assert.Throws<FormatException>(() => Durations.Parse(text));

        Assert.Contains($"'{text}'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(30 * 60, "30 min")]
    [InlineData(3600, "1 h")]
    [InlineData(86400, "1 d")]
    [InlineData(7 * 86400, "7 d")]
    [InlineData(90, "90 s")]
    [InlineData(5400, "90 min")]
    [InlineData(0, "0 s")]
    [InlineData(-3600, "-1 h")]
    public void Format_writes_the_largest_whole_unit(int seconds, string expected)
    {
        Assert.Equal(expected, Durations.Format(TimeSpan.FromSeconds(seconds)));
    }

    [Fact]
    public void Format_and_parse_round_trip()
    {
        foreach (var step in new[] { TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(90), TimeSpan.FromMinutes(30), TimeSpan.FromHours(6), TimeSpan.FromDays(3) })
        {
            Assert.Equal(step, Durations.Parse(Durations.Format(step)));
        }
    }
}
