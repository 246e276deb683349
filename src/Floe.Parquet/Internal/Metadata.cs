namespace Floe.Parquet.Internal;

// The subset of parquet.thrift this library reads and writes, with compact-protocol (de)serialisation.
// Field ids follow parquet.thrift; unknown fields are skipped on reading.

internal enum PhysicalType
{
    Boolean = 0,
    Int32 = 1,
    Int64 = 2,
    Int96 = 3,
    Float = 4,
    Double = 5,
    ByteArray = 6,
    FixedLenByteArray = 7,
}

internal enum EncodingKind
{
    Plain = 0,
    PlainDictionary = 2,
    Rle = 3,
    BitPacked = 4,
    DeltaBinaryPacked = 5,
    DeltaLengthByteArray = 6,
    DeltaByteArray = 7,
    RleDictionary = 8,
    ByteStreamSplit = 9,
}

internal enum CodecKind
{
    Uncompressed = 0,
    Snappy = 1,
    Gzip = 2,
    Lzo = 3,
    Brotli = 4,
    Lz4 = 5,
    Zstd = 6,
    Lz4Raw = 7,
}

internal enum PageKind
{
    DataPage = 0,
    IndexPage = 1,
    DictionaryPage = 2,
    DataPageV2 = 3,
}

internal static class ConvertedTypes
{
    public const int Utf8 = 0;
    public const int Map = 1;
    public const int MapKeyValue = 2;
    public const int List = 3;
    public const int Enum = 4;
    public const int Decimal = 5;
    public const int Date = 6;
    public const int TimeMillis = 7;
    public const int TimeMicros = 8;
    public const int TimestampMillis = 9;
    public const int TimestampMicros = 10;
    public const int Uint8 = 11;
    public const int Uint64 = 14;
    public const int Int8 = 15;
    public const int Int64 = 18;
    public const int Json = 19;
    public const int Bson = 20;
    public const int Interval = 21;
}

internal static class Names
{
    public static string Of(EncodingKind encoding) => encoding switch
    {
        EncodingKind.Plain => "PLAIN",
        EncodingKind.PlainDictionary => "PLAIN_DICTIONARY",
        EncodingKind.Rle => "RLE",
        EncodingKind.BitPacked => "BIT_PACKED",
        EncodingKind.DeltaBinaryPacked => "DELTA_BINARY_PACKED",
        EncodingKind.DeltaLengthByteArray => "DELTA_LENGTH_BYTE_ARRAY",
        EncodingKind.DeltaByteArray => "DELTA_BYTE_ARRAY",
        EncodingKind.RleDictionary => "RLE_DICTIONARY",
        EncodingKind.ByteStreamSplit => "BYTE_STREAM_SPLIT",
        _ => $"ENCODING_{(int)encoding}",
    };

    public static string Of(CodecKind codec) => codec switch
    {
        CodecKind.Uncompressed => "UNCOMPRESSED",
        CodecKind.Snappy => "SNAPPY",
        CodecKind.Gzip => "GZIP",
        CodecKind.Lzo => "LZO",
        CodecKind.Brotli => "BROTLI",
        CodecKind.Lz4 => "LZ4",
        CodecKind.Zstd => "ZSTD",
        CodecKind.Lz4Raw => "LZ4_RAW",
        _ => $"CODEC_{(int)codec}",
    };

    public static string Of(PhysicalType type) => type switch
    {
        PhysicalType.Boolean => "BOOLEAN",
        PhysicalType.Int32 => "INT32",
        PhysicalType.Int64 => "INT64",
        PhysicalType.Int96 => "INT96",
        PhysicalType.Float => "FLOAT",
        PhysicalType.Double => "DOUBLE",
        PhysicalType.ByteArray => "BYTE_ARRAY",
        PhysicalType.FixedLenByteArray => "FIXED_LEN_BYTE_ARRAY",
        _ => $"TYPE_{(int)type}",
    };
}

/// <summary>LogicalType union: <see cref="Kind"/> is the union member's field id (1 STRING, 6 DATE, 8 TIMESTAMP, 10 INTEGER, ...).</summary>
internal sealed class LogicalTypeData
{
    public const int String = 1;
    public const int Map = 2;
    public const int List = 3;
    public const int Enum = 4;
    public const int Decimal = 5;
    public const int Date = 6;
    public const int Time = 7;
    public const int Timestamp = 8;
    public const int Integer = 10;
    public const int Unknown = 11;
    public const int Json = 12;
    public const int Bson = 13;
    public const int Uuid = 14;
    public const int Float16 = 15;
    public const int Variant = 16;
    public const int Geometry = 17;
    public const int Geography = 18;

