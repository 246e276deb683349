using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Floe.Parquet.Internal;

/// <summary>When a dictionary is worth writing instead of PLAIN values.</summary>
internal static class DictionaryPolicy
{
    /// <summary>Builds look at their progress after this many values, then every four times as many.</summary>
    public const int FirstCheckpoint = 1 << 16;

    /// <summary>Where the rate of new values is measured from for the first checkpoint.</summary>
    public const int RateStart = 1 << 14;

    /// <summary>
    /// A dictionary pays when the dictionary page plus bit-packed indices come to at most three quarters of the
    /// PLAIN values (RLE runs of indices usually make it much smaller still).
    /// </summary>
    public static bool Pays(long entries, long dictionaryBytes, long values, long plainBytes)
    {
        var bitWidth = Math.Max(1, 64 - BitOperations.LeadingZeroCount((ulong)Math.Max(entries - 1, 0)));
        var encoded = dictionaryBytes + ((values * bitWidth) + 7) / 8;
        return encoded * 4 <= plainBytes * 3;
    }

    /// <summary>
    /// Part way through (<paramref name="processed"/> of <paramref name="total"/> values): a dictionary has no chance
    /// when, if new values kept appearing at the rate they did since the last checkpoint
    /// (<paramref name="recentValues"/> values brought <paramref name="recentEntries"/> new entries), it would not pay.
    /// </summary>
    public static bool Hopeless(long entries, long entryBytes, long processed, long total, long recentEntries, long recentValues, long valueBytes)
    {
        var projected = entries + (recentValues == 0 ? 0 : (total - processed) * recentEntries / recentValues);
        var averageEntry = entries == 0 ? 0 : entryBytes / entries;
        var averageValue = processed == 0 ? 0 : valueBytes / processed;
        return !Pays(projected, projected * averageEntry, total, total * averageValue);
    }
}

