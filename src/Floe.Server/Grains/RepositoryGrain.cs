using Floe.Api.V1;
using Floe.Grains;
using Floe.Server.Stac;
using Floe.Store;
using Floe.Store.Format;

namespace Floe.Server.Grains;

/// <summary>One repository: refs, commits and info. Every change of a branch asks the STAC index to refresh its datacube items.</summary>
public sealed class RepositoryGrain(RepositoryCatalog catalog, StacCatalog stac) : Grain, IRepositoryGrain
{
    private Repository? _repository;

    private Repository Repository => _repository ?? throw new InvalidOperationException("the grain is not active");

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _repository = await catalog.OpenAsync(GetPrimaryKeyString(), cancellationToken);
    }

    public Task<RepositoryInfo> GetInfoAsync(CancellationToken cancellationToken) => Task.FromResult(new RepositoryInfo
    {
        Name = GetPrimaryKeyString(),
        CreatedAtMs = Repository.Config.CreatedAt.ToUnixTimeMilliseconds(),
        RefsPerShard = Repository.Config.RefsPerShard,
    });

    public async Task<ObjectId> ResolveAsync(string reference, CancellationToken cancellationToken) =>
        await Repository.ResolveAsync(string.IsNullOrEmpty(reference) ? Repository.MainBranch : reference, cancellationToken);

    public async Task<IReadOnlyList<RefInfo>> ListRefsAsync(bool tags, CancellationToken cancellationToken)
    {
        var names = tags ? await Repository.ListTagsAsync(cancellationToken) : await Repository.ListBranchesAsync(cancellationToken);
        var refs = new List<RefInfo>(names.Count);
        foreach (var name in names)
        {
            var id = tags ? await Repository.ResolveTagAsync(name, cancellationToken) : (await Repository.ReadBranchAsync(name, cancellationToken)).Snapshot;
            refs.Add(new RefInfo { Name = name, SnapshotId = id.ToString() });
        }

        return refs;
    }

    public async Task<RefInfo> CreateRefAsync(bool tag, string name, string from, CancellationToken cancellationToken)
    {
        RequireName(name);
        var snapshot = await ResolveAsync(from, cancellationToken);
        if (tag)
        {
            await Repository.CreateTagAsync(name, snapshot, cancellationToken);
        }
        else
        {
            await Repository.CreateBranchAsync(name, snapshot, cancellationToken);
            stac.RequestRefresh();
        }

        return new RefInfo { Name = name, SnapshotId = snapshot.ToString() };
    }

    public async Task DeleteBranchAsync(string name, CancellationToken cancellationToken)
    {
        RequireName(name);
        if (name == Repository.MainBranch)
        {
            throw Errors.InvalidArgument("name", "branch main cannot be deleted");
        }

        await Repository.DeleteBranchAsync(name, cancellationToken);
        stac.RequestRefresh();
    }

    public async Task<RefInfo> ResetBranchAsync(string name, string to, string expectedSnapshotId, CancellationToken cancellationToken)
    {
        RequireName(name);
        if (string.IsNullOrEmpty(to))
        {
            throw Errors.InvalidArgument("to", "a branch, tag or snapshot id is required");
        }

        ObjectId? expected = null;
        if (!string.IsNullOrEmpty(expectedSnapshotId))
        {
            expected = ObjectId.TryParse(expectedSnapshotId, out var parsed)
                ? parsed
                : throw Errors.InvalidArgument("expected_snapshot_id", $"\"{expectedSnapshotId}\" is not a snapshot id");
        }

        var snapshot = await ResolveAsync(to, cancellationToken);
        try
        {
            await Repository.ResetBranchAsync(name, snapshot, expected, cancellationToken);
            stac.RequestRefresh();
        }
        catch (FloeStoreException e) when (expected is not null && e is not BranchNotFoundException)
        {
            throw Errors.FailedPrecondition(e.Message);
        }

        return new RefInfo { Name = name, SnapshotId = snapshot.ToString() };
    }

    public Task ForgetAsync(CancellationToken cancellationToken)
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public async Task<CommitResponse> CommitAsync(Session session, string message, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!session.HasChanges)
        {
            throw new NothingToCommitException($"session on branch '{session.Branch}' has no changes to commit");
        }

        if (string.IsNullOrWhiteSpace(message))
        {
            throw Errors.InvalidArgument("message", "a commit message is required");
        }

        var parent = session.BaseSnapshot.Id;
        var id = await session.CommitAsync(message, metadata, cancellationToken);
        stac.RequestRefresh();
        var committed = await Repository.GetSnapshotAsync(id, cancellationToken);
        return new CommitResponse { SnapshotId = id.ToString(), ParentId = committed.ParentId?.ToString() ?? parent.ToString(), Branch = session.Branch };
    }

    private static void RequireName(string name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw Errors.InvalidArgument("name", "a branch or tag name is required");
        }
    }
}
