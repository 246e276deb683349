using System.Buffers.Binary;
using Floe.Core;
using Floe.Formats.NetCdf;
using Floe.Storage;

namespace Floe.Ingest;

/// <summary>Decodes small arrays of a source file (coordinates, bounds) whole, for the values ingestion copies natively.</summary>
internal static class VirtualValues
{
    /// <summary>The largest array decoded whole; coordinates are far smaller.</summary>
    public const long MaxBytes = 64L << 20;

    /// <summary>
    /// The whole array as little-endian elements of its data type in C order; chunks the file does not hold read as
    /// the fill value. Chunk bytes come from <paramref name="location"/> (the file actually read).
    /// </summary>
    public static async Task<byte[]> ReadAsync(VirtualArray array, IByteRangeSource source, string location, CancellationToken cancellationToken)
    {
        var metadata = array.Metadata;
        var elementSize = metadata.DataType.Size;
        var total = metadata.Shape.Aggregate(1L, (a, b) => a * b) * elementSize;
        if (total > MaxBytes)
        {
            throw new NotSupportedException($"{location}: {array.Path} holds {total} bytes, more than the {MaxBytes} copied whole");
        }

        var result = new byte[total];
        metadata.FillValue.Fill(result);
        foreach (var chunk in array.Chunks)
        {
            var stored = chunk.Inline ?? (await source.ReadAsync(location, chunk.Offset, checked((int)chunk.Length), cancellationToken)).Data.ToArray();
            byte[] decoded;
            try
            {
                decoded = CodecPipeline.Create(array.MetadataFor(chunk)).Decode(stored);
            }
            catch (CodecException ex)
            {
                throw new FormatException($"{location}: {array.Path} chunk [{string.Join(", ", chunk.Index)}] does not decode: {ex.Message}", ex);
            }

            CopyChunk(decoded, chunk.Index, metadata.ChunkShape, result, metadata.Shape, elementSize);
        }

        return result;
    }

    /// <summary>Doubles as little-endian elements of a numeric type (the inverse of <see cref="NumericValues.ToDoubles"/>; integers are rounded).</summary>
    public static byte[] FromDoubles(IReadOnlyList<double> values, DataType type)
    {
        var size = type.Size;
        var data = new byte[values.Count * size];
        for (var i = 0; i < values.Count; i++)
        {
            var bytes = data.AsSpan(i * size, size);
            var value = values[i];
            switch (type.Name)
            {
                case "int8": bytes[0] = (byte)checked((sbyte)Math.Round(value)); break;
                case "uint8": bytes[0] = checked((byte)Math.Round(value)); break;
                case "int16": BinaryPrimitives.WriteInt16LittleEndian(bytes, checked((short)Math.Round(value))); break;
                case "uint16": BinaryPrimitives.WriteUInt16LittleEndian(bytes, checked((ushort)Math.Round(value))); break;
                case "int32": BinaryPrimitives.WriteInt32LittleEndian(bytes, checked((int)Math.Round(value))); break;
                case "uint32": BinaryPrimitives.WriteUInt32LittleEndian(bytes, checked((uint)Math.Round(value))); break;
                case "int64": BinaryPrimitives.WriteInt64LittleEndian(bytes, checked((long)Math.Round(value))); break;
                case "uint64": BinaryPrimitives.WriteUInt64LittleEndian(bytes, checked((ulong)Math.Round(value))); break;
                case "float32": BinaryPrimitives.WriteSingleLittleEndian(bytes, (float)value); break;
                case "float64": BinaryPrimitives.WriteDoubleLittleEndian(bytes, value); break;
                default: throw new NotSupportedException($"time values of type {type} are not numbers");
            }
        }

        return data;
    }

    // Copies a decoded chunk into the whole array, clipping the parts past the array's edge.
    private static void CopyChunk(byte[] chunk, long[] index, int[] chunkShape, byte[] whole, long[] shape, int elementSize)
    {
        var rank = shape.Length;
        if (rank == 0)
        {
            chunk.AsSpan(0, elementSize).CopyTo(whole);
            return;
        }

        var origin = new long[rank];
        var extent = new long[rank];
        for (var d = 0; d < rank; d++)
        {
            origin[d] = index[d] * chunkShape[d];
            extent[d] = Math.Min(chunkShape[d], shape[d] - origin[d]);
            if (extent[d] <= 0)
            {
                return;
            }
        }

        // Walk the rows (all dimensions but the last) of the chunk's part inside the array.
        var row = new long[rank];
        var runBytes = (int)(extent[rank - 1] * elementSize);
        while (true)
        {
            long source = 0, target = 0;
            for (var d = 0; d < rank; d++)
            {
                source = (source * chunkShape[d]) + row[d];
                target = (target * shape[d]) + origin[d] + row[d];
            }

            chunk.AsSpan((int)(source * elementSize), runBytes).CopyTo(whole.AsSpan((int)(target * elementSize)));
            var k = rank - 2;
            while (k >= 0 && ++row[k] >= extent[k])
            {
                row[k] = 0;
                k--;
            }

            if (k < 0)
            {
                return;
            }
        }
    }
}
