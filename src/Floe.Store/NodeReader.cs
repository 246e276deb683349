using Floe.Core;

namespace Floe.Store;

/// <summary>Reading nodes and chunks, shared by read-only snapshot views and writable sessions.</summary>
public abstract class NodeReader(Repository repository)
{
    public Repository Repository { get; } = repository;

    /// <summary>The node at a path, or null.</summary>
    public abstract Node? FindNode(string path);

    /// <summary>The direct children of a group, sorted by path. Reads no manifest.</summary>
    public abstract IReadOnlyList<Node> ListChildren(string groupPath);

    /// <summary>The reference of one chunk, or null when the chunk has none (it reads as the fill value).</summary>
    public abstract Task<ChunkRef?> GetChunkRefAsync(string arrayPath, long[] chunkCoords, CancellationToken cancellationToken = default);

    public Node GetNode(string path)
    {
        var normalized = NodePath.Normalize(path);
        return FindNode(normalized) ?? throw new NodeNotFoundException(normalized);
    }

    public ArrayMetadata GetArrayMetadata(string path)
    {
        var node = GetNode(path);
        return node.Kind == NodeKind.Array ? node.ArrayMetadata : throw new NodeNotFoundException(node.Path, "it is a group, not an array");
    }

    /// <summary>Every node below a group (all of them for "/"), in path order.</summary>
    public IEnumerable<Node> Walk(string groupPath = NodePath.Root)
    {
        foreach (var child in ListChildren(groupPath))
        {
            yield return child;
            if (child.Kind == NodeKind.Group)
            {
                foreach (var descendant in Walk(child.Path))
                {
                    yield return descendant;
                }
            }
        }
    }

    /// <summary>A chunk's stored (encoded) bytes, or null when it has no reference.</summary>
    public async Task<ReadOnlyMemory<byte>?> ReadChunkBytesAsync(string arrayPath, long[] chunkCoords, CancellationToken cancellationToken = default)
    {
        var chunkRef = await GetChunkRefAsync(arrayPath, chunkCoords, cancellationToken);
        if (chunkRef is null)
        {
            // Not `cond ? null : bytes`: C# would turn that null into an empty ReadOnlyMemory via byte[].
            return null;
        }

        return await Repository.FetchChunkAsync(NodePath.Normalize(arrayPath), chunkRef, cancellationToken);
    }

    /// <summary>A whole chunk decoded to little-endian elements in C order; the fill value where it has no reference.</summary>
    public async Task<byte[]> ReadChunkAsync(string arrayPath, long[] chunkCoords, CancellationToken cancellationToken = default)
    {
        var metadata = GetArrayMetadata(arrayPath);
        var path = NodePath.Normalize(arrayPath);
        var chunkRef = await GetChunkRefAsync(path, chunkCoords, cancellationToken);
        if (chunkRef is null)
        {
            return Decode(path, metadata, null, chunkCoords);
        }

        var stored = await Repository.FetchChunkAsync(path, chunkRef, cancellationToken);
        // A chunk stored with its own codecs (its source file's packing, say) decodes with them.
        return Decode(path, chunkRef.Codecs?.Apply(metadata) ?? metadata, stored, chunkCoords);
    }

