using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Floe.Api.V1;
using Floe.Core;
using Floe.Grains;
using Floe.Rpc;
using Floe.Store;

namespace Floe.Server.Grains;

/// <summary>
/// An open write session: holds the store's <see cref="Session"/> until it is committed (through the repository
/// grain, which serialises commits) or abandoned; an idle session is collected with its changes.
/// </summary>
public sealed class WriteSessionGrain(RepositoryCatalog catalog, SourcePolicy sources) : Grain, IWriteSessionGrain
{
    private string? _repository;
    private Session? _session;

    public async Task<SessionInfo> OpenAsync(string repository, string branch, CancellationToken cancellationToken)
    {
        if (_session is not null)
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists, $"session {GetPrimaryKeyString()} is already open"));
        }

        var repo = await catalog.OpenAsync(repository, cancellationToken);
        _session = await repo.WritableSessionAsync(string.IsNullOrEmpty(branch) ? Repository.MainBranch : branch, cancellationToken);
        _repository = repository;
        return new SessionInfo { SessionId = GetPrimaryKeyString(), BaseSnapshotId = _session.BaseSnapshot.Id.ToString() };
    }

    public Task<string> GetRepositoryAsync(CancellationToken cancellationToken) => Task.FromResult(_repository ?? throw NoSession());

    public async Task<WriteChangesResponse> ApplyAsync(IReadOnlyList<Change> changes, long firstIndex, CancellationToken cancellationToken)
    {
        var session = _session ?? throw NoSession();
        for (var i = 0; i < changes.Count; i++)
        {
            await ChangeApplier.ApplyAsync(session, changes[i], $"changes[{firstIndex + i}]", sources, cancellationToken);
        }

        return new WriteChangesResponse { ChangesApplied = changes.Count, PendingChunkChanges = session.PendingChunkChanges };
    }

    public async Task<CommitResponse> CommitAsync(string message, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        var session = _session ?? throw NoSession();
        var committed = await GrainFactory.GetGrain<IRepositoryGrain>(_repository!).CommitAsync(session, message, metadata, cancellationToken);
        _session = null;
        DeactivateOnIdle();
        return committed;
    }

    public Task AbandonAsync(CancellationToken cancellationToken)
    {
        _ = _session ?? throw NoSession();
        _session = null;
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    private RpcException NoSession() =>
        Errors.NotFound($"session_id: no open session {GetPrimaryKeyString()} on this server (committed, abandoned, expired, or opened on another server)");
}

/// <summary>Applies one protobuf <see cref="Change"/> to a store session, naming the field of anything wrong.</summary>
public static class ChangeApplier
{
    public static async Task ApplyAsync(Session session, Change change, string field, SourcePolicy sources, CancellationToken cancellationToken)
    {
        try
        {
            switch (change.ChangeCase)
            {
                case Change.ChangeOneofCase.CreateGroup:
                    session.CreateGroup(Path(change.CreateGroup.Path, $"{field}.create_group.path"), Attributes(change.CreateGroup.AttributesJson, $"{field}.create_group.attributes_json"));
                    break;
                case Change.ChangeOneofCase.CreateArray:
                    session.CreateArray(Path(change.CreateArray.Path, $"{field}.create_array.path"), Metadata(change.CreateArray.ZarrJson, $"{field}.create_array.zarr_json"));
                    break;
                case Change.ChangeOneofCase.UpdateAttributes:
                    session.UpdateAttributes(Path(change.UpdateAttributes.Path, $"{field}.update_attributes.path"), Attributes(change.UpdateAttributes.AttributesJson, $"{field}.update_attributes.attributes_json") ?? []);
                    break;
                case Change.ChangeOneofCase.UpdateArrayMetadata:
                    session.UpdateArrayMetadata(Path(change.UpdateArrayMetadata.Path, $"{field}.update_array_metadata.path"), Metadata(change.UpdateArrayMetadata.ZarrJson, $"{field}.update_array_metadata.zarr_json"));
                    break;
                case Change.ChangeOneofCase.ResizeArray:
                    session.ResizeArray(Path(change.ResizeArray.Path, $"{field}.resize_array.path"), [.. change.ResizeArray.Shape]);
                    break;
                case Change.ChangeOneofCase.DeleteNode:
                    session.DeleteNode(Path(change.DeleteNode.Path, $"{field}.delete_node.path"));
                    break;
                case Change.ChangeOneofCase.SetChunks:
                    await SetChunksAsync(session, change.SetChunks, $"{field}.set_chunks", sources, cancellationToken);
                    break;
                case Change.ChangeOneofCase.DeleteChunks:
                    var path = Path(change.DeleteChunks.Path, $"{field}.delete_chunks.path");
                    foreach (var coords in change.DeleteChunks.Chunks)
                    {
                        session.DeleteChunk(path, [.. coords.Values]);
                    }

                    break;
                default:
                    throw Errors.InvalidArgument(field, "an empty change (set one of its fields)");
            }
        }
        catch (Exception e) when (e is not RpcException and not OperationCanceledException)
        {
            throw Named(field, e);
        }
    }

