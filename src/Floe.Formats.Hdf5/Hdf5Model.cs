namespace Floe.Formats.Hdf5;

/// <summary>A group, dataset or named datatype: an object header reached by a hard link.</summary>
public abstract class Hdf5Object
{
    private static readonly IReadOnlyList<Hdf5Attribute> NoAttributes = [];

    private protected Hdf5Object(string path, string name, long address, int headerVersion)
    {
        Path = path;
        Name = name;
        Address = address;
        ObjectHeaderVersion = headerVersion;
    }

    /// <summary>The absolute path by which the object was first reached ("/" for the root group).</summary>
    public string Path { get; }

    /// <summary>The last path component ("" for the root group).</summary>
    public string Name { get; }

    /// <summary>The object header's HDF5 address (relative to the superblock's base address, as HDF5 and h5py report it).</summary>
    public long Address { get; }

    /// <summary>1 or 2.</summary>
    public int ObjectHeaderVersion { get; }

    /// <summary>
    /// The attributes, in creation order when the object tracks it (every attribute has a creation order), otherwise
    /// in name order (ordinal), which is how HDF5 and h5py iterate them.
    /// </summary>
    public IReadOnlyList<Hdf5Attribute> Attributes { get; internal set; } = NoAttributes;

    /// <summary>True when the attributes are stored densely (attribute info message: fractal heap and v2 B-trees).</summary>
    public bool HasDenseAttributes { get; internal set; }

    /// <summary>The object comment message, if any.</summary>
    public string? Comment { get; internal set; }

    /// <summary>The object header message types, in header order (diagnostics and tests).</summary>
    public IReadOnlyList<int> MessageTypes { get; internal set; } = [];

    /// <summary>The attribute with this exact name, or null.</summary>
    public Hdf5Attribute? Attribute(string name)
    {
        foreach (var attribute in Attributes)
        {
            if (string.Equals(attribute.Name, name, StringComparison.Ordinal))
            {
                return attribute;
            }
        }

        return null;
    }

    public override string ToString() => $"{GetType().Name} {Path}";
}

/// <summary>How a group stores its links.</summary>
public enum Hdf5GroupStorage
{
    /// <summary>Old-style group: symbol table message, v1 B-tree of symbol table nodes and a local heap.</summary>
    SymbolTable,

    /// <summary>New-style group with its link messages in the object header.</summary>
    Compact,

    /// <summary>New-style group with its links in a fractal heap indexed by a v2 B-tree (link info message).</summary>
    Dense,
}

public sealed class Hdf5Group : Hdf5Object
{
    private static readonly IReadOnlyList<Hdf5Link> NoLinks = [];

    internal Hdf5Group(string path, string name, long address, int headerVersion)
        : base(path, name, address, headerVersion)
    {
    }

    /// <summary>
    /// The links, in creation order when the group tracks it (every link has a creation order), otherwise in name
    /// order (ordinal), as HDF5 iterates them.
    /// </summary>
    public IReadOnlyList<Hdf5Link> Links { get; internal set; } = NoLinks;

    public Hdf5GroupStorage Storage { get; internal set; }

    /// <summary>The targets of the hard links, in link order (soft and external links are not followed).</summary>
    public IEnumerable<Hdf5Object> Children
    {
        get
        {
            foreach (var link in Links)
            {
                if (link is Hdf5HardLink hard)
                {
                    yield return hard.Target;
                }
            }
        }
    }

    /// <summary>The link with this exact name, or null.</summary>
    public Hdf5Link? Link(string name)
    {
        foreach (var link in Links)
        {
            if (string.Equals(link.Name, name, StringComparison.Ordinal))
            {
                return link;
            }
        }

        return null;
    }
}

public sealed class Hdf5Dataset : Hdf5Object
{
    internal Hdf5Dataset(string path, string name, long address, int headerVersion, Hdf5Datatype datatype, Hdf5Dataspace dataspace,
        Hdf5Layout layout, IReadOnlyList<Hdf5Filter> filters, Hdf5FillValue fillValue)
        : base(path, name, address, headerVersion)
    {
        Datatype = datatype;
        Dataspace = dataspace;
        Layout = layout;
        Filters = filters;
        FillValue = fillValue;
    }

    public Hdf5Datatype Datatype { get; }

    public Hdf5Dataspace Dataspace { get; }

    public Hdf5Layout Layout { get; }

    /// <summary>The filter pipeline in the order the filters were applied when writing (empty when none).</summary>
    public IReadOnlyList<Hdf5Filter> Filters { get; }

    public Hdf5FillValue FillValue { get; }

    /// <summary>True when the raw data lives in external files (external data files message); its data is not read.</summary>
    public bool HasExternalStorage { get; internal set; }
}

public sealed class Hdf5NamedDatatype : Hdf5Object
{
    internal Hdf5NamedDatatype(string path, string name, long address, int headerVersion, Hdf5Datatype datatype)
        : base(path, name, address, headerVersion)
    {
        Datatype = datatype;
    }

