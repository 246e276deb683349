using Floe.Core;
using Floe.Ingest;
using Floe.Rpc;
using Floe.Storage;
using Floe.Store;

namespace Floe.Server;

/// <summary>Turns the store's exceptions into gRPC statuses (docs/api.md: Status codes).</summary>
public static class Errors
{
    public const string ConflictsTrailer = "floe-conflicts";

    public static RpcException ToRpc(Exception error) => error switch
    {
        RpcException rpc => rpc,
        OperationCanceledException => new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled")),
        ConflictException conflict => Conflict(conflict),
        BranchContentionException => Rpc(StatusCode.Aborted, error),
        RepositoryNotFoundException or BranchNotFoundException or TagNotFoundException or SnapshotNotFoundException or NodeNotFoundException
            or ReferenceNotFoundException
            => Rpc(StatusCode.NotFound, error),
        RefExistsException or NodeExistsException or RepositoryExistsException => Rpc(StatusCode.AlreadyExists, error),
        ChunkOutOfRangeException or ArgumentOutOfRangeException => Rpc(StatusCode.OutOfRange, error),
        CorruptObjectException or MissingObjectException or CodecException => Rpc(StatusCode.DataLoss, error),
        VirtualChunkException v when v.Message.Contains("changed since", StringComparison.Ordinal) => Rpc(StatusCode.DataLoss, error),
        VirtualChunkException => Rpc(StatusCode.Unavailable, error),
        ChunkDataException or ArgumentException or FormatException or IngestException => Rpc(StatusCode.InvalidArgument, error),
        NothingToCommitException => Rpc(StatusCode.FailedPrecondition, error),
        ObjectStoreException => Rpc(StatusCode.Unavailable, error),
        _ => new RpcException(new Status(StatusCode.Internal, "internal server error (logged)")),
    };

    public static RpcException InvalidArgument(string field, string problem) =>
        new(new Status(StatusCode.InvalidArgument, $"{field}: {problem}"));

    public static RpcException NotFound(string what) => new(new Status(StatusCode.NotFound, what));

    public static RpcException FailedPrecondition(string what) => new(new Status(StatusCode.FailedPrecondition, what));

    private static RpcException Rpc(StatusCode code, Exception error) => new(new Status(code, error.Message));

    private static RpcException Conflict(ConflictException conflict)
    {
        var trailers = new Metadata();
        foreach (var c in conflict.Conflicts.Take(100))
        {
            trailers.Add(ConflictsTrailer, c.ToString());
        }

        return new RpcException(new Status(StatusCode.Aborted, conflict.Message), trailers);
    }
}

public sealed class RepositoryNotFoundException(string name) : Exception($"repository '{name}' does not exist");

public sealed class RepositoryExistsException(string name) : Exception($"repository '{name}' already exists");

public sealed class NothingToCommitException(string detail) : Exception(detail);
