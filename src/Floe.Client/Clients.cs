using Floe.Rpc;

namespace Floe.Api.V1;

/// <summary>A typed client of floe.v1.RepositoryService (docs/api.md).</summary>
public sealed class RepositoryServiceClient(RpcChannel channel)
{
    public Task<RepositoryInfo> CreateRepositoryAsync(CreateRepositoryRequest request, CallOptions options = default) =>
        channel.UnaryAsync(RepositoryServiceMethods.CreateRepository, request, options);

    public Task<ListRepositoriesResponse> ListRepositoriesAsync(ListRepositoriesRequest request, CallOptions options = default) =>
        channel.UnaryAsync(RepositoryServiceMethods.ListRepositories, request, options);

    public Task<DeleteRepositoryResponse> DeleteRepositoryAsync(DeleteRepositoryRequest request, CallOptions options = default) =>
        channel.UnaryAsync(RepositoryServiceMethods.DeleteRepository, request, options);

    public Task<ListRefsResponse> ListBranchesAsync(ListRefsRequest request, CallOptions options = default) =>
        channel.UnaryAsync(RepositoryServiceMethods.ListBranches, request, options);

    public Task<RefInfo> CreateBranchAsync(CreateRefRequest request, CallOptions options = default) =>
        channel.UnaryAsync(RepositoryServiceMethods.CreateBranch, request, options);

    public Task<DeleteBranchResponse> DeleteBranchAsync(DeleteBranchRequest request, CallOptions options = default) =>
        channel.UnaryAsync(RepositoryServiceMethods.DeleteBranch, request, options);

    public Task<RefInfo> ResetBranchAsync(ResetBranchRequest request, CallOptions options = default) =>
        channel.UnaryAsync(RepositoryServiceMethods.ResetBranch, request, options);

    public Task<ListRefsResponse> ListTagsAsync(ListRefsRequest request, CallOptions options = default) =>
        channel.UnaryAsync(RepositoryServiceMethods.ListTags, request, options);

    public Task<RefInfo> CreateTagAsync(CreateRefRequest request, CallOptions options = default) =>
        channel.UnaryAsync(RepositoryServiceMethods.CreateTag, request, options);

    public AsyncServerStreamingCall<SnapshotInfo> Log(LogRequest request, CallOptions options = default) =>
        channel.ServerStreaming(RepositoryServiceMethods.Log, request, options);

    public Task<DiffResponse> DiffAsync(DiffRequest request, CallOptions options = default) =>
        channel.UnaryAsync(RepositoryServiceMethods.Diff, request, options);

    public Task<ListNodesResponse> ListNodesAsync(ListNodesRequest request, CallOptions options = default) =>
        channel.UnaryAsync(RepositoryServiceMethods.ListNodes, request, options);

    public Task<ArrayInfo> GetArrayMetadataAsync(ArrayRequest request, CallOptions options = default) =>
        channel.UnaryAsync(RepositoryServiceMethods.GetArrayMetadata, request, options);

    public Task<ChunkData> ReadChunkAsync(ReadChunkRequest request, CallOptions options = default) =>
        channel.UnaryAsync(RepositoryServiceMethods.ReadChunk, request, options);

    public AsyncServerStreamingCall<ChunkData> ReadChunks(ReadChunksRequest request, CallOptions options = default) =>
        channel.ServerStreaming(RepositoryServiceMethods.ReadChunks, request, options);

    public AsyncServerStreamingCall<RegionPiece> ReadRegion(ReadRegionRequest request, CallOptions options = default) =>
        channel.ServerStreaming(RepositoryServiceMethods.ReadRegion, request, options);
}

/// <summary>A typed client of floe.v1.WriteService (docs/api.md).</summary>
public sealed class WriteServiceClient(RpcChannel channel)
{
    public Task<SessionInfo> OpenSessionAsync(OpenSessionRequest request, CallOptions options = default) =>
        channel.UnaryAsync(WriteServiceMethods.OpenSession, request, options);