    public int Kind { get; set; }

    public bool IsAdjustedToUtc { get; set; }

    /// <summary>TimeUnit member id: 1 millis, 2 micros, 3 nanos.</summary>
    public int Unit { get; set; }

    public int BitWidth { get; set; }

    public bool IsSigned { get; set; }

    public int Scale { get; set; }

    public int Precision { get; set; }

    public void Write(CompactWriter w, short id)
    {
        w.BeginStructField(id);
        switch (Kind)
        {
            case Timestamp or Time:
                w.BeginStructField((short)Kind);
                w.FieldBool(1, IsAdjustedToUtc);
                w.BeginStructField(2);
                w.EmptyStructField((short)Unit);
                w.EndStruct();
                w.EndStruct();
                break;
            case Integer:
                w.BeginStructField(Integer);
                w.FieldByte(1, (sbyte)BitWidth);
                w.FieldBool(2, IsSigned);
                w.EndStruct();
                break;
            case Decimal:
                w.BeginStructField(Decimal);
                w.FieldI32(1, Scale);
                w.FieldI32(2, Precision);
                w.EndStruct();
                break;
            default:
                w.EmptyStructField((short)Kind);
                break;
        }

        w.EndStruct();
    }

    public static LogicalTypeData Read(ref CompactReader r)
    {
        var result = new LogicalTypeData();
        r.BeginStruct();
        while (r.NextField(out var id, out var type))
        {
            if (type != CompactType.Struct)
            {
                r.Skip(type);
                continue;
            }

            result.Kind = id;
            switch (id)
            {
                case Timestamp or Time:
                    r.BeginStruct();
                    while (r.NextField(out var fid, out var ftype))
                    {
                        if (fid == 1)
                        {
                            result.IsAdjustedToUtc = r.BoolValue(ftype);
                        }
                        else if (fid == 2 && ftype == CompactType.Struct)
                        {
                            r.BeginStruct();
                            while (r.NextField(out var uid, out var utype))
                            {
                                result.Unit = uid;
                                r.Skip(utype);
                            }
                        }
                        else
                        {
                            r.Skip(ftype);
                        }
                    }

                    break;
                case Integer:
                    r.BeginStruct();
                    while (r.NextField(out var fid, out var ftype))
                    {
                        switch (fid)
                        {
                            case 1:
                                result.BitWidth = r.ReadI8(ftype);
                                break;
                            case 2:
                                result.IsSigned = r.BoolValue(ftype);
                                break;
                            default:
                                r.Skip(ftype);
                                break;
                        }
                    }

                    break;
                case Decimal:
                    r.BeginStruct();
                    while (r.NextField(out var fid, out var ftype))
                    {
                        switch (fid)
                        {
                            case 1:
                                result.Scale = r.ReadI32(ftype);
                                break;
                            case 2:
                                result.Precision = r.ReadI32(ftype);
                                break;
                            default:
                                r.Skip(ftype);
                                break;
                        }
                    }

                    break;
                default:
                    r.Skip(type);
                    break;
            }
        }

        return result;
    }
}

internal sealed class SchemaElement
{
    public PhysicalType? Type { get; set; }

    public int? TypeLength { get; set; }

    /// <summary>0 required, 1 optional, 2 repeated.</summary>
    public int? Repetition { get; set; }

    public string Name { get; set; } = "";

    public int? NumChildren { get; set; }

    public int? ConvertedType { get; set; }

    public int? Scale { get; set; }

    public int? Precision { get; set; }

    public int? FieldId { get; set; }

    public LogicalTypeData? Logical { get; set; }

    public void Write(CompactWriter w)
    {
        w.BeginStruct();
        if (Type is { } type)
        {
            w.FieldI32(1, (int)type);
        }

        if (TypeLength is { } length)
        {
            w.FieldI32(2, length);
        }

        if (Repetition is { } repetition)
        {
            w.FieldI32(3, repetition);
        }

        w.FieldString(4, Name);
        if (NumChildren is { } children)
        {
            w.FieldI32(5, children);
        }

        if (ConvertedType is { } converted)
        {
            w.FieldI32(6, converted);
        }

        if (Scale is { } scale)
        {
            w.FieldI32(7, scale);
        }

        if (Precision is { } precision)
        {
            w.FieldI32(8, precision);
        }

        Logical?.Write(w, 10);
        w.EndStruct();
    }

