using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Floe.Export;
using Floe.Store;

namespace Floe.Stac;

/// <summary>What a static catalog of an export is called and says about its data.</summary>
public sealed class ExportCatalogOptions
{
    /// <summary>The collection id; default: the one already written, else REPOSITORY-DIRECTORY.</summary>
    public string? CollectionId { get; init; }

    public string? Title { get; init; }

    public string? Description { get; init; }

    /// <summary>An SPDX license id or "other"; default from the arrays' license attribute.</summary>
    public string? License { get; init; }
}

/// <summary>What <see cref="ExportCatalog.WriteAsync"/> wrote.</summary>
public sealed record ExportCatalogResult(string Directory, string CollectionId, int Items, int ItemsRemoved);

/// <summary>
/// The static STAC catalog of one export (docs/stac.md): <c>stac/catalog.json</c>, <c>stac/collection.json</c> and an
/// item per Parquet file under <c>stac/items/</c>, built from the export manifest and the arrays' metadata.
/// </summary>
public static class ExportCatalog
{
    public const string DirectoryName = "stac";
    public const string CatalogFile = "catalog.json";
    public const string CollectionFile = "collection.json";
    public const string ItemsDirectory = "items";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    // SPDX ids a license attribute may name; anything else is "other" with the text kept.
    private static readonly string[] KnownLicenses =
    [
        "CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0", "CC0-1.0", "ODbL-1.0", "PDDL-1.0", "ODC-By-1.0", "MIT", "Apache-2.0", "CC-BY-3.0",
    ];

    /// <summary>Writes or updates the catalog of the export in <paramref name="exportDirectory"/>, reading array metadata from <paramref name="repository"/>.</summary>
    public static async Task<ExportCatalogResult> WriteAsync(string exportDirectory, Repository repository, ExportCatalogOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        options ??= new ExportCatalogOptions();
        var directory = Path.GetFullPath(exportDirectory);
        var manifest = ExportManifest.Load(directory)
            ?? throw new StacCatalogException($"{directory} holds no export ({ExportManifest.FileName} is missing): run floe export parquet first");
        // The newest snapshot any file came from describes the arrays; every file records its own.
        var snapshot = manifest.Files.Values.OrderBy(f => f.Start).LastOrDefault()?.Snapshot;
        GridDescription grid;
        try
        {
            var reader = await repository.ReadOnlyAsync(snapshot ?? Repository.MainBranch, cancellationToken);
            grid = await GridDescription.LoadAsync(reader, manifest.Arrays, cancellationToken);
        }
        catch (Exception e) when (e is ExportException or FloeStoreException)
        {
            throw new StacCatalogException($"{directory}: cannot describe the exported arrays at snapshot {snapshot}: {e.Message}", e);
        }

        var stac = Path.Combine(directory, DirectoryName);
        var existing = ReadCollectionId(stac);
        var id = options.CollectionId ?? existing ?? DefaultCollectionId(manifest.Repository, directory);
        ValidateId(id, "--collection");
        var (collection, items) = Build(manifest, grid, id, options);
        return Publish(stac, collection, items);
    }

