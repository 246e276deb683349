using Floe.Storage;

namespace Floe.Formats.Hdf5;

/// <summary>
/// An HDF5 file read through a byte-range source: the superblock and the whole object tree (groups, datasets, named
/// datatypes and their attributes) are parsed when the file is opened; chunk indexes are read on demand.
/// </summary>
/// <remarks>
/// Attribute values are decoded to: sbyte/byte/short/ushort/int/uint/long/ulong (fixed-point by size and sign; enum
/// members as their base integer), Half/float/double, string (fixed-length with its padding stripped, variable-length
/// from the global heap), IReadOnlyDictionary&lt;string, object?&gt; (compound), <see cref="Hdf5ObjectReference"/> and
/// <see cref="Hdf5RegionReference"/>, a typed array for variable-length sequences and array datatypes, and byte[] for
/// opaque, bitfield and other raw types. A scalar gives one value, a simple dataspace a flat row-major array of
/// them, a null dataspace null. Calls must not overlap (the underlying <see cref="CachingRangeReader"/> serves one
/// parse at a time).
/// </remarks>
public sealed partial class Hdf5File
{
    private const int MaxGroupDepth = 256;
    private static readonly byte[] Signature = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

    private readonly Hdf5Context _context;
    private readonly GlobalHeap _globalHeap;
    private readonly Dictionary<long, Hdf5Object> _byAddress = [];
    private readonly Dictionary<long, Hdf5Datatype> _committedTypes = [];
    private readonly List<(Hdf5Group Group, Hdf5SoftLink Link)> _softLinks = [];
    private SharedMessageTable? _sharedMessages;
    private Hdf5Group? _root;

    private Hdf5File(Hdf5Context context)
    {
        _context = context;
        _globalHeap = new GlobalHeap(context);
    }

    /// <summary>The location as given to <see cref="OpenAsync"/>.</summary>
    public string Location => _context.Location;

    /// <summary>The file's size and version markers as of the first read.</summary>
    public SourceInfo Source => _context.Reader.Info!;

    public int SuperblockVersion { get; private set; }

    /// <summary>Absolute file offset of the superblock, which HDF5 addresses count from (the user block size).</summary>
    public long BaseAddress => _context.BaseAddress;

    public int OffsetSize => _context.OffsetSize;

    public int LengthSize => _context.LengthSize;

    /// <summary>The superblock extension's object header address (version 2 and 3 superblocks), or -1.</summary>
    public long SuperblockExtensionAddress { get; private set; } = Hdf5Context.UndefinedAddress;

    /// <summary>True when the file has a shared object header message table (messages shared in a heap).</summary>
    public bool HasSharedMessageTable => _sharedMessages is not null;

    public Hdf5Group Root => _root!;

    /// <summary>Requests sent to the source so far.</summary>
    public int RequestCount => _context.Reader.RequestCount;

    /// <summary>Bytes fetched from the source so far.</summary>
    public long BytesRead => _context.Reader.BytesFetched;

    /// <summary>Times the reader waited on the source so far (ranges fetched together count once).</summary>
    public int RoundTrips => _context.Reader.RoundTrips;

    internal Hdf5Context Context => _context;

    /// <summary>Opens an HDF5 file: finds the superblock and parses the object tree.</summary>
    /// <exception cref="Hdf5FormatException">The file is not valid HDF5 (the message names the file, object and byte offset).</exception>
    /// <exception cref="Hdf5NotSupportedException">The file uses a valid feature this reader does not support.</exception>
    public static Task<Hdf5File> OpenAsync(IByteRangeSource source, string location, CachingRangeReaderOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(location);
        return OpenAsync(new CachingRangeReader(source, location, options), cancellationToken);
    }

    /// <summary>The object at an absolute path ("/" is the root), following hard and soft links; null when absent.</summary>
    public Hdf5Object? Find(string absolutePath)
    {
        ArgumentNullException.ThrowIfNull(absolutePath);
        return Resolve(absolutePath, Root, 0);
    }

    /// <summary>The object whose header is at this HDF5 address (as object references store it), or null.</summary>
    public Hdf5Object? FindByAddress(long objectHeaderAddress) => _byAddress.GetValueOrDefault(objectHeaderAddress);

    /// <summary>Every object once, depth-first with parents before children, following hard links in link order.</summary>
    public IEnumerable<Hdf5Object> Walk()
    {
        var seen = new HashSet<Hdf5Object>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Hdf5Object>();
        stack.Push(Root);
        while (stack.Count > 0)
        {
            var current = stack.Pop();
            if (!seen.Add(current))
            {
                continue;
            }

            yield return current;
            if (current is Hdf5Group group)
            {
                var links = group.Links;
                for (var i = links.Count - 1; i >= 0; i--)
                {
                    if (links[i] is Hdf5HardLink hard && !seen.Contains(hard.Target))
                    {
                        stack.Push(hard.Target);
                    }
                }
            }
        }
    }