    public static SchemaElement Read(ref CompactReader r)
    {
        var e = new SchemaElement();
        r.BeginStruct();
        while (r.NextField(out var id, out var type))
        {
            switch (id)
            {
                case 1: e.Type = (PhysicalType)r.ReadI32(type); break;
                case 2: e.TypeLength = r.ReadI32(type); break;
                case 3: e.Repetition = r.ReadI32(type); break;
                case 4: e.Name = r.ReadString(type); break;
                case 5: e.NumChildren = r.ReadI32(type); break;
                case 6: e.ConvertedType = r.ReadI32(type); break;
                case 7: e.Scale = r.ReadI32(type); break;
                case 8: e.Precision = r.ReadI32(type); break;
                case 9: e.FieldId = r.ReadI32(type); break;
                case 10 when type == CompactType.Struct: e.Logical = LogicalTypeData.Read(ref r); break;
                default: r.Skip(type); break;
            }
        }

        return e;
    }
}

internal sealed class StatisticsData
{
    public byte[]? Max { get; set; }

    public byte[]? Min { get; set; }

    public long? NullCount { get; set; }

    public long? DistinctCount { get; set; }

    public byte[]? MaxValue { get; set; }

    public byte[]? MinValue { get; set; }

    public void Write(CompactWriter w, short id)
    {
        w.BeginStructField(id);
        if (Max is not null)
        {
            w.FieldBinary(1, Max);
        }

        if (Min is not null)
        {
            w.FieldBinary(2, Min);
        }

        if (NullCount is { } nulls)
        {
            w.FieldI64(3, nulls);
        }

        if (DistinctCount is { } distinct)
        {
            w.FieldI64(4, distinct);
        }

        if (MaxValue is not null)
        {
            w.FieldBinary(5, MaxValue);
        }

        if (MinValue is not null)
        {
            w.FieldBinary(6, MinValue);
        }

        if (MaxValue is not null)
        {
            w.FieldBool(7, true);
        }

        if (MinValue is not null)
        {
            w.FieldBool(8, true);
        }

        w.EndStruct();
    }

    public static StatisticsData Read(ref CompactReader r)
    {
        var s = new StatisticsData();
        r.BeginStruct();
        while (r.NextField(out var id, out var type))
        {
            switch (id)
            {
                case 1: s.Max = r.ReadBinary(type).ToArray(); break;
                case 2: s.Min = r.ReadBinary(type).ToArray(); break;
                case 3: s.NullCount = r.ReadI64(type); break;
                case 4: s.DistinctCount = r.ReadI64(type); break;
                case 5: s.MaxValue = r.ReadBinary(type).ToArray(); break;
                case 6: s.MinValue = r.ReadBinary(type).ToArray(); break;
                default: r.Skip(type); break;
            }
        }

        return s;
    }
}

internal sealed class ColumnMetaData
{
    public PhysicalType Type { get; set; }

    public List<EncodingKind> Encodings { get; set; } = [];

    public List<string> Path { get; set; } = [];

    public CodecKind Codec { get; set; }

    public long NumValues { get; set; }

    public long TotalUncompressedSize { get; set; }

    public long TotalCompressedSize { get; set; }

    public long DataPageOffset { get; set; }

    public long? DictionaryPageOffset { get; set; }

    public StatisticsData? Statistics { get; set; }

    /// <summary>(page type, encoding, count) triples.</summary>
    public List<(PageKind Page, EncodingKind Encoding, int Count)> EncodingStats { get; set; } = [];

    public void Write(CompactWriter w, short id)
    {
        w.BeginStructField(id);
        w.FieldI32(1, (int)Type);
        w.BeginListField(2, CompactType.I32, Encodings.Count);
        foreach (var encoding in Encodings)
        {
            w.I32((int)encoding);
        }

        w.BeginListField(3, CompactType.Binary, Path.Count);
        foreach (var part in Path)
        {
            w.String(part);
        }

        w.FieldI32(4, (int)Codec);
        w.FieldI64(5, NumValues);
        w.FieldI64(6, TotalUncompressedSize);
        w.FieldI64(7, TotalCompressedSize);
        w.FieldI64(9, DataPageOffset);
        if (DictionaryPageOffset is { } dictionary)
        {
            w.FieldI64(11, dictionary);
        }

        Statistics?.Write(w, 12);
        if (EncodingStats.Count > 0)
        {
            w.BeginListField(13, CompactType.Struct, EncodingStats.Count);
            foreach (var (page, encoding, count) in EncodingStats)
            {
                w.BeginStruct();
                w.FieldI32(1, (int)page);
                w.FieldI32(2, (int)encoding);
                w.FieldI32(3, count);
                w.EndStruct();
            }
        }

        w.EndStruct();
    }

