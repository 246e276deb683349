using System.Numerics;
using System.Text;

namespace Floe.Formats.Hdf5;

/// <summary>A local heap ("HEAP"): the data segment holding an old-style group's link names and soft link values.</summary>
internal sealed class LocalHeap
{
    private readonly ReadOnlyMemory<byte> _data;
    private readonly long _offset;
    private readonly Hdf5Context _context;

    private LocalHeap(ReadOnlyMemory<byte> data, long offset, Hdf5Context context)
    {
        _data = data;
        _offset = offset;
        _context = context;
    }

    public static async ValueTask<LocalHeap> ReadAsync(Hdf5Context context, long address, string? path, CancellationToken cancellationToken)
    {
        var headerSize = 8 + 2 * context.LengthSize + context.OffsetSize;
        var header = await context.ReadAsync(address, headerSize, path, "local heap", cancellationToken);
        var r = context.Cursor(header, path, "local heap");
        r.Signature("HEAP");
        var version = r.U8("version");
        if (version != 0)
        {
            throw r.Error($"local heap version {version} is not 0");
        }

        r.Skip(3, "reserved");
        var size = r.LengthField("data segment size");
        r.LengthField("free list offset");
        var dataAddress = r.Offset("data segment address");
        var length = context.StructureSize(size, path, header.Offset, "local heap data segment");
        var data = await context.ReadAsync(dataAddress, length, path, "local heap data segment", cancellationToken);
        return new LocalHeap(data.Data, data.Offset, context);
    }

    /// <summary>The NUL-terminated string at <paramref name="offset"/> in the data segment.</summary>
    public string String(long offset, string? path)
    {
        if (offset < 0 || offset >= _data.Length)
        {
            throw _context.Error(path, _offset, $"local heap offset {offset} is outside the {_data.Length}-byte data segment");
        }

        var rest = _data.Span[(int)offset..];
        var end = rest.IndexOf((byte)0);
        if (end < 0)
        {
            throw _context.Error(path, _offset + offset, "local heap string has no terminating NUL");
        }

        return Encoding.UTF8.GetString(rest[..end]);
    }
}

/// <summary>Global heap collections ("GCOL") read on demand and kept: variable-length data and region references.</summary>
internal sealed class GlobalHeap(Hdf5Context context)
{
    private const int MaxCollections = 4096;
    private readonly Dictionary<long, Dictionary<int, (ReadOnlyMemory<byte> Data, long Offset)>> _collections = [];

    public bool IsLoaded(long address) => _collections.ContainsKey(address);

    public async ValueTask LoadAsync(long address, string? path, CancellationToken cancellationToken)
    {
        if (_collections.ContainsKey(address))
        {
            return;
        }

        if (_collections.Count >= MaxCollections)
        {
            throw context.Error(path, context.BaseAddress + address, $"more than {MaxCollections} global heap collections referenced");
        }

        var headerSize = 8 + context.LengthSize;
        var header = await context.ReadAsync(address, headerSize, path, "global heap collection", cancellationToken);
        var h = context.Cursor(header, path, "global heap collection");
        h.Signature("GCOL");
        var version = h.U8("version");
        if (version != 1)
        {
            throw h.Error($"global heap version {version} is not 1");
        }

        h.Skip(3, "reserved");
        var size = h.LengthField("collection size");
        if (size < headerSize)
        {
            throw h.Error($"global heap collection size {size} is invalid");
        }

        var block = await context.ReadAsync(address, context.StructureSize(size, path, header.Offset, "global heap collection"), path, "global heap collection", cancellationToken);
        var r = context.Cursor(block, path, "global heap collection");

        // The collection header and each object header are padded to a multiple of 8 bytes (with 4-byte lengths).
        r.Position = Align8(headerSize);
        var objects = new Dictionary<int, (ReadOnlyMemory<byte>, long)>();
        var objectHeader = Align8(8 + context.LengthSize);
        while (r.Remaining >= objectHeader)
        {
            var index = r.U16("heap object index");
            r.U16("reference count");
            r.Skip(4, "reserved");
            var objectSize = r.LengthField("object size");
            r.Skip(objectHeader - 8 - context.LengthSize, "object header padding");
            if (index == 0)
            {
                break;
            }

            if (objectSize > r.Remaining)
            {
                throw r.Error($"global heap object {index} of {objectSize} bytes runs past its collection");
            }

            var start = r.Position;
            objects[index] = (block.Data.Slice(start, (int)objectSize), block.Offset + start);
            r.Skip((int)objectSize, "object data");
            r.Skip(Math.Min((8 - (int)(objectSize % 8)) % 8, r.Remaining), "object padding");
        }

        _collections[address] = objects;
    }