    /// <summary>
    /// The dataset's stored chunks: for chunked layouts every allocated chunk sorted by grid index; for contiguous
    /// storage one chunk at index [0, ...] covering the data (none when unallocated); for compact storage one chunk
    /// whose bytes are <see cref="Hdf5CompactLayout.Data"/> at their offset inside the object header.
    /// </summary>
    public ValueTask<IReadOnlyList<Hdf5StoredChunk>> ReadChunksAsync(Hdf5Dataset dataset, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var rank = dataset.Dataspace.Rank;
        switch (dataset.Layout)
        {
            case Hdf5CompactLayout compact:
                return ValueTask.FromResult<IReadOnlyList<Hdf5StoredChunk>>([new Hdf5StoredChunk(new long[rank], compact.DataOffset, compact.Data.Length, 0)]);
            case Hdf5ContiguousLayout contiguous:
                if (dataset.HasExternalStorage)
                {
                    throw _context.NotSupported(dataset.Path, -1, "raw data stored in external files");
                }

                return ValueTask.FromResult<IReadOnlyList<Hdf5StoredChunk>>(contiguous.Address == Hdf5Context.UndefinedAddress
                    ? []
                    : [new Hdf5StoredChunk(new long[rank], contiguous.Address, contiguous.Size, 0)]);
            case Hdf5ChunkedLayout chunked:
                return ReadChunkIndexAsync(dataset, chunked, cancellationToken);
            default:
                throw _context.NotSupported(dataset.Path, -1, "virtual dataset layout");
        }
    }

    /// <summary>
    /// Fetches the chunk indexes' first blocks of all these datasets together, before their chunks are read one
    /// dataset at a time. Writers such as netCDF-C put each index beside its dataset's data, megabytes apart, so
    /// this turns one wait per dataset into one wait for all. A hint: failures surface in <see cref="ReadChunksAsync"/>.
    /// </summary>
    public ValueTask PrefetchChunkIndexesAsync(IEnumerable<Hdf5Dataset> datasets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(datasets);
        var ranges = new List<(long, int)>();
        foreach (var dataset in datasets)
        {
            if (dataset.Layout is Hdf5ChunkedLayout chunked && ChunkIndex.RootBytes(_context, chunked) is > 0 and var length)
            {
                ranges.Add((chunked.IndexAddress - _context.BaseAddress, length));
            }
        }

        return ranges.Count > 1 ? _context.PrefetchAsync(ranges, cancellationToken) : ValueTask.CompletedTask;
    }

    private async ValueTask<IReadOnlyList<Hdf5StoredChunk>> ReadChunkIndexAsync(Hdf5Dataset dataset, Hdf5ChunkedLayout layout, CancellationToken cancellationToken) =>
        await Guard(this, dataset.Path, () => ChunkIndex.ReadAsync(_context, dataset, layout, cancellationToken));