    public static ColumnMetaData Read(ref CompactReader r)
    {
        var m = new ColumnMetaData();
        r.BeginStruct();
        while (r.NextField(out var id, out var type))
        {
            switch (id)
            {
                case 1: m.Type = (PhysicalType)r.ReadI32(type); break;
                case 2:
                    {
                        var count = r.ReadListHeader(type, out var element);
                        for (var i = 0; i < count; i++)
                        {
                            m.Encodings.Add((EncodingKind)r.ReadElementInteger(element));
                        }

                        break;
                    }

                case 3:
                    {
                        var count = r.ReadListHeader(type, out var element);
                        for (var i = 0; i < count; i++)
                        {
                            m.Path.Add(System.Text.Encoding.UTF8.GetString(r.ReadElementBinary(element)));
                        }

                        break;
                    }

                case 4: m.Codec = (CodecKind)r.ReadI32(type); break;
                case 5: m.NumValues = r.ReadI64(type); break;
                case 6: m.TotalUncompressedSize = r.ReadI64(type); break;
                case 7: m.TotalCompressedSize = r.ReadI64(type); break;
                case 9: m.DataPageOffset = r.ReadI64(type); break;
                case 11: m.DictionaryPageOffset = r.ReadI64(type); break;
                case 12 when type == CompactType.Struct: m.Statistics = StatisticsData.Read(ref r); break;
                default: r.Skip(type); break;
            }
        }

        return m;
    }
}

internal sealed class ColumnChunkData
{
    public string? FilePath { get; set; }

    public long FileOffset { get; set; }

    public ColumnMetaData? Meta { get; set; }

    public void Write(CompactWriter w)
    {
        w.BeginStruct();
        w.FieldI64(2, FileOffset);
        Meta?.Write(w, 3);
        w.EndStruct();
    }

    public static ColumnChunkData Read(ref CompactReader r)
    {
        var c = new ColumnChunkData();
        r.BeginStruct();
        while (r.NextField(out var id, out var type))
        {
            switch (id)
            {
                case 1: c.FilePath = r.ReadString(type); break;
                case 2: c.FileOffset = r.ReadI64(type); break;
                case 3 when type == CompactType.Struct: c.Meta = ColumnMetaData.Read(ref r); break;
                default: r.Skip(type); break;
            }
        }

        return c;
    }
}

internal sealed class RowGroupData
{
    public List<ColumnChunkData> Columns { get; set; } = [];

    public long TotalByteSize { get; set; }

    public long NumRows { get; set; }

    public long? FileOffset { get; set; }

    public long? TotalCompressedSize { get; set; }

    public short? Ordinal { get; set; }

    public void Write(CompactWriter w)
    {
        w.BeginStruct();
        w.BeginListField(1, CompactType.Struct, Columns.Count);
        foreach (var column in Columns)
        {
            column.Write(w);
        }

        w.FieldI64(2, TotalByteSize);
        w.FieldI64(3, NumRows);
        if (FileOffset is { } offset)
        {
            w.FieldI64(5, offset);
        }

        if (TotalCompressedSize is { } compressed)
        {
            w.FieldI64(6, compressed);
        }

        if (Ordinal is { } ordinal)
        {
            w.FieldI32(7, ordinal);
        }

        w.EndStruct();
    }

    public static RowGroupData Read(ref CompactReader r)
    {
        var g = new RowGroupData();
        r.BeginStruct();
        while (r.NextField(out var id, out var type))
        {
            switch (id)
            {
                case 1:
                    {
                        var count = r.ReadListHeader(type, out var element);
                        if (element != CompactType.Struct)
                        {
                            throw new ThriftException("row group columns are not structs");
                        }

                        for (var i = 0; i < count; i++)
                        {
                            g.Columns.Add(ColumnChunkData.Read(ref r));
                        }

                        break;
                    }

                case 2: g.TotalByteSize = r.ReadI64(type); break;
                case 3: g.NumRows = r.ReadI64(type); break;
                case 5: g.FileOffset = r.ReadI64(type); break;
                case 6: g.TotalCompressedSize = r.ReadI64(type); break;
                default: r.Skip(type); break;
            }
        }

        return g;
    }
}

