using Floe.Grains;
using Floe.Server.Grains;
using Floe.Store;

namespace Floe.Server;

/// <summary>
/// Resolving a reference to a snapshot and reading it through the grains: shared by the gRPC services and the Zarr
/// HTTP view, so that both use the one cache of snapshots and manifest shards the grains keep.
/// </summary>
public sealed class SnapshotReads(RepositoryCatalog catalog, IGrainFactory grains)
{
    /// <summary>The repository and the snapshot a reference names now; reads of a branch stay on that snapshot.</summary>
    public async Task<(Repository Repository, Snapshot Snapshot)> ResolveAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        var repo = await catalog.OpenAsync(repository, cancellationToken);
        var id = await grains.GetGrain<IRepositoryGrain>(repository).ResolveAsync(reference, cancellationToken);
        var snapshot = await grains.GetGrain<ISnapshotGrain>(GrainKeys.Of(repository, id)).GetAsync(cancellationToken);
        return (repo, snapshot);
    }

    /// <summary>A reader of a snapshot whose manifest lookups go through the shard grains.</summary>
    public SnapshotReader ReaderOf(string repository, Repository repo, Snapshot snapshot) =>
        new(repo, snapshot, new GrainShardLookup(grains, repository));
}
