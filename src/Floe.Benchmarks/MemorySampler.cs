using System.Diagnostics;

namespace Floe.Benchmarks;

/// <summary>Samples the managed heap every few milliseconds to find its peak during a measured step.</summary>
public sealed class MemorySampler : IDisposable
{
    private readonly Thread _thread;
    private volatile bool _stop;
    private long _peakHeap;

    public MemorySampler()
    {
        _peakHeap = GC.GetTotalMemory(false);
        _thread = new Thread(Run) { IsBackground = true, Name = "memory sampler" };
        _thread.Start();
    }

    public long PeakHeapBytes => Interlocked.Read(ref _peakHeap);

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
    }

    /// <summary>The process's peak resident set (VmHWM) in bytes, or the current working set where /proc is absent.</summary>
    public static long PeakResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return Process.GetCurrentProcess().PeakWorkingSet64;
    }

    private void Run()
    {
        while (!_stop)
        {
            var heap = GC.GetTotalMemory(false);
            if (heap > Interlocked.Read(ref _peakHeap))
            {
                Interlocked.Exchange(ref _peakHeap, heap);
            }

            Thread.Sleep(2);
        }
    }
}
