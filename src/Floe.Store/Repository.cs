using System.Runtime.CompilerServices;
using Floe.Storage;
using Floe.Store.Format;

namespace Floe.Store;

/// <summary>
/// A versioned repository in an object store: branches, tags, immutable snapshots and their manifests
/// (docs/spec.md). Thread-safe; open it once and share it.
/// </summary>
public sealed class Repository
{
    private readonly ObjectCache<ObjectId, Snapshot> _snapshots;
    private readonly ObjectCache<ObjectId, ManifestShard> _shards;

    private Repository(IObjectStore store, RepositoryConfig config, RepositoryOptions options)
    {
        Store = store;
        Config = config;
        Options = options;
        Sources = options.Sources ?? ByteRangeSources.CreateDefault();
        _snapshots = new(options.SnapshotCacheBytes, s => 256 + s.Nodes.Sum(n => n.EstimatedMemory()));
        _shards = new(options.ShardCacheBytes, s => s.EstimatedMemory());
    }

    public const string MainBranch = "main";

    public IObjectStore Store { get; }

    public RepositoryConfig Config { get; }

    public RepositoryOptions Options { get; }

    public IByteRangeSource Sources { get; }

    /// <summary>How many manifest shards were read from the store (not served from the cache).</summary>
    public long ShardLoads => _shards.Loads;

    /// <summary>Creates a repository with an empty root group on branch main. Fails if one exists there.</summary>
    public static async Task<Repository> CreateAsync(IObjectStore store, RepositoryOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RepositoryOptions();
        if (options.RefsPerShard < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.RefsPerShard, "RefsPerShard must be at least 1");
        }

        var config = new RepositoryConfig(DateTimeOffset.UtcNow, options.RefsPerShard, options.InlineThreshold);
        // The root snapshot and branch are written before the config, so a repository that has a config is whole.
        var repository = new Repository(store, config, options);
        var root = new Snapshot(ObjectId.NewId(), null, config.CreatedAt, "Repository created",
            new SortedDictionary<string, string>(), [new Node(NodePath.Root, NodeKind.Group, new Core.GroupMetadata(new()).ToJsonBytes())]);
        if (await store.GetAsync(RepositoryConfig.Key, cancellationToken) is not null)
        {
            throw new RepositoryException($"a repository already exists in {store.Description}");
        }

        await repository.WriteNewAsync(Snapshot.KeyOf(root.Id), root.Encode(), cancellationToken);
        if (await store.PutIfAbsentAsync(RefObject.BranchPrefix + MainBranch, RefObject.Encode(root.Id), cancellationToken) is null)
        {
            throw new RepositoryException($"a repository is being created in {store.Description} by someone else (branch main exists)");
        }

        if (await store.PutIfAbsentAsync(RepositoryConfig.Key, config.Encode(), cancellationToken) is null)
        {
            throw new RepositoryException($"a repository already exists in {store.Description}");
        }

