namespace Floe.Formats.Hdf5;

/// <summary>An entry of a version 1 B-tree leaf (level 0): the key before the child and the child's address.</summary>
internal readonly record struct BTreeV1Entry(ReadOnlyMemory<byte> Key, long KeyOffset, long Child);

/// <summary>
/// Version 1 B-trees ("TREE"): type 0 indexes an old-style group's symbol table nodes, type 1 a dataset's chunks.
/// Nodes are read level by level so the children of one level are fetched together.
/// </summary>
internal static class BTreeV1
{
    private const int MaxNodes = 1 << 22;

    /// <param name="keySize">Bytes of one key (size of lengths for groups; 8 + 8 × (rank + 1) for chunks).</param>
    /// <param name="estimatedEntries">2K, the entries a node is allocated for, to size prefetches.</param>
    public static async ValueTask<List<BTreeV1Entry>> LeafEntriesAsync(Hdf5Context context, long root, int nodeType, int keySize,
        int estimatedEntries, string? path, CancellationToken cancellationToken)
    {
        var o = context.OffsetSize;
        var headerSize = 8 + 2 * o;
        var results = new List<BTreeV1Entry>();
        var current = new List<long> { root };
        var visited = new HashSet<long> { root };
        var expectedLevel = -1;
        var estimatedSize = headerSize + estimatedEntries * (keySize + o) + keySize;
        var ranges = new List<(long, int)>();
        while (current.Count > 0)
        {
            if (current.Count > 1)
            {
                ranges.Clear();
                foreach (var address in current)
                {
                    ranges.Add((address, estimatedSize));
                }

                await context.PrefetchAsync(ranges, cancellationToken);
            }

            var next = new List<long>();
            var level = -1;
            foreach (var address in current)
            {
                var header = await context.ReadAsync(address, headerSize, path, "v1 B-tree node", cancellationToken);
                var h = context.Cursor(header, path, "v1 B-tree node");
                h.Signature("TREE");
                var type = h.U8("node type");
                level = h.U8("node level");
                var entries = h.U16("entries used");
                if (type != nodeType)
                {
                    throw h.Error($"node type {type}, expected {nodeType}");
                }

                if (expectedLevel >= 0 && level != expectedLevel)
                {
                    throw h.Error($"node level {level}, expected {expectedLevel}");
                }

                var bodySize = (long)entries * (keySize + o) + keySize;
                if (bodySize > context.FileLength)
                {
                    throw h.Error($"{entries} entries do not fit in the file");
                }

                var body = await context.ReadAsync(address + headerSize, (int)bodySize, path, "v1 B-tree node", cancellationToken);
                var r = context.Cursor(body, path, "v1 B-tree node");
                for (var i = 0; i < entries; i++)
                {
                    var keyStart = r.Position;
                    r.Skip(keySize, "key");
                    var child = r.Offset("child address");
                    if (level > 0)
                    {
                        if (child < 0 || !visited.Add(child) || visited.Count > MaxNodes)
                        {
                            throw r.Error(child < 0 ? "child address is undefined" : "B-tree nodes form a cycle or are too many");
                        }

                        next.Add(child);
                    }
                    else
                    {
                        results.Add(new BTreeV1Entry(body.Data.Slice(keyStart, keySize), body.Offset + keyStart, child));
                    }
                }
            }

            if (level == 0)
            {
                break;
            }

            expectedLevel = level - 1;
            current = next;
        }

        return results;
    }
}

/// <summary>A version 2 B-tree header ("BTHD").</summary>
internal sealed record BTreeV2Header(long Address, int Type, int NodeSize, int RecordSize, int Depth, long Root, int RootRecords, long TotalRecords);

/// <summary>Version 2 B-trees: the records of every node, read level by level with sibling nodes fetched together.</summary>
internal static class BTreeV2
{
    private const int MaxDepth = 32;

    public static async ValueTask<BTreeV2Header> ReadHeaderAsync(Hdf5Context context, long address, string? path, CancellationToken cancellationToken)
    {
        var size = 4 + 1 + 1 + 4 + 2 + 2 + 1 + 1 + context.OffsetSize + 2 + context.LengthSize + 4;
        var block = await context.ReadAsync(address, size, path, "v2 B-tree header", cancellationToken);
        var r = context.Cursor(block, path, "v2 B-tree header");
        r.Signature("BTHD");
        var version = r.U8("version");
        if (version != 0)
        {
            throw r.Error($"v2 B-tree version {version} is not 0");
        }

        var type = r.U8("type");
        var nodeSize = r.Count(4, "node size", 1 << 24);
        var recordSize = r.U16("record size");
        var depth = r.U16("depth");
        r.U8("split percent");
        r.U8("merge percent");
        var root = r.Offset("root node address");
        var rootRecords = r.U16("records in root node");
        var total = r.LengthField("total records");
        r.Checksum(0);
        if (recordSize == 0 || nodeSize < 10 + recordSize || depth > MaxDepth)
        {
            throw r.Error($"invalid v2 B-tree parameters (node size {nodeSize}, record size {recordSize}, depth {depth})");
        }

        return new BTreeV2Header(address, type, nodeSize, recordSize, depth, root, rootRecords, total);
    }