    public Hdf5Datatype Datatype { get; }
}

/// <summary>A link in a group.</summary>
public abstract record Hdf5Link(string Name)
{
    /// <summary>The link's creation order when the group tracks it.</summary>
    public long? CreationOrder { get; init; }
}

public sealed record Hdf5HardLink(string Name, Hdf5Object Target) : Hdf5Link(Name);

/// <summary>A soft link; <see cref="Resolved"/> is the object its path names in this file, or null when it dangles.</summary>
public sealed record Hdf5SoftLink(string Name, string TargetPath) : Hdf5Link(Name)
{
    public Hdf5Object? Resolved { get; internal set; }
}

/// <summary>A link to an object in another file; never opened.</summary>
public sealed record Hdf5ExternalLink(string Name, string FileName, string ObjectPath) : Hdf5Link(Name);

/// <summary>A link of a user-defined type (neither hard, soft nor external): reported, never followed.</summary>
public sealed record Hdf5UserDefinedLink(string Name, int LinkType, byte[] Data) : Hdf5Link(Name);

public enum Hdf5DataspaceKind
{
    Scalar,
    Simple,
    Null,
}

/// <summary>A dataspace: scalar (one element), simple (an N-dimensional array) or null (no elements).</summary>
public sealed record Hdf5Dataspace(Hdf5DataspaceKind Kind, long[] Dimensions, long[]? MaxDimensions)
{
    /// <summary>The value of a maximum dimension that is unlimited.</summary>
    public const long Unlimited = -1;

    internal static readonly Hdf5Dataspace ScalarSpace = new(Hdf5DataspaceKind.Scalar, [], null);

    public int Rank => Dimensions.Length;

    /// <summary>Number of elements: 0 for null, 1 for scalar, the product of the dimensions for simple.</summary>
    public long ElementCount
    {
        get
        {
            if (Kind == Hdf5DataspaceKind.Null)
            {
                return 0;
            }

            long count = 1;
            foreach (var d in Dimensions)
            {
                count = d == 0 ? 0 : (count > long.MaxValue / d ? long.MaxValue : count * d);
            }

            return count;
        }
    }

    public override string ToString() => Kind switch
    {
        Hdf5DataspaceKind.Simple => $"({string.Join(", ", Dimensions)})",
        _ => Kind.ToString(),
    };
}

public enum Hdf5ChunkIndexType
{
    /// <summary>Version 1 B-tree (layout messages before version 4).</summary>
    BTreeV1 = 0,
    SingleChunk = 1,
    Implicit = 2,
    FixedArray = 3,
    ExtensibleArray = 4,
    BTreeV2 = 5,
}

/// <summary>How a dataset's raw data is stored.</summary>
public abstract record Hdf5Layout;

/// <summary>Raw data inside the object header; <paramref name="DataOffset"/> is the absolute file offset of the data.</summary>
public sealed record Hdf5CompactLayout(byte[] Data, long DataOffset) : Hdf5Layout
{
    /// <summary>The data layout message version (1 to 4).</summary>
    public int LayoutVersion { get; init; }
}

/// <summary>Raw data in one block at an absolute file offset (-1 when not allocated).</summary>
public sealed record Hdf5ContiguousLayout(long Address, long Size) : Hdf5Layout
{
    /// <summary>The data layout message version (1 to 4).</summary>
    public int LayoutVersion { get; init; }
}

/// <summary>
/// Chunked raw data. <paramref name="ChunkShape"/> has the dataset's rank (the element-size dimension of the layout
/// message removed); <paramref name="IndexAddress"/> is the absolute file offset of the chunk index (for a single
/// chunk, of the chunk itself), or -1 when nothing is allocated.
/// </summary>
public sealed record Hdf5ChunkedLayout(int[] ChunkShape, int LayoutVersion, Hdf5ChunkIndexType IndexType, long IndexAddress) : Hdf5Layout
{
    /// <summary>Element size in bytes as the layout message records it.</summary>
    public int ElementSize { get; init; }

    /// <summary>Layout flags (version 4): bit 0 don't filter partial edge chunks, bit 1 single chunk is filtered.</summary>
    public int Flags { get; init; }

    public bool DontFilterPartialEdgeChunks => (Flags & 1) != 0;

    /// <summary>Fixed array: log2 of the elements per data block page.</summary>
    public int FixedArrayPageBits { get; init; }

    /// <summary>Extensible array creation parameters (max elements bits, index block elements, minimum super block
    /// data block pointers, minimum data block elements, data block page bits).</summary>
    public int ExtensibleArrayMaxBits { get; init; }

    public int ExtensibleArrayIndexElements { get; init; }

    public int ExtensibleArrayMinPointers { get; init; }

    public int ExtensibleArrayMinElements { get; init; }

    public int ExtensibleArrayPageBits { get; init; }

    /// <summary>v2 B-tree creation parameters.</summary>
    public int BTreeNodeSize { get; init; }