    private static int Align8(int value) => (value + 7) & ~7;

    /// <summary>The object's bytes; the collection must have been loaded.</summary>
    public ReadOnlyMemory<byte> Get(long address, int index, string? path)
    {
        if (!_collections.TryGetValue(address, out var objects))
        {
            throw new NeedCollectionException(address);
        }

        return objects.TryGetValue(index, out var found)
            ? found.Data
            : throw context.Error(path, context.BaseAddress + address, $"global heap collection has no object {index}");
    }

    public async ValueTask<ReadOnlyMemory<byte>> GetAsync(long address, int index, string? path, CancellationToken cancellationToken)
    {
        await LoadAsync(address, path, cancellationToken);
        return Get(address, index, path);
    }
}

/// <summary>Thrown by synchronous decoders when a global heap collection still has to be read.</summary>
internal sealed class NeedCollectionException(long address) : Exception("global heap collection not loaded")
{
    public long Address { get; } = address;
}

/// <summary>
/// A fractal heap ("FRHP"): the doubling table of direct and indirect blocks holding dense links and attributes.
/// Managed objects are located through the table; tiny objects live in their heap IDs; huge objects are read at
/// the address their ID (or the huge-object v2 B-tree) gives.
/// </summary>
internal sealed class FractalHeap
{
    private const int MaxIndirectDepth = 64;
    private readonly Hdf5Context _context;
    private readonly Dictionary<long, long[]> _indirectBlocks = [];
    private readonly HashSet<long> _verifiedDirectBlocks = [];
    private List<ReadOnlyMemory<byte>>? _hugeRecords;

    private FractalHeap(Hdf5Context context, long address)
    {
        _context = context;
        Address = address;
    }

    public long Address { get; }

    public int HeapIdLength { get; private set; }

    public int FilterLength { get; private set; }

    public int Flags { get; private set; }

    public long MaxManagedObjectSize { get; private set; }

    public long HugeBTreeAddress { get; private set; }

    public int TableWidth { get; private set; }

    public long StartingBlockSize { get; private set; }

    public long MaxDirectBlockSize { get; private set; }

    public int MaxHeapSizeBits { get; private set; }

    public long RootBlockAddress { get; private set; }

    public int CurrentRows { get; private set; }

    public bool ChecksumDirectBlocks => (Flags & 2) != 0;

    private int HeapOffsetSize => (MaxHeapSizeBits + 7) / 8;

    private int HeapLengthSize => Math.Min((Log2(MaxDirectBlockSize) + 7) / 8, Hdf5Datatype.EncodedSize((ulong)MaxManagedObjectSize));

    private int MaxDirectRows => Log2(MaxDirectBlockSize) - Log2(StartingBlockSize) + 2;

    private int FirstRowBits => Log2(StartingBlockSize) + Log2(TableWidth);

