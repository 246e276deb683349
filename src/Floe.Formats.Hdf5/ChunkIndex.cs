using System.Numerics;

namespace Floe.Formats.Hdf5;

/// <summary>Reads a chunked dataset's index (any of the six index types) into its stored chunks.</summary>
internal static class ChunkIndex
{
    /// <summary>Chunks one dataset may list at most; more is treated as corrupt.</summary>
    public const long MaxChunks = 1L << 26;

    /// <summary>Bytes worth fetching at the index address before reading the index: its root node or header; 0 when nothing is stored there.</summary>
    public static int RootBytes(Hdf5Context context, Hdf5ChunkedLayout layout)
    {
        if (layout.IndexAddress == Hdf5Context.UndefinedAddress)
        {
            return 0;
        }

        var o = context.OffsetSize;
        return layout.IndexType switch
        {
            // A full node: header, 2K + 1 keys (size, mask, rank + 1 offsets) and 2K children.
            Hdf5ChunkIndexType.BTreeV1 => 8 + (2 * o) + ((2 * context.ChunkBTreeK + 1) * (8 + 8 * (layout.ChunkShape.Length + 1))) + (2 * context.ChunkBTreeK * o),
            // The single chunk and implicit indexes have no structure to read.
            Hdf5ChunkIndexType.SingleChunk or Hdf5ChunkIndexType.Implicit => 0,
            // Fixed array, extensible array and v2 B-tree headers are small; their blocks are read after them.
            _ => 512,
        };
    }

    public static async ValueTask<List<Hdf5StoredChunk>> ReadAsync(Hdf5Context context, Hdf5Dataset dataset, Hdf5ChunkedLayout layout, CancellationToken cancellationToken)
    {
        var path = dataset.Path;
        var rank = layout.ChunkShape.Length;
        var space = dataset.Dataspace;
        if (space.Kind != Hdf5DataspaceKind.Simple || space.Rank != rank)
        {
            throw context.Error(path, layout.IndexAddress, $"chunk shape has rank {rank} but the dataspace is {space}");
        }

        var chunks = new List<Hdf5StoredChunk>();
        if (layout.IndexAddress == Hdf5Context.UndefinedAddress)
        {
            return chunks;
        }

        var grid = new Grid(space, layout);
        var indexAddress = layout.IndexAddress - context.BaseAddress;
        switch (layout.IndexType)
        {
            case Hdf5ChunkIndexType.BTreeV1:
                await ReadBTreeV1Async(context, layout, indexAddress, path, chunks, cancellationToken);
                break;
            case Hdf5ChunkIndexType.SingleChunk:
                {
                    var filtered = (layout.Flags & 2) != 0;
                    chunks.Add(new Hdf5StoredChunk(new long[rank], layout.IndexAddress, filtered ? layout.SingleChunkFilteredSize : layout.ChunkBytes,
                        filtered ? layout.SingleChunkFilterMask : 0));
                    break;
                }

            case Hdf5ChunkIndexType.Implicit:
                ReadImplicit(context, layout, grid, path, chunks);
                break;
            case Hdf5ChunkIndexType.FixedArray:
                await ReadFixedArrayAsync(context, layout, grid, indexAddress, path, chunks, cancellationToken);
                break;
            case Hdf5ChunkIndexType.ExtensibleArray:
                await ReadExtensibleArrayAsync(context, layout, grid, indexAddress, path, chunks, cancellationToken);
                break;
            case Hdf5ChunkIndexType.BTreeV2:
                await ReadBTreeV2Async(context, layout, indexAddress, path, chunks, cancellationToken);
                break;
            default:
                throw context.NotSupported(path, layout.IndexAddress, $"chunk index type {layout.IndexType}");
        }

        chunks.Sort(static (a, b) => CompareIndex(a.Index, b.Index));
        return chunks;
    }

