namespace Floe.Parquet.Internal;

/// <summary>How a leaf column is stored, as the reader needs it.</summary>
internal sealed record ColumnLayout(ParquetField Field, PhysicalType Physical, int TypeLength, int MaxDefinitionLevel);

/// <summary>Maps <see cref="ParquetField"/> to and from parquet.thrift schema elements.</summary>
internal static class SchemaMapping
{
    public static SchemaElement ToElement(ParquetField field)
    {
        var element = new SchemaElement
        {
            Name = field.Name,
            Repetition = field.Nullable ? 1 : 0,
            Type = field.Type switch
            {
                ParquetType.Boolean => PhysicalType.Boolean,
                ParquetType.Int32 => PhysicalType.Int32,
                ParquetType.Int64 => PhysicalType.Int64,
                ParquetType.Float => PhysicalType.Float,
                ParquetType.Double => PhysicalType.Double,
                _ => PhysicalType.ByteArray,
            },
        };

        switch (field.Logical)
        {
            case ParquetLogicalType.String:
                element.ConvertedType = ConvertedTypes.Utf8;
                element.Logical = new LogicalTypeData { Kind = LogicalTypeData.String };
                break;
            case ParquetLogicalType.Date:
                element.ConvertedType = ConvertedTypes.Date;
                element.Logical = new LogicalTypeData { Kind = LogicalTypeData.Date };
                break;
            case ParquetLogicalType.Timestamp:
                var unit = field.TimestampUnit ?? ParquetTimeUnit.Micros;

                // The legacy converted types mean UTC-adjusted millis or micros; other timestamps have none.
                if (field.IsUtc && unit != ParquetTimeUnit.Nanos)
                {
                    element.ConvertedType = unit == ParquetTimeUnit.Millis ? ConvertedTypes.TimestampMillis : ConvertedTypes.TimestampMicros;
                }

                element.Logical = new LogicalTypeData { Kind = LogicalTypeData.Timestamp, IsAdjustedToUtc = field.IsUtc, Unit = (int)unit + 1 };
                break;
            case ParquetLogicalType.Integer:
                var bits = field.IntegerBits ?? 32;
                var step = bits switch { 8 => 0, 16 => 1, 32 => 2, _ => 3 };
                element.ConvertedType = (field.IsSigned ? ConvertedTypes.Int8 : ConvertedTypes.Uint8) + step;
                element.Logical = new LogicalTypeData { Kind = LogicalTypeData.Integer, BitWidth = bits, IsSigned = field.IsSigned };
                break;
        }

        return element;
    }

    /// <summary>The field a leaf schema element reads as.</summary>
    public static ColumnLayout FromElement(SchemaElement element)
    {
        var physical = element.Type ?? throw new InvalidDataException($"column '{element.Name}' has no physical type");
        var nullable = element.Repetition != 0;
        var type = physical switch
        {
            PhysicalType.Boolean => ParquetType.Boolean,
            PhysicalType.Int32 => ParquetType.Int32,
            PhysicalType.Int64 or PhysicalType.Int96 => ParquetType.Int64,
            PhysicalType.Float => ParquetType.Float,
            PhysicalType.Double => ParquetType.Double,
            PhysicalType.ByteArray or PhysicalType.FixedLenByteArray => ParquetType.ByteArray,
            _ => throw new InvalidDataException($"column '{element.Name}' has unknown physical type {(int)physical}"),
        };

        var typeLength = element.TypeLength ?? 0;
        if (physical == PhysicalType.FixedLenByteArray && typeLength < 0)
        {
            throw new InvalidDataException($"column '{element.Name}' is FIXED_LEN_BYTE_ARRAY of negative length {typeLength}");
        }

        var field = new ParquetField(element.Name, type, nullable);
        if (physical == PhysicalType.Int96)
        {
            // Legacy Impala/Spark timestamps: read as nanoseconds since the epoch.
            return new ColumnLayout(
                field with { Logical = ParquetLogicalType.Timestamp, TimestampUnit = ParquetTimeUnit.Nanos, IsUtc = false, Annotation = "INT96" },
                physical, 12, nullable ? 1 : 0);
        }

        field = element.Logical is { } logical ? FromLogical(field, logical, element) : FromConverted(field, element);
        return new ColumnLayout(field, physical, typeLength, nullable ? 1 : 0);
    }

    private static ParquetField FromLogical(ParquetField field, LogicalTypeData logical, SchemaElement element)
    {
        switch (logical.Kind)
        {
            case LogicalTypeData.String when field.Type == ParquetType.ByteArray:
                return field with { Logical = ParquetLogicalType.String };
            case LogicalTypeData.Date when field.Type == ParquetType.Int32:
                return field with { Logical = ParquetLogicalType.Date };
            case LogicalTypeData.Timestamp when field.Type == ParquetType.Int64 && logical.Unit is >= 1 and <= 3:
                return field with { Logical = ParquetLogicalType.Timestamp, TimestampUnit = (ParquetTimeUnit)(logical.Unit - 1), IsUtc = logical.IsAdjustedToUtc };
            case LogicalTypeData.Integer:
                return Integer(field, logical.BitWidth, logical.IsSigned);
            case LogicalTypeData.Unknown:
                return field;
            default:
                return Other(field, LogicalName(logical, element));
        }
    }

