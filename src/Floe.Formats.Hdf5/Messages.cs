using System.Text;

namespace Floe.Formats.Hdf5;

/// <summary>Object header message type numbers.</summary>
internal static class MessageType
{
    public const int Nil = 0x00;
    public const int Dataspace = 0x01;
    public const int LinkInfo = 0x02;
    public const int Datatype = 0x03;
    public const int FillValueOld = 0x04;
    public const int FillValue = 0x05;
    public const int Link = 0x06;
    public const int ExternalFiles = 0x07;
    public const int Layout = 0x08;
    public const int Bogus = 0x09;
    public const int GroupInfo = 0x0A;
    public const int FilterPipeline = 0x0B;
    public const int Attribute = 0x0C;
    public const int Comment = 0x0D;
    public const int ModificationTimeOld = 0x0E;
    public const int SharedMessageTable = 0x0F;
    public const int Continuation = 0x10;
    public const int SymbolTable = 0x11;
    public const int ModificationTime = 0x12;
    public const int BTreeK = 0x13;
    public const int DriverInfo = 0x14;
    public const int AttributeInfo = 0x15;
    public const int ReferenceCount = 0x16;
    public const int FileSpaceInfo = 0x17;
    public const int Last = 0x18;
}

/// <summary>A parsed link message (or an old-style symbol table entry turned into one).</summary>
internal sealed record LinkRecord(string Name, int LinkType, long Address, string? SoftPath, string? ExternalFile, string? ExternalPath, byte[]? UserData, long? CreationOrder);

internal readonly record struct LinkInfo(long HeapAddress, long NameIndexAddress, long CreationOrderIndexAddress, bool CreationOrderTracked);

internal readonly record struct AttributeInfo(long HeapAddress, long NameIndexAddress, long CreationOrderIndexAddress, bool CreationOrderTracked);

/// <summary>A shared message: a committed object's header address, or an ID in the shared message heap.</summary>
internal readonly record struct SharedReference(int Version, int Kind, long Address, ulong HeapId)
{
    public const int KindSharedHeap = 1;
    public const int KindCommitted = 2;

    public bool InSharedHeap => Kind == KindSharedHeap;
}

/// <summary>An attribute message split into its parts; the datatype and dataspace may still be shared references.</summary>
internal readonly record struct RawAttribute(
    string Name,
    bool DatatypeShared,
    ReadOnlyMemory<byte> Datatype,
    long DatatypeOffset,
    bool DataspaceShared,
    ReadOnlyMemory<byte> Dataspace,
    long DataspaceOffset,
    ReadOnlyMemory<byte> Data,
    long DataOffset);

/// <summary>Parsers for the object header messages; each reads one message's bytes through a bounds-checked cursor.</summary>
internal static class Messages
{
    private const int MaxRank = 32;

    public static Hdf5Dataspace ParseDataspace(ref FieldReader r, Hdf5Context context)
    {
        var version = r.U8("version");
        if (version is < 1 or > 2)
        {
            throw r.Error($"dataspace version {version} is not 1 or 2");
        }

        var rank = r.U8("dimensionality");
        var flags = r.U8("flags");
        var kind = Hdf5DataspaceKind.Simple;
        if (version == 1)
        {
            r.Skip(5, "reserved");
            if (rank == 0)
            {
                kind = Hdf5DataspaceKind.Scalar;
            }
        }
        else
        {
            var type = r.U8("dataspace type");
            kind = type switch
            {
                0 => Hdf5DataspaceKind.Scalar,
                1 => Hdf5DataspaceKind.Simple,
                2 => Hdf5DataspaceKind.Null,
                _ => throw r.Error($"unknown dataspace type {type}"),
            };
        }

        if (rank > MaxRank)
        {
            throw r.Error($"dataspace rank {rank} is more than {MaxRank}");
        }

        if (kind != Hdf5DataspaceKind.Simple)
        {
            return kind == Hdf5DataspaceKind.Scalar ? Hdf5Dataspace.ScalarSpace : new Hdf5Dataspace(Hdf5DataspaceKind.Null, [], null);
        }

        var dims = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            dims[i] = Size(ref r, context, "dimension size", allowUnlimited: false);
        }