    private static int CompareIndex(long[] a, long[] b)
    {
        for (var i = 0; i < a.Length && i < b.Length; i++)
        {
            var c = a[i].CompareTo(b[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return a.Length.CompareTo(b.Length);
    }

    /// <summary>The chunk grid: chunk counts for the current and the maximum extent, and the linear index layouts.</summary>
    private sealed class Grid
    {
        public Grid(Hdf5Dataspace space, Hdf5ChunkedLayout layout)
        {
            var rank = layout.ChunkShape.Length;
            Current = new long[rank];
            Max = new long[rank];
            UnlimitedDim = -1;
            for (var i = 0; i < rank; i++)
            {
                var c = layout.ChunkShape[i];
                Current[i] = CeilDiv(space.Dimensions[i], c);
                var max = space.MaxDimensions is { } m ? m[i] : space.Dimensions[i];
                if (max == Hdf5Dataspace.Unlimited)
                {
                    if (UnlimitedDim < 0)
                    {
                        UnlimitedDim = i;
                    }

                    Max[i] = Current[i];
                }
                else
                {
                    Max[i] = Math.Max(CeilDiv(max, c), Current[i]);
                }
            }
        }

        public long[] Current { get; }

        public long[] Max { get; }

        public int UnlimitedDim { get; }

        private static long CeilDiv(long a, long b) => a <= 0 ? 0 : (a - 1) / b + 1;

        /// <summary>Coordinates of linear index <paramref name="index"/> in a row-major grid of <paramref name="counts"/> (first dimension unbounded).</summary>
        public static long[] Unravel(long index, long[] counts)
        {
            var coords = new long[counts.Length];
            for (var i = counts.Length - 1; i > 0; i--)
            {
                var n = Math.Max(counts[i], 1);
                coords[i] = index % n;
                index /= n;
            }

            if (coords.Length > 0)
            {
                coords[0] = index;
            }

            return coords;
        }

        public static long Ravel(long[] coords, long[] counts)
        {
            long index = 0;
            for (var i = 0; i < coords.Length; i++)
            {
                index = index * Math.Max(counts[i], 1) + coords[i];
            }

            return index;
        }

        /// <summary>Extensible arrays number chunks with the unlimited dimension moved first.</summary>
        public long[] UnravelSwizzled(long index)
        {
            if (UnlimitedDim <= 0)
            {
                return Unravel(index, Max);
            }

            var rank = Max.Length;
            var swizzled = new long[rank];
            swizzled[0] = Max[UnlimitedDim];
            for (int i = 0, j = 1; i < rank; i++)
            {
                if (i != UnlimitedDim)
                {
                    swizzled[j++] = Max[i];
                }
            }

            var s = Unravel(index, swizzled);
            var coords = new long[rank];
            coords[UnlimitedDim] = s[0];
            for (int i = 0, j = 1; i < rank; i++)
            {
                if (i != UnlimitedDim)
                {
                    coords[i] = s[j++];
                }
            }

            return coords;
        }
    }

    private static void Add(Hdf5Context context, string path, List<Hdf5StoredChunk> chunks, long[] index, long address, long length, uint mask, long at)
    {
        if (chunks.Count >= MaxChunks)
        {
            throw context.Error(path, at, $"dataset has more than {MaxChunks} chunks");
        }

        if (address < 0 || length < 0 || context.BaseAddress + address > context.FileLength)
        {
            throw context.Error(path, at, $"chunk {string.Join(",", index)} at address {address} of {length} bytes lies outside the file");
        }

        chunks.Add(new Hdf5StoredChunk(index, context.BaseAddress + address, length, mask));
    }

    private static async ValueTask ReadBTreeV1Async(Hdf5Context context, Hdf5ChunkedLayout layout, long root, string path,
        List<Hdf5StoredChunk> chunks, CancellationToken cancellationToken)
    {
        var rank = layout.ChunkShape.Length;
        var keySize = 8 + 8 * (rank + 1);
        var entries = await BTreeV1.LeafEntriesAsync(context, root, 1, keySize, 2 * context.ChunkBTreeK, path, cancellationToken);
        foreach (var entry in entries)
        {
            var r = new FieldReader(entry.Key.Span, entry.KeyOffset, context, path, "v1 B-tree chunk key");
            var size = r.U32("chunk size");
            var mask = r.U32("filter mask");
            var index = new long[rank];
            for (var i = 0; i < rank; i++)
            {
                var offset = r.U64("chunk offset");
                if (offset > long.MaxValue)
                {
                    throw r.Error($"chunk offset {offset} is too large");
                }

                index[i] = (long)offset / layout.ChunkShape[i];
            }

            Add(context, path, chunks, index, entry.Child, size, mask, entry.KeyOffset);
        }
    }

    private static void ReadImplicit(Hdf5Context context, Hdf5ChunkedLayout layout, Grid grid, string path, List<Hdf5StoredChunk> chunks)
    {
        long count = 1;
        foreach (var n in grid.Current)
        {
            count = n == 0 ? 0 : count > MaxChunks / n ? MaxChunks + 1 : count * n;
        }

        var chunkBytes = layout.ChunkBytes;
        long maxCount = 1;
        foreach (var n in grid.Max)
        {
            maxCount = maxCount > MaxChunks / Math.Max(n, 1) ? MaxChunks + 1 : maxCount * Math.Max(n, 1);
        }

        if (count > MaxChunks || maxCount > MaxChunks || (maxCount > 0 && chunkBytes > (context.FileLength - layout.IndexAddress) / maxCount + 1))
        {
            throw context.Error(path, layout.IndexAddress, $"implicit chunk index of {maxCount} chunks of {chunkBytes} bytes does not fit in the file");
        }

        var coords = new long[grid.Current.Length];
        for (long i = 0; i < count; i++)
        {
            var linear = Grid.Ravel(coords, grid.Max);
            Add(context, path, chunks, (long[])coords.Clone(), layout.IndexAddress - context.BaseAddress + linear * chunkBytes, chunkBytes, 0, layout.IndexAddress);
            for (var d = coords.Length - 1; d >= 0; d--)
            {
                if (++coords[d] < grid.Current[d])
                {
                    break;
                }

                coords[d] = 0;
            }
        }
    }

    // An element of a fixed or extensible array: a chunk address, and for filtered chunks its size and filter mask.
    private static (long Address, long Size, uint Mask) Element(ref FieldReader r, bool filtered, int elementSize, long chunkBytes)
    {
        var address = r.Offset("chunk address");
        if (!filtered)
        {
            return (address, chunkBytes, 0);
        }

        var sizeBytes = elementSize - r.OffsetSizeOf - 4;
        var size = r.UInt(sizeBytes, "chunk size");
        var mask = r.U32("filter mask");
        return (address, (long)Math.Min(size, long.MaxValue), mask);
    }

    private static void CheckElementSize(Hdf5Context context, string path, long at, int clientId, int elementSize)
    {
        var o = context.OffsetSize;
        var ok = clientId switch
        {
            0 => elementSize == o,
            1 => elementSize - o - 4 is >= 1 and <= 8,
            _ => false,
        };
        if (!ok)
        {
            throw context.Error(path, at, $"array client {clientId} with {elementSize}-byte elements is not a chunk index");
        }
    }

    private static async ValueTask ReadFixedArrayAsync(Hdf5Context context, Hdf5ChunkedLayout layout, Grid grid, long address, string path,
        List<Hdf5StoredChunk> chunks, CancellationToken cancellationToken)
    {
        var o = context.OffsetSize;
        var l = context.LengthSize;
        var header = await context.ReadAsync(address, 4 + 1 + 1 + 1 + 1 + l + o + 4, path, "fixed array header", cancellationToken);
        var h = context.Cursor(header, path, "fixed array header");
        h.Signature("FAHD");
        var version = h.U8("version");
        var clientId = h.U8("client ID");
        var elementSize = h.U8("element size");
        var pageBits = h.U8("page bits");
        var count = h.LengthField("number of elements");
        var dataBlock = h.Offset("data block address");
        h.Checksum(0);
        if (version != 0 || pageBits is 0 or > 32)
        {
            throw h.Error($"fixed array version {version} with page bits {pageBits} is invalid");
        }

        CheckElementSize(context, path, header.Offset, clientId, elementSize);
        if (count > MaxChunks || count * elementSize > context.FileLength)
        {
            throw h.Error($"fixed array of {count} elements does not fit in the file");
        }

        if (dataBlock == Hdf5Context.UndefinedAddress || count == 0)
        {
            return;
        }

        var filtered = clientId == 1;
        var chunkBytes = layout.ChunkBytes;
        var pageElements = 1L << pageBits;
        var paged = count > pageElements;
        var pages = paged ? (count + pageElements - 1) / pageElements : 0;
        var bitmapSize = (int)((pages + 7) / 8);
        var prefix = 4 + 1 + 1 + o + bitmapSize;
        if (!paged)
        {
            var block = await context.ReadAsync(dataBlock, prefix + (int)(count * elementSize) + 4, path, "fixed array data block", cancellationToken);
            var r = FixedArrayDataBlock(context, block, path, address, clientId);
            for (long i = 0; i < count; i++)
            {
                var at = r.FileOffset;
                var (chunk, size, mask) = Element(ref r, filtered, elementSize, chunkBytes);
                if (chunk != Hdf5Context.UndefinedAddress)
                {
                    Add(context, path, chunks, Grid.Unravel(i, grid.Max), chunk, size, mask, at);
                }
            }

            r.Checksum(0);
            return;
        }

        var head = await context.ReadAsync(dataBlock, prefix + 4, path, "fixed array data block", cancellationToken);
        var p = FixedArrayDataBlock(context, head, path, address, clientId);
        var bitmap = p.Bytes(bitmapSize, "page init bitmap").ToArray();
        p.Checksum(0);
        var pageSize = pageElements * elementSize + 4;
        var ranges = new List<(long, int)>();
        for (long page = 0; page < pages; page++)
        {
            if (PageInitialized(bitmap, page))
            {
                ranges.Add((dataBlock + prefix + 4 + page * pageSize, (int)pageSize));
            }
        }

        await context.PrefetchAsync(ranges, cancellationToken);
        for (long page = 0; page < pages; page++)
        {
            if (!PageInitialized(bitmap, page))
            {
                continue;
            }

            var elements = page == pages - 1 ? count - page * pageElements : pageElements;
            var block = await context.ReadAsync(dataBlock + prefix + 4 + page * pageSize, (int)(elements * elementSize + 4), path, "fixed array data block page", cancellationToken);
            var r = context.Cursor(block, path, "fixed array data block page");
            for (long i = 0; i < elements; i++)
            {
                var at = r.FileOffset;
                var (chunk, size, mask) = Element(ref r, filtered, elementSize, chunkBytes);
                if (chunk != Hdf5Context.UndefinedAddress)
                {
                    Add(context, path, chunks, Grid.Unravel(page * pageElements + i, grid.Max), chunk, size, mask, at);
                }
            }

            r.Checksum(0);
        }
    }

    // Fixed and extensible array blocks open alike: signature, version 0, the array's client ID and its header address.
    private static void BlockPrefix(ref FieldReader r, string signature, string block, string array, int clientId, long headerAddress)
    {
        r.Signature(signature);
        var version = r.U8("version");
        var client = r.U8("client ID");
        var owner = r.Offset("header address");
        if (version != 0 || client != clientId || owner != headerAddress)
        {
            throw r.Error($"{block} (version {version}, client {client}, header {owner}) does not belong to the {array} at {headerAddress}");
        }
    }

    private static FieldReader FixedArrayDataBlock(Hdf5Context context, FieldBlock block, string path, long headerAddress, int clientId)
    {
        var r = context.Cursor(block, path, "fixed array data block");
        BlockPrefix(ref r, "FADB", "data block", "fixed array", clientId, headerAddress);

        return r;
    }

    private static async ValueTask ReadExtensibleArrayAsync(Hdf5Context context, Hdf5ChunkedLayout layout, Grid grid, long address, string path,
        List<Hdf5StoredChunk> chunks, CancellationToken cancellationToken)
    {
        var o = context.OffsetSize;
        var l = context.LengthSize;
        var header = await context.ReadAsync(address, 4 + 1 + 1 + 6 + 6 * l + o + 4, path, "extensible array header", cancellationToken);
        var h = context.Cursor(header, path, "extensible array header");
        h.Signature("EAHD");
        var version = h.U8("version");
        var clientId = h.U8("client ID");
        var elementSize = h.U8("element size");
        var maxBits = h.U8("maximum elements bits");
        var indexElements = h.U8("index block elements");
        var minElements = h.U8("minimum data block elements");
        var minPointers = h.U8("minimum super block data block pointers");
        var pageBits = h.U8("data block page bits");
        h.LengthField("number of super blocks");
        h.LengthField("size of super blocks");
        h.LengthField("number of data blocks");
        h.LengthField("size of data blocks");
        var maxIndexSet = h.LengthField("maximum index set");
        h.LengthField("number of elements");
        var indexBlock = h.Offset("index block address");
        h.Checksum(0);
        if (version != 0 || maxBits is 0 or > 64 || minElements == 0 || !BitOperations.IsPow2(minElements) || minPointers == 0
            || !BitOperations.IsPow2(minPointers) || pageBits is 0 or > 32 || BitOperations.Log2(minElements) > maxBits)
        {
            throw h.Error("invalid extensible array parameters");
        }

        CheckElementSize(context, path, header.Offset, clientId, elementSize);
        if (indexBlock == Hdf5Context.UndefinedAddress || maxIndexSet == 0)
        {
            return;
        }

        var filtered = clientId == 1;
        var chunkBytes = layout.ChunkBytes;
        var superBlocks = 1 + maxBits - BitOperations.Log2(minElements);
        var indexSuperBlocks = 2 * BitOperations.Log2(minPointers);
        var indexDataBlocks = 2 * (minPointers - 1);
        var superBlockAddresses = Math.Max(superBlocks - indexSuperBlocks, 0);
        var arrayOffsetSize = (maxBits + 7) / 8;
        var pageElements = 1L << pageBits;

        // Per super block: data blocks, elements per data block, first element index (after the index block's own elements).
        var blockCounts = new long[superBlocks];
        var blockElements = new long[superBlocks];
        var startIndex = new long[superBlocks];
        long start = 0;
        for (var u = 0; u < superBlocks; u++)
        {
            blockCounts[u] = 1L << Math.Min(u / 2, 62);
            blockElements[u] = (1L << Math.Min((u + 1) / 2, 40)) * minElements;
            startIndex[u] = start;
            var span = blockCounts[u] > long.MaxValue / blockElements[u] ? long.MaxValue : blockCounts[u] * blockElements[u];
            start = start > long.MaxValue - span ? long.MaxValue : start + span;
        }

        var iblockSize = 4 + 1 + 1 + o + indexElements * elementSize + (indexDataBlocks + superBlockAddresses) * o + 4;
        var ib = await context.ReadAsync(indexBlock, iblockSize, path, "extensible array index block", cancellationToken);
        var r = context.Cursor(ib, path, "extensible array index block");
        BlockPrefix(ref r, "EAIB", "index block", "extensible array", clientId, address);

        for (long i = 0; i < indexElements; i++)
        {
            var at = r.FileOffset;
            var (chunk, size, mask) = Element(ref r, filtered, elementSize, chunkBytes);
            if (chunk != Hdf5Context.UndefinedAddress && i < maxIndexSet)
            {
                Add(context, path, chunks, grid.UnravelSwizzled(i), chunk, size, mask, at);
            }
        }

        var dataBlockAddresses = new long[indexDataBlocks];
        for (var i = 0; i < indexDataBlocks; i++)
        {
            dataBlockAddresses[i] = r.Offset("data block address");
        }

        var superBlockAddressList = new long[superBlockAddresses];
        for (var i = 0; i < superBlockAddresses; i++)
        {
            superBlockAddressList[i] = r.Offset("super block address");
        }

        r.Checksum(0);

        // Data blocks listed in the index block (the first super blocks).
        var visited = new HashSet<long>();
        long dblock = 0;
        for (var u = 0; u < Math.Min(indexSuperBlocks, superBlocks); u++)
        {
            for (long j = 0; j < blockCounts[u]; j++, dblock++)
            {
                if (dblock >= dataBlockAddresses.Length)
                {
                    break;
                }

                var first = indexElements + startIndex[u] + j * blockElements[u];
                var blockAddress = dataBlockAddresses[dblock];
                if (blockAddress == Hdf5Context.UndefinedAddress || first >= maxIndexSet)
                {
                    continue;
                }

                if (!visited.Add(blockAddress))
                {
                    throw context.Error(path, ib.Offset, "extensible array data blocks are listed twice");
                }

                await ReadExtensibleDataBlockAsync(context, path, blockAddress, address, clientId, arrayOffsetSize,
                    blockElements[u], pageElements, null, 0, elementSize, filtered, chunkBytes, first, maxIndexSet, grid, chunks, cancellationToken);
            }
        }

        // Super blocks and their data blocks.
        for (var s = 0; s < superBlockAddressList.Length; s++)
        {
            var u = indexSuperBlocks + s;
            var superAddress = superBlockAddressList[s];
            if (superAddress == Hdf5Context.UndefinedAddress || indexElements + startIndex[u] >= maxIndexSet)
            {
                continue;
            }

            var count = blockCounts[u];
            var paged = blockElements[u] > pageElements;
            var pagesPerBlock = paged ? blockElements[u] / pageElements : 0;
            var bitmapBytes = (pagesPerBlock + 7) / 8;
            var sblockSize = 4 + 1 + 1 + o + arrayOffsetSize + count * bitmapBytes + count * o + 4;
            if (count > context.FileLength)
            {
                throw context.Error(path, context.BaseAddress + superAddress, $"extensible array super block {u} claims {count} data blocks");
            }
            if (sblockSize > context.FileLength || sblockSize > int.MaxValue)
            {
                throw context.Error(path, context.BaseAddress + superAddress, $"extensible array super block {u} of {count} data blocks does not fit in the file");
            }

            var sb = await context.ReadAsync(superAddress, (int)sblockSize, path, "extensible array super block", cancellationToken);
            var q = context.Cursor(sb, path, "extensible array super block");
            BlockPrefix(ref q, "EASB", "super block", "extensible array", clientId, address);
            q.UInt(arrayOffsetSize, "block offset");

            var bitmap = q.Bytes((int)(count * bitmapBytes), "page init bitmap").ToArray();
            var addresses = new long[count];
            for (var j = 0; j < count; j++)
            {
                addresses[j] = q.Offset("data block address");
            }

            q.Checksum(0);
            for (long j = 0; j < count; j++)
            {
                var first = indexElements + startIndex[u] + j * blockElements[u];
                if (addresses[j] == Hdf5Context.UndefinedAddress || first >= maxIndexSet)
                {
                    continue;
                }

                if (!visited.Add(addresses[j]))
                {
                    throw context.Error(path, sb.Offset, "extensible array data blocks are listed twice");
                }

                // Page i of data block j is bit j × pages + i of the super block's whole bitmap (MSB first).
                var pageBitmap = paged ? bitmap.AsMemory() : (ReadOnlyMemory<byte>?)null;
                await ReadExtensibleDataBlockAsync(context, path, addresses[j], address, clientId, arrayOffsetSize,
                    blockElements[u], pageElements, pageBitmap, j * pagesPerBlock, elementSize, filtered, chunkBytes, first, maxIndexSet, grid, chunks, cancellationToken);
            }
        }
    }

    private static async ValueTask ReadExtensibleDataBlockAsync(Hdf5Context context, string path, long blockAddress, long headerAddress, int clientId,
        int arrayOffsetSize, long elements, long pageElements, ReadOnlyMemory<byte>? pageBitmap, long firstPageBit, int elementSize, bool filtered,
        long chunkBytes, long firstIndex, long maxIndexSet, Grid grid, List<Hdf5StoredChunk> chunks, CancellationToken cancellationToken)
    {
        var o = context.OffsetSize;
        var prefix = 4 + 1 + 1 + o + arrayOffsetSize;
        var paged = pageBitmap is not null;
        if (elements * elementSize > context.FileLength)
        {
            throw context.Error(path, context.BaseAddress + blockAddress, $"extensible array data block of {elements} elements does not fit in the file");
        }

        var block = await context.ReadAsync(blockAddress, prefix + (paged ? 0 : (int)(elements * elementSize)) + 4, path, "extensible array data block", cancellationToken);
        var r = context.Cursor(block, path, "extensible array data block");
        BlockPrefix(ref r, "EADB", "data block", "extensible array", clientId, headerAddress);
        // The block offset field is for integrity checks only (HDF5 computes it with a global data block number).
        r.UInt(arrayOffsetSize, "block offset");

        if (!paged)
        {
            for (long i = 0; i < elements; i++)
            {
                var at = r.FileOffset;
                var (chunk, size, mask) = Element(ref r, filtered, elementSize, chunkBytes);
                if (chunk != Hdf5Context.UndefinedAddress && firstIndex + i < maxIndexSet)
                {
                    Add(context, path, chunks, grid.UnravelSwizzled(firstIndex + i), chunk, size, mask, at);
                }
            }

            r.Checksum(0);
            return;
        }

        r.Checksum(0);
        var bitmap = pageBitmap!.Value;
        var pages = elements / pageElements;
        var pageSize = pageElements * elementSize + 4;
        var ranges = new List<(long, int)>();
        for (long page = 0; page < pages; page++)
        {
            if (PageInitialized(bitmap.Span, firstPageBit + page))
            {
                ranges.Add((blockAddress + prefix + 4 + page * pageSize, (int)pageSize));
            }
        }

        await context.PrefetchAsync(ranges, cancellationToken);
        for (long page = 0; page < pages; page++)
        {
            if (!PageInitialized(bitmap.Span, firstPageBit + page))
            {
                continue;
            }

            var pageBlock = await context.ReadAsync(blockAddress + prefix + 4 + page * pageSize, (int)pageSize, path, "extensible array data block page", cancellationToken);
            var p = context.Cursor(pageBlock, path, "extensible array data block page");
            for (long i = 0; i < pageElements; i++)
            {
                var index = firstIndex + page * pageElements + i;
                var at = p.FileOffset;
                var (chunk, size, mask) = Element(ref p, filtered, elementSize, chunkBytes);
                if (chunk != Hdf5Context.UndefinedAddress && index < maxIndexSet)
                {
                    Add(context, path, chunks, grid.UnravelSwizzled(index), chunk, size, mask, at);
                }
            }

            p.Checksum(0);
        }
    }

    private static bool PageInitialized(ReadOnlySpan<byte> bitmap, long bit) =>
        bit / 8 < bitmap.Length && (bitmap[(int)(bit / 8)] & (0x80 >> (int)(bit % 8))) != 0;

    private static async ValueTask ReadBTreeV2Async(Hdf5Context context, Hdf5ChunkedLayout layout, long address, string path,
        List<Hdf5StoredChunk> chunks, CancellationToken cancellationToken)
    {
        var header = await BTreeV2.ReadHeaderAsync(context, address, path, cancellationToken);
        var rank = layout.ChunkShape.Length;
        var o = context.OffsetSize;
        var filtered = header.Type == 11;
        if (header.Type is not (10 or 11))
        {
            throw context.Error(path, layout.IndexAddress, $"chunk index v2 B-tree has type {header.Type}, expected 10 or 11");
        }

        var sizeBytes = filtered ? header.RecordSize - o - 4 - 8 * rank : 0;
        if ((filtered && sizeBytes is < 1 or > 8) || (!filtered && header.RecordSize != o + 8 * rank))
        {
            throw context.Error(path, layout.IndexAddress, $"v2 B-tree chunk records of {header.RecordSize} bytes do not match rank {rank}");
        }

        var records = await BTreeV2.RecordsAsync(context, header, path, cancellationToken);
        foreach (var record in records)
        {
            var r = new FieldReader(record.Span, 0, context, path, "v2 B-tree chunk record");
            var chunk = r.Offset("chunk address");
            var size = filtered ? (long)Math.Min(r.UInt(sizeBytes, "chunk size"), long.MaxValue) : layout.ChunkBytes;
            var mask = filtered ? r.U32("filter mask") : 0;
            var index = new long[rank];
            for (var i = 0; i < rank; i++)
            {
                var scaled = r.U64("scaled offset");
                index[i] = scaled <= long.MaxValue ? (long)scaled : throw r.Error($"scaled offset {scaled} is too large");
            }

            if (chunk != Hdf5Context.UndefinedAddress)
            {
                Add(context, path, chunks, index, chunk, size, mask, layout.IndexAddress);
            }
        }
    }
}