internal sealed class FileMetaData
{
    public int Version { get; set; } = 1;

    public List<SchemaElement> Schema { get; set; } = [];

    public long NumRows { get; set; }

    public List<RowGroupData> RowGroups { get; set; } = [];

    public List<KeyValuePair<string, string?>> KeyValues { get; set; } = [];

    public string? CreatedBy { get; set; }

    /// <summary>Whether to write (or the file had) TypeDefinedOrder column orders for every leaf.</summary>
    public int ColumnOrders { get; set; }

    public void Write(CompactWriter w)
    {
        w.BeginStruct();
        w.FieldI32(1, Version);
        w.BeginListField(2, CompactType.Struct, Schema.Count);
        foreach (var element in Schema)
        {
            element.Write(w);
        }

        w.FieldI64(3, NumRows);
        w.BeginListField(4, CompactType.Struct, RowGroups.Count);
        foreach (var group in RowGroups)
        {
            group.Write(w);
        }

        if (KeyValues.Count > 0)
        {
            w.BeginListField(5, CompactType.Struct, KeyValues.Count);
            foreach (var (key, value) in KeyValues)
            {
                w.BeginStruct();
                w.FieldString(1, key);
                if (value is not null)
                {
                    w.FieldString(2, value);
                }

                w.EndStruct();
            }
        }

        if (CreatedBy is not null)
        {
            w.FieldString(6, CreatedBy);
        }

        if (ColumnOrders > 0)
        {
            w.BeginListField(7, CompactType.Struct, ColumnOrders);
            for (var i = 0; i < ColumnOrders; i++)
            {
                // ColumnOrder union { 1: TypeDefinedOrder TYPE_ORDER }
                w.BeginStruct();
                w.EmptyStructField(1);
                w.EndStruct();
            }
        }

        w.EndStruct();
    }

    public static FileMetaData Read(ref CompactReader r)
    {
        var f = new FileMetaData();
        r.BeginStruct();
        while (r.NextField(out var id, out var type))
        {
            switch (id)
            {
                case 1: f.Version = r.ReadI32(type); break;
                case 2:
                    {
                        var count = r.ReadListHeader(type, out var element);
                        if (element != CompactType.Struct)
                        {
                            throw new ThriftException("schema elements are not structs");
                        }

                        for (var i = 0; i < count; i++)
                        {
                            f.Schema.Add(SchemaElement.Read(ref r));
                        }

                        break;
                    }

                case 3: f.NumRows = r.ReadI64(type); break;
                case 4:
                    {
                        var count = r.ReadListHeader(type, out var element);
                        if (element != CompactType.Struct)
                        {
                            throw new ThriftException("row groups are not structs");
                        }

                        for (var i = 0; i < count; i++)
                        {
                            f.RowGroups.Add(RowGroupData.Read(ref r));
                        }

                        break;
                    }

                case 5:
                    {
                        var count = r.ReadListHeader(type, out var element);
                        for (var i = 0; i < count; i++)
                        {
                            if (element != CompactType.Struct)
                            {
                                r.Skip(element);
                                continue;
                            }

                            string? key = null;
                            string? value = null;
                            r.BeginStruct();
                            while (r.NextField(out var kid, out var ktype))
                            {
                                switch (kid)
                                {
                                    case 1: key = r.ReadString(ktype); break;
                                    case 2: value = r.ReadString(ktype); break;
                                    default: r.Skip(ktype); break;
                                }
                            }

                            if (key is not null)
                            {
                                f.KeyValues.Add(new(key, value));
                            }
                        }

                        break;
                    }

                case 6: f.CreatedBy = r.ReadString(type); break;
                case 7:
                    {
                        var count = r.ReadListHeader(type, out var element);
                        for (var i = 0; i < count; i++)
                        {
                            r.Skip(element);
                        }

                        f.ColumnOrders = count;
                        break;
                    }

                default: r.Skip(type); break;
            }
        }

        return f;
    }
}

internal struct PageHeader
{
    public PageKind Type;
    public int UncompressedSize;
    public int CompressedSize;

