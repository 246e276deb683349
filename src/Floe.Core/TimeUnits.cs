using System.Globalization;

namespace Floe.Core;

/// <summary>
/// CF time units ("seconds since 1970-01-01 00:00:00 UTC", "hours since 1900-01-01 00:00:00.0", "days since
/// 2000-1-1"): the length of one unit and the reference time, so a step such as 30 minutes can be expressed in a
/// file's own numbers. Times are read as the proleptic Gregorian calendar in UTC; positions along the append
/// dimension are computed from the numbers themselves, so the calendar only matters for the times shown to people.
/// </summary>
public sealed record TimeUnits(TimeSpan Unit, DateTimeOffset Reference, string Text)
{
    public static TimeUnits Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var since = text.IndexOf(" since ", StringComparison.OrdinalIgnoreCase);
        if (since <= 0)
        {
            throw new FormatException($"time units \"{text}\" are not of the form \"<unit> since <date>\"");
        }

        var unit = text[..since].Trim().ToLowerInvariant() switch
        {
            "seconds" or "second" or "secs" or "sec" or "s" => TimeSpan.FromSeconds(1),
            "minutes" or "minute" or "mins" or "min" => TimeSpan.FromMinutes(1),
            "hours" or "hour" or "hrs" or "hr" or "h" => TimeSpan.FromHours(1),
            "days" or "day" or "d" => TimeSpan.FromDays(1),
            "milliseconds" or "millisecond" or "msec" or "ms" => TimeSpan.FromMilliseconds(1),
            var other => throw new FormatException($"time units \"{text}\": unknown unit \"{other}\""),
        };
        var reference = ParseReference(text[(since + 7)..].Trim(), text);
        return new TimeUnits(unit, reference, text);
    }

    /// <summary>How many units a step is; throws when the step is not a whole number of units' worth (within rounding).</summary>
    public double StepInUnits(TimeSpan step) => step.Ticks / (double)Unit.Ticks;

    /// <summary>The time a number in these units stands for.</summary>
    public DateTimeOffset ToTime(double value) => Reference + TimeSpan.FromTicks(checked((long)Math.Round(value * Unit.Ticks)));

    /// <summary>The number in these units for a time.</summary>
    public double FromTime(DateTimeOffset time) => (time - Reference).Ticks / (double)Unit.Ticks;

    private static DateTimeOffset ParseReference(string text, string units)
    {
        // "1970-01-01 00:00:00 UTC", "1900-01-01 00:00:00.0", "2000-1-1", "1970-01-01T00:00:00Z".
        var cleaned = text.Replace("UTC", "", StringComparison.OrdinalIgnoreCase).Trim().TrimEnd('Z', 'z').Replace('T', ' ');
        string[] formats =
        [
            "yyyy-M-d H:m:s.FFFFFFF", "yyyy-M-d H:m:s", "yyyy-M-d H:m", "yyyy-M-d H", "yyyy-M-d",
        ];
        return DateTime.TryParseExact(cleaned.Trim(), formats, CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed)
            ? new DateTimeOffset(parsed, TimeSpan.Zero)
            : throw new FormatException($"time units \"{units}\": cannot read the reference date \"{text}\"");
    }
}