    public static async ValueTask<FractalHeap> ReadAsync(Hdf5Context context, long address, string? path, CancellationToken cancellationToken)
    {
        var o = context.OffsetSize;
        var l = context.LengthSize;
        var fixedSize = 4 + 1 + 2 + 2 + 1 + 4 + l + o + l + o + 8 * l + 2 + l + l + 2 + 2 + o + 2;
        var head = await context.ReadAsync(address, fixedSize + 4, path, "fractal heap header", cancellationToken);
        var r = context.Cursor(head, path, "fractal heap header");
        r.Signature("FRHP");
        var version = r.U8("version");
        if (version != 0)
        {
            throw r.Error($"fractal heap version {version} is not 0");
        }

        var heap = new FractalHeap(context, address)
        {
            HeapIdLength = r.U16("heap ID length"),
            FilterLength = r.U16("I/O filters' encoded length"),
            Flags = r.U8("flags"),
            MaxManagedObjectSize = r.U32("maximum size of managed objects"),
        };
        r.LengthField("next huge object ID");
        heap.HugeBTreeAddress = r.Offset("huge objects v2 B-tree address");
        r.LengthField("free space in managed blocks");
        r.Offset("managed block free space manager address");
        r.LengthField("managed space");
        r.LengthField("allocated managed space");
        r.LengthField("direct block allocation iterator offset");
        r.LengthField("number of managed objects");
        r.LengthField("size of huge objects");
        r.LengthField("number of huge objects");
        r.LengthField("size of tiny objects");
        r.LengthField("number of tiny objects");
        heap.TableWidth = r.U16("table width");
        heap.StartingBlockSize = r.LengthField("starting block size");
        heap.MaxDirectBlockSize = r.LengthField("maximum direct block size");
        heap.MaxHeapSizeBits = r.U16("maximum heap size");
        r.U16("starting rows in root indirect block");
        heap.RootBlockAddress = r.Offset("root block address");
        heap.CurrentRows = r.U16("current rows in root indirect block");
        if (heap.HeapIdLength is 0 or > 4096 || heap.TableWidth == 0 || !IsPowerOfTwo(heap.TableWidth) || heap.TableWidth > 65536
            || !IsPowerOfTwo(heap.StartingBlockSize) || !IsPowerOfTwo(heap.MaxDirectBlockSize) || heap.MaxDirectBlockSize < heap.StartingBlockSize
            || heap.MaxDirectBlockSize > (1L << 40) || heap.MaxHeapSizeBits is 0 or > 64 || heap.CurrentRows > 64)
        {
            throw r.Error("fractal heap header has invalid doubling table parameters");
        }

        if (heap.FilterLength > 0)
        {
            var withFilters = fixedSize + l + 4 + heap.FilterLength + 4;
            head = await context.ReadAsync(address, withFilters, path, "fractal heap header", cancellationToken);
            r = context.Cursor(head, path, "fractal heap header");
            r.Position = fixedSize + l + 4 + heap.FilterLength;
        }

        r.Checksum(0);
        return heap;
    }

    private static bool IsPowerOfTwo(long value) => value > 0 && (value & (value - 1)) == 0;

    private static int Log2(long value) => value <= 0 ? 0 : BitOperations.Log2((ulong)value);

    private long RowBlockSize(int row) => row == 0 ? StartingBlockSize : StartingBlockSize << (row - 1);

    private long RowOffset(int row) => row == 0 ? 0 : (StartingBlockSize * TableWidth) << (row - 1);

    /// <summary>The bytes of the object a heap ID names.</summary>
    public async ValueTask<(ReadOnlyMemory<byte> Data, long Offset)> ReadObjectAsync(ReadOnlyMemory<byte> id, long idOffset, string? path, CancellationToken cancellationToken)
    {
        if (id.Length == 0)
        {
            throw _context.Error(path, idOffset, "empty fractal heap ID");
        }

        var first = id.Span[0];
        var version = first >> 6;
        var type = (first >> 4) & 3;
        if (version != 0)
        {
            throw _context.Error(path, idOffset, $"fractal heap ID version {version} is not 0");
        }

        switch (type)
        {
            case 0:
                {
                    var r = new FieldReader(id.Span, idOffset, _context, path, "fractal heap ID");
                    r.U8("version and type");
                    var offset = r.UInt(HeapOffsetSize, "object offset");
                    var length = r.UInt(HeapLengthSize, "object length");
                    return await ReadManagedAsync((long)Math.Min(offset, long.MaxValue), (long)Math.Min(length, long.MaxValue), idOffset, path, cancellationToken);
                }

            case 1:
                return await ReadHugeAsync(id, idOffset, path, cancellationToken);
            case 2:
                {
                    var extended = HeapIdLength - 1 > 17;
                    var span = id.Span;
                    int length, start;
                    if (extended)
                    {
                        if (span.Length < 2)
                        {
                            throw _context.Error(path, idOffset, "tiny heap ID is truncated");
                        }

                        length = (((span[0] & 0x0F) << 8) | span[1]) + 1;
                        start = 2;
                    }
                    else
                    {
                        length = (span[0] & 0x0F) + 1;
                        start = 1;
                    }

                    if (start + length > span.Length)
                    {
                        throw _context.Error(path, idOffset, $"tiny object of {length} bytes does not fit its {span.Length}-byte heap ID");
                    }

                    return (id.Slice(start, length), idOffset + start);
                }

            default:
                throw _context.Error(path, idOffset, $"unknown fractal heap ID type {type}");
        }
    }

