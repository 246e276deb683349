using System.Text.Json.Nodes;
using Floe.Core;
using Floe.Store.Format;

namespace Floe.Store;

/// <summary>
/// A writable view of a branch. Changes stay in the session, using memory in proportion to them, until
/// <see cref="CommitAsync"/> makes them visible in one compare-and-swap of the branch (docs/spec.md, Commit protocol).
/// Chunk writes may come from several threads at once; other calls are meant for one caller at a time.
/// </summary>
public sealed class Session : NodeReader
{
    private readonly Dictionary<(string Path, string Codecs), ArrayMetadata> _checkedCodecs = [];
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Node?> _nodes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _created = new(StringComparer.Ordinal);
    private readonly HashSet<string> _deleted = new(StringComparer.Ordinal);
    private readonly HashSet<string> _updated = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PendingArray> _arrays = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _mergedFrom = new(StringComparer.Ordinal);
    private string _baseEtag;

    internal Session(Repository repository, string branch, Snapshot baseSnapshot, string baseEtag)
        : base(repository)
    {
        Branch = branch;
        BaseSnapshot = baseSnapshot;
        _baseEtag = baseEtag;
    }

    public string Branch { get; }

    /// <summary>The snapshot the session's changes apply to (the branch's tip when it opened, or its last commit).</summary>
    public Snapshot BaseSnapshot { get; private set; }

    public bool HasChanges
    {
        get
        {
            lock (_lock)
            {
                return _nodes.Count > 0 || _arrays.Count > 0;
            }
        }
    }

    /// <summary>How many chunk references are set or deleted and not yet committed.</summary>
    public long PendingChunkChanges
    {
        get
        {
            lock (_lock)
            {
                return _arrays.Values.Sum(a => (long)a.Count);
            }
        }
    }

    // ---- reading (sees the session's own changes) ----

    public override Node? FindNode(string path)
    {
        path = NodePath.Normalize(path);
        lock (_lock)
        {
            return _nodes.TryGetValue(path, out var pending) ? pending : BaseSnapshot.FindNode(path);
        }
    }

    public override IReadOnlyList<Node> ListChildren(string groupPath)
    {
        var group = GetNode(groupPath);
        if (group.Kind != NodeKind.Group)
        {
            throw new NodeNotFoundException(group.Path, "it is an array, not a group");
        }

        lock (_lock)
        {
            var children = new SortedDictionary<string, Node>(StringComparer.Ordinal);
            foreach (var child in BaseSnapshot.Children(group.Path))
            {
                if (!_nodes.ContainsKey(child.Path))
                {
                    children[child.Path] = child;
                }
            }

            foreach (var (path, node) in _nodes)
            {
                if (node is not null && path != NodePath.Root && NodePath.Parent(path) == group.Path)
                {
                    children[path] = node;
                }
            }

            return children.Values.ToList();
        }
    }

    public override async Task<ChunkRef?> GetChunkRefAsync(string arrayPath, long[] chunkCoords, CancellationToken cancellationToken = default)
    {
        var node = GetArrayNode(arrayPath);
        CheckCoords(node.Path, node.ArrayMetadata, chunkCoords);
        lock (_lock)
        {
            if (_arrays.TryGetValue(node.Path, out var pending))
            {
                if (pending.TryGet(chunkCoords, out var changed))
                {
                    return changed;
                }

                if (pending.Fresh || pending.IsTrimmed(chunkCoords))
                {
                    return null;
                }
            }
            else if (_created.Contains(node.Path))
            {
                return null;
            }
        }

        var committed = BaseSnapshot.FindNode(node.Path);
        return committed is null ? null : await LookUpCommittedAsync(committed, chunkCoords, cancellationToken);
    }

    // ---- node changes ----

    public Node CreateGroup(string path, JsonObject? attributes = null) =>
        AddNode(NodePath.Normalize(path), NodeKind.Group, new GroupMetadata(attributes ?? []).ToJsonBytes(), null);

    /// <summary>Creates an array; <paramref name="shardShape"/> overrides the default manifest shard shape.</summary>
    public Node CreateArray(string path, ArrayMetadata metadata, long[]? shardShape = null)
    {
        path = NodePath.Normalize(path);
        Validate(path, metadata);
        shardShape ??= ShardLayout.DefaultShape(metadata.GridShape, Repository.Config.RefsPerShard);
        ShardLayout.Validate(shardShape, metadata.Rank, path);
        return AddNode(path, NodeKind.Array, metadata.ToJsonBytes(), shardShape);
    }

    public void UpdateAttributes(string path, JsonObject attributes)
    {
        var node = GetNode(path);
        if (node.Kind == NodeKind.Group)
        {
            ReplaceNode(node, new GroupMetadata(attributes).ToJsonBytes());
        }
        else
        {
            ReplaceNode(node, (node.ArrayMetadata with { Attributes = attributes }).ToJsonBytes());
        }
    }

    /// <summary>
    /// Replaces an array's metadata. Only the shape, attributes and dimension names may change: a new data type,
    /// chunk shape, fill value or codec would reinterpret the chunks already stored.
    /// </summary>
    public void UpdateArrayMetadata(string path, ArrayMetadata metadata)
    {
        var node = GetArrayNode(path);
        var old = node.ArrayMetadata;
        Validate(node.Path, metadata);
        if (!old.DataType.Equals(metadata.DataType) || !old.ChunkShape.AsSpan().SequenceEqual(metadata.ChunkShape) ||
            !old.FillValue.Equals(metadata.FillValue) || !old.Codecs.Select(c => c.Name + c.Configuration?.ToJsonString()).SequenceEqual(metadata.Codecs.Select(c => c.Name + c.Configuration?.ToJsonString())))
        {
            throw new ArgumentException($"array '{node.Path}': only shape, attributes and dimension names can change; create a new array for a new data type, chunk shape, fill value or codecs", nameof(metadata));
        }

        SetShape(node, metadata);
    }

