using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Floe.Stac;
using Floe.Storage;
using Floe.Store;

namespace Floe.Cli;

/// <summary>`floe stac search` and `floe stac write` (docs/stac.md: CLI).</summary>
internal static class StacCommand
{
    private const int PageSize = 1000;

    public static Command Create()
    {
        var command = new Command("stac", "Search STAC catalogs of exports and datacubes, or (re)write an export's catalog");
        command.Subcommands.Add(Search());
        command.Subcommands.Add(Write());
        return command;
    }

    private static Command Search()
    {
        var catalog = new Option<string?>("--catalog") { Description = "A directory holding exports: every stac/collection.json below it is searched" };
        var url = new Option<string?>("--url") { Description = "A Floe server's HTTP address (its STAC API is at URL/stac), e.g. http://127.0.0.1:7701" };
        var token = new Option<string?>("--token")
        {
            Description = "Bearer token for --url (env FLOE_TOKEN)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("FLOE_TOKEN"),
        };
        var bbox = new Option<string?>("--bbox") { Description = "WEST,SOUTH,EAST,NORTH in degrees; west > east crosses the antimeridian" };
        var intersects = new Option<string?>("--intersects") { Description = "A GeoJSON geometry (text, or @FILE)" };
        var datetime = new Option<string?>("--datetime") { Description = "An instant or date, or an interval START/END with .. for an open end" };
        var collections = new Option<string?>("--collections") { Description = "Collection ids, comma-separated" };
        var ids = new Option<string?>("--ids") { Description = "Item ids, comma-separated" };
        var filter = new Option<string?>("--filter") { Description = "CQL2-text filter on item properties, e.g. \"max_tp_mm > 10 AND wet_fraction_tp_mm > 0.2\"" };
        var sortby = new Option<string?>("--sortby") { Description = "Sort fields, comma-separated, - for descending, e.g. -max_tp_mm" };
        var limit = new Option<int?>("--limit") { Description = "At most this many items (default: all)" };
        var format = new Option<string>("--format") { Description = "table, json (one item per line) or hrefs (data assets, one per line)", DefaultValueFactory = _ => "table" };
        var search = new Command("search", "Find items (Parquet files, datacube branches) by place, time and properties")
        {
            catalog, url, token, bbox, intersects, datetime, collections, ids, filter, sortby, limit, format,
        };
        search.SetAction((parse, ct) => Commands.Run(async () =>
        {
            var output = parse.GetValue(format) is "table" or "json" or "hrefs" ? parse.GetValue(format)! : throw new ArgumentException($"--format {parse.GetValue(format)}: choose table, json or hrefs");
            var max = parse.GetValue(limit);
            if (max is < 1)
            {
                throw new ArgumentException($"--limit {max}: give a positive number of items");
            }

            var body = new JsonObject();
            if (parse.GetValue(bbox) is { } b)
            {
                body["bbox"] = new JsonArray(b.Split(',').Select(v => (JsonNode)(double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var n)
                    ? n : throw new ArgumentException($"--bbox {b}: \"{v}\" is not a number"))).ToArray());
            }

            if (parse.GetValue(intersects) is { } g)
            {
                var text = g.StartsWith('@') ? await File.ReadAllTextAsync(g[1..], ct) : g;
                body["intersects"] = ParseJson(text, "--intersects");
            }

            if (parse.GetValue(datetime) is { } d)
            {
                body["datetime"] = d;
            }

            if (parse.GetValue(collections) is { } c)
            {
                body["collections"] = StacJson.Strings(c.Split(',', StringSplitOptions.TrimEntries));
            }

            if (parse.GetValue(ids) is { } i)
            {
                body["ids"] = StacJson.Strings(i.Split(',', StringSplitOptions.TrimEntries));
            }

            if (parse.GetValue(filter) is { } f)
            {
                body["filter"] = f;
                body["filter-lang"] = "cql2-text";
            }

            if (parse.GetValue(sortby) is { } s)
            {
                body["sortby"] = s;
            }

            body["limit"] = Math.Min(PageSize, max ?? PageSize);
            var items = parse.GetValue(url) is { } server
                ? SearchServerAsync(server, parse.GetValue(token), body, max, ct)
                : parse.GetValue(catalog) is { } directory
                    ? SearchCatalog(directory, body, max)
                    : throw new ArgumentException("give --catalog DIR (static catalogs of exports) or --url URL (a Floe server)");
            await PrintAsync(items, output, ct);
        }));
        return search;
    }

    private static Command Write()
    {
        var directory = new Argument<string>("directory") { Description = "The directory an export wrote" };
        var collection = new Option<string?>("--collection") { Description = "The collection id (default: the one written before, else REPOSITORY-DIRECTORY)" };
        var license = new Option<string?>("--license") { Description = "SPDX license id (default: from the arrays' license attribute, else other)" };
        var write = new Command("write", "(Re)write the static STAC catalog of an export (floe export parquet writes it too)")
        {
            Commands.RepoOption, directory, collection, license,
        };
        write.SetAction((parse, ct) => Commands.Run(async () =>
        {
            var repository = await Repository.OpenAsync(CliStorage.OpenStore(parse.GetValue(Commands.RepoOption)!), CliStorage.Options(), ct);
            var result = await ExportCatalog.WriteAsync(parse.GetValue(directory)!, repository,
                new ExportCatalogOptions { CollectionId = parse.GetValue(collection), License = parse.GetValue(license) }, ct);
            Console.WriteLine(Describe(result));
        }));
        return write;
    }

    internal static string Describe(ExportCatalogResult result) =>
        $"STAC catalog {Path.Combine(result.Directory, ExportCatalog.CatalogFile)}: collection {result.CollectionId}, {result.Items:N0} item(s)"
        + (result.ItemsRemoved > 0 ? $", {result.ItemsRemoved:N0} stale item(s) removed" : "");

    private static JsonNode ParseJson(string text, string option)
    {
        try
        {
            return JsonNode.Parse(text) ?? throw new ArgumentException($"{option}: null is not a geometry");
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{option}: not JSON: {e.Message}", e);
        }
    }

    /// <summary>Searches the static catalogs below a directory with the same index the server uses, page by page.</summary>
    private static async IAsyncEnumerable<JsonObject> SearchCatalog(string directory, JsonObject body, int? max)
    {
        var root = Path.GetFullPath(directory);
        if (!Directory.Exists(root))
        {
            throw new ArgumentException($"--catalog {directory}: no such directory");
        }

        var collections = Directory.EnumerateFiles(root, ExportCatalog.CollectionFile, SearchOption.AllDirectories)
            .Where(p => Path.GetFileName(Path.GetDirectoryName(p)) == ExportCatalog.DirectoryName)
            .Order(StringComparer.Ordinal)
            .Select(ExportCatalog.Load)
            .ToList();
        if (collections.Count == 0)
        {
            throw new ArgumentException($"--catalog {directory}: no {ExportCatalog.DirectoryName}/{ExportCatalog.CollectionFile} below it (export with floe export parquet, or write one with floe stac write)");
        }

        var index = new StacIndex(collections);
        if (body["collections"] is JsonArray names)
        {
            var unknown = names.Select(n => n!.GetValue<string>()).Where(n => index.FindCollection(n) is null).ToList();
            if (unknown.Count > 0)
            {
                throw new StacRequestException("collections", $"no collection {string.Join(", ", unknown)} in {root} (there are: {string.Join(", ", index.Collections.Select(c => c.Id))})");
            }
        }

        var returned = 0;
        while (true)
        {
            var page = index.Search(SearchRequest.FromJson(body));
            foreach (var item in page.Items)
            {
                yield return item.Document;
                if (++returned == max)
                {
                    yield break;
                }
            }

            if (page.NextToken is null)
            {
                yield break;
            }

            body["token"] = page.NextToken;
            await Task.Yield();
        }
    }

    /// <summary>POSTs the search to a server's STAC API and follows its next links.</summary>
    private static async IAsyncEnumerable<JsonObject> SearchServerAsync(string server, string? token, JsonObject body, int? max,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        if (!string.IsNullOrEmpty(token))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        var href = server.TrimEnd('/') + "/stac/search";
        var returned = 0;
        while (true)
        {
            using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(href, content, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            JsonNode? json = null;
            try
            {
                json = JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                // Reported below with the status.
            }

            if (!response.IsSuccessStatusCode)
            {
                var detail = json?["description"]?.GetValue<string>() ?? text.Trim();
                throw new HttpRequestException($"{href}: {(int)response.StatusCode} {response.ReasonPhrase}: {detail}");
            }

            var page = json as JsonObject ?? throw new HttpRequestException($"{href}: the answer is not a JSON object");
            foreach (var feature in page["features"]?.AsArray() ?? [])
            {
                yield return feature!.AsObject();
                if (++returned == max)
                {
                    yield break;
                }
            }

            var next = page["links"]?.AsArray().FirstOrDefault(l => l?["rel"]?.GetValue<string>() == "next");
            if (next?["body"] is not JsonObject nextBody)
            {
                yield break;
            }

            href = next["href"]!.GetValue<string>();
            body = nextBody.DeepClone().AsObject();
        }
    }

    private static async Task PrintAsync(IAsyncEnumerable<JsonObject> items, string format, CancellationToken cancellationToken)
    {
        var count = 0;
        var table = new List<string[]>();
        await foreach (var item in items.WithCancellation(cancellationToken))
        {
            count++;
            switch (format)
            {
                case "json":
                    Console.WriteLine(item.ToJsonString());
                    break;
                case "hrefs":
                    foreach (var (_, asset) in item["assets"]?.AsObject() ?? [])
                    {
                        if (asset?["roles"]?.AsArray().Any(r => r?.GetValue<string>() == "data") == true && asset["href"]?.GetValue<string>() is { } href
                            && asset["type"]?.GetValue<string>() == StacJson.ParquetMediaType)
                        {
                            Console.WriteLine(href);
                        }
                    }

                    break;
                default:
                    table.Add(Row(item));
                    break;
            }
        }

        if (format == "table")
        {
            string[] header = ["collection", "id", "start", "end", "rows", "summary", "asset"];
            table.Insert(0, header);
            var widths = header.Select((_, c) => table.Max(r => r[c].Length)).ToArray();
            foreach (var row in table)
            {
                Console.WriteLine(string.Join("  ", row.Select((v, c) => c == row.Length - 1 ? v : v.PadRight(widths[c]))).TrimEnd());
            }

            Console.WriteLine($"{count:N0} item(s)");
        }
    }

    private static string[] Row(JsonObject item)
    {
        var properties = item["properties"] as JsonObject ?? [];
        string Text(string name) => properties[name] is JsonValue v ? (v.TryGetValue<string>(out var s) ? s : v.ToJsonString()) : "";
        var maxima = properties.Where(p => p.Key.StartsWith("max_", StringComparison.Ordinal) && p.Value is JsonValue)
            .Select(p => $"{p.Key}={p.Value!.GetValue<double>().ToString("G4", CultureInfo.InvariantCulture)}");
        var asset = item["assets"]?.AsObject().Select(a => a.Value?["href"]?.GetValue<string>()).FirstOrDefault(h => h is not null) ?? "";
        return
        [
            item["collection"]?.GetValue<string>() ?? "", item["id"]?.GetValue<string>() ?? "",
            properties["start_datetime"] is null ? Text("datetime") : Text("start_datetime"), Text("end_datetime"),
            Text("table:row_count"), string.Join(' ', maxima), asset,
        ];
    }
}