    private async ValueTask<(ReadOnlyMemory<byte>, long)> ReadManagedAsync(long offset, long length, long idOffset, string? path, CancellationToken cancellationToken)
    {
        if (FilterLength > 0)
        {
            throw _context.NotSupported(path, idOffset, "fractal heap with I/O filters (filtered direct blocks)");
        }

        if (RootBlockAddress == Hdf5Context.UndefinedAddress)
        {
            throw _context.Error(path, idOffset, "fractal heap is empty but a managed object is referenced");
        }

        if (length <= 0 || length > MaxDirectBlockSize)
        {
            throw _context.Error(path, idOffset, $"managed object length {length} is invalid");
        }

        long blockAddress = RootBlockAddress, blockOffset = 0, blockSize = StartingBlockSize;
        if (CurrentRows > 0)
        {
            var rows = CurrentRows;
            long iblockAddress = RootBlockAddress, iblockOffset = 0;
            for (var depth = 0; ; depth++)
            {
                if (depth > MaxIndirectDepth)
                {
                    throw _context.Error(path, idOffset, "fractal heap indirect blocks nest too deeply");
                }

                var children = await IndirectBlockAsync(iblockAddress, rows, iblockOffset, path, cancellationToken);
                var relative = offset - iblockOffset;
                int row;
                if (relative < 0)
                {
                    throw _context.Error(path, idOffset, $"managed object offset {offset} is outside its indirect block");
                }

                var firstRowSpan = StartingBlockSize * TableWidth;
                row = relative < firstRowSpan ? 0 : Log2(relative / firstRowSpan) + 1;
                if (row >= rows)
                {
                    throw _context.Error(path, idOffset, $"managed object offset {offset} is beyond the heap's {rows} rows");
                }

                var column = (relative - RowOffset(row)) / RowBlockSize(row);
                var entry = row * TableWidth + (int)column;
                var childOffset = iblockOffset + RowOffset(row) + column * RowBlockSize(row);
                if (entry >= children.Length)
                {
                    throw _context.Error(path, idOffset, $"managed object offset {offset} is outside its indirect block's {children.Length} entries");
                }

                var childAddress = children[entry];
                if (childAddress == Hdf5Context.UndefinedAddress)
                {
                    throw _context.Error(path, idOffset, $"managed object offset {offset} lies in an unallocated heap block");
                }

                if (row < MaxDirectRows)
                {
                    blockAddress = childAddress;
                    blockOffset = childOffset;
                    blockSize = RowBlockSize(row);
                    break;
                }

                rows = Log2(RowBlockSize(row)) - FirstRowBits + 1;
                if (rows is <= 0 or > 64)
                {
                    throw _context.Error(path, idOffset, $"fractal heap child indirect block would have {rows} rows");
                }

                iblockAddress = childAddress;
                iblockOffset = childOffset;
            }
        }

        if (offset - blockOffset < 0 || offset - blockOffset + length > blockSize || blockSize > Hdf5Context.MaxStructureBytes)
        {
            throw _context.Error(path, idOffset, $"managed object at heap offset {offset} of {length} bytes does not fit its direct block");
        }

        await VerifyDirectBlockAsync(blockAddress, blockSize, blockOffset, path, cancellationToken);
        var within = (int)(offset - blockOffset);
        var block = await _context.ReadAsync(blockAddress + within, (int)length, path, "fractal heap object", cancellationToken);
        return (block.Data, block.Offset);
    }

    private async ValueTask VerifyDirectBlockAsync(long address, long size, long heapOffset, string? path, CancellationToken cancellationToken)
    {
        if (_verifiedDirectBlocks.Contains(address))
        {
            return;
        }

        var prefix = 5 + _context.OffsetSize + HeapOffsetSize;
        var block = await _context.ReadAsync(address, ChecksumDirectBlocks ? (int)size : prefix, path, "fractal heap direct block", cancellationToken);
        var r = _context.Cursor(block, path, "fractal heap direct block");
        r.Signature("FHDB");
        var version = r.U8("version");
        if (version != 0)
        {
            throw r.Error($"direct block version {version} is not 0");
        }

        var heapAddress = r.Offset("heap header address");
        var blockOffset = r.UInt(HeapOffsetSize, "block offset");
        if (heapAddress != Address || blockOffset != (ulong)heapOffset)
        {
            throw r.Error($"direct block belongs to heap {heapAddress} at offset {blockOffset}, expected heap {Address} at offset {heapOffset}");
        }

        if (ChecksumDirectBlocks)
        {
            // The checksum covers the whole block with the checksum field taken as zero.
            var at = r.Position;
            var stored = r.U32("checksum");
            var copy = block.Data.ToArray();
            copy.AsSpan(at, 4).Clear();
            var computed = Lookup3.Hash(copy);
            if (computed != stored)
            {
                throw _context.Error(path, block.Offset + at, $"fractal heap direct block: checksum mismatch (stored 0x{stored:x8}, computed 0x{computed:x8})");
            }
        }

        _verifiedDirectBlocks.Add(address);
    }

