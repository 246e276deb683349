using Floe.Api.V1;
using Floe.Grains;
using Floe.Store;
using Floe.Store.Format;

namespace Floe.Server.Grains;

/// <summary>
/// One per repository (key: its name): the repository's refs and configuration; commits to its branches are
/// serialised through it within this process (across processes the branch's conditional write decides).
/// </summary>
public interface IRepositoryGrain : IGrainWithStringKey
{
    [AlwaysInterleave]
    Task<RepositoryInfo> GetInfoAsync(CancellationToken cancellationToken);

    /// <summary>The snapshot a branch, tag or snapshot id names (empty: main), read from the store now.</summary>
    [AlwaysInterleave]
    Task<ObjectId> ResolveAsync(string reference, CancellationToken cancellationToken);

    [AlwaysInterleave]
    Task<IReadOnlyList<RefInfo>> ListRefsAsync(bool tags, CancellationToken cancellationToken);

    Task<RefInfo> CreateRefAsync(bool tag, string name, string from, CancellationToken cancellationToken);

    Task DeleteBranchAsync(string name, CancellationToken cancellationToken);

    Task<RefInfo> ResetBranchAsync(string name, string to, string expectedSnapshotId, CancellationToken cancellationToken);

    /// <summary>Deactivates the grain after its repository was deleted, so a new one of the same name starts afresh.</summary>
    Task ForgetAsync(CancellationToken cancellationToken);

    /// <summary>Commits a write session; one commit of this repository at a time in this process.</summary>
    Task<CommitResponse> CommitAsync(Session session, string message, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken);
}

/// <summary>One per snapshot (key: "repository/snapshot id"): immutable, caches the decoded snapshot.</summary>
public interface ISnapshotGrain : IGrainWithStringKey
{
    Task<Snapshot> GetAsync(CancellationToken cancellationToken);
}

/// <summary>
/// One per manifest shard (key: "repository/manifest id"): immutable, caches the decoded shard, so that many
/// readers of its chunks cause one load; idle or over-budget ones are deactivated.
/// </summary>
public interface IManifestShardGrain : IGrainWithStringKey
{
    Task<ChunkRef?> FindAsync(long position, CancellationToken cancellationToken);
}

/// <summary>One per open write session (key: the session id).</summary>
public interface IWriteSessionGrain : IGrainWithStringKey
{
    Task<SessionInfo> OpenAsync(string repository, string branch, CancellationToken cancellationToken);

    /// <summary>The repository the session writes to; NOT_FOUND when no session of this id is open here.</summary>
    Task<string> GetRepositoryAsync(CancellationToken cancellationToken);

    /// <summary>Applies changes in order; <paramref name="firstIndex"/> numbers them for error messages.</summary>
    Task<WriteChangesResponse> ApplyAsync(IReadOnlyList<Change> changes, long firstIndex, CancellationToken cancellationToken);

    Task<CommitResponse> CommitAsync(string message, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken);

    Task AbandonAsync(CancellationToken cancellationToken);
}

/// <summary>One per ingestion job (key: the job id): runs the job and reports its progress.</summary>
public interface IIngestionGrain : IGrainWithStringKey
{
    Task<IngestionStatus> StartAsync(StartIngestionRequest request, CancellationToken cancellationToken);

    [AlwaysInterleave]
    Task<IngestionStatus> GetStatusAsync(CancellationToken cancellationToken);

    /// <summary>The status once its version is past <paramref name="afterVersion"/> (a long poll).</summary>
    [AlwaysInterleave]
    Task<IngestionStatus> WaitForChangeAsync(long afterVersion, CancellationToken cancellationToken);

    Task<IngestionStatus> CancelAsync(CancellationToken cancellationToken);

    /// <summary>Called by the job itself (from outside the grain's turns) to record its progress as a turn.</summary>
    Task ReportAsync(IngestionStatus status, CancellationToken cancellationToken);
}

/// <summary>One per export job (key: the job id): runs the job and reports its progress.</summary>
public interface IExportGrain : IGrainWithStringKey
{
    Task<ExportStatus> StartAsync(StartExportRequest request, CancellationToken cancellationToken);

    [AlwaysInterleave]
    Task<ExportStatus> GetStatusAsync(CancellationToken cancellationToken);

    /// <summary>The status once its version is past <paramref name="afterVersion"/> (a long poll).</summary>
    [AlwaysInterleave]
    Task<ExportStatus> WaitForChangeAsync(long afterVersion, CancellationToken cancellationToken);

    Task<ExportStatus> CancelAsync(CancellationToken cancellationToken);

    /// <summary>Called by the job itself (from outside the grain's turns) to record its progress as a turn.</summary>
    Task ReportAsync(ExportStatus status, CancellationToken cancellationToken);
}
