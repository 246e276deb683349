using System.Globalization;

namespace Floe.Ingest.Sources;

/// <summary>Templates of well-known archives, and the token expansion of <see cref="TimeTemplateSource"/>.</summary>
public static class TimeTemplates
{
    /// <summary>GPM IMERG half-hourly files are 30 minutes apart.</summary>
    public static readonly TimeSpan ImergStep = TimeSpan.FromMinutes(30);

    /// <summary>ERA5 raw files hold one day each.</summary>
    public static readonly TimeSpan Era5Step = TimeSpan.FromDays(1);

    /// <summary>
    /// NASA's GPM IMERG half-hourly naming, a directory per year and day of year; e.g. at 1998-01-01T00:00
    /// <c>ROOT/1998/001/3B-HHR.MS.MRG.3IMERG.19980101-S000000-E002959.0000.V07B.HDF5</c>.
    /// </summary>
    public static string Imerg(string root) =>
        EscapeRoot(root) + "/{start:yyyy}/{doy}/3B-HHR.MS.MRG.3IMERG.{start:yyyyMMdd}-S{start:HHmmss}-E{end:HHmmss}.{minute:0000}.V07B.HDF5";

    /// <summary>ERA5 raw daily files: <c>ROOT/yyyy/MM/dd/total_precipitation/surface.nc</c>.</summary>
    public static string Era5(string root) =>
        EscapeRoot(root) + "/{start:yyyy}/{start:MM}/{start:dd}/total_precipitation/surface.nc";

    /// <summary>Expands <paramref name="template"/> for the step starting at <paramref name="start"/> (taken in UTC).</summary>
    public static string Expand(string template, DateTimeOffset start, TimeSpan step) =>
        TimeTemplate.Parse(template).Expand(start.UtcDateTime, step);

    /// <summary>A time in UTC for messages: 2020-01-01T00:00Z, with seconds only when there are some.</summary>
    internal static string FormatUtc(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        var format = utc.Ticks % TimeSpan.TicksPerMinute == 0 ? "yyyy-MM-dd'T'HH:mm'Z'" : "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'";
        return utc.ToString(format, CultureInfo.InvariantCulture);
    }

    // A root is a path or URL, never a template: its braces are literal.
    private static string EscapeRoot(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        return root.TrimEnd('/').Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal);
    }
}