    private static ParquetField FromConverted(ParquetField field, SchemaElement element)
    {
        switch (element.ConvertedType)
        {
            case null:
                return field;
            case ConvertedTypes.Utf8 when field.Type == ParquetType.ByteArray:
                return field with { Logical = ParquetLogicalType.String };
            case ConvertedTypes.Date when field.Type == ParquetType.Int32:
                return field with { Logical = ParquetLogicalType.Date };
            case ConvertedTypes.TimestampMillis or ConvertedTypes.TimestampMicros when field.Type == ParquetType.Int64:
                var unit = element.ConvertedType == ConvertedTypes.TimestampMillis ? ParquetTimeUnit.Millis : ParquetTimeUnit.Micros;
                return field with { Logical = ParquetLogicalType.Timestamp, TimestampUnit = unit, IsUtc = true };
            case >= ConvertedTypes.Uint8 and <= ConvertedTypes.Int64:
                var code = element.ConvertedType.Value;
                var signed = code >= ConvertedTypes.Int8;
                var bits = 8 << (code - (signed ? ConvertedTypes.Int8 : ConvertedTypes.Uint8));
                return Integer(field, bits, signed);
            default:
                return Other(field, ConvertedName(element));
        }
    }

    private static ParquetField Integer(ParquetField field, int bits, bool signed)
    {
        var fits = bits switch
        {
            8 or 16 or 32 => field.Type == ParquetType.Int32,
            64 => field.Type == ParquetType.Int64,
            _ => false,
        };
        if (!fits)
        {
            return Other(field, $"INTEGER({bits}, {(signed ? "signed" : "unsigned")})");
        }

        return signed && bits is 32 or 64 ? field : field with { Logical = ParquetLogicalType.Integer, IntegerBits = bits, IsSigned = signed };
    }

    private static ParquetField Other(ParquetField field, string name) => field with { Logical = ParquetLogicalType.Other, Annotation = name };

    private static string LogicalName(LogicalTypeData logical, SchemaElement element) => logical.Kind switch
    {
        LogicalTypeData.String => "STRING",
        LogicalTypeData.Map => "MAP",
        LogicalTypeData.List => "LIST",
        LogicalTypeData.Enum => "ENUM",
        LogicalTypeData.Decimal => $"DECIMAL({(logical.Precision != 0 ? logical.Precision : element.Precision)},{(logical.Precision != 0 ? logical.Scale : element.Scale)})",
        LogicalTypeData.Date => "DATE",
        LogicalTypeData.Time => $"TIME({UnitName(logical.Unit)}, {(logical.IsAdjustedToUtc ? "UTC" : "local")})",
        LogicalTypeData.Timestamp => $"TIMESTAMP({UnitName(logical.Unit)}, {(logical.IsAdjustedToUtc ? "UTC" : "local")})",
        LogicalTypeData.Json => "JSON",
        LogicalTypeData.Bson => "BSON",
        LogicalTypeData.Uuid => "UUID",
        LogicalTypeData.Float16 => "FLOAT16",
        LogicalTypeData.Variant => "VARIANT",
        LogicalTypeData.Geometry => "GEOMETRY",
        LogicalTypeData.Geography => "GEOGRAPHY",
        _ => $"LOGICAL_TYPE_{logical.Kind}",
    };

    private static string UnitName(int unit) => unit switch
    {
        1 => "MILLIS",
        2 => "MICROS",
        3 => "NANOS",
        _ => "?",
    };

    private static string ConvertedName(SchemaElement element) => element.ConvertedType switch
    {
        ConvertedTypes.Utf8 => "UTF8",
        ConvertedTypes.Map => "MAP",
        ConvertedTypes.MapKeyValue => "MAP_KEY_VALUE",
        ConvertedTypes.List => "LIST",
        ConvertedTypes.Enum => "ENUM",
        ConvertedTypes.Decimal => $"DECIMAL({element.Precision},{element.Scale})",
        ConvertedTypes.Date => "DATE",
        ConvertedTypes.TimeMillis => "TIME_MILLIS",
        ConvertedTypes.TimeMicros => "TIME_MICROS",
        ConvertedTypes.TimestampMillis => "TIMESTAMP_MILLIS",
        ConvertedTypes.TimestampMicros => "TIMESTAMP_MICROS",
        ConvertedTypes.Json => "JSON",
        ConvertedTypes.Bson => "BSON",
        ConvertedTypes.Interval => "INTERVAL",
        var code => $"CONVERTED_TYPE_{code}",
    };
}