    // Turns anything but our own exceptions, cancellation and source failures into an Hdf5FormatException, so a
    // parser bug on hostile input cannot surface as IndexOutOfRange or NullReference.
    private static async ValueTask<T> Guard<T>(Hdf5File file, string? path, Func<ValueTask<T>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception ex) when (ex is not (Hdf5FormatException or OperationCanceledException or SourceReadException or OutOfMemoryException))
        {
            throw new Hdf5FormatException(file.Location, path, -1, $"internal error while parsing: {ex.GetType().Name}: {ex.Message}", ex);
        }
    }

    private async ValueTask LoadAsync(CancellationToken cancellationToken)
    {
        var rootAddress = await ReadSuperblockAsync(cancellationToken);
        var root = await LoadObjectAsync(rootAddress, "/", "", 0, cancellationToken);
        _root = root as Hdf5Group ?? throw _context.Error("/", _context.BaseAddress + rootAddress, "the root object is not a group");
        foreach (var (group, link) in _softLinks)
        {
            link.Resolved = Resolve(link.TargetPath, group, 0);
        }
    }

    private Hdf5Object? Resolve(string path, Hdf5Group relativeTo, int depth)
    {
        var budget = 4096;
        return Resolve(path, relativeTo, depth, ref budget);
    }

    // Soft links may name paths through other soft links; the budget bounds the total work a hostile chain of them
    // can cause (each level may fan out into many components).
    private Hdf5Object? Resolve(string path, Hdf5Group relativeTo, int depth, ref int budget)
    {
        if (depth > 16 || _root is null || --budget < 0)
        {
            return null;
        }

        Hdf5Object current = path.StartsWith('/') ? _root : relativeTo;
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
            {
                continue;
            }

            if (current is not Hdf5Group group)
            {
                return null;
            }

            switch (group.Link(part))
            {
                case Hdf5HardLink hard:
                    current = hard.Target;
                    break;
                case Hdf5SoftLink soft:
                    var target = Resolve(soft.TargetPath, group, depth + 1, ref budget);
                    if (target is null)
                    {
                        return null;
                    }

                    current = target;
                    break;
                default:
                    return null;
            }
        }

        return current;
    }

    private async ValueTask<long> ReadSuperblockAsync(CancellationToken cancellationToken)
    {
        long at = 0;
        while (true)
        {
            if (at + 8 > _context.FileLength)
            {
                throw _context.Error(null, 0, $"not an HDF5 file: no superblock signature at byte 0, 512, 1024, ... ({_context.FileLength} bytes)");
            }

            var probe = await _context.ReadAsync(at, 8, null, "superblock signature", cancellationToken);
            if (probe.Data.Span.SequenceEqual(Signature))
            {
                break;
            }

            at = at == 0 ? 512 : at * 2;
        }

        var length = (int)Math.Min(_context.FileLength - at, 256);
        var block = await _context.ReadAsync(at, length, null, "superblock", cancellationToken);
        var r = _context.Cursor(block, null, "superblock");
        r.Skip(8, "signature");
        var version = r.U8("version");
        SuperblockVersion = version;
        long rootAddress;
        long eof;
        if (version <= 1)
        {
            r.U8("free space version");
            r.U8("root group symbol table entry version");
            r.U8("reserved");
            r.U8("shared header message version");
            SetSizes(ref r, r.U8("size of offsets"), r.U8("size of lengths"));
            r.U8("reserved");
            var leafK = r.U16("group leaf node K");
            var internalK = r.U16("group internal node K");
            if (leafK == 0 || internalK == 0)
            {
                throw r.Error("group B-tree K is 0");
            }

            _context.GroupLeafK = leafK;
            _context.GroupInternalK = internalK;
            r.U32("file consistency flags");
            if (version == 1)
            {
                var chunkK = r.U16("indexed storage internal node K");
                _context.ChunkBTreeK = chunkK == 0 ? throw r.Error("indexed storage K is 0") : chunkK;
                r.U16("reserved");
            }

            r.Offset("base address");
            r.Offset("free space info address");
            eof = r.Offset("end of file address");
            r.Offset("driver information block address");
            r.Offset("root link name offset");
            rootAddress = r.Offset("root object header address");
            r.U32("root cache type");
            r.U32("reserved");
            r.Skip(16, "root scratch pad");
        }
        else if (version <= 3)
        {
            SetSizes(ref r, r.U8("size of offsets"), r.U8("size of lengths"));

            // Check the checksum before trusting any address in it.
            var check = r;
            check.Position = 12 + 4 * _context.OffsetSize;
            check.Checksum(0);
            r.U8("file consistency flags");
            r.Offset("base address");
            SuperblockExtensionAddress = r.Offset("superblock extension address");
            eof = r.Offset("end of file address");
            rootAddress = r.Offset("root group object header address");
        }
        else
        {
            throw _context.NotSupported(null, at + 8, $"superblock version {version}");
        }

        // HDF5 addresses count from the superblock, whatever the stored base address says.
        _context.BaseAddress = at;
        // The end-of-file address is stored absolute (it includes the user block).
        if (eof != Hdf5Context.UndefinedAddress && eof > _context.FileLength)
        {
            throw _context.Error(null, _context.FileLength,
                $"file is truncated: the superblock says it ends at byte {eof} but it has {_context.FileLength} bytes");
        }

        if (rootAddress == Hdf5Context.UndefinedAddress)
        {
            throw _context.Error(null, at, "superblock has no root group address");
        }

        if (SuperblockExtensionAddress != Hdf5Context.UndefinedAddress)
        {
            await ReadSuperblockExtensionAsync(cancellationToken);
        }

        return rootAddress;
    }

    private void SetSizes(ref FieldReader r, int offsetSize, int lengthSize)
    {
        if (offsetSize is not (2 or 4 or 8) || lengthSize is not (2 or 4 or 8))
        {
            throw r.Error($"sizes of offsets {offsetSize} and lengths {lengthSize} are not 2, 4 or 8");
        }

        _context.OffsetSize = offsetSize;
        _context.LengthSize = lengthSize;
    }

    private async ValueTask ReadSuperblockExtensionAsync(CancellationToken cancellationToken)
    {
        var header = await ObjectHeader.ReadAsync(_context, SuperblockExtensionAddress, null, cancellationToken);
        foreach (var message in header.Messages)
        {
            if (message.Type == MessageType.BTreeK)
            {
                var r = message.Cursor(_context, null, "B-tree K message");
                r.U8("version");
                var chunkK = r.U16("indexed storage internal node K");
                var internalK = r.U16("group internal node K");
                var leafK = r.U16("group leaf node K");
                if (chunkK > 0)
                {
                    _context.ChunkBTreeK = chunkK;
                }

                if (internalK > 0)
                {
                    _context.GroupInternalK = internalK;
                }

                if (leafK > 0)
                {
                    _context.GroupLeafK = leafK;
                }
            }
            else if (message.Type == MessageType.SharedMessageTable)
            {
                var r = message.Cursor(_context, null, "shared message table message");
                r.U8("version");
                var address = r.Offset("shared message table address");
                var count = r.U8("number of indices");
                if (address != Hdf5Context.UndefinedAddress && count > 0)
                {
                    _sharedMessages = await SharedMessageTable.ReadAsync(_context, address, count, cancellationToken);
                }
            }
        }
    }
}
