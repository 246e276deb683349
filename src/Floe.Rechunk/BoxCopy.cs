using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Floe.Rechunk;

/// <summary>Copies a box of elements between two C-order arrays of different shapes.</summary>
public static class BoxCopy
{
    /// <summary>
    /// Copies the box of <paramref name="extent"/> elements starting at <paramref name="sourceStart"/> in
    /// <paramref name="source"/> (shape <paramref name="sourceShape"/>) to <paramref name="destinationStart"/> in
    /// <paramref name="destination"/> (shape <paramref name="destinationShape"/>).
    /// </summary>
    public static void Copy(
        ReadOnlySpan<byte> source, ReadOnlySpan<long> sourceShape, ReadOnlySpan<long> sourceStart,
        Span<byte> destination, ReadOnlySpan<long> destinationShape, ReadOnlySpan<long> destinationStart,
        ReadOnlySpan<long> extent, int elementSize)
    {
        var rank = extent.Length;
        if (sourceShape.Length != rank || sourceStart.Length != rank || destinationShape.Length != rank || destinationStart.Length != rank)
        {
            throw new ArgumentException("shapes, starts and extent must have the same rank", nameof(extent));
        }

        for (var d = 0; d < rank; d++)
        {
            if (extent[d] == 0)
            {
                return;
            }

            if (extent[d] < 0 || sourceStart[d] < 0 || destinationStart[d] < 0 ||
                sourceStart[d] + extent[d] > sourceShape[d] || destinationStart[d] + extent[d] > destinationShape[d])
            {
                throw new ArgumentOutOfRangeException(nameof(extent), $"dimension {d}: a box of {extent[d]} at {sourceStart[d]} -> {destinationStart[d]} does not fit shapes {sourceShape[d]} -> {destinationShape[d]}");
            }
        }

        if (source.Length < Volume(sourceShape) * elementSize || destination.Length < Volume(destinationShape) * elementSize)
        {
            throw new ArgumentException("a buffer is smaller than its shape", nameof(source));
        }

        if (rank == 0)
        {
            source[..elementSize].CopyTo(destination);
            return;
        }

        // Byte strides, and the start offsets of the box.
        Span<long> sourceStride = stackalloc long[rank];
        Span<long> destinationStride = stackalloc long[rank];
        long sourceOffset = 0, destinationOffset = 0;
        long stride = elementSize, dstride = elementSize;
        for (var d = rank - 1; d >= 0; d--)
        {
            sourceStride[d] = stride;
            destinationStride[d] = dstride;
            sourceOffset += sourceStart[d] * stride;
            destinationOffset += destinationStart[d] * dstride;
            stride *= sourceShape[d];
            dstride *= destinationShape[d];
        }

        // Trailing dimensions the box spans whole in both arrays are one contiguous run.
        var inner = rank - 1;
        while (inner > 0 && extent[inner] == sourceShape[inner] && extent[inner] == destinationShape[inner])
        {
            inner--;
        }

        var runBytes = extent[inner] * sourceStride[inner];
        if (inner == 0)
        {
            source.Slice((int)sourceOffset, (int)runBytes).CopyTo(destination.Slice((int)destinationOffset));
            return;
        }

        // Rows along dimension inner - 1, each a run of runBytes; the dimensions before it by an odometer.
        var rowDimension = inner - 1;
        var rows = extent[rowDimension];
        var sourceRowStride = sourceStride[rowDimension];
        var destinationRowStride = destinationStride[rowDimension];
        Span<long> index = stackalloc long[Math.Max(rowDimension, 1)];
        ref var src = ref MemoryMarshal.GetReference(source);
        ref var dst = ref MemoryMarshal.GetReference(destination);
        while (true)
        {
            CopyRows(ref Unsafe.Add(ref src, (nint)sourceOffset), sourceRowStride, ref Unsafe.Add(ref dst, (nint)destinationOffset), destinationRowStride, rows, runBytes);
            var d = rowDimension - 1;
            while (d >= 0)
            {
                sourceOffset += sourceStride[d];
                destinationOffset += destinationStride[d];
                if (++index[d] < extent[d])
                {
                    break;
                }

                sourceOffset -= sourceStride[d] * extent[d];
                destinationOffset -= destinationStride[d] * extent[d];
                index[d] = 0;
                d--;
            }

            if (d < 0)
            {
                return;
            }
        }
    }

    /// <summary>Elements in an array of this shape.</summary>
    public static long Volume(ReadOnlySpan<long> shape)
    {
        long volume = 1;
        foreach (var n in shape)
        {
            volume = checked(volume * n);
        }

        return volume;
    }

    // A run of one element (a time series gathered from a map) is the common small case; typed moves keep it cheap.
    private static void CopyRows(ref byte source, long sourceStride, ref byte destination, long destinationStride, long rows, long runBytes)
    {
        switch (runBytes)
        {
            case 4:
                for (long r = 0; r < rows; r++)
                {
                    Unsafe.WriteUnaligned(ref Unsafe.Add(ref destination, (nint)(r * destinationStride)), Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref source, (nint)(r * sourceStride))));
                }

                return;
            case 8:
                for (long r = 0; r < rows; r++)
                {
                    Unsafe.WriteUnaligned(ref Unsafe.Add(ref destination, (nint)(r * destinationStride)), Unsafe.ReadUnaligned<long>(ref Unsafe.Add(ref source, (nint)(r * sourceStride))));
                }

                return;
            case 2:
                for (long r = 0; r < rows; r++)
                {
                    Unsafe.WriteUnaligned(ref Unsafe.Add(ref destination, (nint)(r * destinationStride)), Unsafe.ReadUnaligned<short>(ref Unsafe.Add(ref source, (nint)(r * sourceStride))));
                }

                return;
            case 1:
                for (long r = 0; r < rows; r++)
                {
                    Unsafe.Add(ref destination, (nint)(r * destinationStride)) = Unsafe.Add(ref source, (nint)(r * sourceStride));
                }

                return;
            default:
                for (long r = 0; r < rows; r++)
                {
                    Unsafe.CopyBlockUnaligned(ref Unsafe.Add(ref destination, (nint)(r * destinationStride)), ref Unsafe.Add(ref source, (nint)(r * sourceStride)), (uint)runBytes);
                }

                return;
        }
    }
}
