using System.Globalization;

namespace Floe.Benchmarks;

/// <summary>
/// The process's resident set: now, and its peak since the last reset. Linux lets a process reset its own peak
/// (5 written to /proc/self/clear_refs), which makes each batch's peak exact; elsewhere the peak is the process's so far.
/// </summary>
internal sealed class ResidentMemory
{
    private long _overall;

    public bool PerPeriod { get; private set; } = OperatingSystem.IsLinux();

    public void Reset()
    {
        _overall = Math.Max(_overall, MemorySampler.PeakResidentBytes());
        if (!PerPeriod)
        {
            return;
        }

        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            PerPeriod = false;
        }
    }

    /// <summary>The peak since the last reset (then resets).</summary>
    public long TakePeak()
    {
        var peak = MemorySampler.PeakResidentBytes();
        Reset();
        return peak;
    }

    public static long Current()
    {
        if (OperatingSystem.IsLinux())
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }

        return Environment.WorkingSet;
    }
}
