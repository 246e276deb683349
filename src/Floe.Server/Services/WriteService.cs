using Floe.Api.V1;
using Floe.Grains;
using Floe.Rpc;
using Floe.Rpc.Server;
using Floe.Server.Grains;
using Microsoft.Extensions.Logging;

namespace Floe.Server.Services;

/// <summary>floe.v1.WriteService (docs/api.md): write sessions, commits and appends.</summary>
public sealed class WriteService(RepositoryCatalog catalog, IGrainFactory grains, SourcePolicy sources, ILogger<WriteService> logger)
    : ServiceBase(catalog, grains, logger)
{
    public RpcServiceDefinition Bind() => RpcServiceDefinition.CreateBuilder()
        .AddMethod(WriteServiceMethods.OpenSession, Unary<OpenSessionRequest, SessionInfo>(OpenSessionAsync))
        .AddMethod(WriteServiceMethods.WriteChanges, ClientStreaming<WriteChangesRequest, WriteChangesResponse>(WriteChangesAsync))
        .AddMethod(WriteServiceMethods.Commit, Unary<CommitRequest, CommitResponse>(CommitAsync))
        .AddMethod(WriteServiceMethods.AbandonSession, Unary<AbandonSessionRequest, AbandonSessionResponse>(AbandonAsync))
        .AddMethod(WriteServiceMethods.Append, ClientStreaming<AppendRequest, CommitResponse>(AppendAsync))
        .Build();

    private async Task<SessionInfo> OpenSessionAsync(OpenSessionRequest request, ServerCallContext context)
    {
        Require(context, Permission.Write, request.Repository);
        var id = Guid.NewGuid().ToString("N");
        return await Grains.GetGrain<IWriteSessionGrain>(id).OpenAsync(request.Repository, request.Branch, context.CancellationToken);
    }

    private async Task<WriteChangesResponse> WriteChangesAsync(IAsyncStreamReader<WriteChangesRequest> requests, ServerCallContext context)
    {
        IWriteSessionGrain? session = null;
        string? sessionId = null;
        var total = new WriteChangesResponse();
        while (await requests.MoveNext(context.CancellationToken))
        {
            var message = requests.Current;
            if (session is null)
            {
                sessionId = message.SessionId;
                session = await SessionAsync(sessionId, context);
            }
            else if (message.SessionId.Length > 0 && message.SessionId != sessionId)
            {
                throw Errors.InvalidArgument("session_id", "every message of one call must name the same session");
            }

            var applied = await session.ApplyAsync(message.Changes, total.ChangesApplied, context.CancellationToken);
            total.ChangesApplied += applied.ChangesApplied;
            total.PendingChunkChanges = applied.PendingChunkChanges;
        }

        return session is null ? throw Errors.InvalidArgument("session_id", "the call sent no message") : total;
    }

    private async Task<CommitResponse> CommitAsync(CommitRequest request, ServerCallContext context)
    {
        var session = await SessionAsync(request.SessionId, context);
        return await session.CommitAsync(request.Message, request.Metadata, context.CancellationToken);
    }

    private async Task<AbandonSessionResponse> AbandonAsync(AbandonSessionRequest request, ServerCallContext context)
    {
        var session = await SessionAsync(request.SessionId, context);
        await session.AbandonAsync(context.CancellationToken);
        return new AbandonSessionResponse();
    }

    /// <summary>The session grain, after checking that the caller may write its repository.</summary>
    private async Task<IWriteSessionGrain> SessionAsync(string sessionId, ServerCallContext context)
    {
        if (sessionId.Length != 32 || !sessionId.All(char.IsAsciiHexDigitLower))
        {
            throw Errors.InvalidArgument("session_id", sessionId.Length == 0 ? "required" : $"\"{sessionId}\" is not a session id");
        }

        var session = Grains.GetGrain<IWriteSessionGrain>(sessionId);
        Require(context, Permission.Write, await session.GetRepositoryAsync(context.CancellationToken));
        return session;
    }

    private async Task<CommitResponse> AppendAsync(IAsyncStreamReader<AppendRequest> requests, ServerCallContext context)
    {
        if (!await requests.MoveNext(context.CancellationToken))
        {
            throw Errors.InvalidArgument("target", "the call sent no message");
        }

        var target = requests.Current.Target ?? throw Errors.InvalidArgument("target", "the first message must say where to append");
        Require(context, Permission.Write, target.Repository, "target.repository");
        if (string.IsNullOrEmpty(target.Path))
        {
            throw Errors.InvalidArgument("target.path", "an array path is required");
        }

        var repository = await Catalog.OpenAsync(target.Repository, context.CancellationToken);
        var session = await repository.WritableSessionAsync(string.IsNullOrEmpty(target.Branch) ? Store.Repository.MainBranch : target.Branch, context.CancellationToken);
        var metadata = session.GetArrayMetadata(target.Path);
        var dimension = DimensionIndex(metadata, target.Dimension);
        if (metadata.Shape[dimension] % metadata.ChunkShape[dimension] != 0)
        {
            throw Errors.FailedPrecondition(
                $"target.dimension: array '{target.Path}' holds {metadata.Shape[dimension]} elements along dimension {dimension}, not a multiple of its chunk length {metadata.ChunkShape[dimension]}, so appended chunks would not line up");
        }

        var offset = new long[metadata.Rank];
        offset[dimension] = metadata.Shape[dimension] / metadata.ChunkShape[dimension];
        var message = requests.Current;
        for (var index = 0; ; index++)
        {
            if (message.GrowBy < 0)
            {
                throw Errors.InvalidArgument($"messages[{index}].grow_by", "must not be negative");
            }

            if (message.GrowBy > 0)
            {
                session.AppendAlong(target.Path, dimension, message.GrowBy);
            }

            await ChangeApplier.SetEntriesAsync(session, target.Path, message.Chunks, $"messages[{index}]", sources, offset, context.CancellationToken);
            if (!await requests.MoveNext(context.CancellationToken))
            {
                break;
            }

            message = requests.Current;
            if (message.Target is not null)
            {
                throw Errors.InvalidArgument($"messages[{index + 1}].target", "only the first message names the target");
            }
        }

        var text = string.IsNullOrWhiteSpace(target.Message) ? $"Append to {target.Path}" : target.Message;
        return await RepositoryGrain(target.Repository).CommitAsync(session, text, target.Metadata, context.CancellationToken);
    }

    private static int DimensionIndex(Core.ArrayMetadata metadata, string dimension)
    {
        if (int.TryParse(dimension, out var index))
        {
            return index >= 0 && index < metadata.Rank ? index : throw Errors.InvalidArgument("target.dimension", $"{index} is not a dimension of a {metadata.Rank}-dimensional array");
        }

        var names = metadata.DimensionNames ?? [];
        var found = Array.IndexOf(names, dimension);
        return found >= 0 ? found : throw Errors.InvalidArgument("target.dimension", $"\"{dimension}\" is not one of the array's dimensions ({string.Join(", ", names.Select(n => n ?? "?"))})");
    }
}
