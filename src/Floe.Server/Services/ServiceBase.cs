using Floe.Grains;
using Floe.Rpc;
using Floe.Rpc.Server;
using Floe.Server.Grains;
using Floe.Store;
using Microsoft.Extensions.Logging;

namespace Floe.Server.Services;

/// <summary>What every service needs: the catalog, the grains, the caller's permissions and the mapping of errors to statuses.</summary>
public abstract class ServiceBase(RepositoryCatalog catalog, IGrainFactory grains, ILogger logger)
{
    private readonly SnapshotReads _reads = new(catalog, grains);

    protected RepositoryCatalog Catalog { get; } = catalog;

    protected IGrainFactory Grains { get; } = grains;

    /// <summary>The caller the authentication filter put on the call.</summary>
    protected static Caller CallerOf(ServerCallContext context) =>
        context.Items.TryGetValue(AccessPolicy.CallerItem, out var caller) && caller is Caller c
            ? c
            : throw new RpcException(new Status(StatusCode.Internal, "the call was not authenticated"));

    /// <summary>Checks the permission before anything else is read or written.</summary>
    protected static void Require(ServerCallContext context, Permission permission, string repository, string field = "repository")
    {
        RepositoryCatalog.ValidateName(repository, field);
        AccessPolicy.Require(CallerOf(context), permission, repository);
    }

    protected IRepositoryGrain RepositoryGrain(string repository) => Grains.GetGrain<IRepositoryGrain>(repository);

    /// <summary>The repository and the snapshot a reference names now; reads of a branch stay on that snapshot.</summary>
    protected Task<(Repository Repository, Snapshot Snapshot)> ResolveAsync(string repository, string reference, CancellationToken cancellationToken) =>
        _reads.ResolveAsync(repository, reference, cancellationToken);

    /// <summary>A reader of a snapshot whose manifest lookups go through the shard grains.</summary>
    protected SnapshotReader ReaderOf(string repository, Repository repo, Snapshot snapshot) => _reads.ReaderOf(repository, repo, snapshot);

    protected UnaryServerMethod<TRequest, TResponse> Unary<TRequest, TResponse>(UnaryServerMethod<TRequest, TResponse> handler) =>
        async (request, context) =>
        {
            try
            {
                return await handler(request, context);
            }
            catch (Exception e) when (Translate(e, context) is { } rpc)
            {
                throw rpc;
            }
        };

    protected ServerStreamingServerMethod<TRequest, TResponse> ServerStreaming<TRequest, TResponse>(ServerStreamingServerMethod<TRequest, TResponse> handler) =>
        async (request, stream, context) =>
        {
            try
            {
                await handler(request, stream, context);
            }
            catch (Exception e) when (Translate(e, context) is { } rpc)
            {
                throw rpc;
            }
        };

    protected ClientStreamingServerMethod<TRequest, TResponse> ClientStreaming<TRequest, TResponse>(ClientStreamingServerMethod<TRequest, TResponse> handler) =>
        async (requests, context) =>
        {
            try
            {
                return await handler(requests, context);
            }
            catch (Exception e) when (Translate(e, context) is { } rpc)
            {
                throw rpc;
            }
        };

    /// <summary>
    /// Null for exceptions the RPC layer reports itself (statuses, and cancellation by the client or the deadline);
    /// otherwise the status for a store error, logging the unexpected ones.
    /// </summary>
    private RpcException? Translate(Exception error, ServerCallContext context)
    {
        if (error is RpcException || error is OperationCanceledException && context.CancellationToken.IsCancellationRequested)
        {
            return null;
        }

        var rpc = Errors.ToRpc(error);
        if (rpc.StatusCode == StatusCode.Internal)
        {
            logger.LogError(error, "{Method} failed", context.Method);
        }

        return rpc;
    }
}