    public int BTreeSplitPercent { get; init; }

    public int BTreeMergePercent { get; init; }

    /// <summary>Single chunk index with filters: the stored (filtered) size and filter mask of the chunk.</summary>
    public long SingleChunkFilteredSize { get; init; }

    public uint SingleChunkFilterMask { get; init; }

    /// <summary>Bytes of one whole chunk (product of the chunk shape and the element size).</summary>
    public long ChunkBytes
    {
        get
        {
            long bytes = ElementSize;
            foreach (var c in ChunkShape)
            {
                bytes = bytes > long.MaxValue / Math.Max(c, 1) ? long.MaxValue : bytes * c;
            }

            return bytes;
        }
    }
}

/// <summary>A virtual dataset (layout class 3): its mapping lives in the global heap; its data is not read.</summary>
public sealed record Hdf5VirtualLayout(long HeapAddress, int HeapIndex) : Hdf5Layout
{
    /// <summary>The data layout message version (4).</summary>
    public int LayoutVersion { get; init; }
}

/// <summary>
/// One filter of a dataset's pipeline. <paramref name="Name"/> is the well-known name for the standard filters
/// (deflate, shuffle, fletcher32, szip, nbit, scaleoffset, zstd), otherwise the name stored in the file or "unknown".
/// </summary>
public sealed record Hdf5Filter(ushort Id, string Name, bool Optional, uint[] ClientData)
{
    public const ushort Deflate = 1;
    public const ushort Shuffle = 2;
    public const ushort Fletcher32 = 3;
    public const ushort Szip = 4;
    public const ushort NBit = 5;
    public const ushort ScaleOffset = 6;
    public const ushort Zstd = 32015;

    /// <summary>The name stored in the file, if any.</summary>
    public string? StoredName { get; init; }

    /// <summary>The filter's flags field (bit 0: optional).</summary>
    public int Flags { get; init; }
}

public enum Hdf5AllocationTime
{
    NotSet = 0,
    Early = 1,
    Late = 2,
    Incremental = 3,
}

public enum Hdf5FillWriteTime
{
    OnAllocation = 0,
    Never = 1,
    IfSet = 2,
}

/// <summary>
/// A dataset's fill value. <see cref="IsDefined"/> is false only when the file says the fill value is undefined;
/// <see cref="Value"/> holds a user-defined value's raw bytes (the dataset's datatype and byte order), and is null
/// for the library default (all zero bytes) or when undefined.
/// </summary>
public sealed record Hdf5FillValue(bool IsDefined, byte[]? Value, Hdf5AllocationTime AllocationTime, Hdf5FillWriteTime WriteTime)
{
    internal static readonly Hdf5FillValue Default = new(true, null, Hdf5AllocationTime.NotSet, Hdf5FillWriteTime.IfSet);

    /// <summary>The fill value message type the value came from: 5 (new), 4 (old) or 0 (none: library default).</summary>
    public int MessageType { get; init; }

    /// <summary>The version of the new fill value message (1 to 3), 0 otherwise.</summary>
    public int MessageVersion { get; init; }
}

/// <summary>
/// An attribute and its decoded value: null for a null dataspace, one .NET value for a scalar, a flat row-major
/// array for a simple dataspace (see <see cref="Hdf5File"/> for the .NET types per datatype class).
/// </summary>
public sealed record Hdf5Attribute(string Name, Hdf5Datatype Datatype, Hdf5Dataspace Dataspace, object? Value)
{
    /// <summary>The attribute's creation order when its object tracks it.</summary>
    public long? CreationOrder { get; init; }

    /// <summary>The raw stored value bytes (element bytes in the file's byte order; vlen elements are heap IDs).</summary>
    public ReadOnlyMemory<byte> RawValue { get; init; }
}

/// <summary>An object reference: the referenced object header's HDF5 address (see <see cref="Hdf5File.FindByAddress"/>).</summary>
public sealed record Hdf5ObjectReference(long Address);

/// <summary>
/// A dataset region reference as stored: a global heap ID (<paramref name="HeapAddress"/>, <paramref name="HeapIndex"/>)
/// whose object holds the referenced dataset's address and the selection. <paramref name="Raw"/> is the stored bytes.
/// </summary>
public sealed record Hdf5RegionReference(byte[] Raw, long HeapAddress, int HeapIndex)
{
    /// <summary>The referenced dataset's object header address, when the heap object could be read; otherwise -1.</summary>
    public long ObjectAddress { get; init; } = -1;
}

/// <summary>
/// One stored chunk: chunk-grid coordinates (element offset / chunk shape), absolute file offset and stored length
/// of its bytes, and HDF5's filter mask (bit i set: filter i of the pipeline was not applied to this chunk).
/// </summary>
public sealed record Hdf5StoredChunk(long[] Index, long Offset, long Length, uint FilterMask)
{
    public override string ToString() => $"[{string.Join(",", Index)}] @{Offset}+{Length} mask {FilterMask}";
}
