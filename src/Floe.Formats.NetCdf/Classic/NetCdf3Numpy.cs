using Floe.Core;

namespace Floe.Formats.NetCdf;

/// <summary>
/// numpy 1.x type promotion, as netCDF4-python's unpacking experiences it: <c>packed_array * scalar_attribute</c>.
/// A scalar of a higher kind (float over integer) promotes with its own type; one of the same or a lower kind
/// counts only with the smallest type that holds its value ("value-based casting").
/// </summary>
internal static class NetCdf3Numpy
{
    /// <summary>The result type of an operation between an array of <paramref name="array"/> and a scalar.</summary>
    public static DataType ArrayWithScalar(DataType array, DataType scalar, double value) =>
        Kind(scalar) > Kind(array) ? Promote(array, scalar) : Promote(array, MinScalarType(scalar, value));

    /// <summary>numpy.min_scalar_type for a value of the given type (never larger than that type).</summary>
    public static DataType MinScalarType(DataType type, double value)
    {
        if (type.IsFloat)
        {
            DataType smallest;
            if (!double.IsFinite(value) || (value > -65000 && value < 65000))
            {
                smallest = DataType.Float16;
            }
            else if (value > -3.4e38 && value < 3.4e38)
            {
                smallest = DataType.Float32;
            }
            else
            {
                smallest = DataType.Float64;
            }

            return smallest.Size <= type.Size ? smallest : type;
        }

        if (value >= 0)
        {
            return value <= byte.MaxValue ? DataType.UInt8
                : value <= ushort.MaxValue ? DataType.UInt16
                : value <= uint.MaxValue ? DataType.UInt32
                : DataType.UInt64;
        }

        return value >= sbyte.MinValue ? DataType.Int8
            : value >= short.MinValue ? DataType.Int16
            : value >= int.MinValue ? DataType.Int32
            : DataType.Int64;
    }

    /// <summary>numpy.promote_types for the numeric types.</summary>
    public static DataType Promote(DataType a, DataType b)
    {
        if (a == b)
        {
            return a;
        }

        if (a.IsFloat && b.IsFloat)
        {
            return a.Size >= b.Size ? a : b;
        }

        if (a.IsFloat || b.IsFloat)
        {
            var (f, i) = a.IsFloat ? (a, b) : (b, a);

            // The smallest float holding every value of the integer type exactly (float64 for 64-bit integers too).
            var needed = i.Size switch { 1 => 2, 2 => 4, _ => 8 };
            return Float(Math.Max(f.Size, needed));
        }

        if (a.IsSignedInteger == b.IsSignedInteger)
        {
            return a.Size >= b.Size ? a : b;
        }

        var (signed, unsigned) = a.IsSignedInteger ? (a, b) : (b, a);
        if (unsigned.Size < signed.Size)
        {
            return signed;
        }

        return unsigned.Size switch
        {
            1 => DataType.Int16,
            2 => DataType.Int32,
            4 => DataType.Int64,
            _ => DataType.Float64,
        };
    }

    private static int Kind(DataType type) => type.IsFloat ? 2 : type.IsInteger ? 1 : 0;

    private static DataType Float(int size) => size switch
    {
        2 => DataType.Float16,
        4 => DataType.Float32,
        _ => DataType.Float64,
    };
}
