namespace Floe.Parquet.Internal;

/// <summary>How the raw bits of a fixed-width column order for statistics (Parquet's type-defined order).</summary>
internal interface IKeyOrder<TKey>
{
    static abstract bool Less(TKey a, TKey b);

    /// <summary>Values statistics skip (NaN).</summary>
    static abstract bool Ignore(TKey key);

    /// <summary>The bits to store for a minimum (isMin) or maximum: zeros of floats are stored as -0.0 and +0.0.</summary>
    static abstract TKey Canonical(TKey key, bool isMin);
}

internal readonly struct SignedInt32Order : IKeyOrder<uint>
{
    public static bool Less(uint a, uint b) => (int)a < (int)b;

    public static bool Ignore(uint key) => false;

    public static uint Canonical(uint key, bool isMin) => key;
}

internal readonly struct UnsignedInt32Order : IKeyOrder<uint>
{
    public static bool Less(uint a, uint b) => a < b;

    public static bool Ignore(uint key) => false;

    public static uint Canonical(uint key, bool isMin) => key;
}

internal readonly struct SignedInt64Order : IKeyOrder<ulong>
{
    public static bool Less(ulong a, ulong b) => (long)a < (long)b;

    public static bool Ignore(ulong key) => false;

    public static ulong Canonical(ulong key, bool isMin) => key;
}

internal readonly struct UnsignedInt64Order : IKeyOrder<ulong>
{
    public static bool Less(ulong a, ulong b) => a < b;

    public static bool Ignore(ulong key) => false;

    public static ulong Canonical(ulong key, bool isMin) => key;
}

internal readonly struct FloatOrder : IKeyOrder<uint>
{
    public static bool Less(uint a, uint b) => BitConverter.UInt32BitsToSingle(a) < BitConverter.UInt32BitsToSingle(b);

    public static bool Ignore(uint key) => float.IsNaN(BitConverter.UInt32BitsToSingle(key));

    public static uint Canonical(uint key, bool isMin) =>
        (key & 0x7FFFFFFFu) == 0 ? (isMin ? 0x80000000u : 0u) : key;
}

internal readonly struct DoubleOrder : IKeyOrder<ulong>
{
    public static bool Less(ulong a, ulong b) => BitConverter.UInt64BitsToDouble(a) < BitConverter.UInt64BitsToDouble(b);

    public static bool Ignore(ulong key) => double.IsNaN(BitConverter.UInt64BitsToDouble(key));

    public static ulong Canonical(ulong key, bool isMin) =>
        (key & 0x7FFFFFFFFFFFFFFFUL) == 0 ? (isMin ? 0x8000000000000000UL : 0UL) : key;
}

internal static class MinMax
{
    /// <summary>Min and max of the defined, non-ignored values; false when there are none.</summary>
    public static bool Compute<TKey, TOrder>(ReadOnlySpan<TKey> values, ReadOnlySpan<bool> defined, out TKey min, out TKey max)
        where TKey : unmanaged
        where TOrder : struct, IKeyOrder<TKey>
    {
        min = default;
        max = default;
        var found = false;
        var masked = !defined.IsEmpty;
        for (var i = 0; i < values.Length; i++)
        {
            if (masked && !defined[i])
            {
                continue;
            }

            var v = values[i];
            if (TOrder.Ignore(v))
            {
                continue;
            }

            if (!found)
            {
                min = max = v;
                found = true;
                continue;
            }

            if (TOrder.Less(v, min))
            {
                min = v;
            }
            else if (TOrder.Less(max, v))
            {
                max = v;
            }
        }

        return found;
    }
}
