using System.Text.Json.Nodes;
using Floe.Export;
using Floe.Store;

namespace Floe.Stac;

/// <summary>
/// Repository branches as datacube items (docs/stac.md: Datacube items): one collection per repository, one item per
/// branch with the branch's Zarr view and gRPC endpoint as assets.
/// </summary>
public static class DatacubeCatalog
{
    /// <summary>The item id of a branch: REPOSITORY@BRANCH.</summary>
    public static string ItemId(string repository, string branch) => $"{repository}@{branch}";

    /// <summary>Describes the head of <paramref name="branch"/>; <paramref name="zarrHref"/> and <paramref name="grpcHref"/> become its assets.</summary>
    public static async Task<JsonObject> BranchItemAsync(Repository repository, string repositoryName, string branch, string zarrHref, string grpcHref,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var reader = await repository.ReadOnlyAsync(branch, cancellationToken);
        var grid = await FindGridAsync(reader, cancellationToken);
        var (dimensions, variables) = await Datacube.DescribeSnapshotAsync(reader, grid, cancellationToken);
        var snapshot = reader.Snapshot;
        var properties = new JsonObject
        {
            ["title"] = $"{repositoryName} at branch {branch}",
            ["datetime"] = StacJson.Time(grid?.FirstTime ?? snapshot.Timestamp),
        };
        if (grid?.FirstTime is { } first && grid.LastTime is { } last)
        {
            properties["start_datetime"] = StacJson.Time(first);
            properties["end_datetime"] = StacJson.Time(last);
        }

        properties["cube:dimensions"] = dimensions;
        properties["cube:variables"] = variables;
        properties["floe:repository"] = repositoryName;
        properties["floe:branch"] = branch;
        properties["floe:snapshot"] = snapshot.Id.ToString();
        properties["floe:committed"] = StacJson.Time(snapshot.Timestamp);
        if (grid is not null)
        {
            properties["floe:time_steps"] = grid.TimeCount;
        }

        var item = new JsonObject
        {
            ["type"] = "Feature",
            ["stac_version"] = StacJson.Version,
            ["stac_extensions"] = StacJson.Strings([StacJson.DatacubeExtension]),
            ["id"] = ItemId(repositoryName, branch),
            ["collection"] = repositoryName,
            ["geometry"] = grid is null ? null : StacJson.BboxGeometry(grid.Bbox[0], grid.Bbox[1], grid.Bbox[2], grid.Bbox[3]),
        };
        if (grid is not null)
        {
            item["bbox"] = StacJson.Numbers(grid.Bbox);
        }

        item["properties"] = properties;
        item["links"] = new JsonArray();
        item["assets"] = new JsonObject
        {
            ["zarr"] = new JsonObject
            {
                ["href"] = zarrHref,
                ["type"] = StacJson.ZarrMediaType,
                ["title"] = $"Zarr v2 view of {repositoryName} at {branch} (consolidated metadata in .zmetadata)",
                ["roles"] = StacJson.Strings(["data"]),
            },
            ["grpc"] = new JsonObject
            {
                ["href"] = grpcHref,
                ["type"] = StacJson.GrpcMediaType,
                ["title"] = "Floe gRPC API (docs/api.md): open the repository at this reference",
                ["roles"] = StacJson.Strings(["data"]),
                ["floe:repository"] = repositoryName,
                ["floe:reference"] = branch,
            },
        };
        return item;
    }

    /// <summary>A repository's collection over its branch items.</summary>
    public static JsonObject Collection(string repositoryName, IReadOnlyList<JsonObject> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var boxes = items.Select(i => i["bbox"]?.AsArray().Select(v => v!.GetValue<double>()).ToArray()).Where(b => b is { Length: 4 }).ToList();
        var times = items.SelectMany(i => new[] { i["properties"]?["start_datetime"], i["properties"]?["end_datetime"], i["properties"]?["datetime"] })
            .Select(t => t?.GetValue<string>()).Where(t => t is not null).Order(StringComparer.Ordinal).ToList();
        var main = items.FirstOrDefault(i => i["properties"]?["floe:branch"]?.GetValue<string>() == Repository.MainBranch) ?? items.FirstOrDefault();
        return new JsonObject
        {
            ["type"] = "Collection",
            ["stac_version"] = StacJson.Version,
            ["stac_extensions"] = StacJson.Strings([StacJson.DatacubeExtension]),
            ["id"] = repositoryName,
            ["title"] = $"Floe repository {repositoryName}",
            ["description"] = $"The branches of the Floe repository '{repositoryName}' as datacubes, each readable as Zarr v2 over HTTP or through the gRPC API.",
            ["license"] = "other",
            ["providers"] = new JsonArray(new JsonObject { ["name"] = "Floe", ["roles"] = StacJson.Strings(["host"]) }),
            ["extent"] = new JsonObject
            {
                ["spatial"] = new JsonObject
                {
                    ["bbox"] = new JsonArray(boxes.Count == 0 ? StacJson.Numbers([-180, -90, 180, 90])
                        : StacJson.Numbers([boxes.Min(b => b![0]), boxes.Min(b => b![1]), boxes.Max(b => b![2]), boxes.Max(b => b![3])])),
                },
                ["temporal"] = new JsonObject { ["interval"] = new JsonArray(new JsonArray(times.FirstOrDefault(), times.LastOrDefault())) },
            },
            ["cube:dimensions"] = main?["properties"]?["cube:dimensions"]?.DeepClone() ?? new JsonObject(),
            ["cube:variables"] = main?["properties"]?["cube:variables"]?.DeepClone() ?? new JsonObject(),
            ["floe:repository"] = repositoryName,
            ["links"] = new JsonArray(),
        };
    }

    /// <summary>The grid of the first array (by path) with time, latitude and longitude dimensions, with the arrays sharing it.</summary>
    private static async Task<GridDescription?> FindGridAsync(NodeReader reader, CancellationToken cancellationToken)
    {
        var candidates = reader.Walk().Where(n => n.Kind == NodeKind.Array && n.ArrayMetadata.Rank == 3).OrderBy(n => n.Path, StringComparer.Ordinal).ToList();
        foreach (var candidate in candidates)
        {
            try
            {
                var sharing = candidates.Where(c => c.ArrayMetadata.Shape.SequenceEqual(candidate.ArrayMetadata.Shape)
                    && (c.ArrayMetadata.DimensionNames ?? []).SequenceEqual(candidate.ArrayMetadata.DimensionNames ?? [])).Select(c => c.Path).ToList();
                return await GridDescription.LoadAsync(reader, sharing, cancellationToken);
            }
            catch (ExportException)
            {
                // Not a time/latitude/longitude grid (or one of its arrays is not numeric): try the next.
            }
        }

        return null;
    }
}
