using System.Runtime.InteropServices;
using Floe.Api.V1;
using Floe.Core;
using Google.Protobuf;

namespace Floe.Server;

/// <summary>Splits a region into pieces of about a target size and turns decoded bytes into typed protobuf values.</summary>
public static class Regions
{
    /// <summary>
    /// Boxes covering <paramref name="start"/>/<paramref name="count"/> in C order, each of whole inner slabs where
    /// they fit in <paramref name="pieceBytes"/>, else split along the next dimension in.
    /// </summary>
    public static IEnumerable<(long[] Start, long[] Count)> Pieces(long[] start, long[] count, int elementSize, long pieceBytes)
    {
        var rank = count.Length;
        if (rank == 0 || count.Any(c => c == 0))
        {
            yield return (start, count);
            yield break;
        }

        // The outermost dimension d whose inner slab (dimensions after d) fits; pieces step along d.
        var d = rank - 1;
        var inner = (long)elementSize;
        while (d > 0 && inner * count[d] <= pieceBytes)
        {
            inner *= count[d];
            d--;
        }

        var step = Math.Max(1, pieceBytes / inner);
        var index = new long[d];
        while (true)
        {
            for (var k = 0L; k < count[d]; k += step)
            {
                var pieceStart = (long[])start.Clone();
                var pieceCount = (long[])count.Clone();
                for (var i = 0; i < d; i++)
                {
                    pieceStart[i] = start[i] + index[i];
                    pieceCount[i] = 1;
                }

                pieceStart[d] = start[d] + k;
                pieceCount[d] = Math.Min(step, count[d] - k);
                yield return (pieceStart, pieceCount);
            }

            // Odometer over the dimensions before d.
            var j = d - 1;
            while (j >= 0 && ++index[j] == count[j])
            {
                index[j] = 0;
                j--;
            }

            if (j < 0)
            {
                yield break;
            }
        }
    }

    /// <summary>Little-endian decoded elements as the protobuf list for their data type (docs/api.md: TypedValues).</summary>
    public static TypedValues ToTypedValues(DataType type, byte[] data)
    {
        var values = new TypedValues();
        if (type == DataType.Float32)
        {
            var list = new FloatValues();
            list.Values.AddRange(MemoryMarshal.Cast<byte, float>(data).ToArray());
            values.Float32 = list;
        }
        else if (type == DataType.Float64)
        {
            var list = new DoubleValues();
            list.Values.AddRange(MemoryMarshal.Cast<byte, double>(data).ToArray());
            values.Float64 = list;
        }
        else if (type == DataType.Int8 || type == DataType.Int16 || type == DataType.Int32)
        {
            var list = new Int32Values();
            list.Values.AddRange(Widen(data, type.Size, signed: true).Select(v => (int)v));
            values.Int32 = list;
        }
        else if (type == DataType.UInt8 || type == DataType.UInt16 || type == DataType.UInt32)
        {
            var list = new UInt32Values();
            list.Values.AddRange(Widen(data, type.Size, signed: false).Select(v => (uint)v));
            values.Uint32 = list;
        }
        else if (type == DataType.Int64)
        {
            var list = new Int64Values();
            list.Values.AddRange(MemoryMarshal.Cast<byte, long>(data).ToArray());
            values.Int64 = list;
        }
        else if (type == DataType.UInt64)
        {
            var list = new UInt64Values();
            list.Values.AddRange(MemoryMarshal.Cast<byte, ulong>(data).ToArray());
            values.Uint64 = list;
        }
        else if (type == DataType.Bool)
        {
            var list = new BoolValues();
            list.Values.AddRange(data.Select(b => b != 0));
            values.Bool = list;
        }
        else
        {
            values.Raw = ByteString.CopyFrom(data);
        }

        return values;
    }

    private static long[] Widen(byte[] data, int size, bool signed)
    {
        var result = new long[data.Length / size];
        for (var i = 0; i < result.Length; i++)
        {
            var span = data.AsSpan(i * size, size);
            result[i] = (size, signed) switch
            {
                (1, true) => (sbyte)span[0],
                (1, false) => span[0],
                (2, true) => BitConverter.ToInt16(span),
                (2, false) => BitConverter.ToUInt16(span),
                (4, true) => BitConverter.ToInt32(span),
                _ => BitConverter.ToUInt32(span),
            };
        }

        return result;
    }
}
