namespace Floe.Store;

/// <summary>
/// A least-recently-used cache of decoded immutable objects, bounded by an estimate of their memory, that runs
/// one load per key however many callers ask at once (many readers of one shard cause one read).
/// </summary>
internal sealed class ObjectCache<TKey, TValue>(long budgetBytes, Func<TValue, long> sizeOf)
    where TKey : notnull
{
    private readonly Lock _lock = new();
    private readonly Dictionary<TKey, LinkedListNode<(TKey Key, TValue Value, long Size)>> _entries = [];
    private readonly LinkedList<(TKey Key, TValue Value, long Size)> _order = new();
    private readonly Dictionary<TKey, Task<TValue>> _loading = [];
    private long _bytes;

    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    public long Loads { get; private set; }

    public async Task<TValue> GetOrLoadAsync(TKey key, Func<TKey, Task<TValue>> load, CancellationToken cancellationToken)
    {
        Task<TValue> task;
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                return node.Value.Value;
            }

            if (!_loading.TryGetValue(key, out var loading))
            {
                Loads++;
                loading = LoadAndInsertAsync(key, load);
                _loading[key] = loading;
            }

            task = loading;
        }

        // The shared load is not cancelled by one caller giving up; that caller just stops waiting.
        return await task.WaitAsync(cancellationToken);
    }

    /// <summary>Drops an entry (a manifest a commit just replaced), so the budget goes to objects still in use.</summary>
    public void Remove(TKey key)
    {
        lock (_lock)
        {
            if (_entries.Remove(key, out var node))
            {
                _order.Remove(node);
                _bytes -= node.Value.Size;
            }
        }
    }

    private async Task<TValue> LoadAndInsertAsync(TKey key, Func<TKey, Task<TValue>> load)
    {
        await Task.Yield();
        try
        {
            var value = await load(key);
            var size = sizeOf(value);
            lock (_lock)
            {
                if (size <= budgetBytes && !_entries.ContainsKey(key))
                {
                    _entries[key] = _order.AddFirst((key, value, size));
                    _bytes += size;
                    while (_bytes > budgetBytes && _order.Last is { } last)
                    {
                        _order.RemoveLast();
                        _entries.Remove(last.Value.Key);
                        _bytes -= last.Value.Size;
                    }
                }
            }

            return value;
        }
        finally
        {
            lock (_lock)
            {
                _loading.Remove(key);
            }
        }
    }
}