    /// <summary>Resizes an array. Shrinking drops the chunks outside the new chunk grid, as Zarr does.</summary>
    public void ResizeArray(string path, long[] shape)
    {
        var node = GetArrayNode(path);
        var metadata = node.ArrayMetadata;
        if (shape.Length != metadata.Rank || shape.Any(s => s < 0))
        {
            throw new ArgumentException($"array '{node.Path}': new shape [{string.Join(", ", shape)}] must have {metadata.Rank} non-negative dimensions", nameof(shape));
        }

        SetShape(node, metadata.WithShape(shape));
    }

    /// <summary>Grows dimension <paramref name="dimension"/> by <paramref name="count"/>; returns the index where the new elements start.</summary>
    public long AppendAlong(string path, int dimension, long count)
    {
        var node = GetArrayNode(path);
        var shape = (long[])node.ArrayMetadata.Shape.Clone();
        if (dimension < 0 || dimension >= shape.Length || count < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), $"array '{node.Path}': cannot append {count} along dimension {dimension} of {shape.Length}");
        }

        var start = shape[dimension];
        shape[dimension] += count;
        ResizeArray(node.Path, shape);
        return start;
    }

    /// <summary>Deletes a node; deleting a group deletes everything below it.</summary>
    public void DeleteNode(string path)
    {
        var node = GetNode(path);
        if (node.Path == NodePath.Root)
        {
            throw new ArgumentException("the root group cannot be deleted", nameof(path));
        }

        lock (_lock)
        {
            var doomed = BaseSnapshot.Nodes.Where(n => n.Path == node.Path || NodePath.IsDescendant(n.Path, node.Path)).Select(n => n.Path)
                .Concat(_nodes.Keys.Where(p => p == node.Path || NodePath.IsDescendant(p, node.Path))).ToHashSet(StringComparer.Ordinal);
            foreach (var p in doomed)
            {
                _created.Remove(p);
                _updated.Remove(p);
                _arrays.Remove(p);
                if (BaseSnapshot.FindNode(p) is not null)
                {
                    _deleted.Add(p);
                    _nodes[p] = null;
                }
                else
                {
                    _nodes.Remove(p);
                }
            }
        }
    }

    // ---- chunk changes ----

    public void SetChunkRef(string arrayPath, long[] chunkCoords, ChunkRef chunkRef)
    {
        ArgumentNullException.ThrowIfNull(chunkRef);
        ChangeChunk(arrayPath, chunkCoords, chunkRef);
    }

    public void DeleteChunk(string arrayPath, long[] chunkCoords) => ChangeChunk(arrayPath, chunkCoords, null);

    /// <summary>
    /// Encodes a whole chunk (little-endian elements in C order) with the array's codecs and stores it inline
    /// or as a native chunk object. Returns the reference it set.
    /// </summary>
    public async Task<ChunkRef> WriteChunkAsync(string arrayPath, long[] chunkCoords, ReadOnlyMemory<byte> decoded, CancellationToken cancellationToken = default)
    {
        var node = GetArrayNode(arrayPath);
        var metadata = node.ArrayMetadata;
        CheckCoords(node.Path, metadata, chunkCoords);
        var expected = metadata.ChunkElementCount * metadata.DataType.Size;
        if (decoded.Length != expected)
        {
            throw new ChunkDataException(node.Path, $"chunk [{string.Join(", ", chunkCoords)}] has {decoded.Length} bytes; {metadata.DataType} chunks of [{string.Join(", ", metadata.ChunkShape)}] need {expected}");
        }

        var chunkRef = await StoreChunkAsync(metadata, decoded, cancellationToken);
        ChangeChunk(node.Path, chunkCoords, chunkRef);
        return chunkRef;
    }

    // ---- changesets ----

    /// <summary>
    /// Writes the session's changes as the changeset <paramref name="name"/> instead of committing them (spec:
    /// Changeset): each array's new references go to delta manifests. The chunk changes are then dropped from the
    /// session, so a long-running worker can write one changeset per batch with memory bounded by the batch; node
    /// changes stay, and later changesets list them again. Fails if the session deleted anything or holds merged
    /// changesets, or if a changeset of that name exists.
    /// </summary>
    public async Task<Changeset> SaveChangesetAsync(string name, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        Changeset.ValidateName(name);
        List<(string Path, PendingArray Pending)> arrays;
        List<string> paths;
        ObjectId baseId;
        lock (_lock)
        {
            if (_deleted.Count > 0)
            {
                throw new FloeStoreException($"changeset '{name}': the session deleted {string.Join(", ", _deleted.Order(StringComparer.Ordinal))}; a changeset holds additions only");
            }

            foreach (var (path, pending) in _arrays)
            {
                if (pending.HasDeletions)
                {
                    throw new FloeStoreException($"changeset '{name}': the session deleted chunks of array '{path}' or shrank it; a changeset holds additions only");
                }

                if (pending.HasDeltas)
                {
                    throw new FloeStoreException($"changeset '{name}': the session holds merged changesets; commit it instead");
                }
            }

            arrays = _arrays.Select(a => (a.Key, a.Value)).ToList();
            paths = _nodes.Where(n => n.Value is not null).Select(n => n.Key).Union(_arrays.Keys).Order(StringComparer.Ordinal).ToList();
            baseId = BaseSnapshot.Id;
        }

        var deltas = new Dictionary<string, List<ShardEntry>>(StringComparer.Ordinal);
        foreach (var (path, pending) in arrays)
        {
            var node = GetArrayNode(path);
            var entries = new System.Collections.Concurrent.ConcurrentBag<ShardEntry>();
            await Parallel.ForEachAsync(pending.ShardKeys().ToList(),
                new ParallelOptions { MaxDegreeOfParallelism = Repository.Options.CommitParallelism, CancellationToken = cancellationToken },
                async (shardCoords, ct) =>
                {
                    if (await WriteMergedShardAsync(path, node.ArrayMetadata, shardCoords, node.ShardShape!, null, pending, ct) is { } entry)
                    {
                        entries.Add(entry);
                    }
                });
            deltas[path] = entries.OrderBy(e => e.ShardCoords, CoordsComparer.Instance).ToList();
        }

        var nodes = paths.Select(path =>
        {
            var node = GetNode(path);
            return node.Kind == NodeKind.Array
                ? new Node(path, NodeKind.Array, node.ZarrJson, node.ShardShape, deltas.GetValueOrDefault(path) ?? [])
                : new Node(path, NodeKind.Group, node.ZarrJson);
        }).ToList();
        var sorted = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in metadata ?? new Dictionary<string, string>())
        {
            sorted[k] = v;
        }

        var changeset = new Changeset(name, baseId, DateTimeOffset.UtcNow, sorted, nodes);
        if (await Repository.Store.PutIfAbsentAsync(Changeset.KeyOf(name), changeset.Encode(), cancellationToken) is null)
        {
            throw new FloeStoreException($"changeset '{name}' already exists (written by another worker?)");
        }

        lock (_lock)
        {
            foreach (var (path, pending) in arrays)
            {
                if (_arrays.TryGetValue(path, out var current) && ReferenceEquals(current, pending))
                {
                    _arrays.Remove(path);
                }
            }
        }

        return changeset;
    }

    /// <summary>
    /// Merges a changeset into this session (spec: Changeset, merging); commit to make it visible. Merge several in
    /// order and commit once. Nodes are created or checked; references are read from the delta manifests only at
    /// commit, one shard box at a time.
    /// </summary>
    public void AddChangeset(Changeset changeset)
    {
        ArgumentNullException.ThrowIfNull(changeset);
        foreach (var node in changeset.Nodes)
        {
            var existing = FindNode(node.Path);
            if (existing is null)
            {
                AddNode(node.Path, node.Kind, node.ZarrJson, node.ShardShape);
            }
            else
            {
                Reconcile(existing, node, changeset.Name);
            }

            lock (_lock)
            {
                _mergedFrom.TryAdd(node.Path, changeset.Name);
                if (node.Kind == NodeKind.Array && node.Shards.Count > 0)
                {
                    if (!_arrays.TryGetValue(node.Path, out var pending))
                    {
                        _arrays[node.Path] = pending = new PendingArray(node.Path, node.ShardShape!, fresh: false);
                    }

                    foreach (var entry in node.Shards)
                    {
                        pending.AddDelta(entry);
                    }
                }
            }
        }
    }

    // A node the session has: the same apart from an array's shape grows it; different metadata is an update,
    // unless another changeset of this merge already set the node differently.
    private void Reconcile(Node existing, Node incoming, string changesetName)
    {
        string Problem(string what) => $"changeset '{changesetName}': node '{existing.Path}' {what}";
        if (existing.Kind != incoming.Kind)
        {
            throw new FloeStoreException(Problem($"is {(incoming.Kind == NodeKind.Array ? "an array" : "a group")} there but {(existing.Kind == NodeKind.Array ? "an array" : "a group")} here"));
        }

        if (existing.Kind == NodeKind.Group)
        {
            if (!existing.ZarrJson.AsSpan().SequenceEqual(incoming.ZarrJson))
            {
                CheckNotMergedElsewhere();
                ReplaceNode(existing, incoming.ZarrJson);
            }

            return;
        }

        if (!existing.ShardShape!.AsSpan().SequenceEqual(incoming.ShardShape))
        {
            throw new FloeStoreException(Problem($"has shard shape [{string.Join(", ", incoming.ShardShape!)}] there, [{string.Join(", ", existing.ShardShape!)}] here"));
        }

        var have = existing.ArrayMetadata;
        var theirs = incoming.ArrayMetadata;
        if (have.Rank != theirs.Rank)
        {
            throw new FloeStoreException(Problem($"has {theirs.Rank} dimensions there, {have.Rank} here"));
        }

        var shape = have.Shape.Zip(theirs.Shape, Math.Max).ToArray();
        if (have.WithShape(shape).ToJsonBytes().AsSpan().SequenceEqual(theirs.WithShape(shape).ToJsonBytes()))
        {
            if (!shape.AsSpan().SequenceEqual(have.Shape))
            {
                SetShape(existing, have.WithShape(shape));
            }

            return;
        }

        CheckNotMergedElsewhere();
        try
        {
            UpdateArrayMetadata(existing.Path, theirs.WithShape(shape));
        }
        catch (ArgumentException ex)
        {
            throw new FloeStoreException(Problem(ex.Message), ex);
        }

        void CheckNotMergedElsewhere()
        {
            lock (_lock)
            {
                if (_mergedFrom.TryGetValue(existing.Path, out var other))
                {
                    throw new FloeStoreException(Problem($"has other metadata than in changeset '{other}'"));
                }
            }
        }
    }

    // ---- commit ----

    /// <summary>
    /// Writes the changes as a new snapshot and moves the branch to it. If another commit moved the branch first,
    /// rebases onto it when the changes do not overlap and throws <see cref="ConflictException"/> when they do;
    /// either way a failed commit leaves the branch where it was.
    /// </summary>
    public async Task<ObjectId> CommitAsync(string message, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        if (!HasChanges)
        {
            throw new FloeStoreException($"nothing to commit on branch '{Branch}'");
        }

        var commitMetadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in metadata ?? new Dictionary<string, string>())
        {
            commitMetadata[k] = v;
        }

        var branchKey = RefObject.BranchPrefix + Branch;
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var snapshot = await WriteSnapshotAsync(message, commitMetadata, cancellationToken);
            var etag = await Repository.Store.PutIfMatchAsync(branchKey, RefObject.Encode(snapshot.Id), _baseEtag, cancellationToken);
            if (etag is not null)
            {
                Committed(snapshot, etag);
                return snapshot.Id;
            }

            // A store may retry a write whose answer was lost and then see its own write as a conflict (or find
            // another commit already on top of it): the snapshot id, new and unique, in the branch's history
            // since the base says the commit landed.
            var last = attempt >= Repository.Options.MaxCommitAttempts;
            if (await RebaseAsync(snapshot.Id, findConflicts: !last, cancellationToken) is { } landedOn)
            {
                Committed(landedOn.Tip, landedOn.Etag);
                return snapshot.Id;
            }

            if (last)
            {
                throw new BranchContentionException(Branch, attempt);
            }
            // Spread retries out so that writers who keep colliding do not stay in lockstep.
            await Task.Delay(Random.Shared.Next(0, Math.Min(50, attempt * 2)), cancellationToken);
        }
    }

    private void Committed(Snapshot newBase, string etag)
    {
        lock (_lock)
        {
            BaseSnapshot = newBase;
            _baseEtag = etag;
            _nodes.Clear();
            _created.Clear();
            _deleted.Clear();
            _updated.Clear();
            _arrays.Clear();
            _mergedFrom.Clear();
        }
    }

    /// <summary>
    /// Moves the session's base to the branch tip when the commits since the base do not conflict with its changes.
    /// Returns the tip instead, changing nothing, when <paramref name="ours"/> is among those commits: this
    /// session's commit landed. With <paramref name="findConflicts"/> false it only looks for that.
    /// </summary>
    private async Task<(Snapshot Tip, string Etag)?> RebaseAsync(ObjectId ours, bool findConflicts, CancellationToken cancellationToken)
    {
        var (tipId, tipEtag) = await Repository.ReadBranchAsync(Branch, cancellationToken);
        var logs = new List<TransactionLog>();
        var cursor = tipId;
        while (cursor != BaseSnapshot.Id)
        {
            if (cursor == ours)
            {
                return (await Repository.GetSnapshotAsync(tipId, cancellationToken), tipEtag);
            }

            var snapshot = await Repository.GetSnapshotAsync(cursor, cancellationToken);
            if (snapshot.ParentId is not { } parent)
            {
                throw new ConflictException(Branch, [new Conflict(NodePath.Root, $"the branch was reset to a history without this session's base snapshot {BaseSnapshot.Id}")]);
            }

            if (findConflicts)
            {
                logs.Add(await Repository.GetTransactionLogAsync(cursor, cancellationToken));
            }

            cursor = parent;
        }

        if (!findConflicts)
        {
            return null;
        }

        var conflicts = FindConflicts(logs);
        if (conflicts.Count > 0)
        {
            throw new ConflictException(Branch, conflicts);
        }

        var tip = await Repository.GetSnapshotAsync(tipId, cancellationToken);
        lock (_lock)
        {
            BaseSnapshot = tip;
            _baseEtag = tipEtag;
        }

        return null;
    }

    private List<Conflict> FindConflicts(List<TransactionLog> theirs)
    {
        var created = theirs.SelectMany(l => l.CreatedNodes).ToHashSet(StringComparer.Ordinal);
        var deleted = theirs.SelectMany(l => l.DeletedNodes).ToHashSet(StringComparer.Ordinal);
        var updated = theirs.SelectMany(l => l.UpdatedNodes).ToHashSet(StringComparer.Ordinal);
        var chunked = theirs.SelectMany(l => l.ChunkChanges).Select(c => c.Path).ToHashSet(StringComparer.Ordinal);
        var conflicts = new List<Conflict>();
        bool AncestorDeleted(string path) => path != NodePath.Root && deleted.Any(d => NodePath.IsDescendant(path, d));

        lock (_lock)
        {
            foreach (var path in _created)
            {
                if (created.Contains(path) || updated.Contains(path))
                {
                    conflicts.Add(new Conflict(path, "created here and by a concurrent commit"));
                }
                else if (AncestorDeleted(path))
                {
                    conflicts.Add(new Conflict(path, "created here inside a group a concurrent commit deleted"));
                }
            }

            foreach (var path in _deleted)
            {
                if (updated.Contains(path) || chunked.Contains(path) || deleted.Contains(path) ||
                    created.Any(c => NodePath.IsDescendant(c, path)))
                {
                    conflicts.Add(new Conflict(path, "deleted here and changed by a concurrent commit"));
                }
            }

            foreach (var path in _updated)
            {
                if (updated.Contains(path) || deleted.Contains(path))
                {
                    conflicts.Add(new Conflict(path, "metadata changed here and changed or deleted by a concurrent commit"));
                }
                else if (chunked.Contains(path))
                {
                    conflicts.Add(new Conflict(path, "metadata changed here while a concurrent commit wrote chunks to it"));
                }
            }

            foreach (var (path, pending) in _arrays)
            {
                if (_created.Contains(path) || _updated.Contains(path))
                {
                    continue; // already judged above
                }

                if (deleted.Contains(path) || AncestorDeleted(path))
                {
                    conflicts.Add(new Conflict(path, "chunks written here to an array a concurrent commit deleted"));
                    continue;
                }

                if (updated.Contains(path))
                {
                    conflicts.Add(new Conflict(path, "chunks written here to an array whose metadata a concurrent commit changed"));
                    continue;
                }

                var overlap = new List<long[]>();
                foreach (var change in theirs.SelectMany(l => l.ChunkChanges).Where(c => c.Path == path))
                {
                    foreach (var coords in change.Written.Concat(change.Deleted))
                    {
                        if (pending.Touches(coords))
                        {
                            overlap.Add(coords);
                        }
                    }

                    foreach (var box in change.Boxes ?? [])
                    {
                        if (pending.Overlaps(box))
                        {
                            overlap.Add(box.Min);
                        }
                    }
                }

                if (overlap.Count > 0)
                {
                    overlap.Sort(CoordsComparer.Instance);
                    conflicts.Add(new Conflict(path, "the same chunks were changed by a concurrent commit", overlap));
                }
            }
        }

        return conflicts;
    }

    private async Task<Snapshot> WriteSnapshotAsync(string message, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        Snapshot baseSnapshot;
        Dictionary<string, Node> nodes;
        List<(string Path, Node Node, PendingArray? Pending, IReadOnlyList<ShardEntry> BaseShards)> arrays = [];
        lock (_lock)
        {
            baseSnapshot = BaseSnapshot;
            nodes = baseSnapshot.Nodes.ToDictionary(n => n.Path, StringComparer.Ordinal);
            foreach (var (path, node) in _nodes)
            {
                if (node is null)
                {
                    nodes.Remove(path);
                }
                else
                {
                    nodes[path] = node;
                }
            }

            foreach (var (path, pending) in _arrays)
            {
                if (nodes.TryGetValue(path, out var node))
                {
                    var baseShards = pending.Fresh ? [] : baseSnapshot.FindNode(path)?.Shards ?? [];
                    arrays.Add((path, node, pending, baseShards));
                }
            }
        }

        var logChanges = new List<ArrayChunkChanges>();
        foreach (var (path, node, pending, baseShards) in arrays)
        {
            var shards = await RewriteShardsAsync(path, node.ArrayMetadata, node.ShardShape!, pending!, baseShards, cancellationToken);
            nodes[path] = new Node(path, NodeKind.Array, node.ZarrJson, node.ShardShape, shards);
            var (written, removed) = pending!.ChangedCoords();
            var boxes = pending.DeltaBoxes();
            if (written.Count + removed.Count + boxes.Count > 0)
            {
                logChanges.Add(new ArrayChunkChanges(path, node.ShardShape!.Length, written, removed, boxes));
            }
        }

        // Arrays whose shards were untouched still take the base's manifest index (another writer may have added to it).
        foreach (var path in nodes.Keys.ToList())
        {
            var node = nodes[path];
            if (node.Kind == NodeKind.Array && !arrays.Any(a => a.Path == path) && !_created.Contains(path) &&
                baseSnapshot.FindNode(path) is { Kind: NodeKind.Array } committed && !ReferenceEquals(committed, node))
            {
                nodes[path] = new Node(path, NodeKind.Array, node.ZarrJson, committed.ShardShape, committed.Shards);
            }
        }

        var snapshot = new Snapshot(ObjectId.NewId(), baseSnapshot.Id, DateTimeOffset.UtcNow, message, metadata,
            nodes.Values.OrderBy(n => n.Path, StringComparer.Ordinal).ToList());
        var log = new TransactionLog(snapshot.Id, _created.ToList(), _deleted.ToList(), _updated.ToList(), logChanges);
        await Repository.WriteNewAsync(TransactionLog.KeyOf(snapshot.Id), log.Encode(), cancellationToken);
        await Repository.WriteNewAsync(Snapshot.KeyOf(snapshot.Id), snapshot.Encode(), cancellationToken);
        return snapshot;
    }

    // Merges the pending changes into each touched shard and writes the results; untouched shards keep their ids.
    private async Task<IReadOnlyList<ShardEntry>> RewriteShardsAsync(string path, ArrayMetadata metadata, long[] shardShape, PendingArray pending,
        IReadOnlyList<ShardEntry> baseShards, CancellationToken cancellationToken)
    {
        var byCoords = baseShards.ToDictionary(s => s.ShardCoords, CoordsComparer.Instance);
        var touched = pending.ShardKeys().ToHashSet(CoordsComparer.Instance);
        if (pending.TrimGrid is { } trim)
        {
            foreach (var entry in baseShards.Where(s => s.ExtentMax.Where((v, d) => v >= trim[d]).Any()))
            {
                touched.Add(entry.ShardCoords);
            }
        }

        var results = new System.Collections.Concurrent.ConcurrentDictionary<long[], ShardEntry?>(CoordsComparer.Instance);
        await Parallel.ForEachAsync(touched, new ParallelOptions { MaxDegreeOfParallelism = Repository.Options.CommitParallelism, CancellationToken = cancellationToken },
            async (shardCoords, ct) =>
            {
                ManifestShard? old = byCoords.TryGetValue(shardCoords, out var entry) ? await Repository.GetShardAsync(entry.ManifestId, path, ct) : null;
                results[shardCoords] = await WriteMergedShardAsync(path, metadata, shardCoords, shardShape, old, pending, ct);
                if (entry is not null)
                {
                    // Replaced: keeping it cached would grow memory commit after commit until the budget is full.
                    Repository.ForgetShard(entry.ManifestId);
                }
            });

        foreach (var (coords, entry) in results)
        {
            if (entry is null)
            {
                byCoords.Remove(coords);
            }
            else
            {
                byCoords[coords] = entry;
            }
        }

        return byCoords.Values.OrderBy(s => s.ShardCoords, CoordsComparer.Instance).ToList();
    }

    private async Task<ShardEntry?> WriteMergedShardAsync(string path, ArrayMetadata metadata, long[] shardCoords, long[] shardShape, ManifestShard? old,
        PendingArray pending, CancellationToken cancellationToken)
    {
        var origin = ShardLayout.OriginOf(shardCoords, shardShape);
        if (pending.DeltasIn(shardCoords) is { Count: > 0 } deltas)
        {
            return await WriteLayeredShardAsync(path, metadata, shardCoords, shardShape, old, deltas, pending, cancellationToken);
        }

        var changes = pending.ChangesIn(shardCoords);
        var positions = new List<long>((old?.Count ?? 0) + changes.Count);
        var refs = new List<ChunkRef>(positions.Capacity);
        var coords = new long[shardShape.Length];
        int i = 0, j = 0;
        var oldCount = old?.Count ?? 0;
        while (i < oldCount || j < changes.Count)
        {
            if (j >= changes.Count || (i < oldCount && old!.Positions[i] < changes[j].Position))
            {
                ShardLayout.CoordsAt(old!.Positions[i], origin, shardShape, coords);
                if (!pending.IsTrimmed(coords))
                {
                    positions.Add(old.Positions[i]);
                    refs.Add(old.RefAt(i));
                }

                i++;
                continue;
            }

            if (i < oldCount && old!.Positions[i] == changes[j].Position)
            {
                i++; // replaced or deleted by the change
            }

            if (changes[j].Ref is { } newRef)
            {
                positions.Add(changes[j].Position);
                refs.Add(newRef);
            }

            j++;
        }

        return await WriteShardAsync(shardCoords, shardShape, positions, refs, cancellationToken);
    }

    // A box with changesets merged in: the base's references, then each delta manifest's, then the session's own
    // changes; native and inline chunks two layers up to the changesets both hold are merged element by element.
    private async Task<ShardEntry?> WriteLayeredShardAsync(string path, ArrayMetadata metadata, long[] shardCoords, long[] shardShape, ManifestShard? old,
        IReadOnlyList<ShardEntry> deltas, PendingArray pending, CancellationToken cancellationToken)
    {
        var origin = ShardLayout.OriginOf(shardCoords, shardShape);
        var merged = new Dictionary<long, ChunkRef>();
        var coords = new long[shardShape.Length];
        for (var i = 0; i < (old?.Count ?? 0); i++)
        {
            ShardLayout.CoordsAt(old!.Positions[i], origin, shardShape, coords);
            if (!pending.IsTrimmed(coords))
            {
                merged[old.Positions[i]] = old.RefAt(i);
            }
        }

        foreach (var delta in deltas)
        {
            var shard = await Repository.GetShardAsync(delta.ManifestId, path, cancellationToken);
            Repository.ForgetShard(delta.ManifestId);
            if (!shard.Origin.AsSpan().SequenceEqual(origin) || !shard.Shape.AsSpan().SequenceEqual(shardShape))
            {
                throw new CorruptObjectException(ManifestShard.KeyOf(delta.ManifestId), $"array '{path}': delta manifest covers another box than shard [{string.Join(", ", shardCoords)}]");
            }

            for (var i = 0; i < shard.Count; i++)
            {
                var position = shard.Positions[i];
                var chunkRef = shard.RefAt(i);
                if (merged.TryGetValue(position, out var earlier) && IsStoredHere(earlier) && IsStoredHere(chunkRef))
                {
                    var at = new long[shardShape.Length];
                    ShardLayout.CoordsAt(position, origin, shardShape, at);
                    chunkRef = await MergeElementsAsync(path, metadata, at, earlier, chunkRef, cancellationToken);
                }

                merged[position] = chunkRef;
            }
        }

        foreach (var (position, chunkRef) in pending.ChangesIn(shardCoords))
        {
            if (chunkRef is null)
            {
                merged.Remove(position);
            }
            else
            {
                merged[position] = chunkRef;
            }
        }

        var positions = merged.Keys.Order().ToList();
        return await WriteShardAsync(shardCoords, shardShape, positions, positions.Select(p => merged[p]).ToList(), cancellationToken);

        static bool IsStoredHere(ChunkRef r) => r is NativeChunkRef or InlineChunkRef;
    }

    // Two versions of a chunk, each written with the rows one worker had: an element at the fill value in the later
    // one keeps the earlier one's value.
    private async Task<ChunkRef> MergeElementsAsync(string path, ArrayMetadata metadata, long[] chunkCoords, ChunkRef earlier, ChunkRef later, CancellationToken cancellationToken)
    {
        var a = NodeReader.Decode(path, earlier.Codecs?.Apply(metadata) ?? metadata, await Repository.FetchChunkAsync(path, earlier, cancellationToken), chunkCoords);
        var b = NodeReader.Decode(path, later.Codecs?.Apply(metadata) ?? metadata, await Repository.FetchChunkAsync(path, later, cancellationToken), chunkCoords);
        var size = metadata.DataType.Size;
        var fill = new byte[size];
        metadata.FillValue.Fill(fill);
        for (var offset = 0; offset < b.Length; offset += size)
        {
            if (b.AsSpan(offset, size).SequenceEqual(fill))
            {
                a.AsSpan(offset, size).CopyTo(b.AsSpan(offset));
            }
        }

        return await StoreChunkAsync(metadata, b, cancellationToken);
    }

    // Encodes a decoded chunk with the array's codecs, inline when small, else as a native chunk object.
    private async Task<ChunkRef> StoreChunkAsync(ArrayMetadata metadata, ReadOnlyMemory<byte> decoded, CancellationToken cancellationToken)
    {
        var encoded = CodecPipeline.Create(metadata).Encode(decoded.Span);
        if (encoded.Length <= Repository.Config.InlineThreshold)
        {
            return new InlineChunkRef(encoded);
        }

        var id = ObjectId.NewId();
        await Repository.WriteNewAsync(Repository.ChunkKey(id), encoded, cancellationToken);
        return new NativeChunkRef(id, encoded.Length);
    }

    private async Task<ShardEntry?> WriteShardAsync(long[] shardCoords, long[] shardShape, List<long> positions, List<ChunkRef> refs, CancellationToken cancellationToken)
    {
        if (positions.Count == 0)
        {
            return null;
        }

        var origin = ShardLayout.OriginOf(shardCoords, shardShape);
        var coords = new long[shardShape.Length];
        var extentMin = Enumerable.Repeat(long.MaxValue, shardShape.Length).ToArray();
        var extentMax = new long[shardShape.Length];
        foreach (var position in positions)
        {
            ShardLayout.CoordsAt(position, origin, shardShape, coords);
            for (var d = 0; d < coords.Length; d++)
            {
                extentMin[d] = Math.Min(extentMin[d], coords[d]);
                extentMax[d] = Math.Max(extentMax[d], coords[d]);
            }
        }

        var shard = new ManifestShard(origin, shardShape, positions.ToArray(), refs.ToArray());
        var id = ObjectId.NewId();
        await Repository.WriteNewAsync(ManifestShard.KeyOf(id), shard.Encode(Repository.Options.ZstdLevel), cancellationToken);
        return new ShardEntry(shardCoords, id, positions.Count, extentMin, extentMax);
    }

    // ---- helpers ----

    private Node GetArrayNode(string path)
    {
        var node = GetNode(path);
        return node.Kind == NodeKind.Array ? node : throw new NodeNotFoundException(node.Path, "it is a group, not an array");
    }

    private static void Validate(string path, ArrayMetadata metadata)
    {
        try
        {
            metadata.Validate();
            _ = CodecPipeline.Create(metadata);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new ArgumentException($"array '{path}': {e.Message}", nameof(metadata), e);
        }
    }

    private Node AddNode(string path, NodeKind kind, byte[] zarrJson, long[]? shardShape)
    {
        if (path == NodePath.Root)
        {
            throw new NodeExistsException(path);
        }

        var parent = FindNode(NodePath.Parent(path)) ?? throw new NodeNotFoundException(NodePath.Parent(path), $"parent group of '{path}' does not exist");
        if (parent.Kind != NodeKind.Group)
        {
            throw new NodeNotFoundException(parent.Path, $"parent of '{path}' is an array, not a group");
        }

        if (FindNode(path) is not null)
        {
            throw new NodeExistsException(path);
        }

        var node = new Node(path, kind, zarrJson, shardShape);
        lock (_lock)
        {
            _nodes[path] = node;
            _created.Add(path);
            if (kind == NodeKind.Array)
            {
                _arrays[path] = new PendingArray(path, shardShape!, fresh: true);
            }
        }

        return node;
    }

    private void ReplaceNode(Node node, byte[] zarrJson)
    {
        lock (_lock)
        {
            _nodes[node.Path] = new Node(node.Path, node.Kind, zarrJson, node.ShardShape, node.Shards);
            if (!_created.Contains(node.Path))
            {
                _updated.Add(node.Path);
            }
        }
    }

    private void SetShape(Node node, ArrayMetadata metadata)
    {
        var oldGrid = node.ArrayMetadata.GridShape;
        var newGrid = metadata.GridShape;
        lock (_lock)
        {
            ReplaceNode(node, metadata.ToJsonBytes());
            if (oldGrid.Where((g, d) => newGrid[d] < g).Any())
            {
                if (!_arrays.TryGetValue(node.Path, out var pending))
                {
                    _arrays[node.Path] = pending = new PendingArray(node.Path, node.ShardShape!, fresh: false);
                }

                pending.Trim(newGrid);
            }
        }
    }

    private void ChangeChunk(string arrayPath, long[] chunkCoords, ChunkRef? chunkRef)
    {
        var node = GetArrayNode(arrayPath);
        CheckCoords(node.Path, node.ArrayMetadata, chunkCoords);
        if (chunkRef?.Codecs is { } codecs)
        {
            CheckCodecs(node.Path, node.ArrayMetadata, codecs);
        }

        lock (_lock)
        {
            if (!_arrays.TryGetValue(node.Path, out var pending))
            {
                _arrays[node.Path] = pending = new PendingArray(node.Path, node.ShardShape!, fresh: false);
            }

            pending.Set((long[])chunkCoords.Clone(), chunkRef);
        }
    }

    // A chunk's own codecs must decode to the array's data type and chunk shape; each distinct list is checked once
    // per array metadata (ingestion sets the same list on every chunk of a file).
    private void CheckCodecs(string path, ArrayMetadata metadata, ChunkCodecs codecs)
    {
        lock (_lock)
        {
            if (_checkedCodecs.TryGetValue((path, codecs.Json), out var checkedAgainst) && ReferenceEquals(checkedAgainst, metadata))
            {
                return;
            }
        }

        try
        {
            _ = CodecPipeline.Create(codecs.Apply(metadata));
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or CodecException)
        {
            throw new ArgumentException($"array '{path}': the chunk's own codecs {codecs.Json} do not decode to its {metadata.DataType} chunks: {ex.Message}", ex);
        }

        lock (_lock)
        {
            _checkedCodecs[(path, codecs.Json)] = metadata;
        }
    }

    /// <summary>One array's uncommitted chunk changes, grouped by shard so a commit touches only those shards.</summary>
    private sealed class PendingArray(string path, long[] shardShape, bool fresh)
    {
        private readonly Dictionary<long[], Dictionary<long, ChunkRef?>> _shards = new(CoordsComparer.Instance);
        private readonly Dictionary<long[], List<ShardEntry>> _deltas = new(CoordsComparer.Instance);

        public string Path { get; } = path;

        /// <summary>Created in this session: nothing of a committed array of the same path shows through.</summary>
        public bool Fresh { get; } = fresh;

        /// <summary>The smallest chunk grid the array was shrunk to in this session; committed chunks outside it are gone.</summary>
        public long[]? TrimGrid { get; private set; }

        public int Count { get; private set; }

        public void Set(long[] coords, ChunkRef? chunkRef)
        {
            var key = ShardLayout.ShardOf(coords, shardShape);
            if (!_shards.TryGetValue(key, out var changes))
            {
                _shards[key] = changes = [];
            }

            var position = ShardLayout.PositionIn(coords, shardShape);
            if (!changes.ContainsKey(position))
            {
                Count++;
            }

            changes[position] = chunkRef;
        }

        public bool TryGet(long[] coords, out ChunkRef? chunkRef)
        {
            chunkRef = null;
            return _shards.TryGetValue(ShardLayout.ShardOf(coords, shardShape), out var changes) &&
                   changes.TryGetValue(ShardLayout.PositionIn(coords, shardShape), out chunkRef);
        }

        public bool IsTrimmed(ReadOnlySpan<long> coords)
        {
            if (TrimGrid is null)
            {
                return false;
            }

            for (var d = 0; d < coords.Length; d++)
            {
                if (coords[d] >= TrimGrid[d])
                {
                    return true;
                }
            }

            return false;
        }

        public void Trim(long[] grid)
        {
            TrimGrid = TrimGrid is null ? (long[])grid.Clone() : TrimGrid.Zip(grid, Math.Min).ToArray();
            var coords = new long[shardShape.Length];
            foreach (var (key, changes) in _shards)
            {
                var origin = ShardLayout.OriginOf(key, shardShape);
                foreach (var position in changes.Keys.ToList())
                {
                    ShardLayout.CoordsAt(position, origin, shardShape, coords);
                    if (IsTrimmed(coords))
                    {
                        changes.Remove(position);
                        Count--;
                    }
                }
            }
        }

        public IEnumerable<long[]> ShardKeys() => _shards.Keys.Union(_deltas.Keys, CoordsComparer.Instance);

        public bool HasDeltas => _deltas.Count > 0;

        public bool HasDeletions => TrimGrid is not null || _shards.Values.Any(c => c.ContainsValue(null));

        /// <summary>Adds a changeset's delta manifest for one box; later ones are layered over earlier ones.</summary>
        public void AddDelta(ShardEntry entry)
        {
            if (!_deltas.TryGetValue(entry.ShardCoords, out var list))
            {
                _deltas[entry.ShardCoords] = list = [];
            }

            list.Add(entry);
        }

        public IReadOnlyList<ShardEntry> DeltasIn(long[] shardCoords) => _deltas.TryGetValue(shardCoords, out var list) ? list : [];

        public List<ChunkBox> DeltaBoxes() => _deltas.Values.SelectMany(l => l).Select(e => new ChunkBox(e.ExtentMin, e.ExtentMax)).ToList();

        /// <summary>Whether this session changed, or may have changed through a merged changeset, the chunk at <paramref name="coords"/>.</summary>
        public bool Touches(long[] coords) =>
            TryGet(coords, out _) ||
            (_deltas.TryGetValue(ShardLayout.ShardOf(coords, shardShape), out var list) && list.Any(e => new ChunkBox(e.ExtentMin, e.ExtentMax).Contains(coords)));

        public bool Overlaps(ChunkBox box)
        {
            if (_deltas.Values.Any(l => l.Any(e => box.Intersects(new ChunkBox(e.ExtentMin, e.ExtentMax)))))
            {
                return true;
            }

            var coords = new long[shardShape.Length];
            foreach (var (key, changes) in _shards)
            {
                var origin = ShardLayout.OriginOf(key, shardShape);
                foreach (var position in changes.Keys)
                {
                    ShardLayout.CoordsAt(position, origin, shardShape, coords);
                    if (box.Contains(coords))
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        public List<(long Position, ChunkRef? Ref)> ChangesIn(long[] shardCoords)
        {
            if (!_shards.TryGetValue(shardCoords, out var changes))
            {
                return [];
            }

            var list = changes.Select(p => (p.Key, p.Value)).ToList();
            list.Sort((a, b) => a.Key.CompareTo(b.Key));
            return list;
        }

        public (List<long[]> Written, List<long[]> Deleted) ChangedCoords()
        {
            var written = new List<long[]>();
            var deleted = new List<long[]>();
            foreach (var (key, changes) in _shards)
            {
                var origin = ShardLayout.OriginOf(key, shardShape);
                foreach (var (position, chunkRef) in changes)
                {
                    var coords = new long[shardShape.Length];
                    ShardLayout.CoordsAt(position, origin, shardShape, coords);
                    (chunkRef is null ? deleted : written).Add(coords);
                }
            }

            return (written, deleted);
        }
    }
}