    public AsyncClientStreamingCall<WriteChangesRequest, WriteChangesResponse> WriteChanges(CallOptions options = default) =>
        channel.ClientStreaming(WriteServiceMethods.WriteChanges, options);

    public Task<CommitResponse> CommitAsync(CommitRequest request, CallOptions options = default) =>
        channel.UnaryAsync(WriteServiceMethods.Commit, request, options);

    public Task<AbandonSessionResponse> AbandonSessionAsync(AbandonSessionRequest request, CallOptions options = default) =>
        channel.UnaryAsync(WriteServiceMethods.AbandonSession, request, options);

    public AsyncClientStreamingCall<AppendRequest, CommitResponse> Append(CallOptions options = default) =>
        channel.ClientStreaming(WriteServiceMethods.Append, options);
}

/// <summary>A typed client of floe.v1.IngestionService (docs/api.md).</summary>
public sealed class IngestionServiceClient(RpcChannel channel)
{
    public Task<IngestionStatus> StartIngestionAsync(StartIngestionRequest request, CallOptions options = default) =>
        channel.UnaryAsync(IngestionServiceMethods.StartIngestion, request, options);

    public Task<IngestionStatus> GetIngestionAsync(IngestionRequest request, CallOptions options = default) =>
        channel.UnaryAsync(IngestionServiceMethods.GetIngestion, request, options);

    public AsyncServerStreamingCall<IngestionStatus> WatchIngestion(IngestionRequest request, CallOptions options = default) =>
        channel.ServerStreaming(IngestionServiceMethods.WatchIngestion, request, options);

    public Task<IngestionStatus> CancelIngestionAsync(IngestionRequest request, CallOptions options = default) =>
        channel.UnaryAsync(IngestionServiceMethods.CancelIngestion, request, options);
}

/// <summary>A typed client of floe.v1.ExportService (docs/api.md).</summary>
public sealed class ExportServiceClient(RpcChannel channel)
{
    public Task<ExportStatus> StartExportAsync(StartExportRequest request, CallOptions options = default) =>
        channel.UnaryAsync(ExportServiceMethods.StartExport, request, options);

    public Task<ExportStatus> GetExportAsync(ExportRequest request, CallOptions options = default) =>
        channel.UnaryAsync(ExportServiceMethods.GetExport, request, options);

    public AsyncServerStreamingCall<ExportStatus> WatchExport(ExportRequest request, CallOptions options = default) =>
        channel.ServerStreaming(ExportServiceMethods.WatchExport, request, options);

    public Task<ExportStatus> CancelExportAsync(ExportRequest request, CallOptions options = default) =>
        channel.UnaryAsync(ExportServiceMethods.CancelExport, request, options);
}

/// <summary>A connection to a Floe server with its four service clients; the token goes with every call.</summary>
public sealed class FloeClient : IDisposable
{
    private readonly RpcChannel _channel;

    /// <param name="address">The server's gRPC address, e.g. http://127.0.0.1:7700.</param>
    /// <param name="token">A bearer token, or null to call anonymously.</param>
    public FloeClient(Uri address, string? token = null, RpcChannelOptions? options = null)
    {
        options ??= new RpcChannelOptions { MaxReceiveMessageSize = 64 << 20 };
        if (!string.IsNullOrEmpty(token))
        {
            options.DefaultHeaders.Add("authorization", "Bearer " + token);
        }

        _channel = new RpcChannel(address, options);
        Repositories = new RepositoryServiceClient(_channel);
        Writes = new WriteServiceClient(_channel);
        Ingestion = new IngestionServiceClient(_channel);
        Exports = new ExportServiceClient(_channel);
    }

    public RepositoryServiceClient Repositories { get; }

    public WriteServiceClient Writes { get; }

    public IngestionServiceClient Ingestion { get; }

    public ExportServiceClient Exports { get; }

    public void Dispose() => _channel.Dispose();
}
