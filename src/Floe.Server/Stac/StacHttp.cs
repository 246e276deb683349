using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Floe.Rpc;
using Floe.Stac;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Floe.Server.Stac;

/// <summary>The STAC API under /stac and the exported files under /exports (docs/stac.md: STAC API).</summary>
public sealed class StacHttp(StacCatalog catalog, AccessPolicy access, FloeOptions options, ILogger<StacHttp> logger)
{
    private const string QueryablesRel = "http://www.opengis.net/def/rel/ogc/1.0/queryables";

    private static readonly string[] ConformsTo =
    [
        "https://api.stacspec.org/v1.0.0/core",
        "https://api.stacspec.org/v1.0.0/collections",
        "https://api.stacspec.org/v1.0.0/ogcapi-features",
        "https://api.stacspec.org/v1.0.0/item-search",
        "https://api.stacspec.org/v1.0.0/item-search#filter",
        "https://api.stacspec.org/v1.0.0/item-search#sort",
        "https://api.stacspec.org/v1.0.0/ogcapi-features#filter",
        "https://api.stacspec.org/v1.0.0/ogcapi-features#sort",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
        "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    ];

    private static readonly JsonSerializerOptions Compact = new();

    public void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/stac", Wrap(Landing));
        app.MapGet("/stac/conformance", Wrap(c => Json(c, 200, new JsonObject { ["conformsTo"] = StacJson.Strings(ConformsTo) })));
        app.MapGet("/stac/collections", Wrap(Collections));
        app.MapGet("/stac/collections/{collection}", Wrap(Collection));
        app.MapGet("/stac/collections/{collection}/items", Wrap(Items));
        app.MapGet("/stac/collections/{collection}/items/{item}", Wrap(Item));
        app.MapGet("/stac/collections/{collection}/queryables", Wrap(Queryables));
        app.MapGet("/stac/queryables", Wrap(Queryables));
        app.MapMethods("/stac/search", [HttpMethods.Get, HttpMethods.Post], Wrap(Search));
        app.MapMethods("/exports/{repository}/{**path}", [HttpMethods.Get, HttpMethods.Head], Wrap(ExportFile));
    }