    // DataPageHeader / DataPageHeaderV2 / DictionaryPageHeader fields, flattened.
    public int NumValues;
    public EncodingKind Encoding;
    public EncodingKind DefinitionLevelEncoding;
    public EncodingKind RepetitionLevelEncoding;
    public int NumNulls;
    public int NumRows;
    public int DefinitionLevelsByteLength;
    public int RepetitionLevelsByteLength;
    public bool IsCompressed;
    public bool HasTypeHeader;

    public readonly void Write(CompactWriter w)
    {
        w.BeginStruct();
        w.FieldI32(1, (int)Type);
        w.FieldI32(2, UncompressedSize);
        w.FieldI32(3, CompressedSize);
        switch (Type)
        {
            case PageKind.DataPage:
                w.BeginStructField(5);
                w.FieldI32(1, NumValues);
                w.FieldI32(2, (int)Encoding);
                w.FieldI32(3, (int)DefinitionLevelEncoding);
                w.FieldI32(4, (int)RepetitionLevelEncoding);
                w.EndStruct();
                break;
            case PageKind.DictionaryPage:
                w.BeginStructField(7);
                w.FieldI32(1, NumValues);
                w.FieldI32(2, (int)Encoding);
                w.EndStruct();
                break;
            case PageKind.DataPageV2:
                w.BeginStructField(8);
                w.FieldI32(1, NumValues);
                w.FieldI32(2, NumNulls);
                w.FieldI32(3, NumRows);
                w.FieldI32(4, (int)Encoding);
                w.FieldI32(5, DefinitionLevelsByteLength);
                w.FieldI32(6, RepetitionLevelsByteLength);
                w.FieldBool(7, IsCompressed);
                w.EndStruct();
                break;
            default:
                throw new InvalidOperationException($"cannot write page type {Type}");
        }

        w.EndStruct();
    }

    /// <summary>Reads a page header; returns its length in bytes.</summary>
    public static int Read(ReadOnlySpan<byte> data, out PageHeader header)
    {
        header = default;
        header.IsCompressed = true;
        var r = new CompactReader(data);
        r.BeginStruct();
        while (r.NextField(out var id, out var type))
        {
            switch (id)
            {
                case 1: header.Type = (PageKind)r.ReadI32(type); break;
                case 2: header.UncompressedSize = r.ReadI32(type); break;
                case 3: header.CompressedSize = r.ReadI32(type); break;
                case 5 when type == CompactType.Struct:
                    header.HasTypeHeader = true;
                    r.BeginStruct();
                    while (r.NextField(out var fid, out var ftype))
                    {
                        switch (fid)
                        {
                            case 1: header.NumValues = r.ReadI32(ftype); break;
                            case 2: header.Encoding = (EncodingKind)r.ReadI32(ftype); break;
                            case 3: header.DefinitionLevelEncoding = (EncodingKind)r.ReadI32(ftype); break;
                            case 4: header.RepetitionLevelEncoding = (EncodingKind)r.ReadI32(ftype); break;
                            default: r.Skip(ftype); break;
                        }
                    }

                    break;
                case 7 when type == CompactType.Struct:
                    header.HasTypeHeader = true;
                    r.BeginStruct();
                    while (r.NextField(out var fid, out var ftype))
                    {
                        switch (fid)
                        {
                            case 1: header.NumValues = r.ReadI32(ftype); break;
                            case 2: header.Encoding = (EncodingKind)r.ReadI32(ftype); break;
                            default: r.Skip(ftype); break;
                        }
                    }

                    break;
                case 8 when type == CompactType.Struct:
                    header.HasTypeHeader = true;
                    r.BeginStruct();
                    while (r.NextField(out var fid, out var ftype))
                    {
                        switch (fid)
                        {
                            case 1: header.NumValues = r.ReadI32(ftype); break;
                            case 2: header.NumNulls = r.ReadI32(ftype); break;
                            case 3: header.NumRows = r.ReadI32(ftype); break;
                            case 4: header.Encoding = (EncodingKind)r.ReadI32(ftype); break;
                            case 5: header.DefinitionLevelsByteLength = r.ReadI32(ftype); break;
                            case 6: header.RepetitionLevelsByteLength = r.ReadI32(ftype); break;
                            case 7: header.IsCompressed = r.BoolValue(ftype); break;
                            default: r.Skip(ftype); break;
                        }
                    }

                    break;
                default: r.Skip(type); break;
            }
        }

        return r.Position;
    }
}
