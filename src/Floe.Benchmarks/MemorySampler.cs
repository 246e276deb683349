using System.Diagnostics;

namespace Floe.Benchmarks;

/// <summary>
/// Watches the managed heap during a measured step: the largest heap seen after any garbage collection in it
/// (live data, not garbage awaiting collection), and the largest raw heap seen between collections.
/// </summary>
public sealed class MemorySampler : IDisposable
{
    private readonly Thread _thread;
    private volatile bool _stop;
    private long _peakHeap;
    private long _peakLive;
    private long _lastGcIndex;
    private readonly int _fullCollectionEveryMs;

    /// <param name="fullCollectionEveryMs">
    /// When above 0, force a full collection that often and record the heap after it: the exact live size, at the
    /// cost of slowing the step (use it for memory figures, not for times).
    /// </param>
    public MemorySampler(int fullCollectionEveryMs = 0)
    {
        _fullCollectionEveryMs = fullCollectionEveryMs;
        _peakHeap = GC.GetTotalMemory(false);
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        _lastGcIndex = info.Index;
        BaselineLiveBytes = info.HeapSizeBytes;
        _thread = new Thread(Run) { IsBackground = true, Name = "memory sampler" };
        _thread.Start();
    }

    public long PeakHeapBytes => Interlocked.Read(ref _peakHeap);

    /// <summary>The heap size after the last collection before the step began.</summary>
    public long BaselineLiveBytes { get; }

    /// <summary>The largest heap size after a collection during the step (the baseline if none ran).</summary>
    public long PeakLiveBytes => Math.Max(Interlocked.Read(ref _peakLive), BaselineLiveBytes);

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
        var clock = Stopwatch.StartNew();
        while (!_stop)
        {
            if (_fullCollectionEveryMs > 0 && clock.ElapsedMilliseconds >= _fullCollectionEveryMs)
            {
                clock.Restart();
                var live = GC.GetTotalMemory(forceFullCollection: true);
                if (live > Interlocked.Read(ref _peakLive))
                {
                    Interlocked.Exchange(ref _peakLive, live);
                }
            }

            var heap = GC.GetTotalMemory(false);
            if (heap > Interlocked.Read(ref _peakHeap))
            {
                Interlocked.Exchange(ref _peakHeap, heap);
            }

            var info = GC.GetGCMemoryInfo(GCKind.Any);
            if (info.Index != _lastGcIndex)
            {
                _lastGcIndex = info.Index;
                if (info.HeapSizeBytes > Interlocked.Read(ref _peakLive))
                {
                    Interlocked.Exchange(ref _peakLive, info.HeapSizeBytes);
                }
            }

            Thread.Sleep(2);
        }
    }
}