    /// <summary>The status a store error maps to, with the message prefixed by the field of the change that caused it.</summary>
    private static RpcException Named(string field, Exception error)
    {
        var status = Errors.ToRpc(error);
        return new RpcException(new Status(status.StatusCode, $"{field}: {status.Status.Detail}"));
    }

    /// <summary>The chunk reference an entry describes (virtual locations checked against the allowed sources).</summary>
    public static ChunkRef? ToChunkRef(ChunkRefEntry entry, string field, SourcePolicy sources)
    {
        ChunkRef chunkRef;
        switch (entry.RefCase)
        {
            case ChunkRefEntry.RefOneofCase.Virtual:
                var v = entry.Virtual;
                sources.Check(v.Location, $"{field}.virtual.location");
                if (v.Offset < 0 || v.Length <= 0)
                {
                    throw Errors.InvalidArgument($"{field}.virtual", $"offset {v.Offset} and length {v.Length}: expected offset ≥ 0 and length > 0");
                }

                chunkRef = new VirtualChunkRef(v.Location, v.Offset, v.Length, string.IsNullOrEmpty(v.Etag) ? null : v.Etag,
                    v.LastModifiedMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(v.LastModifiedMs));
                break;
            case ChunkRefEntry.RefOneofCase.Inline:
                chunkRef = new InlineChunkRef(entry.Inline.ToByteArray());
                break;
            case ChunkRefEntry.RefOneofCase.Decoded:
                return null;
            default:
                throw Errors.InvalidArgument(field, "set one of virtual, inline or decoded");
        }

        if (!string.IsNullOrEmpty(entry.CodecsJson))
        {
            try
            {
                chunkRef = chunkRef with { Codecs = ChunkCodecs.Parse(entry.CodecsJson) };
            }
            catch (Exception e) when (e is FormatException or JsonException or ArgumentException)
            {
                throw Errors.InvalidArgument($"{field}.codecs_json", e.Message);
            }
        }

        return chunkRef;
    }

    /// <summary>Sets (or, for decoded data, writes natively) every chunk of <paramref name="chunks"/> under <paramref name="path"/>, with coordinates shifted by <paramref name="offset"/>.</summary>
    public static async Task SetEntriesAsync(Session session, string path, IReadOnlyList<ChunkRefEntry> chunks, string field, SourcePolicy sources, long[]? offset, CancellationToken cancellationToken)
    {
        for (var i = 0; i < chunks.Count; i++)
        {
            var entry = chunks[i];
            var entryField = $"{field}.chunks[{i}]";
            long[] coords = [.. entry.Coords];
            if (offset is not null)
            {
                if (coords.Length != offset.Length)
                {
                    throw Errors.InvalidArgument($"{entryField}.coords", $"[{string.Join(", ", coords)}] has {coords.Length} dimensions, the array {offset.Length}");
                }

                for (var d = 0; d < coords.Length; d++)
                {
                    coords[d] += offset[d];
                }
            }

            try
            {
                var chunkRef = ToChunkRef(entry, entryField, sources);
                if (chunkRef is null)
                {
                    await session.WriteChunkAsync(path, coords, entry.Decoded.Memory, cancellationToken);
                }
                else
                {
                    session.SetChunkRef(path, coords, chunkRef);
                }
            }
            catch (Exception e) when (e is not RpcException and not OperationCanceledException)
            {
                throw Named(entryField, e);
            }
        }
    }

    private static Task SetChunksAsync(Session session, SetChunks set, string field, SourcePolicy sources, CancellationToken cancellationToken) =>
        SetEntriesAsync(session, Path(set.Path, $"{field}.path"), set.Chunks, field, sources, null, cancellationToken);

    private static string Path(string path, string field) =>
        string.IsNullOrWhiteSpace(path) ? throw Errors.InvalidArgument(field, "a node path is required") : path;

    private static JsonObject? Attributes(string json, string field)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(json) as JsonObject ?? throw Errors.InvalidArgument(field, "expected a JSON object");
        }
        catch (JsonException e)
        {
            throw Errors.InvalidArgument(field, $"not JSON: {e.Message}");
        }
    }

    private static ArrayMetadata Metadata(string zarrJson, string field)
    {
        if (string.IsNullOrWhiteSpace(zarrJson))
        {
            throw Errors.InvalidArgument(field, "an array's zarr.json is required");
        }

        try
        {
            return ArrayMetadata.Parse(Encoding.UTF8.GetBytes(zarrJson));
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException or InvalidOperationException)
        {
            throw Errors.InvalidArgument(field, e.Message);
        }
    }
}
