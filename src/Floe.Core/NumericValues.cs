using System.Numerics;
using System.Runtime.InteropServices;

namespace Floe.Core;

/// <summary>Little-endian elements of a numeric data type read as doubles (coordinates, times, values to export).</summary>
public static class NumericValues
{
    /// <summary>Every element of <paramref name="data"/> as a double; NotSupportedException for bool and complex types.</summary>
    public static double[] ToDoubles(byte[] data, DataType type)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(type);
        var result = new double[data.Length / type.Size];
        var span = data.AsSpan(0, result.Length * type.Size);
        switch (type.Name)
        {
            case "float64": MemoryMarshal.Cast<byte, double>(span).CopyTo(result); break;
            case "float32": Convert(MemoryMarshal.Cast<byte, float>(span), result); break;
            case "float16": Convert(MemoryMarshal.Cast<byte, Half>(span), result); break;
            case "int8": Convert(MemoryMarshal.Cast<byte, sbyte>(span), result); break;
            case "uint8": Convert<byte>(span, result); break;
            case "int16": Convert(MemoryMarshal.Cast<byte, short>(span), result); break;
            case "uint16": Convert(MemoryMarshal.Cast<byte, ushort>(span), result); break;
            case "int32": Convert(MemoryMarshal.Cast<byte, int>(span), result); break;
            case "uint32": Convert(MemoryMarshal.Cast<byte, uint>(span), result); break;
            case "int64": Convert(MemoryMarshal.Cast<byte, long>(span), result); break;
            case "uint64": Convert(MemoryMarshal.Cast<byte, ulong>(span), result); break;
            default: throw new NotSupportedException($"values of type {type} are not numbers");
        }

        return result;
    }

    private static void Convert<T>(ReadOnlySpan<T> source, double[] destination)
        where T : INumberBase<T>
    {
        for (var i = 0; i < source.Length; i++)
        {
            destination[i] = double.CreateTruncating(source[i]);
        }
    }
}
