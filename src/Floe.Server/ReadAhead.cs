using System.Runtime.CompilerServices;

namespace Floe.Server;

/// <summary>
/// Runs fetches ahead of a stream's writer, in order, so that source latency and decoding overlap with sending.
/// One fetch per stream always runs; each further one reserves its estimated size from one server-wide byte budget
/// and runs only while the budget allows, so many concurrent streams hold at most about the budget in read-ahead
/// (plus one item each), never streams × window.
/// </summary>
public sealed class ReadAhead(long budgetBytes, int maxAheadPerStream = 16)
{
    private long _available = budgetBytes;

    /// <summary>Bytes of the budget not reserved at the moment.</summary>
    public long Available => Interlocked.Read(ref _available);

    /// <summary>
    /// The results of <paramref name="fetch"/> over <paramref name="items"/>, in order. <paramref name="bytesEach"/>
    /// estimates what one result holds; a fetch started ahead keeps that much reserved until its result is taken.
    /// </summary>
    public async IAsyncEnumerable<TResult> RunAsync<TItem, TResult>(
        IEnumerable<TItem> items,
        Func<TItem, Task<TResult>> fetch,
        long bytesEach,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var pending = new Queue<(Task<TResult> Task, long Reserved)>();
        using var source = items.GetEnumerator();
        var more = source.MoveNext();
        try
        {
            while (more || pending.Count > 0)
            {
                while (more && (pending.Count == 0 || (pending.Count < maxAheadPerStream && TryReserve(bytesEach))))
                {
                    // On the thread pool: a fetch that completes without yielding (a local file) still overlaps.
                    var item = source.Current;
                    pending.Enqueue((Task.Run(() => fetch(item), CancellationToken.None), pending.Count == 0 ? 0 : bytesEach));
                    more = source.MoveNext();
                }

                cancellationToken.ThrowIfCancellationRequested();
                var (task, reserved) = pending.Dequeue();
                TResult result;
                try
                {
                    result = await task;
                }
                finally
                {
                    Release(reserved);
                }

                yield return result;
            }
        }
        finally
        {
            // Fetches still running (the stream failed or was cancelled) give back their share when they end.
            foreach (var (task, reserved) in pending)
            {
                _ = task.ContinueWith(t => { _ = t.Exception; Release(reserved); }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    private bool TryReserve(long bytes)
    {
        var current = Interlocked.Read(ref _available);
        while (current >= bytes)
        {
            var seen = Interlocked.CompareExchange(ref _available, current - bytes, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    private void Release(long bytes)
    {
        if (bytes > 0)
        {
            Interlocked.Add(ref _available, bytes);
        }
    }
}
