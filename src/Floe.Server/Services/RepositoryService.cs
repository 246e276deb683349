using System.Text;
using Floe.Api.V1;
using Floe.Grains;
using Floe.Rpc.Server;
using Floe.Server.Grains;
using Floe.Server.Stac;
using Floe.Store;
using Floe.Store.Format;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using StoreNodeKind = Floe.Store.NodeKind;

namespace Floe.Server.Services;

/// <summary>floe.v1.RepositoryService (docs/api.md).</summary>
public sealed class RepositoryService(RepositoryCatalog catalog, IGrainFactory grains, ILogger<RepositoryService> logger, int maxSendMessageBytes, ReadAhead readAhead,
    StacCatalog stac)
    : ServiceBase(catalog, grains, logger)
{
    public const int MaxChunksPerCall = 100_000;
    private const int DefaultPieceBytes = 1 << 20;

    public RpcServiceDefinition Bind() => RpcServiceDefinition.CreateBuilder()
        .AddMethod(RepositoryServiceMethods.CreateRepository, Unary<CreateRepositoryRequest, RepositoryInfo>(CreateRepositoryAsync))
        .AddMethod(RepositoryServiceMethods.ListRepositories, Unary<ListRepositoriesRequest, ListRepositoriesResponse>(ListRepositoriesAsync))
        .AddMethod(RepositoryServiceMethods.DeleteRepository, Unary<DeleteRepositoryRequest, DeleteRepositoryResponse>(DeleteRepositoryAsync))
        .AddMethod(RepositoryServiceMethods.ListBranches, Unary<ListRefsRequest, ListRefsResponse>((r, c) => ListRefsAsync(r, c, tags: false)))
        .AddMethod(RepositoryServiceMethods.CreateBranch, Unary<CreateRefRequest, RefInfo>((r, c) => CreateRefAsync(r, c, tag: false)))
        .AddMethod(RepositoryServiceMethods.DeleteBranch, Unary<DeleteBranchRequest, DeleteBranchResponse>(DeleteBranchAsync))
        .AddMethod(RepositoryServiceMethods.ResetBranch, Unary<ResetBranchRequest, RefInfo>(ResetBranchAsync))
        .AddMethod(RepositoryServiceMethods.ListTags, Unary<ListRefsRequest, ListRefsResponse>((r, c) => ListRefsAsync(r, c, tags: true)))
        .AddMethod(RepositoryServiceMethods.CreateTag, Unary<CreateRefRequest, RefInfo>((r, c) => CreateRefAsync(r, c, tag: true)))
        .AddMethod(RepositoryServiceMethods.Log, ServerStreaming<LogRequest, SnapshotInfo>(LogAsync))
        .AddMethod(RepositoryServiceMethods.Diff, Unary<DiffRequest, DiffResponse>(DiffAsync))
        .AddMethod(RepositoryServiceMethods.ListNodes, Unary<ListNodesRequest, ListNodesResponse>(ListNodesAsync))
        .AddMethod(RepositoryServiceMethods.GetArrayMetadata, Unary<ArrayRequest, ArrayInfo>(GetArrayMetadataAsync))
        .AddMethod(RepositoryServiceMethods.ReadChunk, Unary<ReadChunkRequest, ChunkData>(ReadChunkAsync))
        .AddMethod(RepositoryServiceMethods.ReadChunks, ServerStreaming<ReadChunksRequest, ChunkData>(ReadChunksAsync))
        .AddMethod(RepositoryServiceMethods.ReadRegion, ServerStreaming<ReadRegionRequest, RegionPiece>(ReadRegionAsync))
        .Build();

    private async Task<RepositoryInfo> CreateRepositoryAsync(CreateRepositoryRequest request, ServerCallContext context)
    {
        Require(context, Permission.Write, request.Repository);
        if (request.RefsPerShard < 0 || request.RefsPerShard > int.MaxValue)
        {
            throw Errors.InvalidArgument("refs_per_shard", $"{request.RefsPerShard} is not a valid number of references per shard");
        }

        await Catalog.CreateAsync(request.Repository, (int)request.RefsPerShard, context.CancellationToken);
        stac.RequestRefresh();
        return await RepositoryGrain(request.Repository).GetInfoAsync(context.CancellationToken);
    }

    private async Task<ListRepositoriesResponse> ListRepositoriesAsync(ListRepositoriesRequest request, ServerCallContext context)
    {
        var caller = CallerOf(context);
        var response = new ListRepositoriesResponse();
        foreach (var name in await Catalog.ListAsync(context.CancellationToken))
        {
            if (!caller.May(Permission.Read, name))
            {
                continue;
            }

            try
            {
                response.Repositories.Add(await RepositoryGrain(name).GetInfoAsync(context.CancellationToken));
            }
            catch (RepositoryNotFoundException)
            {
                // Being created or deleted right now: not listed until it is whole.
            }
        }

        return response;
    }

    private async Task<DeleteRepositoryResponse> DeleteRepositoryAsync(DeleteRepositoryRequest request, ServerCallContext context)
    {
        Require(context, Permission.Write, request.Repository);
        if (request.Confirm != request.Repository)
        {
            throw Errors.InvalidArgument("confirm", "must repeat the repository's name");
        }

        var deleted = await Catalog.DeleteAsync(request.Repository, context.CancellationToken);
        stac.RequestRefresh();
        try
        {
            await RepositoryGrain(request.Repository).ForgetAsync(context.CancellationToken);
        }
        catch (RepositoryNotFoundException)
        {
            // No activation held it: nothing to forget.
        }

        return new DeleteRepositoryResponse { ObjectsDeleted = deleted };
    }

    private async Task<ListRefsResponse> ListRefsAsync(ListRefsRequest request, ServerCallContext context, bool tags)
    {
        Require(context, Permission.Read, request.Repository);
        var response = new ListRefsResponse();
        response.Refs.AddRange(await RepositoryGrain(request.Repository).ListRefsAsync(tags, context.CancellationToken));
        return response;
    }

    private async Task<RefInfo> CreateRefAsync(CreateRefRequest request, ServerCallContext context, bool tag)
    {
        Require(context, Permission.Write, request.Repository);
        return await RepositoryGrain(request.Repository).CreateRefAsync(tag, request.Name, request.From, context.CancellationToken);
    }

    private async Task<DeleteBranchResponse> DeleteBranchAsync(DeleteBranchRequest request, ServerCallContext context)
    {
        Require(context, Permission.Write, request.Repository);
        await RepositoryGrain(request.Repository).DeleteBranchAsync(request.Name, context.CancellationToken);
        return new DeleteBranchResponse();
    }

    private async Task<RefInfo> ResetBranchAsync(ResetBranchRequest request, ServerCallContext context)
    {
        Require(context, Permission.Write, request.Repository);
        return await RepositoryGrain(request.Repository).ResetBranchAsync(request.Name, request.To, request.ExpectedSnapshotId, context.CancellationToken);
    }

    private async Task LogAsync(LogRequest request, IServerStreamWriter<SnapshotInfo> stream, ServerCallContext context)
    {
        Require(context, Permission.Read, request.Repository);
        if (request.Limit < 0)
        {
            throw Errors.InvalidArgument("limit", "must not be negative");
        }

        var (_, snapshot) = await ResolveAsync(request.Repository, request.Reference, context.CancellationToken);
        for (var n = 0; request.Limit == 0 || n < request.Limit; n++)
        {
            await stream.WriteAsync(Info(snapshot));
            if (snapshot.ParentId is not { } parent)
            {
                break;
            }

            snapshot = await Grains.GetGrain<ISnapshotGrain>(GrainKeys.Of(request.Repository, parent)).GetAsync(context.CancellationToken);
        }
    }

    private async Task<DiffResponse> DiffAsync(DiffRequest request, ServerCallContext context)
    {
        Require(context, Permission.Read, request.Repository);
        if (string.IsNullOrEmpty(request.From) || string.IsNullOrEmpty(request.To))
        {
            throw Errors.InvalidArgument(string.IsNullOrEmpty(request.From) ? "from" : "to", "a branch, tag or snapshot id is required");
        }

        var repo = await Catalog.OpenAsync(request.Repository, context.CancellationToken);
        var grain = RepositoryGrain(request.Repository);
        var diff = await repo.DiffAsync(await grain.ResolveAsync(request.From, context.CancellationToken), await grain.ResolveAsync(request.To, context.CancellationToken), context.CancellationToken);
        var response = new DiffResponse();
        response.AddedNodes.AddRange(diff.AddedNodes);
        response.DeletedNodes.AddRange(diff.DeletedNodes);
        response.UpdatedNodes.AddRange(diff.UpdatedNodes);
        response.Chunks.AddRange(diff.Chunks.Select(c => new Api.V1.ArrayChunkChanges { Path = c.Path, Added = c.Added.Count, Removed = c.Removed.Count, Modified = c.Modified.Count }));
        return response;
    }

    private async Task<ListNodesResponse> ListNodesAsync(ListNodesRequest request, ServerCallContext context)
    {
        Require(context, Permission.Read, request.Repository);
        var (repo, snapshot) = await ResolveAsync(request.Repository, request.Reference, context.CancellationToken);
        var reader = ReaderOf(request.Repository, repo, snapshot);
        var path = string.IsNullOrEmpty(request.Path) ? NodePath.Root : request.Path;
        var nodes = request.Recursive ? reader.Walk(path) : reader.ListChildren(path);
        var response = new ListNodesResponse { SnapshotId = snapshot.Id.ToString() };
        response.Nodes.AddRange(nodes.Select(n => new NodeInfo
        {
            Path = n.Path,
            Kind = n.Kind == StoreNodeKind.Array ? Api.V1.NodeKind.Array : Api.V1.NodeKind.Group,
            ZarrJson = Encoding.UTF8.GetString(n.ZarrJson),
            ChunkRefs = n.Kind == StoreNodeKind.Array ? n.RefCount : 0,
        }));
        return response;
    }

    private async Task<ArrayInfo> GetArrayMetadataAsync(ArrayRequest request, ServerCallContext context)
    {
        Require(context, Permission.Read, request.Repository);
        var (repo, snapshot) = await ResolveAsync(request.Repository, request.Reference, context.CancellationToken);
        var node = ArrayNode(ReaderOf(request.Repository, repo, snapshot), request.Path);
        var metadata = node.ArrayMetadata;
        var info = new ArrayInfo
        {
            SnapshotId = snapshot.Id.ToString(),
            Path = node.Path,
            ZarrJson = Encoding.UTF8.GetString(node.ZarrJson),
            DataType = metadata.DataType.Name,
            ChunkRefs = node.RefCount,
        };
        info.Shape.AddRange(metadata.Shape);
        info.ChunkShape.AddRange(metadata.ChunkShape.Select(c => (long)c));
        info.DimensionNames.AddRange(metadata.DimensionNames?.Select(d => d ?? "") ?? []);
        return info;
    }

    private async Task<ChunkData> ReadChunkAsync(ReadChunkRequest request, ServerCallContext context)
    {
        Require(context, Permission.Read, request.Repository);
        var (repo, snapshot) = await ResolveAsync(request.Repository, request.Reference, context.CancellationToken);
        var reader = ReaderOf(request.Repository, repo, snapshot);
        var node = ArrayNode(reader, request.Path);
        return await ReadOneAsync(reader, node, [.. request.Coords], context.CancellationToken);
    }

    private async Task ReadChunksAsync(ReadChunksRequest request, IServerStreamWriter<ChunkData> stream, ServerCallContext context)
    {
        Require(context, Permission.Read, request.Repository);
        if (request.Chunks.Count > MaxChunksPerCall)
        {
            throw new Rpc.RpcException(new Rpc.Status(Rpc.StatusCode.ResourceExhausted, $"chunks: {request.Chunks.Count} asked, at most {MaxChunksPerCall} per call"));
        }

        var (repo, snapshot) = await ResolveAsync(request.Repository, request.Reference, context.CancellationToken);
        var reader = ReaderOf(request.Repository, repo, snapshot);
        var node = ArrayNode(reader, request.Path);
        // A chunk's decoded size bounds what one fetch holds, as near as it can be known before the fetch.
        long chunkBytes = node.ArrayMetadata.ChunkByteLength;
        var chunks = readAhead.RunAsync(request.Chunks, c => ReadOneAsync(reader, node, [.. c.Values], context.CancellationToken), chunkBytes, context.CancellationToken);
        await foreach (var chunk in chunks)
        {
            if (chunk.Data.Length > maxSendMessageBytes - 1024)
            {
                throw new Rpc.RpcException(new Rpc.Status(Rpc.StatusCode.ResourceExhausted,
                    $"chunk [{string.Join(", ", chunk.Coords)}] is {chunk.Data.Length} bytes, over the server's send limit of {maxSendMessageBytes}"));
            }

            await stream.WriteAsync(chunk);
        }
    }

    private async Task ReadRegionAsync(ReadRegionRequest request, IServerStreamWriter<RegionPiece> stream, ServerCallContext context)
    {
        Require(context, Permission.Read, request.Repository);
        if (request.PieceBytes < 0)
        {
            throw Errors.InvalidArgument("piece_bytes", "must not be negative");
        }

        var (repo, snapshot) = await ResolveAsync(request.Repository, request.Reference, context.CancellationToken);
        var reader = ReaderOf(request.Repository, repo, snapshot);
        var node = ArrayNode(reader, request.Path);
        var metadata = node.ArrayMetadata;
        long[] start = [.. request.Start];
        long[] count = [.. request.Count];
        if (start.Length != metadata.Rank)
        {
            throw Errors.InvalidArgument("start", $"has {start.Length} values; array '{node.Path}' has {metadata.Rank} dimensions");
        }

        if (count.Length != metadata.Rank)
        {
            throw Errors.InvalidArgument("count", $"has {count.Length} values; array '{node.Path}' has {metadata.Rank} dimensions");
        }

        // Values travel as protobuf lists, up to 2 bytes per byte of data for small integers (zig-zag varints).
        var pieceBytes = Math.Min(request.PieceBytes == 0 ? DefaultPieceBytes : request.PieceBytes, maxSendMessageBytes / 3);
        var snapshotId = snapshot.Id.ToString();
        async Task<RegionPiece> ReadPieceAsync((long[] Start, long[] Count) box)
        {
            var data = await reader.ReadRegionAsync(node.Path, box.Start, box.Count, context.CancellationToken);
            var piece = new RegionPiece { SnapshotId = snapshotId, DataType = metadata.DataType.Name, Values = Regions.ToTypedValues(metadata.DataType, data) };
            piece.Start.AddRange(box.Start);
            piece.Count.AddRange(box.Count);
            return piece;
        }

        // A piece holds its decoded bytes and then its values: about twice its size while it waits.
        var pieces = readAhead.RunAsync(Regions.Pieces(start, count, metadata.DataType.Size, pieceBytes), ReadPieceAsync, 2L * pieceBytes, context.CancellationToken);
        await foreach (var piece in pieces)
        {
            await stream.WriteAsync(piece);
        }
    }

    private static async Task<ChunkData> ReadOneAsync(SnapshotReader reader, Node node, long[] coords, CancellationToken cancellationToken)
    {
        var chunkRef = await reader.GetChunkRefAsync(node.Path, coords, cancellationToken);
        var data = new ChunkData();
        data.Coords.AddRange(coords);
        if (chunkRef is null)
        {
            data.Kind = ChunkKind.Missing;
            return data;
        }

        data.Kind = chunkRef switch
        {
            NativeChunkRef => ChunkKind.Native,
            VirtualChunkRef => ChunkKind.Virtual,
            _ => ChunkKind.Inline,
        };
        data.CodecsJson = (chunkRef.Codecs ?? ChunkCodecs.From(node.ArrayMetadata.Codecs)).Json;
        data.Data = UnsafeByteOperations.UnsafeWrap(await reader.Repository.FetchChunkAsync(node.Path, chunkRef, cancellationToken));
        return data;
    }

    private static Node ArrayNode(SnapshotReader reader, string path)
    {
        if (string.IsNullOrEmpty(path))
        {
            throw Errors.InvalidArgument("path", "an array path is required");
        }

        var node = reader.GetNode(path);
        return node.Kind == StoreNodeKind.Array ? node : throw Errors.InvalidArgument("path", $"'{node.Path}' is a group, not an array");
    }

    private static SnapshotInfo Info(Snapshot snapshot)
    {
        var info = new SnapshotInfo
        {
            Id = snapshot.Id.ToString(),
            ParentId = snapshot.ParentId?.ToString() ?? "",
            TimestampMs = snapshot.Timestamp.ToUnixTimeMilliseconds(),
            Message = snapshot.Message,
        };
        foreach (var (key, value) in snapshot.Metadata)
        {
            info.Metadata[key] = value;
        }
        return info;
    }
}