    /// <summary>
    /// Reads the box starting at <paramref name="start"/> with <paramref name="count"/> elements per dimension,
    /// as little-endian elements in C order.
    /// </summary>
    public async Task<byte[]> ReadRegionAsync(string arrayPath, long[] start, long[] count, CancellationToken cancellationToken = default)
    {
        var path = NodePath.Normalize(arrayPath);
        var metadata = GetArrayMetadata(path);
        var rank = metadata.Rank;
        if (start.Length != rank || count.Length != rank)
        {
            throw new ArgumentException($"array '{path}' has {rank} dimensions; start and count must too");
        }

        for (var d = 0; d < rank; d++)
        {
            if (start[d] < 0 || count[d] < 0 || start[d] + count[d] > metadata.Shape[d])
            {
                throw new ArgumentOutOfRangeException(nameof(start), $"array '{path}': region [{start[d]}, {start[d] + count[d]}) of dimension {d} is outside [0, {metadata.Shape[d]})");
            }
        }

        var elementSize = metadata.DataType.Size;
        var total = count.Aggregate(1L, (a, b) => a * b);
        var result = new byte[checked(total * elementSize)];
        if (total == 0)
        {
            return result;
        }

        var chunkShape = metadata.ChunkShape;
        var firstChunk = new long[rank];
        var lastChunk = new long[rank];
        for (var d = 0; d < rank; d++)
        {
            firstChunk[d] = start[d] / chunkShape[d];
            lastChunk[d] = (start[d] + count[d] - 1) / chunkShape[d];
        }

        // Chunks are fetched and decoded several at a time; each fills its own part of the result.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = RegionReadParallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(ShardLayout.CoordsBetween(firstChunk, lastChunk), parallel, async (chunk, ct) =>
        {
            var data = await ReadChunkAsync(path, chunk, ct);
            CopyOverlap(data, chunk, chunkShape, result, start, count, elementSize);
        });
        return result;
    }

    /// <summary>Chunks a region read fetches and decodes at once.</summary>
    public int RegionReadParallelism { get; init; } = Math.Max(4, Environment.ProcessorCount);

    internal static byte[] Decode(string path, ArrayMetadata metadata, ReadOnlyMemory<byte>? stored, long[] chunkCoords)
    {
        var size = checked((int)(metadata.ChunkElementCount * metadata.DataType.Size));
        if (stored is not { } bytes)
        {
            var filled = new byte[size];
            metadata.FillValue.Fill(filled);
            return filled;
        }

        byte[] decoded;
        try
        {
            decoded = CodecPipeline.Create(metadata).Decode(bytes.Span);
        }
        catch (CodecException e)
        {
            throw new ChunkDataException(path, $"chunk [{string.Join(", ", chunkCoords)}] does not decode: {e.Message}");
        }

        return decoded.Length == size
            ? decoded
            : throw new ChunkDataException(path, $"chunk [{string.Join(", ", chunkCoords)}] decodes to {decoded.Length} bytes, expected {size}");
    }

    // Copies the part of one chunk that falls inside the requested box, one contiguous run of the last dimension at a time.
    private static void CopyOverlap(byte[] chunkData, long[] chunkCoords, int[] chunkShape, byte[] result, long[] start, long[] count, int elementSize)
    {
        var rank = chunkCoords.Length;
        if (rank == 0)
        {
            Buffer.BlockCopy(chunkData, 0, result, 0, elementSize);
            return;
        }

        var lo = new long[rank];
        var hi = new long[rank];
        for (var d = 0; d < rank; d++)
        {
            var chunkStart = chunkCoords[d] * chunkShape[d];
            lo[d] = Math.Max(start[d], chunkStart);
            hi[d] = Math.Min(start[d] + count[d], chunkStart + chunkShape[d]);
        }

        var runElements = hi[rank - 1] - lo[rank - 1];
        var index = (long[])lo.Clone();
        while (true)
        {
            long src = 0, dst = 0;
            for (var d = 0; d < rank; d++)
            {
                src = (src * chunkShape[d]) + (index[d] - (chunkCoords[d] * chunkShape[d]));
                dst = (dst * count[d]) + (index[d] - start[d]);
            }

            Buffer.BlockCopy(chunkData, checked((int)(src * elementSize)), result, checked((int)(dst * elementSize)), checked((int)(runElements * elementSize)));
            var k = rank - 2;
            while (k >= 0 && ++index[k] >= hi[k])
            {
                index[k] = lo[k];
                k--;
            }

            if (k < 0)
            {
                return;
            }
        }
    }

    /// <summary>Checks rank and range of chunk coordinates against an array's current chunk grid.</summary>
    internal static void CheckCoords(string path, ArrayMetadata metadata, long[] chunkCoords)
    {
        var grid = metadata.GridShape;
        if (chunkCoords.Length != grid.Length)
        {
            throw new ChunkOutOfRangeException(path, chunkCoords, grid);
        }

        for (var d = 0; d < grid.Length; d++)
        {
            if (chunkCoords[d] < 0 || chunkCoords[d] >= grid[d])
            {
                throw new ChunkOutOfRangeException(path, chunkCoords, grid);
            }
        }
    }

    /// <summary>Looks a chunk up in a committed array: its shard from the index, then one manifest read.</summary>
    internal async Task<ChunkRef?> LookUpCommittedAsync(Node node, long[] chunkCoords, CancellationToken cancellationToken)
    {
        if (node.Shards.Count == 0)
        {
            return null;
        }

        var shardShape = node.ShardShape!;
        var entry = node.FindShard(ShardLayout.ShardOf(chunkCoords, shardShape));
        if (entry is null)
        {
            return null;
        }

        var position = ShardLayout.PositionIn(chunkCoords, shardShape);
        if (ShardLookup is { } lookup)
        {
            return await lookup.FindAsync(node.Path, entry, position, cancellationToken);
        }

        var shard = await Repository.GetShardAsync(entry.ManifestId, node.Path, cancellationToken);
        return shard.Find(position);
    }

    /// <summary>Where committed references are looked up; null: the repository's own shard cache.</summary>
    protected IChunkRefLookup? ShardLookup { get; init; }
}

/// <summary>
/// Finds a committed chunk reference in a manifest shard. A reader uses the repository's shard cache unless given
/// one of these; a server supplies its own so that the process caches each shard once, wherever it is read from.
/// </summary>
public interface IChunkRefLookup
{
    /// <summary>The reference at <paramref name="position"/> (<see cref="ShardLayout.PositionIn"/>) of the shard <paramref name="entry"/> names, or null.</summary>
    Task<ChunkRef?> FindAsync(string arrayPath, ShardEntry entry, long position, CancellationToken cancellationToken);
}

/// <summary>A read-only view of one snapshot.</summary>
public sealed class SnapshotReader : NodeReader
{
    public SnapshotReader(Repository repository, Snapshot snapshot, IChunkRefLookup? shardLookup = null)
        : base(repository)
    {
        Snapshot = snapshot;
        ShardLookup = shardLookup;
    }

    public Snapshot Snapshot { get; }

    public override Node? FindNode(string path) => Snapshot.FindNode(NodePath.Normalize(path));

    public override IReadOnlyList<Node> ListChildren(string groupPath)
    {
        var node = GetNode(groupPath);
        return node.Kind == NodeKind.Group ? Snapshot.Children(node.Path).ToList() : throw new NodeNotFoundException(node.Path, "it is an array, not a group");
    }

    public override Task<ChunkRef?> GetChunkRefAsync(string arrayPath, long[] chunkCoords, CancellationToken cancellationToken = default)
    {
        var node = GetNode(arrayPath);
        var metadata = node.Kind == NodeKind.Array ? node.ArrayMetadata : throw new NodeNotFoundException(node.Path, "it is a group, not an array");
        CheckCoords(node.Path, metadata, chunkCoords);
        return LookUpCommittedAsync(node, chunkCoords, cancellationToken);
    }
}