    private RequestDelegate Wrap(Func<HttpContext, Task> handler) => async context =>
    {
        try
        {
            await handler(context);
        }
        catch (StacRequestException e)
        {
            await Json(context, e.Status, Error(e.Status == 404 ? "NotFound" : "InvalidParameterValue", e.Message));
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
        {
            var unauthenticated = e.StatusCode == StatusCode.Unauthenticated;
            if (unauthenticated)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
            }

            await Json(context, unauthenticated ? 401 : 403, Error(unauthenticated ? "Unauthorized" : "Forbidden", e.Status.Detail));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (Exception e)
        {
            logger.LogError(e, "STAC {Method} {Path} failed", context.Request.Method, context.Request.Path);
            await Json(context, 500, Error("ServerError", e.Message));
        }
    };

    private static JsonObject Error(string code, string description) => new() { ["code"] = code, ["description"] = description };

    /// <summary>Who is asking: an unknown token is refused; without a token, only anonymous reads (when configured) are visible.</summary>
    private Caller Caller(HttpContext context) => access.Authenticate(context.Request.Headers.Authorization.ToString());

    /// <summary>Which collections of <paramref name="index"/> the caller may read; one index per request, so a refresh in between changes nothing.</summary>
    private Func<string, bool> Visible(HttpContext context, StacIndex index)
    {
        var caller = Caller(context);
        if (caller.IsAnonymous && options.Auth.AnonymousRead.Count == 0)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "a bearer token is required (Authorization: Bearer TOKEN): no repository allows anonymous reads"));
        }

        return id => index.FindCollection(id) is { } found && (found.Repository is not { } repository || caller.May(Permission.Read, repository));
    }

    private string Root(HttpContext context) =>
        options.Server.PublicUrl is { Length: > 0 } url ? url.TrimEnd('/') : $"{context.Request.Scheme}://{context.Request.Host}";

    private string Base(HttpContext context) => Root(context) + "/stac";

    private async Task Landing(HttpContext context)
    {
        var b = Base(context);
        var links = new JsonArray(
            StacJson.Link("self", b, StacJson.JsonMediaType),
            StacJson.Link("root", b, StacJson.JsonMediaType),
            StacJson.Link("conformance", b + "/conformance", StacJson.JsonMediaType),
            StacJson.Link("data", b + "/collections", StacJson.JsonMediaType),
            StacJson.Link("search", b + "/search", StacJson.GeoJsonMediaType),
            StacJson.Link(QueryablesRel, b + "/queryables", "application/schema+json"));
        var post = StacJson.Link("search", b + "/search", StacJson.GeoJsonMediaType);
        post["method"] = "POST";
        links.Add(post);
        foreach (var collection in VisibleCollections(context, catalog.Index))
        {
            links.Add(StacJson.Link("child", $"{b}/collections/{Segment(collection.Id)}", StacJson.JsonMediaType, collection.Collection["title"]?.GetValue<string>()));
        }

        await Json(context, 200, new JsonObject
        {
            ["type"] = "Catalog",
            ["stac_version"] = StacJson.Version,
            ["id"] = "floe",
            ["title"] = "Floe",
            ["description"] = "Floe's datacubes (one collection per repository) and Parquet exports (one collection per export), searchable by place, time and properties.",
            ["conformsTo"] = StacJson.Strings(ConformsTo),
            ["links"] = links,
        });
    }

    private IEnumerable<StacCollection> VisibleCollections(HttpContext context, StacIndex index)
    {
        var visible = Visible(context, index);
        return index.Collections.Where(c => visible(c.Id)).OrderBy(c => c.Id, StringComparer.Ordinal);
    }

    private async Task Collections(HttpContext context)
    {
        var b = Base(context);
        var collections = new JsonArray(VisibleCollections(context, catalog.Index).Select(c => (JsonNode)CollectionDocument(context, c)).ToArray());
        await Json(context, 200, new JsonObject
        {
            ["collections"] = collections,
            ["links"] = new JsonArray(StacJson.Link("self", b + "/collections", StacJson.JsonMediaType), StacJson.Link("root", b, StacJson.JsonMediaType)),
        });
    }

    private StacCollection FindCollection(HttpContext context, StacIndex index)
    {
        var id = context.GetRouteValue("collection") as string ?? "";
        return Visible(context, index)(id) ? index.FindCollection(id)! : throw new StacRequestException("collection", $"no collection '{id}'", 404);
    }

    private async Task Collection(HttpContext context) => await Json(context, 200, CollectionDocument(context, FindCollection(context, catalog.Index)));

    private JsonObject CollectionDocument(HttpContext context, StacCollection collection)
    {
        var b = Base(context);
        var self = $"{b}/collections/{Segment(collection.Id)}";
        var document = collection.Collection.DeepClone().AsObject();
        document["links"] = new JsonArray(
            StacJson.Link("self", self, StacJson.JsonMediaType),
            StacJson.Link("root", b, StacJson.JsonMediaType),
            StacJson.Link("parent", b, StacJson.JsonMediaType),
            StacJson.Link("items", self + "/items", StacJson.GeoJsonMediaType),
            StacJson.Link(QueryablesRel, self + "/queryables", "application/schema+json"));
        return document;
    }

    private JsonObject ItemDocument(HttpContext context, IndexedItem item)
    {
        var b = Base(context);
        var collection = $"{b}/collections/{Segment(item.Collection)}";
        var document = item.Document.DeepClone().AsObject();
        document["links"] = new JsonArray(
            StacJson.Link("self", $"{collection}/items/{Segment(item.Id)}", StacJson.GeoJsonMediaType),
            StacJson.Link("root", b, StacJson.JsonMediaType),
            StacJson.Link("parent", collection, StacJson.JsonMediaType),
            StacJson.Link("collection", collection, StacJson.JsonMediaType));
        var root = Root(context);
        foreach (var (_, asset) in document["assets"]?.AsObject() ?? [])
        {
            if (asset?["href"]?.GetValue<string>() is { } href && !href.Contains("://", StringComparison.Ordinal))
            {
                asset["href"] = $"{root}/{href}";
            }
        }

        return document;
    }

    private async Task Item(HttpContext context)
    {
        var index = catalog.Index;
        var collection = FindCollection(context, index);
        var id = context.GetRouteValue("item") as string ?? "";
        var item = index.FindItem(collection.Id, id) ?? throw new StacRequestException("item", $"collection '{collection.Id}' has no item '{id}'", 404);
        await Json(context, 200, ItemDocument(context, item), StacJson.GeoJsonMediaType);
    }

    private async Task Queryables(HttpContext context)
    {
        var id = context.GetRouteValue("collection") as string;
        var b = Base(context);
        var index = catalog.Index;
        var properties = id is null ? index.Queryables(VisibleCollections(context, index).Select(c => c.Id)) : index.Queryables(FindCollection(context, index).Id);
        await Json(context, 200, new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2019-09/schema",
            ["$id"] = id is null ? b + "/queryables" : $"{b}/collections/{Segment(id)}/queryables",
            ["type"] = "object",
            ["title"] = id is null ? "Queryables of every collection" : $"Queryables of {id}",
            ["properties"] = properties,
            // Unknown names are refused rather than matching nothing, so a misspelt property is an error, not an empty answer.
            ["additionalProperties"] = false,
        }, "application/schema+json");
    }

    private async Task Items(HttpContext context)
    {
        var index = catalog.Index;
        var collection = FindCollection(context, index);
        var request = SearchRequest.FromQuery(Query(context), allowCollections: false);
        request = request.WithCollections([collection.Id]);
        await SearchAsync(context, index, request, $"{Base(context)}/collections/{Segment(collection.Id)}/items");
    }

    private async Task Search(HttpContext context)
    {
        SearchRequest request;
        if (HttpMethods.IsPost(context.Request.Method))
        {
            JsonNode? body;
            try
            {
                body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            }
            catch (JsonException e)
            {
                throw new StacRequestException("body", $"not JSON: {e.Message}");
            }

            request = SearchRequest.FromJson(body);
        }
        else
        {
            request = SearchRequest.FromQuery(Query(context));
        }

        await SearchAsync(context, catalog.Index, request, $"{Base(context)}/search");
    }

    private async Task SearchAsync(HttpContext context, StacIndex index, SearchRequest request, string self)
    {
        var visible = Visible(context, index);
        if (request.Collections is { } names)
        {
            var unknown = names.Where(n => !visible(n)).ToList();
            if (unknown.Count > 0)
            {
                throw new StacRequestException("collections", $"no collection {string.Join(", ", unknown.Select(u => $"'{u}'"))}");
            }
        }

        var page = index.Search(request, visible);
        var b = Base(context);
        var links = new JsonArray(StacJson.Link("root", b, StacJson.JsonMediaType));
        var post = HttpMethods.IsPost(context.Request.Method);
        links.Add(StacJson.Link("self", post ? self : self + context.Request.QueryString.Value, StacJson.GeoJsonMediaType));
        if (page.NextToken is { } token)
        {
            var next = StacJson.Link("next", post ? self : self + NextQuery(context, token), StacJson.GeoJsonMediaType);
            if (post)
            {
                next["method"] = "POST";
                next["body"] = request.NextBody(token);
                next["merge"] = false;
            }

            links.Add(next);
        }

        await Json(context, 200, new JsonObject
        {
            ["type"] = "FeatureCollection",
            ["features"] = new JsonArray(page.Items.Select(i => (JsonNode)ItemDocument(context, i)).ToArray()),
            ["links"] = links,
            ["numberMatched"] = page.Matched,
            ["numberReturned"] = page.Items.Count,
        }, StacJson.GeoJsonMediaType);
    }

    // Ids hold ':' (REPOSITORY:OUTPUT), which a path segment may carry as it is.
    private static string Segment(string id) => Uri.EscapeDataString(id).Replace("%3A", ":", StringComparison.Ordinal);

    private static IEnumerable<KeyValuePair<string, string?>> Query(HttpContext context) =>
        context.Request.Query.SelectMany(p => p.Value.Select(v => KeyValuePair.Create(p.Key, v)));

    private static string NextQuery(HttpContext context, string token)
    {
        var parts = context.Request.Query.Where(p => p.Key != "token")
            .SelectMany(p => p.Value.Select(v => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(v ?? "")}"))
            .Append($"token={Uri.EscapeDataString(token)}");
        return "?" + string.Join('&', parts);
    }

    /// <summary>GET/HEAD /exports/{repository}/{path}: a file of an export of that repository, with range requests.</summary>
    private async Task ExportFile(HttpContext context)
    {
        var repository = context.GetRouteValue("repository") as string ?? "";
        var path = context.GetRouteValue("path") as string ?? "";
        AccessPolicy.Require(Caller(context), Permission.Read, repository);
        var root = Path.Combine(catalog.ExportRoot, repository);
        var full = Path.GetFullPath(Path.Combine(root, path));
        if (!full.StartsWith(Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            || Path.GetFileName(full).StartsWith('.') || !File.Exists(full))
        {
            throw new StacRequestException("path", $"no exported file '{path}' of repository '{repository}'", 404);
        }

        var type = full.EndsWith(".parquet", StringComparison.Ordinal) ? StacJson.ParquetMediaType
            : full.EndsWith(".json", StringComparison.Ordinal) ? StacJson.JsonMediaType : "application/octet-stream";
        await Results.File(full, type, enableRangeProcessing: true).ExecuteAsync(context);
    }

    private static async Task Json(HttpContext context, int status, JsonObject document, string type = StacJson.JsonMediaType)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = type;
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(document.ToJsonString(Compact)), context.RequestAborted);
    }
}
