namespace Floe.Store;

/// <summary>What differs between two snapshots: nodes added, removed or with new metadata, and chunks per array.</summary>
public sealed record SnapshotDiff(
    IReadOnlyList<string> AddedNodes,
    IReadOnlyList<string> DeletedNodes,
    IReadOnlyList<string> UpdatedNodes,
    IReadOnlyList<ArrayChunkDiff> Chunks)
{
    public bool IsEmpty => AddedNodes.Count == 0 && DeletedNodes.Count == 0 && UpdatedNodes.Count == 0 && Chunks.Count == 0;

    /// <summary>
    /// Compares node lists, then for each array present in both compares manifest shards; shards with the same
    /// manifest id are equal without being read, so the cost follows the difference, not the arrays' size.
    /// </summary>
    internal static async Task<SnapshotDiff> ComputeAsync(Repository repository, Format.ObjectId fromId, Format.ObjectId toId, CancellationToken cancellationToken)
    {
        var from = await repository.GetSnapshotAsync(fromId, cancellationToken);
        var to = await repository.GetSnapshotAsync(toId, cancellationToken);
        var fromNodes = from.Nodes.ToDictionary(n => n.Path, StringComparer.Ordinal);
        var toNodes = to.Nodes.ToDictionary(n => n.Path, StringComparer.Ordinal);
        var added = to.Nodes.Where(n => !fromNodes.ContainsKey(n.Path)).Select(n => n.Path).ToList();
        var deleted = from.Nodes.Where(n => !toNodes.ContainsKey(n.Path)).Select(n => n.Path).ToList();
        var updated = new List<string>();
        var chunks = new List<ArrayChunkDiff>();
        foreach (var node in to.Nodes)
        {
            if (!fromNodes.TryGetValue(node.Path, out var old))
            {
                if (node.Kind == NodeKind.Array && node.Shards.Count > 0)
                {
                    chunks.Add(await CompareArraysAsync(repository, null, node, cancellationToken));
                }

                continue;
            }

            if (old.Kind != node.Kind || !old.ZarrJson.AsSpan().SequenceEqual(node.ZarrJson))
            {
                updated.Add(node.Path);
            }

            if (old.Kind == NodeKind.Array && node.Kind == NodeKind.Array)
            {
                var diff = await CompareArraysAsync(repository, old, node, cancellationToken);
                if (diff.Added.Count + diff.Removed.Count + diff.Modified.Count > 0)
                {
                    chunks.Add(diff);
                }
            }
        }

        foreach (var node in from.Nodes.Where(n => n.Kind == NodeKind.Array && !toNodes.ContainsKey(n.Path) && n.Shards.Count > 0))
        {
            chunks.Add(await CompareArraysAsync(repository, node, null, cancellationToken));
        }

        return new SnapshotDiff(added, deleted, updated, chunks);
    }

    private static async Task<ArrayChunkDiff> CompareArraysAsync(Repository repository, Node? from, Node? to, CancellationToken cancellationToken)
    {
        var path = (to ?? from)!.Path;
        var result = new ArrayChunkDiff(path, [], [], []);
        var fromRefs = await RefsByCoordsAsync(repository, from, cancellationToken, to);
        var toRefs = await RefsByCoordsAsync(repository, to, cancellationToken, from);
        foreach (var (coords, toRef) in toRefs)
        {
            if (!fromRefs.TryGetValue(coords, out var fromRef))
            {
                result.Added.Add(coords);
            }
            else if (!fromRef.Equals(toRef))
            {
                result.Modified.Add(coords);
            }
        }

        result.Removed.AddRange(fromRefs.Keys.Where(c => !toRefs.ContainsKey(c)));
        result.Added.Sort(CoordsComparer.Instance);
        result.Removed.Sort(CoordsComparer.Instance);
        result.Modified.Sort(CoordsComparer.Instance);
        return result;
    }

    // The references of the shards of `node` that `other` does not hold under the same manifest id.
    private static async Task<Dictionary<long[], ChunkRef>> RefsByCoordsAsync(Repository repository, Node? node, CancellationToken cancellationToken, Node? other)
    {
        var refs = new Dictionary<long[], ChunkRef>(CoordsComparer.Instance);
        if (node is null)
        {
            return refs;
        }

        var shared = other is not null && other.ShardShape is not null && node.ShardShape!.AsSpan().SequenceEqual(other.ShardShape)
            ? other.Shards.Select(s => s.ManifestId).ToHashSet()
            : [];
        foreach (var entry in node.Shards)
        {
            if (shared.Contains(entry.ManifestId))
            {
                continue;
            }

            var shard = await repository.GetShardAsync(entry.ManifestId, node.Path, cancellationToken);
            for (var i = 0; i < shard.Count; i++)
            {
                var coords = new long[shard.Shape.Length];
                shard.CoordsOf(shard.Positions[i], coords);
                refs[coords] = shard.RefAt(i);
            }
        }

        return refs;
    }
}

/// <summary>Chunk coordinates of one array that gained, lost or changed a reference.</summary>
public sealed record ArrayChunkDiff(string Path, List<long[]> Added, List<long[]> Removed, List<long[]> Modified);