        long[]? max = null;
        if ((flags & 1) != 0)
        {
            max = new long[rank];
            for (var i = 0; i < rank; i++)
            {
                max[i] = Size(ref r, context, "maximum dimension size", allowUnlimited: true);
            }
        }

        return new Hdf5Dataspace(Hdf5DataspaceKind.Simple, dims, max);
    }

    // A length-sized value; the all-ones value means unlimited (-1) where allowed.
    private static long Size(ref FieldReader r, Hdf5Context context, string field, bool allowUnlimited)
    {
        var at = r.FileOffset;
        var value = r.UInt(context.LengthSize, field);
        var ones = context.LengthSize == 8 ? ulong.MaxValue : (1UL << (context.LengthSize * 8)) - 1;
        if (value == ones && allowUnlimited)
        {
            return Hdf5Dataspace.Unlimited;
        }

        return value <= long.MaxValue / 2 ? (long)value : throw context.Error(null, at, $"{field} {value} is too large");
    }

    public static Hdf5Layout ParseLayout(ref FieldReader r, long messageOffset, Hdf5Context context)
    {
        var version = r.U8("version");
        if (version is < 1 or > 4)
        {
            throw r.Error($"data layout version {version} is not 1 to 4");
        }

        if (version < 3)
        {
            var rank = r.U8("dimensionality");
            var layoutClass = r.U8("layout class");
            r.Skip(5, "reserved");
            var address = layoutClass != 0 ? r.Offset("data address") : Hdf5Context.UndefinedAddress;
            if (rank is 0 or > MaxRank + 1)
            {
                throw r.Error($"layout dimensionality {rank} is not 1 to {MaxRank + 1}");
            }

            var dims = new long[rank];
            for (var i = 0; i < rank; i++)
            {
                dims[i] = r.U32("dimension size");
            }

            switch (layoutClass)
            {
                case 0:
                    {
                        var size = r.Count(4, "compact data size");
                        var dataOffset = r.FileOffset;
                        var data = r.Bytes(size, "compact data").ToArray();
                        return new Hdf5CompactLayout(data, dataOffset) { LayoutVersion = version };
                    }

                case 1:
                    {
                        // Versions 1 and 2 do not store the size; it is the dataspace's element count times the element
                        // size, filled in by the caller (-2 marks it as not yet known).
                        return new Hdf5ContiguousLayout(Absolute(address, context), -2) { LayoutVersion = version };
                    }

                case 2:
                    return Chunked(ref r, dims, version, Hdf5ChunkIndexType.BTreeV1, address, 0, context);
                default:
                    throw r.Error($"unknown layout class {layoutClass}");
            }
        }

        var cls = r.U8("layout class");
        switch (cls)
        {
            case 0:
                {
                    var size = r.U16("compact data size");
                    var dataOffset = r.FileOffset;
                    var data = r.Bytes(size, "compact data").ToArray();
                    return new Hdf5CompactLayout(data, dataOffset) { LayoutVersion = version };
                }

            case 1:
                {
                    var address = r.Offset("data address");
                    var size = r.LengthField("data size");
                    return new Hdf5ContiguousLayout(Absolute(address, context), size) { LayoutVersion = version };
                }

            case 2 when version == 3:
                {
                    var rank = r.U8("dimensionality");
                    var address = r.Offset("B-tree address");
                    if (rank is < 2 or > MaxRank + 1)
                    {
                        throw r.Error($"chunked layout dimensionality {rank} is not 2 to {MaxRank + 1}");
                    }

                    var dims = new long[rank];
                    for (var i = 0; i < rank; i++)
                    {
                        dims[i] = r.U32("chunk dimension");
                    }

                    return Chunked(ref r, dims, version, Hdf5ChunkIndexType.BTreeV1, address, 0, context);
                }

            case 2:
                {
                    var flags = r.U8("flags");
                    if ((flags & ~3) != 0)
                    {
                        throw r.Error($"unknown chunked layout flags 0x{flags:x2}");
                    }

                    var rank = r.U8("dimensionality");
                    if (rank is < 2 or > MaxRank + 1)
                    {
                        throw r.Error($"chunked layout dimensionality {rank} is not 2 to {MaxRank + 1}");
                    }

                    var encoded = r.U8("dimension size encoded length");
                    if (encoded is 0 or > 8)
                    {
                        throw r.Error($"chunk dimension encoded length {encoded} is not 1 to 8");
                    }

                    var dims = new long[rank];
                    for (var i = 0; i < rank; i++)
                    {
                        var at = r.FileOffset;
                        var d = r.UInt(encoded, "chunk dimension");
                        dims[i] = d <= int.MaxValue ? (long)d : throw context.Error(null, at, $"chunk dimension {d} is too large");
                    }

                    var indexType = r.U8("chunk index type");
                    int pageBits = 0, eaMaxBits = 0, eaIndexElements = 0, eaMinPointers = 0, eaMinElements = 0, eaPageBits = 0;
                    int nodeSize = 0, split = 0, merge = 0;
                    long filteredSize = 0;
                    uint filterMask = 0;
                    switch (indexType)
                    {
                        case 1:
                            if ((flags & 2) != 0)
                            {
                                filteredSize = r.LengthField("filtered chunk size");
                                filterMask = r.U32("filter mask");
                            }

                            break;
                        case 2:
                            break;
                        case 3:
                            pageBits = r.U8("page bits");
                            if (pageBits is 0 or > 32)
                            {
                                throw r.Error($"fixed array page bits {pageBits} is not 1 to 32");
                            }

                            break;
                        case 4:
                            eaMaxBits = r.U8("maximum elements bits");
                            eaIndexElements = r.U8("index block elements");
                            eaMinPointers = r.U8("minimum data block pointers");
                            eaMinElements = r.U8("minimum data block elements");
                            eaPageBits = r.U8("page bits");
                            if (eaMaxBits is 0 or > 64 || eaIndexElements == 0 || eaMinPointers == 0 || eaMinElements == 0 || eaPageBits is 0 or > 32
                                || !IsPowerOfTwo(eaMinPointers) || !IsPowerOfTwo(eaMinElements))
                            {
                                throw r.Error("invalid extensible array creation parameters");
                            }

                            break;
                        case 5:
                            nodeSize = r.Count(4, "node size");
                            split = r.U8("split percent");
                            merge = r.U8("merge percent");
                            break;
                        default:
                            throw r.Error($"unknown chunk index type {indexType}");
                    }

                    var address = r.Offset("chunk index address");
                    var layout = Chunked(ref r, dims, version, (Hdf5ChunkIndexType)indexType, address, flags, context);
                    return layout with
                    {
                        FixedArrayPageBits = pageBits,
                        ExtensibleArrayMaxBits = eaMaxBits,
                        ExtensibleArrayIndexElements = eaIndexElements,
                        ExtensibleArrayMinPointers = eaMinPointers,
                        ExtensibleArrayMinElements = eaMinElements,
                        ExtensibleArrayPageBits = eaPageBits,
                        BTreeNodeSize = nodeSize,
                        BTreeSplitPercent = split,
                        BTreeMergePercent = merge,
                        SingleChunkFilteredSize = filteredSize,
                        SingleChunkFilterMask = filterMask,
                    };
                }

            case 3 when version == 4:
                {
                    var address = r.Offset("global heap address");
                    var index = r.U32("global heap index");
                    return new Hdf5VirtualLayout(address, (int)index) { LayoutVersion = version };
                }

            default:
                throw r.Error($"unknown layout class {cls}");
        }
    }

    private static bool IsPowerOfTwo(int value) => value > 0 && (value & (value - 1)) == 0;

    private static Hdf5ChunkedLayout Chunked(ref FieldReader r, long[] dims, int version, Hdf5ChunkIndexType indexType, long address, int flags, Hdf5Context context)
    {
        if (dims.Length < 2)
        {
            throw r.Error("chunked layout has no dataset dimensions");
        }

        var shape = new int[dims.Length - 1];
        for (var i = 0; i < shape.Length; i++)
        {
            if (dims[i] is <= 0 or > int.MaxValue)
            {
                throw r.Error($"chunk dimension {i} is {dims[i]}");
            }

            shape[i] = (int)dims[i];
        }

        var elementSize = dims[^1];
        if (elementSize is <= 0 or > int.MaxValue)
        {
            throw r.Error($"chunk element size is {elementSize}");
        }

        return new Hdf5ChunkedLayout(shape, version, indexType, Absolute(address, context))
        {
            ElementSize = (int)elementSize,
            Flags = flags,
        };
    }

    private static long Absolute(long address, Hdf5Context context) =>
        address == Hdf5Context.UndefinedAddress ? Hdf5Context.UndefinedAddress : context.BaseAddress + address;

    public static List<Hdf5Filter> ParseFilterPipeline(ref FieldReader r)
    {
        var version = r.U8("version");
        if (version is < 1 or > 2)
        {
            throw r.Error($"filter pipeline version {version} is not 1 or 2");
        }

        var count = r.U8("number of filters");
        if (count > 32)
        {
            throw r.Error($"{count} filters, more than the 32 allowed");
        }

        if (version == 1)
        {
            r.Skip(6, "reserved");
        }

        var filters = new List<Hdf5Filter>(count);
        for (var i = 0; i < count; i++)
        {
            var id = r.U16("filter identification");
            var nameLength = version == 1 || id >= 256 ? r.U16("name length") : 0;
            var flags = r.U16("flags");
            var valueCount = r.U16("number of client data values");
            string? storedName = null;
            if (nameLength > 0)
            {
                var nameBytes = r.Bytes(nameLength, "filter name");
                var end = nameBytes.IndexOf((byte)0);
                storedName = Encoding.ASCII.GetString(end < 0 ? nameBytes : nameBytes[..end]);
            }

            if (valueCount > r.Remaining / 4)
            {
                throw r.Error($"filter claims {valueCount} client data values, more than the message holds");
            }

            var values = new uint[valueCount];
            for (var v = 0; v < valueCount; v++)
            {
                values[v] = r.U32("client data");
            }

            if (version == 1 && valueCount % 2 == 1)
            {
                r.Skip(4, "padding");
            }

            filters.Add(new Hdf5Filter(id, FilterName(id, storedName), (flags & 1) != 0, values) { StoredName = storedName, Flags = flags });
        }

        return filters;
    }

    private static string FilterName(ushort id, string? stored) => id switch
    {
        Hdf5Filter.Deflate => "deflate",
        Hdf5Filter.Shuffle => "shuffle",
        Hdf5Filter.Fletcher32 => "fletcher32",
        Hdf5Filter.Szip => "szip",
        Hdf5Filter.NBit => "nbit",
        Hdf5Filter.ScaleOffset => "scaleoffset",
        Hdf5Filter.Zstd => "zstd",
        _ => string.IsNullOrEmpty(stored) ? "unknown" : stored,
    };

    public static Hdf5FillValue ParseFillValue(ref FieldReader r)
    {
        var version = r.U8("version");
        if (version is < 1 or > 3)
        {
            throw r.Error($"fill value version {version} is not 1 to 3");
        }

        if (version < 3)
        {
            var allocation = r.U8("space allocation time");
            var write = r.U8("fill value write time");
            var defined = r.U8("fill value defined");
            byte[]? value = null;
            if (version == 1 || defined != 0)
            {
                var size = r.Count(4, "fill value size");
                if (size > 0)
                {
                    value = r.Bytes(size, "fill value").ToArray();
                }
            }

            return new Hdf5FillValue(defined != 0, value, (Hdf5AllocationTime)(allocation & 3), (Hdf5FillWriteTime)Math.Min((int)write, 2))
            {
                MessageType = MessageType.FillValue,
                MessageVersion = version,
            };
        }

        var flags = r.U8("flags");
        if ((flags & 0x10) != 0 && (flags & 0x20) != 0)
        {
            throw r.Error("fill value is both undefined and defined");
        }

        byte[]? bytes = null;
        if ((flags & 0x20) != 0)
        {
            var size = r.Count(4, "fill value size");
            bytes = r.Bytes(size, "fill value").ToArray();
            if (size == 0)
            {
                bytes = null;
            }
        }

        return new Hdf5FillValue((flags & 0x10) == 0, bytes, (Hdf5AllocationTime)(flags & 3), (Hdf5FillWriteTime)Math.Min((flags >> 2) & 3, 2))
        {
            MessageType = MessageType.FillValue,
            MessageVersion = version,
        };
    }

    public static Hdf5FillValue ParseOldFillValue(ref FieldReader r)
    {
        var size = r.Count(4, "fill value size");
        var value = size > 0 ? r.Bytes(size, "fill value").ToArray() : null;
        return new Hdf5FillValue(true, value, Hdf5AllocationTime.NotSet, Hdf5FillWriteTime.IfSet) { MessageType = MessageType.FillValueOld };
    }

    public static LinkRecord ParseLink(ref FieldReader r)
    {
        var version = r.U8("version");
        if (version != 1)
        {
            throw r.Error($"link message version {version} is not 1");
        }

        var flags = r.U8("flags");
        var linkType = (flags & 0x08) != 0 ? r.U8("link type") : 0;
        long? creationOrder = (flags & 0x04) != 0 ? (long)r.U64("creation order") : null;
        if ((flags & 0x10) != 0)
        {
            r.U8("link name character set");
        }

        var nameLength = r.Count(1 << (flags & 3), "link name length", r.Remaining);
        if (nameLength == 0)
        {
            throw r.Error("link name is empty");
        }

        var name = Encoding.UTF8.GetString(r.Bytes(nameLength, "link name"));
        switch (linkType)
        {
            case 0:
                return new LinkRecord(name, 0, r.Offset("object header address"), null, null, null, null, creationOrder);
            case 1:
                {
                    var length = r.U16("soft link length");
                    var path = Encoding.UTF8.GetString(r.Bytes(length, "soft link path"));
                    return new LinkRecord(name, 1, Hdf5Context.UndefinedAddress, path, null, null, null, creationOrder);
                }

            case 64:
                {
                    var length = r.U16("external link length");
                    var start = r.Position;
                    var end = start + length;
                    r.U8("external link flags");
                    var file = r.NulTerminated("external file name");
                    var objectPath = r.Position < end ? r.NulTerminated("external object path") : "";
                    if (r.Position > end)
                    {
                        throw r.Error("external link value runs past its stated length");
                    }

                    r.Position = end;
                    return new LinkRecord(name, 64, Hdf5Context.UndefinedAddress, null, file, objectPath, null, creationOrder);
                }

            default:
                {
                    if (linkType < 64)
                    {
                        throw r.Error($"unknown link type {linkType}");
                    }

                    var length = r.U16("user-defined link length");
                    var data = r.Bytes(length, "user-defined link value").ToArray();
                    return new LinkRecord(name, linkType, Hdf5Context.UndefinedAddress, null, null, null, data, creationOrder);
                }
        }
    }

    public static LinkInfo ParseLinkInfo(ref FieldReader r)
    {
        var version = r.U8("version");
        if (version != 0)
        {
            throw r.Error($"link info version {version} is not 0");
        }

        var flags = r.U8("flags");
        if ((flags & 1) != 0)
        {
            r.U64("maximum creation index");
        }

        var heap = r.Offset("fractal heap address");
        var names = r.Offset("name index address");
        var order = (flags & 2) != 0 ? r.Offset("creation order index address") : Hdf5Context.UndefinedAddress;
        return new LinkInfo(heap, names, order, (flags & 1) != 0);
    }

    public static AttributeInfo ParseAttributeInfo(ref FieldReader r)
    {
        var version = r.U8("version");
        if (version != 0)
        {
            throw r.Error($"attribute info version {version} is not 0");
        }

        var flags = r.U8("flags");
        if ((flags & 1) != 0)
        {
            r.U16("maximum creation index");
        }

        var heap = r.Offset("fractal heap address");
        var names = r.Offset("name index address");
        var order = (flags & 2) != 0 ? r.Offset("creation order index address") : Hdf5Context.UndefinedAddress;
        return new AttributeInfo(heap, names, order, (flags & 1) != 0);
    }

    public static SharedReference ParseShared(ref FieldReader r, Hdf5Context context)
    {
        var version = r.U8("shared message version");
        switch (version)
        {
            case 1:
                r.U8("type");
                r.Skip(6, "reserved");
                r.Skip(context.LengthSize, "reserved");
                return new SharedReference(1, SharedReference.KindCommitted, r.Offset("object header address"), 0);
            case 2:
                r.U8("type");
                return new SharedReference(2, SharedReference.KindCommitted, r.Offset("object header address"), 0);
            case 3:
                {
                    var kind = r.U8("type");
                    return kind switch
                    {
                        SharedReference.KindSharedHeap => new SharedReference(3, kind, Hdf5Context.UndefinedAddress, r.U64("heap ID")),
                        SharedReference.KindCommitted => new SharedReference(3, kind, r.Offset("object header address"), 0),
                        _ => throw r.Error($"unknown shared message type {kind}"),
                    };
                }

            default:
                throw r.Error($"shared message version {version} is not 1 to 3");
        }
    }

    /// <summary>Splits an attribute message; <paramref name="block"/> is the message's bytes at <paramref name="offset"/>.</summary>
    public static RawAttribute ParseAttribute(ReadOnlyMemory<byte> block, long offset, Hdf5Context context, string? path)
    {
        var r = new FieldReader(block.Span, offset, context, path, "attribute message");
        var version = r.U8("version");
        if (version is < 1 or > 3)
        {
            throw r.Error($"attribute message version {version} is not 1 to 3");
        }

        var flags = r.U8(version == 1 ? "reserved" : "flags");
        if (version == 1)
        {
            flags = 0;
        }

        var nameSize = r.U16("name size");
        var datatypeSize = r.U16("datatype size");
        var dataspaceSize = r.U16("dataspace size");
        if (version == 3)
        {
            r.U8("name character set");
        }

        var pad = version == 1 ? 8 : 1;
        if (nameSize == 0)
        {
            throw r.Error("attribute name size is 0");
        }

        var nameBytes = r.Bytes(nameSize, "attribute name");
        var nul = nameBytes.IndexOf((byte)0);
        var name = Encoding.UTF8.GetString(nul < 0 ? nameBytes : nameBytes[..nul]);
        r.Skip(Padding(nameSize, pad), "name padding");
        var datatypeOffset = r.Position;
        r.Skip(datatypeSize, "datatype");
        r.Skip(Math.Min(Padding(datatypeSize, pad), r.Remaining), "datatype padding");
        var dataspaceOffset = r.Position;
        r.Skip(dataspaceSize, "dataspace");
        r.Skip(Math.Min(Padding(dataspaceSize, pad), r.Remaining), "dataspace padding");
        var dataOffset = r.Position;
        return new RawAttribute(
            name,
            (flags & 1) != 0,
            block.Slice(datatypeOffset, datatypeSize),
            offset + datatypeOffset,
            (flags & 2) != 0,
            block.Slice(dataspaceOffset, dataspaceSize),
            offset + dataspaceOffset,
            block[dataOffset..],
            offset + dataOffset);
    }

    private static int Padding(int size, int multiple) => multiple <= 1 ? 0 : (multiple - size % multiple) % multiple;
}
