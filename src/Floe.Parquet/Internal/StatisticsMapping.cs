using System.Buffers.Binary;
using System.Text;

namespace Floe.Parquet.Internal;

/// <summary>Turns thrift Statistics into <see cref="ParquetStatistics"/> with values of the column's .NET type.</summary>
internal static class StatisticsMapping
{
    public static ParquetStatistics? Read(StatisticsData? data, ColumnLayout layout)
    {
        if (data is null)
        {
            return null;
        }

        var min = data.MinValue;
        var max = data.MaxValue;

        // The deprecated min/max were written in signed order; they are only meaningful where that is the column's order.
        if ((min is null || max is null) && SignedOrder(layout))
        {
            min ??= data.Min;
            max ??= data.Max;
        }

        return new ParquetStatistics(Decode(min, layout), Decode(max, layout), data.NullCount, data.DistinctCount);
    }

    private static bool SignedOrder(ColumnLayout layout) =>
        layout.Physical is PhysicalType.Boolean or PhysicalType.Int32 or PhysicalType.Int64 or PhysicalType.Float or PhysicalType.Double
        && !layout.Field.IsUnsignedInteger;

    private static object? Decode(byte[]? bytes, ColumnLayout layout)
    {
        if (bytes is null)
        {
            return null;
        }

        return layout.Physical switch
        {
            PhysicalType.Boolean when bytes.Length == 1 => bytes[0] != 0,
            PhysicalType.Int32 when bytes.Length == 4 => BinaryPrimitives.ReadInt32LittleEndian(bytes),
            PhysicalType.Int64 when bytes.Length == 8 => BinaryPrimitives.ReadInt64LittleEndian(bytes),
            PhysicalType.Float when bytes.Length == 4 => BinaryPrimitives.ReadSingleLittleEndian(bytes),
            PhysicalType.Double when bytes.Length == 8 => BinaryPrimitives.ReadDoubleLittleEndian(bytes),
            PhysicalType.ByteArray or PhysicalType.FixedLenByteArray => layout.Field.IsString ? Encoding.UTF8.GetString(bytes) : bytes,
            _ => null,
        };
    }
}