    private async ValueTask<long[]> IndirectBlockAsync(long address, int rows, long heapOffset, string? path, CancellationToken cancellationToken)
    {
        if (_indirectBlocks.TryGetValue(address, out var cached))
        {
            return cached;
        }

        var o = _context.OffsetSize;
        var directRows = Math.Min(rows, MaxDirectRows);
        var indirectRows = rows - directRows;
        var directEntries = (long)directRows * TableWidth;
        var indirectEntries = (long)indirectRows * TableWidth;
        var entrySize = o + (FilterLength > 0 ? _context.LengthSize + 4 : 0);
        var size = 5 + o + HeapOffsetSize + directEntries * entrySize + indirectEntries * o + 4;
        var length = _context.StructureSize(size, path, _context.BaseAddress + address, "fractal heap indirect block");
        var block = await _context.ReadAsync(address, length, path, "fractal heap indirect block", cancellationToken);
        var r = _context.Cursor(block, path, "fractal heap indirect block");
        r.Signature("FHIB");
        var version = r.U8("version");
        if (version != 0)
        {
            throw r.Error($"indirect block version {version} is not 0");
        }

        var heapAddress = r.Offset("heap header address");
        var blockOffset = r.UInt(HeapOffsetSize, "block offset");
        if (heapAddress != Address || blockOffset != (ulong)heapOffset)
        {
            throw r.Error($"indirect block belongs to heap {heapAddress} at offset {blockOffset}, expected heap {Address} at offset {heapOffset}");
        }

        var children = new long[directEntries + indirectEntries];
        for (var i = 0; i < children.Length; i++)
        {
            children[i] = r.Offset("child block address");
            if (i < directEntries && FilterLength > 0)
            {
                r.LengthField("filtered direct block size");
                r.U32("filter mask");
            }
        }

        r.Checksum(0);
        _indirectBlocks[address] = children;
        return children;
    }

    private async ValueTask<(ReadOnlyMemory<byte>, long)> ReadHugeAsync(ReadOnlyMemory<byte> id, long idOffset, string? path, CancellationToken cancellationToken)
    {
        var o = _context.OffsetSize;
        var l = _context.LengthSize;
        if (FilterLength > 0)
        {
            throw _context.NotSupported(path, idOffset, "filtered huge fractal heap objects");
        }

        long address, length;
        if (HeapIdLength >= 1 + o + l)
        {
            var r = new FieldReader(id.Span, idOffset, _context, path, "huge object heap ID");
            r.U8("version and type");
            address = r.Offset("huge object address");
            length = r.LengthField("huge object length");
        }
        else
        {
            // Indirectly accessed: the ID holds a key into the huge-object v2 B-tree (type 1 records: address,
            // length, ID).
            var keySize = Math.Min(HeapIdLength - 1, l);
            var k = new FieldReader(id.Span, idOffset, _context, path, "huge object heap ID");
            k.U8("version and type");
            var key = k.UInt(keySize, "huge object key");
            if (HugeBTreeAddress == Hdf5Context.UndefinedAddress)
            {
                throw _context.Error(path, idOffset, "huge object referenced but the heap has no huge-object B-tree");
            }

            if (_hugeRecords is null)
            {
                var tree = await BTreeV2.ReadHeaderAsync(_context, HugeBTreeAddress, path, cancellationToken);
                if (tree.Type != 1)
                {
                    throw _context.Error(path, _context.BaseAddress + HugeBTreeAddress, $"huge-object B-tree has type {tree.Type}, expected 1");
                }

                _hugeRecords = await BTreeV2.RecordsAsync(_context, tree, path, cancellationToken);
            }

            address = -1;
            length = 0;
            foreach (var record in _hugeRecords)
            {
                var r = new FieldReader(record.Span, 0, _context, path, "huge object record");
                var recordAddress = r.Offset("huge object address");
                var recordLength = r.LengthField("huge object length");
                var recordId = r.UInt(l, "huge object ID");
                if (recordId == key)
                {
                    address = recordAddress;
                    length = recordLength;
                    break;
                }
            }

            if (address < 0)
            {
                throw _context.Error(path, idOffset, $"huge object {key} is not in the huge-object B-tree");
            }
        }

        var block = await _context.ReadAsync(address, _context.StructureSize(length, path, idOffset, "huge fractal heap object"), path, "huge fractal heap object", cancellationToken);
        return (block.Data, block.Offset);
    }
}
