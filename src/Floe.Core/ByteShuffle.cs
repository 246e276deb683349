namespace Floe.Core;

/// <summary>
/// HDF5/numcodecs byte shuffle: all first bytes of each element, then all second bytes, and so on.
/// A trailing remainder (length % elementSize) is copied unshuffled, as HDF5 does.
/// </summary>
public static class ByteShuffle
{
    public static void Shuffle(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize)
    {
        Check(source, destination, elementSize);
        var count = source.Length / elementSize;
        if (elementSize == 1 || count <= 1)
        {
            source.CopyTo(destination);
            return;
        }

        for (var b = 0; b < elementSize; b++)
        {
            var plane = destination.Slice(b * count, count);
            for (int i = 0, s = b; i < count; i++, s += elementSize)
            {
                plane[i] = source[s];
            }
        }

        var whole = count * elementSize;
        source[whole..].CopyTo(destination[whole..]);
    }

    public static void Unshuffle(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize)
    {
        Check(source, destination, elementSize);
        var count = source.Length / elementSize;
        if (elementSize == 1 || count <= 1)
        {
            source.CopyTo(destination);
            return;
        }

        for (var b = 0; b < elementSize; b++)
        {
            var plane = source.Slice(b * count, count);
            for (int i = 0, d = b; i < count; i++, d += elementSize)
            {
                destination[d] = plane[i];
            }
        }

        var whole = count * elementSize;
        source[whole..].CopyTo(destination[whole..]);
    }

    private static void Check(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(elementSize, 1);
        if (destination.Length < source.Length)
        {
            throw new ArgumentException($"Destination holds {destination.Length} bytes but {source.Length} are needed.", nameof(destination));
        }

        if (source.Overlaps(destination))
        {
            throw new ArgumentException("Source and destination must not overlap.", nameof(destination));
        }
    }
}