        return repository;
    }

    public static async Task<Repository> OpenAsync(IObjectStore store, RepositoryOptions? options = null, CancellationToken cancellationToken = default)
    {
        var stored = await store.GetAsync(RepositoryConfig.Key, cancellationToken)
            ?? throw new RepositoryException($"no Floe repository in {store.Description} (no '{RepositoryConfig.Key}' object)");
        return new Repository(store, RepositoryConfig.Decode(stored.Data.Span), options ?? new RepositoryOptions());
    }

    public static async Task<Repository> OpenOrCreateAsync(IObjectStore store, RepositoryOptions? options = null, CancellationToken cancellationToken = default) =>
        await store.GetAsync(RepositoryConfig.Key, cancellationToken) is null
            ? await CreateAsync(store, options, cancellationToken)
            : await OpenAsync(store, options, cancellationToken);

    // ---- refs ----

    public Task<IReadOnlyList<string>> ListBranchesAsync(CancellationToken cancellationToken = default) => ListRefsAsync(RefObject.BranchPrefix, cancellationToken);

    public Task<IReadOnlyList<string>> ListTagsAsync(CancellationToken cancellationToken = default) => ListRefsAsync(RefObject.TagPrefix, cancellationToken);

    /// <summary>The snapshot a branch points at and the ref object's etag (for a later compare-and-swap).</summary>
    public async Task<(ObjectId Snapshot, string Etag)> ReadBranchAsync(string name, CancellationToken cancellationToken = default)
    {
        RefObject.ValidateName(name, "branch");
        var key = RefObject.BranchPrefix + name;
        var stored = await Store.GetAsync(key, cancellationToken) ?? throw new BranchNotFoundException(name);
        return (RefObject.Decode(key, stored.Data.Span), stored.Etag);
    }

    public async Task<ObjectId> ResolveTagAsync(string name, CancellationToken cancellationToken = default)
    {
        RefObject.ValidateName(name, "tag");
        var key = RefObject.TagPrefix + name;
        var stored = await Store.GetAsync(key, cancellationToken) ?? throw new TagNotFoundException(name);
        return RefObject.Decode(key, stored.Data.Span);
    }

    /// <summary>
    /// Resolves "branch:NAME", "tag:NAME", "snapshot:ID", or a bare name tried as a branch, then a tag, then a snapshot id.
    /// </summary>
    public async Task<ObjectId> ResolveAsync(string reference, CancellationToken cancellationToken = default)
    {
        if (reference.StartsWith("branch:", StringComparison.Ordinal))
        {
            return (await ReadBranchAsync(reference[7..], cancellationToken)).Snapshot;
        }

        if (reference.StartsWith("tag:", StringComparison.Ordinal))
        {
            return await ResolveTagAsync(reference[4..], cancellationToken);
        }

        if (reference.StartsWith("snapshot:", StringComparison.Ordinal))
        {
            var id = ObjectId.TryParse(reference[9..], out var parsed) ? parsed : throw new SnapshotNotFoundException(reference[9..]);
            _ = await GetSnapshotAsync(id, cancellationToken);
            return id;
        }

        foreach (var prefix in new[] { RefObject.BranchPrefix, RefObject.TagPrefix })
        {
            if (IsValidRefName(reference) && await Store.GetAsync(prefix + reference, cancellationToken) is { } stored)
            {
                return RefObject.Decode(prefix + reference, stored.Data.Span);
            }
        }

        if (ObjectId.TryParse(reference, out var snapshotId) && await Store.GetAsync(Snapshot.KeyOf(snapshotId), cancellationToken) is not null)
        {
            return snapshotId;
        }

        throw new ReferenceNotFoundException(reference);
    }

    public async Task CreateBranchAsync(string name, ObjectId snapshot, CancellationToken cancellationToken = default)
    {
        RefObject.ValidateName(name, "branch");
        _ = await GetSnapshotAsync(snapshot, cancellationToken);
        if (await Store.PutIfAbsentAsync(RefObject.BranchPrefix + name, RefObject.Encode(snapshot), cancellationToken) is null)
        {
            throw new RefExistsException("branch", name);
        }
    }

    /// <summary>Points an existing branch at another snapshot, failing if the branch moved since <paramref name="expected"/>.</summary>
    public async Task ResetBranchAsync(string name, ObjectId snapshot, ObjectId? expected = null, CancellationToken cancellationToken = default)
    {
        _ = await GetSnapshotAsync(snapshot, cancellationToken);
        var (current, etag) = await ReadBranchAsync(name, cancellationToken);
        if (expected is { } e && e != current)
        {
            throw new FloeStoreException($"branch '{name}' is at {current}, not {e}; not reset");
        }

        if (await Store.PutIfMatchAsync(RefObject.BranchPrefix + name, RefObject.Encode(snapshot), etag, cancellationToken) is null)
        {
            throw new FloeStoreException($"branch '{name}' moved while being reset; not reset");
        }
    }

    public async Task DeleteBranchAsync(string name, CancellationToken cancellationToken = default)
    {
        RefObject.ValidateName(name, "branch");
        if (name == MainBranch)
        {
            throw new ArgumentException("the main branch cannot be deleted", nameof(name));
        }

        if (!await Store.DeleteAsync(RefObject.BranchPrefix + name, cancellationToken))
        {
            throw new BranchNotFoundException(name);
        }
    }

    /// <summary>Creates an immutable tag; an existing tag of that name is never moved.</summary>
    public async Task CreateTagAsync(string name, ObjectId snapshot, CancellationToken cancellationToken = default)
    {
        RefObject.ValidateName(name, "tag");
        _ = await GetSnapshotAsync(snapshot, cancellationToken);
        if (await Store.PutIfAbsentAsync(RefObject.TagPrefix + name, RefObject.Encode(snapshot), cancellationToken) is null)
        {
            throw new RefExistsException("tag", name);
        }
    }

    // ---- snapshots, manifests, logs ----

    public Task<Snapshot> GetSnapshotAsync(ObjectId id, CancellationToken cancellationToken = default) =>
        _snapshots.GetOrLoadAsync(id, key => ReadSnapshotAsync(key, CancellationToken.None), cancellationToken);

    /// <summary>Reads and decodes a snapshot without caching it (for callers that keep their own cache).</summary>
    public async Task<Snapshot> ReadSnapshotAsync(ObjectId id, CancellationToken cancellationToken = default)
    {
        var objectKey = Snapshot.KeyOf(id);
        var stored = await Store.GetAsync(objectKey, cancellationToken) ?? throw new SnapshotNotFoundException(id.ToString());
        var snapshot = Snapshot.Decode(objectKey, stored.Data.Span);
        return snapshot.Id == id ? snapshot : throw new CorruptObjectException(objectKey, $"holds snapshot {snapshot.Id}");
    }

    /// <summary>A manifest shard through the repository's cache (concurrent requests for one shard read it once).</summary>
    public Task<ManifestShard> GetShardAsync(ObjectId id, string arrayPath, CancellationToken cancellationToken = default) =>
        _shards.GetOrLoadAsync(id, key => ReadShardAsync(key, arrayPath, CancellationToken.None), cancellationToken);

    /// <summary>Reads and decodes a manifest shard without caching it (for callers that keep their own cache).</summary>
    public async Task<ManifestShard> ReadShardAsync(ObjectId id, string arrayPath, CancellationToken cancellationToken = default)
    {
        var objectKey = ManifestShard.KeyOf(id);
        var stored = await Store.GetAsync(objectKey, cancellationToken) ?? throw new MissingObjectException(objectKey, $"array '{arrayPath}'");
        return ManifestShard.Decode(objectKey, stored.Data.Span);
    }

    /// <summary>Evicts a manifest shard from the cache: a commit replaced it, so the branch's readers will not ask for it again.</summary>
    internal void ForgetShard(ObjectId id) => _shards.Remove(id);

    public async Task<TransactionLog> GetTransactionLogAsync(ObjectId snapshotId, CancellationToken cancellationToken = default)
    {
        var key = TransactionLog.KeyOf(snapshotId);
        var stored = await Store.GetAsync(key, cancellationToken) ?? throw new MissingObjectException(key, $"snapshot {snapshotId}");
        return TransactionLog.Decode(key, stored.Data.Span);
    }

    /// <summary>The history of a branch, tag or snapshot, newest first, following parent links.</summary>
    public async IAsyncEnumerable<Snapshot> LogAsync(string reference, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectId? id = await ResolveAsync(reference, cancellationToken);
        while (id is { } current)
        {
            var snapshot = await GetSnapshotAsync(current, cancellationToken);
            yield return snapshot;
            id = snapshot.ParentId;
        }
    }

    public Task<SnapshotDiff> DiffAsync(ObjectId from, ObjectId to, CancellationToken cancellationToken = default) =>
        SnapshotDiff.ComputeAsync(this, from, to, cancellationToken);

    // ---- changesets ----

    /// <summary>A changeset written by <see cref="Session.SaveChangesetAsync"/>, or null when there is none of that name.</summary>
    public async Task<Changeset?> ReadChangesetAsync(string name, CancellationToken cancellationToken = default)
    {
        Changeset.ValidateName(name);
        var stored = await Store.GetAsync(Changeset.KeyOf(name), cancellationToken);
        return stored is null ? null : Changeset.Decode(name, stored.Data.Span);
    }

    /// <summary>The names of the changesets under a name prefix (e.g. "job/"), sorted ordinally.</summary>
    public async Task<IReadOnlyList<string>> ListChangesetsAsync(string prefix = "", CancellationToken cancellationToken = default)
    {
        var names = await ListRefsAsync(Changeset.Prefix + prefix, cancellationToken);
        return names.Select(n => prefix + n).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Deletes a changeset object (its delta manifests stay, as garbage, until a collector removes them).</summary>
    public async Task DeleteChangesetAsync(string name, CancellationToken cancellationToken = default)
    {
        Changeset.ValidateName(name);
        await Store.DeleteAsync(Changeset.KeyOf(name), cancellationToken);
    }

    // ---- sessions ----

    /// <summary>A read-only view of a branch, tag or snapshot.</summary>
    public async Task<SnapshotReader> ReadOnlyAsync(string reference, CancellationToken cancellationToken = default) =>
        new(this, await GetSnapshotAsync(await ResolveAsync(reference, cancellationToken), cancellationToken));

    /// <summary>A writable session on a branch; commit it to make its changes visible.</summary>
    public async Task<Session> WritableSessionAsync(string branch = MainBranch, CancellationToken cancellationToken = default)
    {
        var (snapshotId, etag) = await ReadBranchAsync(branch, cancellationToken);
        return new Session(this, branch, await GetSnapshotAsync(snapshotId, cancellationToken), etag);
    }

    // ---- chunk bytes ----

    /// <summary>The stored (encoded) bytes a chunk reference points at, checked against what was recorded.</summary>
    public async Task<ReadOnlyMemory<byte>> FetchChunkAsync(string arrayPath, ChunkRef chunkRef, CancellationToken cancellationToken = default)
    {
        switch (chunkRef)
        {
            case InlineChunkRef inline:
                return inline.Data;
            case NativeChunkRef native:
                var key = ChunkKey(native.Id);
                var stored = await Store.GetAsync(key, cancellationToken) ?? throw new MissingObjectException(key, $"array '{arrayPath}'");
                return stored.Data.Length == native.Length
                    ? stored.Data
                    : throw new CorruptObjectException(key, $"chunk is {stored.Data.Length} bytes, the manifest says {native.Length}");
            case VirtualChunkRef v:
                return await FetchVirtualAsync(v, cancellationToken);
            default:
                throw new ArgumentException($"unknown chunk reference {chunkRef.GetType().Name}", nameof(chunkRef));
        }
    }

    public static string ChunkKey(ObjectId id) => $"chunks/{id}";

    private async Task<ReadOnlyMemory<byte>> FetchVirtualAsync(VirtualChunkRef v, CancellationToken cancellationToken)
    {
        if (v.Length > int.MaxValue)
        {
            throw new VirtualChunkException(v.Location, $"chunk of {v.Length} bytes is larger than a single read allows");
        }

        SourceRead read;
        try
        {
            read = await Sources.ReadAsync(v.Location, v.Offset, (int)v.Length, cancellationToken);
        }
        catch (SourceNotFoundException e)
        {
            throw new VirtualChunkException(v.Location, "the source file is missing", e);
        }
        catch (SourceReadException e)
        {
            throw new VirtualChunkException(v.Location, $"cannot read {v.Length} bytes at offset {v.Offset}: {e.Message}", e);
        }

        if (v.Etag is not null && read.Info.Etag != v.Etag)
        {
            throw new VirtualChunkException(v.Location, $"the source changed since it was recorded (etag {v.Etag}, now {read.Info.Etag ?? "none"})");
        }

        if (v.LastModified is { } recorded && (read.Info.LastModified is not { } now || now.ToUnixTimeMilliseconds() != recorded.ToUnixTimeMilliseconds()))
        {
            throw new VirtualChunkException(v.Location, $"the source changed since it was recorded (last modified {recorded:O}, now {read.Info.LastModified?.ToString("O") ?? "unknown"})");
        }

        return read.Data;
    }

    internal async Task WriteNewAsync(string key, byte[] data, CancellationToken cancellationToken)
    {
        if (await Store.PutIfAbsentAsync(key, data, cancellationToken) is null)
        {
            throw new FloeStoreException($"object '{key}' already exists; ids must be unique");
        }
    }

    private async Task<IReadOnlyList<string>> ListRefsAsync(string prefix, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        string? token = null;
        do
        {
            var page = await Store.ListAsync(prefix, token, 1000, cancellationToken);
            names.AddRange(page.Keys.Select(k => k[prefix.Length..]));
            token = page.ContinuationToken;
        }
        while (token is not null);
        return names;
    }

    private static bool IsValidRefName(string name)
    {
        try
        {
            RefObject.ValidateName(name, "ref");
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
