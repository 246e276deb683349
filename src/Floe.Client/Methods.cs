using Floe.Rpc;

namespace Floe.Api.V1;

/// <summary>
/// The methods of <c>floe.v1.RepositoryService</c> (protos/floe/v1/repository.proto), written by hand because
/// Grpc.Tools' service generator needs Grpc.Core.Api, which cannot be restored here; a test checks them against
/// the proto's descriptor so they cannot drift.
/// </summary>
public static class RepositoryServiceMethods
{
    public const string ServiceName = "floe.v1.RepositoryService";

    public static readonly Method<CreateRepositoryRequest, RepositoryInfo> CreateRepository = new(MethodType.Unary, ServiceName, nameof(CreateRepository));
    public static readonly Method<ListRepositoriesRequest, ListRepositoriesResponse> ListRepositories = new(MethodType.Unary, ServiceName, nameof(ListRepositories));
    public static readonly Method<DeleteRepositoryRequest, DeleteRepositoryResponse> DeleteRepository = new(MethodType.Unary, ServiceName, nameof(DeleteRepository));
    public static readonly Method<ListRefsRequest, ListRefsResponse> ListBranches = new(MethodType.Unary, ServiceName, nameof(ListBranches));
    public static readonly Method<CreateRefRequest, RefInfo> CreateBranch = new(MethodType.Unary, ServiceName, nameof(CreateBranch));
    public static readonly Method<DeleteBranchRequest, DeleteBranchResponse> DeleteBranch = new(MethodType.Unary, ServiceName, nameof(DeleteBranch));
    public static readonly Method<ResetBranchRequest, RefInfo> ResetBranch = new(MethodType.Unary, ServiceName, nameof(ResetBranch));
    public static readonly Method<ListRefsRequest, ListRefsResponse> ListTags = new(MethodType.Unary, ServiceName, nameof(ListTags));
    public static readonly Method<CreateRefRequest, RefInfo> CreateTag = new(MethodType.Unary, ServiceName, nameof(CreateTag));
    public static readonly Method<LogRequest, SnapshotInfo> Log = new(MethodType.ServerStreaming, ServiceName, nameof(Log));
    public static readonly Method<DiffRequest, DiffResponse> Diff = new(MethodType.Unary, ServiceName, nameof(Diff));
    public static readonly Method<ListNodesRequest, ListNodesResponse> ListNodes = new(MethodType.Unary, ServiceName, nameof(ListNodes));
    public static readonly Method<ArrayRequest, ArrayInfo> GetArrayMetadata = new(MethodType.Unary, ServiceName, nameof(GetArrayMetadata));
    public static readonly Method<ReadChunkRequest, ChunkData> ReadChunk = new(MethodType.Unary, ServiceName, nameof(ReadChunk));
    public static readonly Method<ReadChunksRequest, ChunkData> ReadChunks = new(MethodType.ServerStreaming, ServiceName, nameof(ReadChunks));
    public static readonly Method<ReadRegionRequest, RegionPiece> ReadRegion = new(MethodType.ServerStreaming, ServiceName, nameof(ReadRegion));

    public static IReadOnlyList<IMethod> All { get; } =
    [
        CreateRepository, ListRepositories, DeleteRepository, ListBranches, CreateBranch, DeleteBranch, ResetBranch,
        ListTags, CreateTag, Log, Diff, ListNodes, GetArrayMetadata, ReadChunk, ReadChunks, ReadRegion,
    ];
}

/// <summary>The methods of <c>floe.v1.WriteService</c> (protos/floe/v1/write.proto).</summary>
public static class WriteServiceMethods
{
    public const string ServiceName = "floe.v1.WriteService";

    public static readonly Method<OpenSessionRequest, SessionInfo> OpenSession = new(MethodType.Unary, ServiceName, nameof(OpenSession));
    public static readonly Method<WriteChangesRequest, WriteChangesResponse> WriteChanges = new(MethodType.ClientStreaming, ServiceName, nameof(WriteChanges));
    public static readonly Method<CommitRequest, CommitResponse> Commit = new(MethodType.Unary, ServiceName, nameof(Commit));
    public static readonly Method<AbandonSessionRequest, AbandonSessionResponse> AbandonSession = new(MethodType.Unary, ServiceName, nameof(AbandonSession));
    public static readonly Method<AppendRequest, CommitResponse> Append = new(MethodType.ClientStreaming, ServiceName, nameof(Append));

    public static IReadOnlyList<IMethod> All { get; } = [OpenSession, WriteChanges, Commit, AbandonSession, Append];
}

/// <summary>The methods of <c>floe.v1.IngestionService</c> (protos/floe/v1/ingestion.proto).</summary>
public static class IngestionServiceMethods
{
    public const string ServiceName = "floe.v1.IngestionService";

    public static readonly Method<StartIngestionRequest, IngestionStatus> StartIngestion = new(MethodType.Unary, ServiceName, nameof(StartIngestion));
    public static readonly Method<IngestionRequest, IngestionStatus> GetIngestion = new(MethodType.Unary, ServiceName, nameof(GetIngestion));
    public static readonly Method<IngestionRequest, IngestionStatus> WatchIngestion = new(MethodType.ServerStreaming, ServiceName, nameof(WatchIngestion));
    public static readonly Method<IngestionRequest, IngestionStatus> CancelIngestion = new(MethodType.Unary, ServiceName, nameof(CancelIngestion));

    public static IReadOnlyList<IMethod> All { get; } = [StartIngestion, GetIngestion, WatchIngestion, CancelIngestion];
}

/// <summary>The methods of <c>floe.v1.ExportService</c> (protos/floe/v1/export.proto).</summary>
public static class ExportServiceMethods
{
    public const string ServiceName = "floe.v1.ExportService";

    public static readonly Method<StartExportRequest, ExportStatus> StartExport = new(MethodType.Unary, ServiceName, nameof(StartExport));
    public static readonly Method<ExportRequest, ExportStatus> GetExport = new(MethodType.Unary, ServiceName, nameof(GetExport));
    public static readonly Method<ExportRequest, ExportStatus> WatchExport = new(MethodType.ServerStreaming, ServiceName, nameof(WatchExport));
    public static readonly Method<ExportRequest, ExportStatus> CancelExport = new(MethodType.Unary, ServiceName, nameof(CancelExport));

    public static IReadOnlyList<IMethod> All { get; } = [StartExport, GetExport, WatchExport, CancelExport];
}
