using Floe.Grains;
using Floe.Store;
using Floe.Store.Format;

namespace Floe.Server.Grains;

/// <summary>Immutable: loads its snapshot once, and every call after that is answered from memory.</summary>
[Reentrant]
public sealed class SnapshotGrain(RepositoryCatalog catalog) : Grain, ISnapshotGrain, IGrainMemory
{
    private Snapshot? _snapshot;

    public long EstimatedBytes => _snapshot is null ? 0 : 256 + _snapshot.Nodes.Sum(n => n.EstimatedMemory());

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var (repository, id) = GrainKeys.Split(GetPrimaryKeyString());
        var repo = await catalog.OpenAsync(repository, cancellationToken);
        _snapshot = await repo.ReadSnapshotAsync(ObjectId.Parse(id), cancellationToken);
    }

    public Task<Snapshot> GetAsync(CancellationToken cancellationToken) =>
        Task.FromResult(_snapshot ?? throw new InvalidOperationException("the grain is not active"));
}

/// <summary>Immutable: loads its manifest shard once (however many readers ask at once) and answers lookups from memory.</summary>
[Reentrant]
public sealed class ManifestShardGrain(RepositoryCatalog catalog) : Grain, IManifestShardGrain, IGrainMemory
{
    private ManifestShard? _shard;

    public long EstimatedBytes => _shard?.EstimatedMemory() ?? 0;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var (repository, id) = GrainKeys.Split(GetPrimaryKeyString());
        var repo = await catalog.OpenAsync(repository, cancellationToken);
        _shard = await repo.ReadShardAsync(ObjectId.Parse(id), $"repository '{repository}'", cancellationToken);
    }

    public Task<ChunkRef?> FindAsync(long position, CancellationToken cancellationToken) =>
        Task.FromResult((_shard ?? throw new InvalidOperationException("the grain is not active")).Find(position));
}

/// <summary>Keys of grains that belong to a repository: "repository/id".</summary>
public static class GrainKeys
{
    public static string Of(string repository, ObjectId id) => $"{repository}/{id}";

    public static (string Repository, string Id) Split(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? throw new ArgumentException($"grain key \"{key}\" is not repository/id") : (key[..slash], key[(slash + 1)..]);
    }
}

/// <summary>Reads committed references through the manifest shard grains, so the process caches each shard once.</summary>
public sealed class GrainShardLookup(IGrainFactory grains, string repository) : IChunkRefLookup
{
    public Task<ChunkRef?> FindAsync(string arrayPath, ShardEntry entry, long position, CancellationToken cancellationToken) =>
        grains.GetGrain<IManifestShardGrain>(GrainKeys.Of(repository, entry.ManifestId)).FindAsync(position, cancellationToken);
}
