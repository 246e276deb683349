namespace Floe.Store.Format;

/// <summary>What one commit changed (spec: Transaction log); read back to detect conflicts when rebasing.</summary>
public sealed class TransactionLog
{
    public TransactionLog(ObjectId snapshotId, IReadOnlyList<string> createdNodes, IReadOnlyList<string> deletedNodes,
        IReadOnlyList<string> updatedNodes, IReadOnlyList<ArrayChunkChanges> chunkChanges)
    {
        SnapshotId = snapshotId;
        CreatedNodes = createdNodes;
        DeletedNodes = deletedNodes;
        UpdatedNodes = updatedNodes;
        ChunkChanges = chunkChanges;
    }

    public ObjectId SnapshotId { get; }

    public IReadOnlyList<string> CreatedNodes { get; }

    public IReadOnlyList<string> DeletedNodes { get; }

    public IReadOnlyList<string> UpdatedNodes { get; }

    public IReadOnlyList<ArrayChunkChanges> ChunkChanges { get; }

    public static string KeyOf(ObjectId snapshotId) => $"transactions/{snapshotId}";

    public byte[] Encode()
    {
        var w = new PayloadWriter();
        w.WriteId(SnapshotId);
        foreach (var list in new[] { CreatedNodes, DeletedNodes, UpdatedNodes })
        {
            w.WriteVarint((ulong)list.Count);
            foreach (var path in list.Order(StringComparer.Ordinal))
            {
                w.WriteString(path);
            }
        }

        w.WriteVarint((ulong)ChunkChanges.Count);
        foreach (var change in ChunkChanges)
        {
            w.WriteString(change.Path);
            w.WriteVarint((ulong)change.Rank);
            w.WriteVarint((ulong)change.Written.Count);
            w.WriteVarint((ulong)change.Deleted.Count);
            WriteCoordColumns(w, change.Rank, change.Written);
            WriteCoordColumns(w, change.Rank, change.Deleted);
            var boxes = change.Boxes ?? [];
            w.WriteVarint((ulong)boxes.Count);
            foreach (var box in boxes)
            {
                w.WriteCoords(box.Min);
                w.WriteCoords(box.Max);
            }
        }

        return Envelope.Seal(ObjectType.TransactionLog, w.WrittenSpan, compress: true);
    }

    public static TransactionLog Decode(string key, ReadOnlySpan<byte> data)
    {
        var payload = Envelope.Open(key, ObjectType.TransactionLog, data);
        var r = new PayloadReader(payload, key);
        var id = r.ReadId();
        var lists = new List<string>[3];
        for (var l = 0; l < 3; l++)
        {
            var count = r.ReadCount("path count", 1);
            lists[l] = new List<string>(count);
            for (var i = 0; i < count; i++)
            {
                lists[l].Add(r.ReadString());
            }
        }

        var arrays = r.ReadCount("array count", 4);
        var changes = new List<ArrayChunkChanges>(arrays);
        for (var a = 0; a < arrays; a++)
        {
            var path = r.ReadString();
            var rank = (int)r.ReadLength("rank", 64);
            var written = r.ReadCount("written count", 0);
            var deleted = r.ReadCount("deleted count", 0);
            // Distinct coordinates need at least one byte each once there are two of them (n values in a column
            // of width w take n * w bytes, and width 0 means one value), so the counts are bounded by the payload.
            if ((long)written + deleted > Math.Max(1, r.Remaining) || (rank == 0 && (long)written + deleted > 1))
            {
                throw r.Corrupt($"chunk counts {written} + {deleted} exceed what the payload can hold");
            }

            var writtenCoords = ReadCoordColumns(ref r, rank, written);
            var deletedCoords = ReadCoordColumns(ref r, rank, deleted);
            var boxCount = r.ReadCount("box count", Math.Max(1, 2 * rank));
            var boxes = new List<ChunkBox>(boxCount);
            for (var b = 0; b < boxCount; b++)
            {
                boxes.Add(new ChunkBox(r.ReadCoords(rank), r.ReadCoords(rank)));
            }

            changes.Add(new ArrayChunkChanges(path, rank, writtenCoords, deletedCoords, boxes));
        }

        r.ExpectEnd();
        return new TransactionLog(id, lists[0], lists[1], lists[2], changes);
    }

    private static void WriteCoordColumns(PayloadWriter w, int rank, IReadOnlyList<long[]> coords)
    {
        var column = new ulong[coords.Count];
        for (var d = 0; d < rank; d++)
        {
            for (var i = 0; i < coords.Count; i++)
            {
                column[i] = (ulong)coords[i][d];
            }

            w.WriteUIntColumn(column);
        }
    }

    private static List<long[]> ReadCoordColumns(ref PayloadReader r, int rank, int count)
    {
        var result = new List<long[]>(count);
        for (var i = 0; i < count; i++)
        {
            result.Add(new long[rank]);
        }

        for (var d = 0; d < rank; d++)
        {
            var column = r.ReadUIntColumn(count);
            for (var i = 0; i < count; i++)
            {
                result[i][d] = (long)column[i];
            }
        }

        return result;
    }
}

/// <summary>
/// The chunk coordinates one commit wrote and deleted in one array, and boxes of chunks it may have written (merged
/// changesets, recorded by their delta manifests' extents).
/// </summary>
public sealed record ArrayChunkChanges(string Path, int Rank, IReadOnlyList<long[]> Written, IReadOnlyList<long[]> Deleted, IReadOnlyList<ChunkBox>? Boxes = null)
{
    /// <summary>Whether the commit wrote or may have written the chunk at <paramref name="coords"/>.</summary>
    public bool Touches(long[] coords) =>
        Written.Any(c => c.AsSpan().SequenceEqual(coords)) || Deleted.Any(c => c.AsSpan().SequenceEqual(coords)) || (Boxes ?? []).Any(b => b.Contains(coords));
}

/// <summary>An inclusive box of chunk coordinates.</summary>
public sealed record ChunkBox(long[] Min, long[] Max)
{
    public bool Contains(ReadOnlySpan<long> coords)
    {
        for (var d = 0; d < coords.Length; d++)
        {
            if (coords[d] < Min[d] || coords[d] > Max[d])
            {
                return false;
            }
        }

        return true;
    }

    public bool Intersects(ChunkBox other)
    {
        for (var d = 0; d < Min.Length; d++)
        {
            if (other.Max[d] < Min[d] || other.Min[d] > Max[d])
            {
                return false;
            }
        }

        return true;
    }
}
