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

            changes.Add(new ArrayChunkChanges(path, rank, ReadCoordColumns(ref r, rank, written), ReadCoordColumns(ref r, rank, deleted)));
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

/// <summary>The chunk coordinates one commit wrote and deleted in one array.</summary>
public sealed record ArrayChunkChanges(string Path, int Rank, IReadOnlyList<long[]> Written, IReadOnlyList<long[]> Deleted);