    /// <summary>Every record of the tree (internal nodes' records included), as slices of the node bytes.</summary>
    public static async ValueTask<List<ReadOnlyMemory<byte>>> RecordsAsync(Hdf5Context context, BTreeV2Header header, string? path, CancellationToken cancellationToken)
    {
        var records = new List<ReadOnlyMemory<byte>>();
        if (header.Root == Hdf5Context.UndefinedAddress || header.TotalRecords == 0)
        {
            return records;
        }

        var o = context.OffsetSize;
        var depth = header.Depth;
        var maxRecords = new long[depth + 1];
        var cumulative = new ulong[depth + 1];
        var cumulativeSize = new int[depth + 1];
        maxRecords[0] = (header.NodeSize - 10) / header.RecordSize;
        cumulative[0] = (ulong)maxRecords[0];
        var countSize = Hdf5Datatype.EncodedSize((ulong)maxRecords[0]);
        for (var d = 1; d <= depth; d++)
        {
            var pointer = o + countSize + cumulativeSize[d - 1];
            maxRecords[d] = (header.NodeSize - (10 + pointer)) / (header.RecordSize + pointer);
            if (maxRecords[d] < 1)
            {
                throw context.Error(path, context.BaseAddress + header.Address, $"v2 B-tree nodes of {header.NodeSize} bytes cannot hold a record at depth {d}");
            }

            var product = (ulong)(maxRecords[d] + 1) * cumulative[d - 1];
            cumulative[d] = product / (ulong)(maxRecords[d] + 1) == cumulative[d - 1] ? product + (ulong)maxRecords[d] : ulong.MaxValue;
            cumulativeSize[d] = Math.Min(8, Hdf5Datatype.EncodedSize(cumulative[d]));
        }

        var level = new List<(long Address, int Records)> { (header.Root, header.RootRecords) };
        var visited = new HashSet<long> { header.Root };
        var ranges = new List<(long, int)>();
        for (var d = depth; d >= 0; d--)
        {
            if (level.Count > 1)
            {
                ranges.Clear();
                foreach (var (address, _) in level)
                {
                    ranges.Add((address, header.NodeSize));
                }

                await context.PrefetchAsync(ranges, cancellationToken);
            }

            var next = new List<(long, int)>();
            var pointerSize = d > 0 ? o + countSize + cumulativeSize[d - 1] : 0;
            foreach (var (address, count) in level)
            {
                if (count > maxRecords[d])
                {
                    throw context.Error(path, context.BaseAddress + address, $"v2 B-tree node claims {count} records, more than the {maxRecords[d]} it can hold");
                }

                var used = 6 + count * header.RecordSize + (d > 0 ? (count + 1) * pointerSize : 0) + 4;
                var block = await context.ReadAsync(address, used, path, d > 0 ? "v2 B-tree internal node" : "v2 B-tree leaf node", cancellationToken);
                var r = context.Cursor(block, path, d > 0 ? "v2 B-tree internal node" : "v2 B-tree leaf node");
                r.Signature(d > 0 ? "BTIN" : "BTLF");
                var version = r.U8("version");
                var type = r.U8("type");
                if (version != 0 || type != header.Type)
                {
                    throw r.Error($"node version {version} type {type} does not match the header (type {header.Type})");
                }

                for (var i = 0; i < count; i++)
                {
                    records.Add(block.Data.Slice(r.Position, header.RecordSize));
                    r.Skip(header.RecordSize, "record");
                }

                if (d > 0)
                {
                    for (var i = 0; i <= count; i++)
                    {
                        var child = r.Offset("child node address");
                        var childRecords = r.Count(countSize, "child record count");
                        if (cumulativeSize[d - 1] > 0)
                        {
                            r.UInt(cumulativeSize[d - 1], "child total record count");
                        }

                        if (child < 0 || !visited.Add(child))
                        {
                            throw r.Error(child < 0 ? "child node address is undefined" : "v2 B-tree nodes form a cycle");
                        }

                        next.Add((child, childRecords));
                    }
                }

                r.Checksum(0);
                if (records.Count > header.TotalRecords)
                {
                    throw r.Error($"v2 B-tree holds more records than the {header.TotalRecords} its header states");
                }
            }

            level = next;
        }

        return records;
    }
}