internal sealed class FixedDictionary<TKey> : IDisposable
    where TKey : unmanaged, IBinaryInteger<TKey>
{
    private Entry[] _table;
    private TKey[] _keys;
    private int _shift;
    private int _mask;

    public FixedDictionary(int initialCapacity = 1024)
    {
        var capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(initialCapacity, 64) * 2);
        _table = Rent(capacity);
        _mask = capacity - 1;
        _shift = 64 - BitOperations.Log2((uint)capacity);
        _keys = ArrayPool<TKey>.Shared.Rent(Math.Max(initialCapacity, 64));
    }

    public int Count { get; private set; }

    public ReadOnlySpan<TKey> Keys => _keys.AsSpan(0, Count);

    /// <summary>
    /// Maps every defined value to its entry index, writing the indices of the defined values to
    /// <paramref name="indices"/>. Returns false (leaving the dictionary partial) once more than
    /// <paramref name="maxEntries"/> distinct values appear.
    /// </summary>
    public bool Build(ReadOnlySpan<TKey> values, ReadOnlySpan<bool> defined, Span<int> indices, int maxEntries)
    {
        var n = 0;
        var checkpoint = DictionaryPolicy.FirstCheckpoint;
        int rateValues = 0, rateEntries = 0;
        var size = Unsafe.SizeOf<TKey>();
        var total = indices.Length;
        var last = default(TKey);
        var lastIndex = -1;
        var masked = !defined.IsEmpty;
        for (var i = 0; i < values.Length; i++)
        {
            if (masked && !defined[i])
            {
                continue;
            }

            var key = values[i];

            // Runs of equal values are common (sorted or gridded data): skip the hash lookup for them.
            if (key == last && lastIndex >= 0)
            {
                indices[n++] = lastIndex;
                continue;
            }

            var index = GetOrAdd(key);
            if (Count > maxEntries)
            {
                return false;
            }

            if (n >= DictionaryPolicy.RateStart && rateValues == 0)
            {
                (rateValues, rateEntries) = (n, Count);
            }
            else if (n >= checkpoint)
            {
                if (DictionaryPolicy.Hopeless(Count, (long)Count * size, n, total, Count - rateEntries, n - rateValues, (long)n * size))
                {
                    return false;
                }

                (rateValues, rateEntries) = (n, Count);
                checkpoint *= 4;
            }

            indices[n++] = index;
            last = key;
            lastIndex = index;
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int GetOrAdd(TKey key)
    {
        var slot = (int)((ulong.CreateTruncating(key) * 0x9E3779B97F4A7C15UL) >> _shift);
        var table = _table;
        while (true)
        {
            ref var entry = ref table[slot];
            if (entry.Id == 0)
            {
                return Add(key, ref entry);
            }

            if (entry.Key == key)
            {
                return entry.Id - 1;
            }

            slot = (slot + 1) & _mask;
        }
    }

    private int Add(TKey key, ref Entry entry)
    {
        var index = Count;
        if (index == _keys.Length)
        {
            var keys = ArrayPool<TKey>.Shared.Rent(index * 2);
            _keys.AsSpan(0, index).CopyTo(keys);
            ArrayPool<TKey>.Shared.Return(_keys);
            _keys = keys;
        }

        _keys[index] = key;
        entry.Key = key;
        entry.Id = index + 1;
        Count = index + 1;
        if (Count * 2 > _table.Length)
        {
            Grow();
        }

        return index;
    }

    private void Grow()
    {
        var capacity = _table.Length * 2;
        var table = Rent(capacity);
        var mask = capacity - 1;
        var shift = 64 - BitOperations.Log2((uint)capacity);
        foreach (var entry in _table)
        {
            if (entry.Id == 0)
            {
                continue;
            }

            var slot = (int)((ulong.CreateTruncating(entry.Key) * 0x9E3779B97F4A7C15UL) >> shift);
            while (table[slot].Id != 0)
            {
                slot = (slot + 1) & mask;
            }

            table[slot] = entry;
        }

        ArrayPool<Entry>.Shared.Return(_table);
        _table = table;
        _mask = mask;
        _shift = shift;
    }

    private static Entry[] Rent(int capacity)
    {
        var table = ArrayPool<Entry>.Shared.Rent(capacity);
        if (table.Length != capacity)
        {
            // The masks need an exact power of two; pooled arrays of power-of-two requests come back exact.
            ArrayPool<Entry>.Shared.Return(table);
            table = new Entry[capacity];
        }
        else
        {
            Array.Clear(table);
        }

        return table;
    }

    public void Dispose()
    {
        if (_table.Length > 0)
        {
            ArrayPool<Entry>.Shared.Return(_table);
            ArrayPool<TKey>.Shared.Return(_keys);
            _table = [];
            _keys = [];
        }
    }

    private struct Entry
    {
        public TKey Key;
        public int Id;
    }
}

/// <summary>An insertion-ordered set of byte strings that live in one source buffer (by offset and length).</summary>
internal sealed class BinaryDictionary : IDisposable
{
    private int[] _table;
    private int[] _hashes;
    private int[] _offsets;
    private int[] _lengths;
    private int _mask;

    public BinaryDictionary()
    {
        _table = ArrayPool<int>.Shared.Rent(1024);
        Array.Clear(_table);
        _mask = 1023;
        _hashes = ArrayPool<int>.Shared.Rent(512);
        _offsets = ArrayPool<int>.Shared.Rent(512);
        _lengths = ArrayPool<int>.Shared.Rent(512);
    }

    public int Count { get; private set; }

    /// <summary>The PLAIN size of the entries (4-byte length prefix each).</summary>
    public long PlainBytes { get; private set; }

    public int Offset(int index) => _offsets[index];

    public int Length(int index) => _lengths[index];

    /// <summary>Like <see cref="FixedDictionary{TKey}.Build"/>, over values[offsets[i]..offsets[i+1]]; stops past <paramref name="maxBytes"/> of PLAIN dictionary.</summary>
    public bool Build(ReadOnlySpan<byte> data, ReadOnlySpan<int> offsets, ReadOnlySpan<bool> defined, Span<int> indices, long maxBytes)
    {
        var n = 0;
        var lastIndex = -1;
        var lastStart = 0;
        var lastLength = 0;
        var rows = offsets.Length - 1;
        var checkpoint = DictionaryPolicy.FirstCheckpoint;
        int rateValues = 0, rateEntries = 0;
        var total = indices.Length;
        long processedBytes = 0;
        for (var i = 0; i < rows; i++)
        {
            if (!defined[i])
            {
                continue;
            }

            var start = offsets[i];
            var length = offsets[i + 1] - start;
            var value = data.Slice(start, length);
            processedBytes += 4 + length;
            if (lastIndex >= 0 && length == lastLength && value.SequenceEqual(data.Slice(lastStart, lastLength)))
            {
                indices[n++] = lastIndex;
                continue;
            }

            var index = GetOrAdd(data, start, length);
            if (PlainBytes > maxBytes)
            {
                return false;
            }

            if (n >= DictionaryPolicy.RateStart && rateValues == 0)
            {
                (rateValues, rateEntries) = (n, Count);
            }
            else if (n >= checkpoint)
            {
                if (DictionaryPolicy.Hopeless(Count, PlainBytes, n, total, Count - rateEntries, n - rateValues, processedBytes))
                {
                    return false;
                }

                (rateValues, rateEntries) = (n, Count);
                checkpoint *= 4;
            }

            indices[n++] = index;
            lastIndex = index;
            lastStart = start;
            lastLength = length;
        }

        return true;
    }

    private int GetOrAdd(ReadOnlySpan<byte> data, int start, int length)
    {
        var value = data.Slice(start, length);
        var hash = Hash(value);
        var slot = hash & _mask;
        while (true)
        {
            var id = _table[slot];
            if (id == 0)
            {
                return Add(hash, start, length, slot);
            }

            var index = id - 1;
            if (_hashes[index] == hash && _lengths[index] == length && data.Slice(_offsets[index], length).SequenceEqual(value))
            {
                return index;
            }

            slot = (slot + 1) & _mask;
        }
    }

    private int Add(int hash, int start, int length, int slot)
    {
        var index = Count;
        if (index == _hashes.Length)
        {
            Resize(ref _hashes, index * 2);
            Resize(ref _offsets, index * 2);
            Resize(ref _lengths, index * 2);
        }

        _hashes[index] = hash;
        _offsets[index] = start;
        _lengths[index] = length;
        _table[slot] = index + 1;
        Count = index + 1;
        PlainBytes += 4 + length;
        if (Count * 2 > _table.Length)
        {
            var capacity = _table.Length * 2;
            var table = ArrayPool<int>.Shared.Rent(capacity);
            Array.Clear(table);
            var mask = table.Length - 1;
            if (!BitOperations.IsPow2(table.Length))
            {
                ArrayPool<int>.Shared.Return(table);
                table = new int[capacity];
                mask = capacity - 1;
            }

            for (var i = 0; i < Count; i++)
            {
                var s = _hashes[i] & mask;
                while (table[s] != 0)
                {
                    s = (s + 1) & mask;
                }

                table[s] = i + 1;
            }

            ArrayPool<int>.Shared.Return(_table);
            _table = table;
            _mask = mask;
        }

        return index;
    }

    private static int Hash(ReadOnlySpan<byte> value)
    {
        var hash = new HashCode();
        hash.AddBytes(value);

        // Spread the low bits used for the slot.
        return (int)((uint)hash.ToHashCode() * 0x9E3779B1u) & int.MaxValue;
    }

    private static void Resize(ref int[] array, int length)
    {
        var next = ArrayPool<int>.Shared.Rent(length);
        array.AsSpan().CopyTo(next);
        ArrayPool<int>.Shared.Return(array);
        array = next;
    }

    public void Dispose()
    {
        if (_table.Length > 0)
        {
            ArrayPool<int>.Shared.Return(_table);
            ArrayPool<int>.Shared.Return(_hashes);
            ArrayPool<int>.Shared.Return(_offsets);
            ArrayPool<int>.Shared.Return(_lengths);
            _table = [];
        }
    }
}
