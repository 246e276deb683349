using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using Floe.Core;
using Floe.Rpc;
using Floe.Storage;
using Floe.Store;
using Floe.Store.Format;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Floe.Server;

/// <summary>
/// Serves any branch, tag or snapshot of a repository read-only as a Zarr v2 store over plain HTTP:
/// <c>GET</c>/<c>HEAD /zarr/{repository}/{reference}/{key}</c> (docs/api.md: Zarr v2 over HTTP).
/// </summary>
public sealed class ZarrHttp(SnapshotReads reads, AccessPolicy access, ILogger<ZarrHttp> logger)
{
    public const string Route = "/zarr/{repository}/{reference}/{**key}";

    private const string Immutable = "max-age=31536000, immutable";
    private const string Revalidate = "no-cache";
    private const string NoStore = "no-store";
    private const string Json = "application/json";
    private const string Octets = "application/octet-stream";
    private const string ConsolidatedKey = ".zmetadata";

    // The v2 documents of a snapshot, built on first use and dropped with the decoded snapshot the grain holds.
    private static readonly ConditionalWeakTable<Snapshot, SnapshotView> Views = new();

    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            context.Response.Headers.Allow = "GET, HEAD";
            await TextAsync(context, StatusCodes.Status405MethodNotAllowed, NoStore, $"{request.Method} is not allowed: the Zarr view is read-only (GET, HEAD)");
            return;
        }

        var repository = context.GetRouteValue("repository") as string ?? "";
        var reference = context.GetRouteValue("reference") as string ?? "";
        var key = context.GetRouteValue("key") as string ?? "";
        try
        {
            await ServeAsync(context, repository, reference, key);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody is left to answer.
        }
    }

    private async Task ServeAsync(HttpContext context, string repository, string reference, string key)
    {
        // Permission first, as for gRPC calls, so that nobody learns which repositories exist without it.
        try
        {
            AccessPolicy.Require(access.Authenticate(context.Request.Headers.Authorization.ToString()), Permission.Read, repository);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
        {
            var unauthenticated = e.StatusCode == StatusCode.Unauthenticated;
            if (unauthenticated)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
            }

            await TextAsync(context, unauthenticated ? StatusCodes.Status401Unauthorized : StatusCodes.Status403Forbidden, NoStore, e.Status.Detail);
            return;
        }

        Repository repo;
        Snapshot snapshot;
        try
        {
            RepositoryCatalog.ValidateName(repository);
            (repo, snapshot) = await reads.ResolveAsync(repository, reference, context.RequestAborted);
        }
        catch (Exception e) when (IsNotFound(e))
        {
            await TextAsync(context, StatusCodes.Status404NotFound, NoStore, e is RpcException rpc ? rpc.Status.Detail : e.Message);
            return;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await FailAsync(context, e, $"repository '{repository}', reference '{reference}'");
            return;
        }

        // A snapshot never changes; what a branch or tag name shows may (a branch of a tag's name takes its place).
        var cache = NamesSnapshot(reference, snapshot.Id) ? Immutable : Revalidate;
        var where = $"repository '{repository}' at {reference} (snapshot {snapshot.Id})";
        SnapshotView view;
        byte[]? document;
        try
        {
            view = Views.GetValue(snapshot, s => new SnapshotView(s));
            document = key == ConsolidatedKey ? view.Consolidated : view.Document(key);
        }
        catch (Exception e)
        {
            await FailAsync(context, e, where);
            return;
        }

        if (document is not null)
        {
            await SendAsync(context, snapshot, cache, Json, document);
            return;
        }

        if (ParseChunkKey(snapshot, key) is not { } chunk)
        {
            await TextAsync(context, StatusCodes.Status404NotFound, cache, $"{where} has no key '{key}'");
            return;
        }

        if (chunk.Coords is null)
        {
            await TextAsync(context, StatusCodes.Status404NotFound, cache, $"'{chunk.Name}' is not a chunk of array '{chunk.Array.Path}' in {where}: {chunk.Problem}");
            return;
        }

        await ServeChunkAsync(context, reads.ReaderOf(repository, repo, snapshot), view, chunk.Array, chunk.Name, chunk.Coords, cache, where);
    }

    private async Task ServeChunkAsync(HttpContext context, SnapshotReader reader, SnapshotView view, Node node, string name, long[] coords, string cache, string where)
    {
        ReadOnlyMemory<byte> body;
        try
        {
            var chunkRef = await reader.GetChunkRefAsync(node.Path, coords, context.RequestAborted);
            if (chunkRef is null)
            {
                await TextAsync(context, StatusCodes.Status404NotFound, cache, $"chunk {name} of array '{node.Path}' in {where} holds no data: it reads as the fill value");
                return;
            }

            // Checked before the bytes are fetched: a client holding this snapshot's chunk needs nothing more.
            if (NotModified(context, reader.Snapshot, cache))
            {
                return;
            }

            var stored = await reader.Repository.FetchChunkAsync(node.Path, chunkRef, context.RequestAborted);
            var array = view.Array(node);
            var codecs = chunkRef.Codecs?.Specs;
            body = array.ServesAsStored(stored.Span, codecs) ? stored : array.Transcode(stored.Span, codecs);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Never fill values in for a chunk that cannot be read: zarr would take them for data.
            await FailAsync(context, e, $"array '{node.Path}' chunk {name} ([{string.Join(", ", coords)}]) in {where}");
            return;
        }

        await SendAsync(context, reader.Snapshot, cache, Octets, body);
    }

    /// <summary>
    /// The array and chunk coordinates a chunk key names, or null when the key is no chunk key of an array. Coords
    /// are null (with the reason) for a malformed key or one outside the chunk grid.
    /// </summary>
    private static (Node Array, string Name, long[]? Coords, string Problem)? ParseChunkKey(Snapshot snapshot, string key)
    {
        var slash = key.LastIndexOf('/');
        var name = key[(slash + 1)..];
        if (name is ".zgroup" or ".zarray" or ".zattrs" or ConsolidatedKey)
        {
            return null;
        }

        Node? node;
        try
        {
            node = snapshot.FindNode(NodePath.Normalize(slash < 0 ? NodePath.Root : "/" + key[..slash]));
        }
        catch (ArgumentException)
        {
            return null;
        }

        if (node is not { Kind: NodeKind.Array })
        {
            return null;
        }

        var metadata = node.ArrayMetadata;
        if (metadata.Rank == 0)
        {
            return name == "0" ? (node, name, [], "") : (node, name, null, "a rank-0 array has the one chunk '0'");
        }

        var parts = name.Split('.');
        if (parts.Length != metadata.Rank)
        {
            return (node, name, null, $"expected {metadata.Rank} chunk indexes separated by '.'");
        }

        var grid = metadata.GridShape;
        var coords = new long[parts.Length];
        for (var d = 0; d < parts.Length; d++)
        {
            if (!long.TryParse(parts[d], NumberStyles.None, CultureInfo.InvariantCulture, out coords[d]))
            {
                return (node, name, null, $"'{parts[d]}' is not a chunk index");
            }

            if (coords[d] >= grid[d])
            {
                return (node, name, null, $"outside the chunk grid [{string.Join(", ", grid)}]");
            }
        }

        return (node, name, coords, "");
    }

    private static bool IsNotFound(Exception e) => e switch
    {
        RpcException rpc => rpc.StatusCode is StatusCode.NotFound or StatusCode.InvalidArgument,
        RepositoryNotFoundException or ReferenceNotFoundException or BranchNotFoundException or TagNotFoundException
            or SnapshotNotFoundException or NodeNotFoundException or ArgumentException => true,
        _ => false,
    };

    private static bool NamesSnapshot(string reference, ObjectId resolved)
    {
        const string prefix = "snapshot:";
        var text = reference.StartsWith(prefix, StringComparison.Ordinal) ? reference[prefix.Length..] : reference;
        return ObjectId.TryParse(text, out var id) && id == resolved;
    }

    private static string ETagOf(Snapshot snapshot) => $"W/\"{snapshot.Id}\"";

    /// <summary>Answers 304 when the client holds what this snapshot serves (the snapshot id is the entity tag).</summary>
    private static bool NotModified(HttpContext context, Snapshot snapshot, string cache)
    {
        var etag = ETagOf(snapshot);
        if (!context.Request.Headers.IfNoneMatch.Any(v => v is not null && v.Split(',').Any(t => t.Trim() is var tag && (tag == etag || tag == etag[2..] || tag == "*"))))
        {
            return false;
        }

        context.Response.StatusCode = StatusCodes.Status304NotModified;
        context.Response.Headers.ETag = etag;
        context.Response.Headers.CacheControl = cache;
        return true;
    }

    private static async Task SendAsync(HttpContext context, Snapshot snapshot, string cache, string contentType, ReadOnlyMemory<byte> body)
    {
        if (NotModified(context, snapshot, cache))
        {
            return;
        }

        context.Response.Headers.CacheControl = cache;
        context.Response.Headers.ETag = ETagOf(snapshot);
        await WriteAsync(context, StatusCodes.Status200OK, contentType, body);
    }

    private async Task FailAsync(HttpContext context, Exception error, string what)
    {
        var (status, message) = error switch
        {
            VirtualChunkException => (StatusCodes.Status502BadGateway, error.Message),
            ObjectStoreException => (StatusCodes.Status503ServiceUnavailable, error.Message),
            FloeStoreException or CodecException or FormatException or NotSupportedException => (StatusCodes.Status500InternalServerError, error.Message),
            _ => (StatusCodes.Status500InternalServerError, "internal server error (logged)"),
        };
        if (status == StatusCodes.Status500InternalServerError)
        {
            logger.LogError(error, "Zarr view: {What} failed", what);
        }

        await TextAsync(context, status, NoStore, $"{what}: {message}");
    }

    private static Task TextAsync(HttpContext context, int status, string cache, string message)
    {
        context.Response.Headers.CacheControl = cache;
        return WriteAsync(context, status, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(message + "\n"));
    }

    private static async Task WriteAsync(HttpContext context, int status, string contentType, ReadOnlyMemory<byte> body)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(body, context.RequestAborted);
        }
    }

    /// <summary>A snapshot's Zarr v2 documents (every key of the hierarchy, and .zmetadata) and array descriptions.</summary>
    private sealed class SnapshotView
    {
        private readonly Snapshot _snapshot;
        private readonly ConcurrentDictionary<string, ZarrV2Array> _arrays = new(StringComparer.Ordinal);
        private readonly Lazy<(Dictionary<string, byte[]> Documents, byte[] Consolidated)> _documents;

        public SnapshotView(Snapshot snapshot)
        {
            _snapshot = snapshot;
            _documents = new(Build);
        }

        public byte[] Consolidated => _documents.Value.Consolidated;

        public byte[]? Document(string key) => _documents.Value.Documents.GetValueOrDefault(key);

        public ZarrV2Array Array(Node node) => _arrays.GetOrAdd(node.Path, _ => ZarrV2.Describe(node.ArrayMetadata));

        private (Dictionary<string, byte[]>, byte[]) Build()
        {
            var metadata = new JsonObject();
            if (_snapshot.FindNode(NodePath.Root) is null)
            {
                metadata[".zgroup"] = ZarrV2.GroupDocument();
                metadata[".zattrs"] = new JsonObject();
            }

            foreach (var node in _snapshot.Nodes)
            {
                // Node "/a/b" is key prefix "a/b/"; the root is the store's top.
                var prefix = node.Path == NodePath.Root ? "" : node.Path[1..] + "/";
                if (node.Kind == NodeKind.Group)
                {
                    metadata[prefix + ".zgroup"] = ZarrV2.GroupDocument();
                    metadata[prefix + ".zattrs"] = ZarrV2.GroupAttributes(node.GroupMetadata);
                }
                else
                {
                    metadata[prefix + ".zarray"] = Array(node).ToJson();
                    metadata[prefix + ".zattrs"] = ZarrV2.ArrayAttributes(node.ArrayMetadata, NodePath.Name(node.Path));
                }
            }

            var documents = metadata.ToDictionary(p => p.Key, p => ZarrV2.ToBytes(p.Value!), StringComparer.Ordinal);
            var consolidated = new JsonObject { ["zarr_consolidated_format"] = 1, ["metadata"] = metadata };
            return (documents, ZarrV2.ToBytes(consolidated));
        }
    }
}