    /// <summary>The default collection id of an export: REPOSITORY-DIRECTORY, in characters safe in a URL path.</summary>
    public static string DefaultCollectionId(string repository, string directory)
    {
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(directory));
        return Sanitize(string.IsNullOrEmpty(repository) ? name : $"{repository}-{name}").Replace(':', '-');
    }

    /// <summary>
    /// The collection id of a server export at REPOSITORY/OUTPUT under the export root: "REPOSITORY:OUTPUT" with '/'
    /// as ':'. Neither repository names nor outputs hold ':', so two exports never share an id; an output with
    /// characters outside an id's gets them replaced and a hash of the path appended, for the same reason.
    /// </summary>
    public static string ServerCollectionId(string repositoryAndOutput)
    {
        ArgumentNullException.ThrowIfNull(repositoryAndOutput);
        var id = repositoryAndOutput.Replace('/', ':');
        if (Sanitize(id) == id && id.Length <= 200)
        {
            return id;
        }

        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(repositoryAndOutput)))[..8];
        var safe = Sanitize(id);
        return (safe.Length > 180 ? safe[..180] : safe) + "-" + hash;
    }

    /// <summary>Replaces every character but letters, digits, '.', '_', '-' and ':' by '-'.</summary>
    public static string Sanitize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':' ? c : '-');
        }

        return builder.ToString().Trim('-');
    }

    public static void ValidateId(string id, string parameter)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (id.Length == 0 || id.Length > 200 || Sanitize(id) != id)
        {
            throw new StacRequestException(parameter, $"\"{id}\" is not a collection id: 1-200 characters of letters, digits, '.', '_', '-' and ':'");
        }
    }

    /// <summary>The collection and its items (without links) for an export's manifest and grid.</summary>
    public static (JsonObject Collection, List<JsonObject> Items) Build(ExportManifest manifest, GridDescription grid, string collectionId, ExportCatalogOptions options)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentNullException.ThrowIfNull(options);
        var valueColumns = manifest.Columns.Skip(4).ToList();
        var items = manifest.Files.Values.OrderBy(f => f.Start).ThenBy(f => f.Path, StringComparer.Ordinal)
            .Select(f => Item(manifest, f, collectionId, valueColumns.Select(c => c.Name).ToList())).ToList();

        var names = grid.Metadata.Select(m => Datacube.Attribute(m, "long_name")).Where(n => n is not null).ToList();
        var arrays = string.Join(", ", manifest.Arrays);
        var title = options.Title ?? (names.Count > 0 ? $"{string.Join(", ", names)} ({manifest.Repository}) as Parquet" : $"{arrays} of {manifest.Repository} as Parquet");
        var description = options.Description
            ?? $"Rows (time, H3 cell at resolution {manifest.Resolution}, lat, lon, values) of {arrays} from the Floe repository "
            + $"'{manifest.Repository}', one Parquet file per day, partitioned by date. Value columns: "
            + string.Join(", ", valueColumns.Select(c => c.Units is null ? c.Name : $"{c.Name} ({c.Units})")) + ".";

        var withGeometry = manifest.Files.Values.Where(f => f.Bbox.Length == 4).ToList();
        var bbox = withGeometry.Count > 0 ? UnionBbox(withGeometry.Select(f => f.Bbox)) : grid.Bbox;
        DateTimeOffset? start = manifest.Files.Count > 0 ? manifest.Files.Values.Min(f => f.Start) : grid.FirstTime;
        DateTimeOffset? end = manifest.Files.Count > 0 ? manifest.Files.Values.Max(f => f.Last) : grid.LastTime;

        var summaries = new JsonObject { ["floe:h3_resolution"] = new JsonArray(manifest.Resolution) };
        foreach (var column in valueColumns)
        {
            foreach (var stat in new[] { "min", "max" })
            {
                var values = manifest.Files.Values.Select(f => f.Values.TryGetValue(column.Name, out var v) ? (stat == "min" ? v.Min : v.Max) : null)
                    .Where(v => v is not null).Select(v => v!.Value).ToList();
                if (values.Count > 0)
                {
                    summaries[$"{stat}_{column.Name}"] = new JsonObject { ["minimum"] = values.Min(), ["maximum"] = values.Max() };
                }
            }
        }

        var (license, licenseText) = License(options.License, grid);
        var collection = new JsonObject
        {
            ["type"] = "Collection",
            ["stac_version"] = StacJson.Version,
            ["stac_extensions"] = StacJson.Strings([StacJson.DatacubeExtension, StacJson.TableExtension]),
            ["id"] = collectionId,
            ["title"] = title,
            ["description"] = description,
            ["license"] = license,
            ["providers"] = Providers(grid),
            ["extent"] = new JsonObject
            {
                ["spatial"] = new JsonObject { ["bbox"] = new JsonArray(StacJson.Numbers(bbox)) },
                ["temporal"] = new JsonObject { ["interval"] = new JsonArray(new JsonArray(start is { } s ? StacJson.Time(s) : null, end is { } e ? StacJson.Time(e) : null)) },
            },
            ["summaries"] = summaries,
            ["cube:dimensions"] = Datacube.Dimensions(grid),
            ["cube:variables"] = Datacube.Variables(grid.Arrays.Zip(grid.Metadata)),
            ["table:columns"] = new JsonArray(manifest.Columns.Select(c => (JsonNode)Column(c)).ToArray()),
            ["floe:repository"] = manifest.Repository,
            ["floe:arrays"] = StacJson.Strings(manifest.Arrays),
            ["links"] = new JsonArray(),
        };
        if (licenseText is not null)
        {
            collection["floe:license_text"] = licenseText;
        }

        return (collection, items);
    }

    private static JsonObject Item(ExportManifest manifest, ExportedFile file, string collectionId, List<string> valueColumns)
    {
        var properties = new JsonObject
        {
            ["datetime"] = StacJson.Time(file.Start),
            ["start_datetime"] = StacJson.Time(file.Start),
            ["end_datetime"] = StacJson.Time(file.Last),
            ["table:row_count"] = file.Rows,
            ["floe:row_groups"] = file.RowGroups,
            ["floe:bytes"] = file.Bytes,
            ["floe:h3_resolution"] = manifest.Resolution,
            ["floe:coarse_resolution"] = Math.Min(1, manifest.Resolution),
            ["floe:coarse_cells"] = StacJson.Strings(file.CoarseCells),
            ["floe:repository"] = manifest.Repository,
            ["floe:snapshot"] = file.Snapshot,
            ["floe:date"] = file.Date,
        };
        foreach (var column in valueColumns)
        {
            if (!file.Values.TryGetValue(column, out var summary))
            {
                continue;
            }

            properties[$"min_{column}"] = summary.Min;
            properties[$"max_{column}"] = summary.Max;
            properties[$"mean_{column}"] = summary.Mean;
            properties[$"wet_fraction_{column}"] = summary.WetFraction;
            properties[$"missing_{column}"] = summary.Missing;
        }

        var item = new JsonObject
        {
            ["type"] = "Feature",
            ["stac_version"] = StacJson.Version,
            ["stac_extensions"] = StacJson.Strings([StacJson.TableExtension]),
            ["id"] = ItemId(file),
            ["collection"] = collectionId,
            ["geometry"] = file.Bbox.Length == 4 ? StacJson.BboxGeometry(file.Bbox[0], file.Bbox[1], file.Bbox[2], file.Bbox[3]) : null,
        };
        if (file.Bbox.Length == 4)
        {
            item["bbox"] = StacJson.Numbers(file.Bbox);
        }

        item["properties"] = properties;
        item["links"] = new JsonArray();
        item["assets"] = new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["href"] = file.Path,
                ["type"] = StacJson.ParquetMediaType,
                ["title"] = $"Rows of {file.Date}",
                ["roles"] = StacJson.Strings(["data"]),
            },
        };
        return item;
    }

    /// <summary>An item's id: its file's name without ".parquet".</summary>
    public static string ItemId(ExportedFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return Path.GetFileNameWithoutExtension(file.Path);
    }

    private static JsonObject Column((string Name, string Type, string? Units) column)
    {
        var json = new JsonObject { ["name"] = column.Name, ["type"] = column.Type };
        json["description"] = column.Name switch
        {
            "time" => "UTC time of the value",
            "h3" => "H3 cell index of the grid point",
            "lat" => "latitude of the grid point, degrees north",
            "lon" => "longitude of the grid point, degrees east",
            _ => column.Units is null ? column.Name : $"{column.Name} in {column.Units}",
        };
        return json;
    }

    private static JsonArray Providers(GridDescription grid)
    {
        var providers = new JsonArray();
        var institutions = grid.Metadata.Select(m => Datacube.Attribute(m, "institution")).Where(i => i is not null).Distinct().ToList();
        foreach (var institution in institutions)
        {
            providers.Add(new JsonObject { ["name"] = institution, ["roles"] = StacJson.Strings(["producer", "licensor"]) });
        }

        providers.Add(new JsonObject { ["name"] = "Floe", ["description"] = "Exported to Parquet with H3 cells by floe export", ["roles"] = StacJson.Strings(["processor", "host"]) });
        return providers;
    }

    private static (string License, string? Text) License(string? given, GridDescription grid)
    {
        if (given is not null)
        {
            if (given != "other" && !KnownLicenses.Contains(given, StringComparer.OrdinalIgnoreCase) && !IsSpdxLike(given))
            {
                throw new StacRequestException("--license", $"\"{given}\" is not an SPDX license id (such as CC-BY-4.0) or \"other\"");
            }

            return (KnownLicenses.FirstOrDefault(k => k.Equals(given, StringComparison.OrdinalIgnoreCase)) ?? given, null);
        }

        var text = grid.Metadata.Select(m => Datacube.Attribute(m, "license") ?? Datacube.Attribute(m, "licence")).FirstOrDefault(t => t is not null);
        if (text is null)
        {
            return ("other", null);
        }

        var known = KnownLicenses.FirstOrDefault(k => text.Trim().Equals(k, StringComparison.OrdinalIgnoreCase)
            || text.Contains(k, StringComparison.OrdinalIgnoreCase) && text.Length < 200);
        return known is not null ? (known, null) : ("other", text);
    }

    // SPDX ids are letters, digits, '.', '-' and '+' (the STAC schema's pattern).
    private static bool IsSpdxLike(string id) => id.Length is > 0 and < 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '+');

    private static double[] UnionBbox(IEnumerable<double[]> boxes)
    {
        double south = 90, north = -90;
        var lons = new List<double>();
        var crossing = false;
        double crossWest = 180, crossEast = -180;
        foreach (var b in boxes)
        {
            south = Math.Min(south, b[1]);
            north = Math.Max(north, b[3]);
            if (b[0] > b[2])
            {
                crossing = true;
                crossWest = Math.Min(crossWest, b[0]);
                crossEast = Math.Max(crossEast, b[2]);
            }
            else
            {
                lons.Add(b[0]);
                lons.Add(b[2]);
            }
        }

        if (!crossing)
        {
            return [lons.Min(), south, lons.Max(), north];
        }

        // Boxes across the antimeridian: stretch the crossing box over the others (the files of one export share their points, so this is rare).
        foreach (var lon in lons)
        {
            if (lon >= 0)
            {
                crossWest = Math.Min(crossWest, lon);
            }
            else
            {
                crossEast = Math.Max(crossEast, lon);
            }
        }

        return crossWest <= crossEast ? [-180, south, 180, north] : [crossWest, south, crossEast, north];
    }

    /// <summary>
    /// Writes items, then the collection, then the catalog, each through a temporary file and a rename, and deletes
    /// the items no longer listed last: a reader starting from the catalog or the collection never finds a link to a
    /// missing or half-written item.
    /// </summary>
    internal static ExportCatalogResult Publish(string stac, JsonObject collection, List<JsonObject> items)
    {
        var itemsDirectory = Path.Combine(stac, ItemsDirectory);
        Directory.CreateDirectory(itemsDirectory);
        var id = collection["id"]!.GetValue<string>();
        var title = collection["title"]?.GetValue<string>();
        var links = new JsonArray(
            StacJson.Link("root", "../" + CatalogFile, StacJson.JsonMediaType),
            StacJson.Link("self", CollectionFile, StacJson.JsonMediaType),
            StacJson.Link("parent", "../" + CatalogFile, StacJson.JsonMediaType));
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var itemId = item["id"]!.GetValue<string>();
            var file = itemId + ".json";
            var copy = item.DeepClone().AsObject();
            copy["links"] = new JsonArray(
                StacJson.Link("root", "../../" + CatalogFile, StacJson.JsonMediaType),
                StacJson.Link("self", file, StacJson.GeoJsonMediaType),
                StacJson.Link("parent", "../" + CollectionFile, StacJson.JsonMediaType),
                StacJson.Link("collection", "../" + CollectionFile, StacJson.JsonMediaType));
            // Asset hrefs are relative to the export directory in the manifest, and to the item's folder here.
            foreach (var (_, asset) in copy["assets"]!.AsObject())
            {
                asset!["href"] = "../../" + asset["href"]!.GetValue<string>();
            }

            WriteAtomically(Path.Combine(itemsDirectory, file), copy);
            written.Add(file);
            links.Add(StacJson.Link("item", $"{ItemsDirectory}/{file}", StacJson.GeoJsonMediaType));
        }

        var collectionDocument = collection.DeepClone().AsObject();
        collectionDocument["links"] = links;
        WriteAtomically(Path.Combine(stac, CollectionFile), collectionDocument);

        var catalog = new JsonObject
        {
            ["type"] = "Catalog",
            ["stac_version"] = StacJson.Version,
            ["id"] = id + "-catalog",
            ["title"] = title,
            ["description"] = $"Static STAC catalog of the Floe export '{id}'",
            ["links"] = new JsonArray(
                StacJson.Link("root", CatalogFile, StacJson.JsonMediaType),
                StacJson.Link("self", CatalogFile, StacJson.JsonMediaType),
                StacJson.Link("child", CollectionFile, StacJson.JsonMediaType, title)),
        };
        WriteAtomically(Path.Combine(stac, CatalogFile), catalog);

        var removed = 0;
        foreach (var stale in Directory.EnumerateFiles(itemsDirectory, "*.json"))
        {
            if (!written.Contains(Path.GetFileName(stale)))
            {
                File.Delete(stale);
                removed++;
            }
        }

        return new ExportCatalogResult(stac, id, items.Count, removed);
    }

    private static void WriteAtomically(string path, JsonObject document)
    {
        var partial = Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + ".partial");
        File.WriteAllText(partial, document.ToJsonString(Indented), new UTF8Encoding(false));
        File.Move(partial, path, overwrite: true);
    }

    private static string? ReadCollectionId(string stac)
    {
        var path = Path.Combine(stac, CollectionFile);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(File.ReadAllBytes(path))?["id"]?.GetValue<string>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new StacCatalogException($"{path} is not a readable STAC collection: {e.Message}", e);
        }
    }

    /// <summary>
    /// Reads a static collection and the items its links name (never a directory listing), with hrefs made absolute
    /// file paths. <paramref name="collectionPath"/> is a collection.json (or the export directory holding stac/).
    /// </summary>
    public static StacCollection Load(string collectionPath)
    {
        ArgumentNullException.ThrowIfNull(collectionPath);
        var path = Path.GetFullPath(collectionPath);
        if (Directory.Exists(path))
        {
            path = File.Exists(Path.Combine(path, CollectionFile)) ? Path.Combine(path, CollectionFile) : Path.Combine(path, DirectoryName, CollectionFile);
        }

        var collection = ReadDocument(path, "Collection");
        var folder = Path.GetDirectoryName(path)!;
        var items = new List<JsonObject>();
        foreach (var link in collection["links"]?.AsArray() ?? [])
        {
            if (link?["rel"]?.GetValue<string>() != "item" || link["href"]?.GetValue<string>() is not { } href)
            {
                continue;
            }

            var itemPath = Path.GetFullPath(Path.Combine(folder, href));
            var item = ReadDocument(itemPath, "Feature");
            foreach (var (_, asset) in item["assets"]?.AsObject() ?? [])
            {
                if (asset?["href"]?.GetValue<string>() is { } assetHref && !Uri.TryCreate(assetHref, UriKind.Absolute, out _))
                {
                    asset["href"] = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(itemPath)!, assetHref));
                }
            }

            items.Add(item);
        }

        return new StacCollection(collection, items, path);
    }

    private static JsonObject ReadDocument(string path, string type)
    {
        try
        {
            var document = JsonNode.Parse(File.ReadAllBytes(path)) as JsonObject ?? throw new StacCatalogException($"{path}: not a JSON object");
            if (document["type"]?.GetValue<string>() != type || document["id"]?.GetValue<string>() is null)
            {
                throw new StacCatalogException($"{path}: not a STAC {(type == "Feature" ? "Item" : type)} (type \"{document["type"]}\")");
            }

            return document;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            throw new StacCatalogException($"{path}: {e.Message}", e);
        }
    }
}

/// <summary>A collection and its items as read from a static catalog; <see cref="Source"/> is where it was read from.</summary>
public sealed record StacCollection(JsonObject Collection, IReadOnlyList<JsonObject> Items, string? Source = null)
{
    public string Id => Collection["id"]!.GetValue<string>();

    public string? Repository => Collection["floe:repository"]?.GetValue<string>();
}
