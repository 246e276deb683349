using System.Globalization;
using System.Text.RegularExpressions;

namespace Floe.Ingest.Sources;

/// <summary>Steps between files as people write them: "30m", "1h", "1d", "2w", or ISO 8601 "PT30M", "P1D".</summary>
public static partial class Durations
{
    private const string Expected = "write e.g. 90s, 30m, 30min, 1h, 1d, 2w, PT30M or P1D";

    /// <summary>Parses a duration; throws <see cref="FormatException"/> naming the text.</summary>
    public static TimeSpan Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        try
        {
            if (ShortForm().Match(trimmed) is { Success: true } shortForm)
            {
                var unit = UnitTicks(shortForm.Groups["unit"].Value)
                    ?? throw new FormatException($"'{text}' is not a duration: unknown unit '{shortForm.Groups["unit"].Value}'; {Expected}.");
                return new TimeSpan(checked(long.Parse(shortForm.Groups["number"].Value, CultureInfo.InvariantCulture) * unit));
            }

            if (IsoForm().Match(trimmed) is { Success: true } iso && HasIsoParts(iso))
            {
                var ticks = checked((Number(iso, "w") * 7 * TimeSpan.TicksPerDay)
                    + (Number(iso, "d") * TimeSpan.TicksPerDay)
                    + (Number(iso, "h") * TimeSpan.TicksPerHour)
                    + (Number(iso, "m") * TimeSpan.TicksPerMinute));
                var seconds = iso.Groups["s"].Success
                    ? decimal.Parse(iso.Groups["s"].Value.Replace(',', '.'), CultureInfo.InvariantCulture)
                    : 0m;
                return new TimeSpan(checked(ticks + (long)(seconds * TimeSpan.TicksPerSecond)));
            }
        }
        catch (OverflowException)
        {
            throw new FormatException($"'{text}' is too long a duration.");
        }

        // Years and months are left out on purpose: they have no fixed length, and steps here are fixed.
        throw new FormatException($"'{text}' is not a duration: {Expected} (years and months have no fixed length).");
    }

    /// <summary>Writes a step in the largest whole unit, for messages: "30 min", "1 h", "1 d", "90 s".</summary>
    public static string Format(TimeSpan step)
    {
        if (step == TimeSpan.MinValue)
        {
            return step.ToString("c", CultureInfo.InvariantCulture);
        }

        var sign = step < TimeSpan.Zero ? "-" : "";
        var ticks = step.Duration().Ticks;
        (long Ticks, string Name)[] units =
        [
            (TimeSpan.TicksPerDay, "d"),
            (TimeSpan.TicksPerHour, "h"),
            (TimeSpan.TicksPerMinute, "min"),
            (TimeSpan.TicksPerSecond, "s"),
            (TimeSpan.TicksPerMillisecond, "ms"),
        ];
        if (ticks == 0)
        {
            return "0 s";
        }

        foreach (var (unitTicks, name) in units)
        {
            if (ticks % unitTicks == 0)
            {
                return $"{sign}{ticks / unitTicks} {name}";
            }
        }

        return step.ToString("c", CultureInfo.InvariantCulture);
    }

    private static long? UnitTicks(string unit)
    {
        // A capital M alone could mean months.
        if (unit == "M")
        {
            return null;
        }

        return unit.ToLowerInvariant() switch
        {
            "ms" => TimeSpan.TicksPerMillisecond,
            "s" or "sec" or "secs" or "second" or "seconds" => TimeSpan.TicksPerSecond,
            "m" or "min" or "mins" or "minute" or "minutes" => TimeSpan.TicksPerMinute,
            "h" or "hr" or "hrs" or "hour" or "hours" => TimeSpan.TicksPerHour,
            "d" or "day" or "days" => TimeSpan.TicksPerDay,
            "w" or "week" or "weeks" => 7 * TimeSpan.TicksPerDay,
            _ => null,
        };
    }

    private static bool HasIsoParts(Match iso) =>
        iso.Groups["w"].Success || iso.Groups["d"].Success || iso.Groups["time"].Success;

    private static long Number(Match match, string group) =>
        match.Groups[group].Success ? long.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : 0;

    [GeneratedRegex(@"^(?<number>[0-9]+)\s*(?<unit>[A-Za-z]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex ShortForm();

    [GeneratedRegex(
        @"^P(?:(?<w>[0-9]+)W|(?:(?<d>[0-9]+)D)?(?:T(?<time>(?=[0-9])(?:(?<h>[0-9]+)H)?(?:(?<m>[0-9]+)M)?(?:(?<s>[0-9]+(?:[.,][0-9]+)?)S)?))?)$",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex IsoForm();
}
