using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Floe.Export;

/// <summary>Summary of one value column in one file (docs/export.md, Export manifest).</summary>
public sealed record ValueSummary(long Count, long Missing, double? Min, double? Max, double Sum, long Wet)
{
    /// <summary>Fraction of present values above zero.</summary>
    public double WetFraction => Count > 0 ? (double)Wet / Count : 0;

    public double? Mean => Count > 0 ? Sum / Count : null;
}

/// <summary>One complete Parquet file of an export: times from <paramref name="Start"/> (inclusive) to <paramref name="End"/> (exclusive), <paramref name="Last"/> the last time step it holds.</summary>
public sealed record ExportedFile(
    string Path,
    string Date,
    DateTimeOffset Start,
    DateTimeOffset End,
    DateTimeOffset Last,
    long Rows,
    int RowGroups,
    long Bytes,
    string Snapshot,
    double[] Bbox,
    IReadOnlyDictionary<string, ValueSummary> Values,
    IReadOnlyList<string> CoarseCells);

/// <summary>
/// <c>_floe_export.json</c>: the export's options and its complete files. Rewritten through a temporary file and a
/// rename after every file, so it never lists a file that is not complete.
/// </summary>
public sealed class ExportManifest
{
    public const string FileName = "_floe_export.json";
    public const string Format = "floe-export/1";

    public required string Repository { get; init; }

    public required IReadOnlyList<string> Arrays { get; init; }

    public required int Resolution { get; init; }

    /// <summary>The options that decide a file's content; a rerun with other options needs --overwrite or another directory.</summary>
    public required JsonObject Options { get; init; }

    /// <summary>Column name, Parquet type and units, in file order.</summary>
    public required IReadOnlyList<(string Name, string Type, string? Units)> Columns { get; init; }

    public SortedDictionary<string, ExportedFile> Files { get; } = new(StringComparer.Ordinal);

    public static ExportManifest? Load(string directory)
    {
        var path = System.IO.Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var root = JsonNode.Parse(File.ReadAllBytes(path))!.AsObject();
            if (root["format"]?.GetValue<string>() != Format)
            {
                throw new ExportException($"{path}: not a Floe export manifest (format \"{root["format"]}\", expected \"{Format}\")");
            }

            var manifest = new ExportManifest
            {
                Repository = root["repository"]!.GetValue<string>(),
                Arrays = root["arrays"]!.AsArray().Select(a => a!.GetValue<string>()).ToArray(),
                Resolution = root["h3_resolution"]!.GetValue<int>(),
                Options = root["options"]!.AsObject().DeepClone().AsObject(),
                Columns = root["columns"]!.AsArray().Select(c => (c!["name"]!.GetValue<string>(), c["type"]!.GetValue<string>(), c["units"]?.GetValue<string>())).ToArray(),
            };
            foreach (var entry in root["files"]!.AsArray())
            {
                var file = ParseFile(entry!.AsObject());
                manifest.Files[file.Path] = file;
            }

            return manifest;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new ExportException($"{path} is not a readable export manifest: {ex.Message}", ex);
        }
    }

    /// <summary>Writes the manifest beside the files, atomically.</summary>
    public void Save(string directory)
    {
        var path = System.IO.Path.Combine(directory, FileName);
        var partial = System.IO.Path.Combine(directory, "." + FileName + ".partial");
        File.WriteAllText(partial, ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }), new UTF8Encoding(false));
        File.Move(partial, path, overwrite: true);
    }

    public JsonObject ToJson() => new()
    {
        ["format"] = Format,
        ["repository"] = Repository,
        ["arrays"] = new JsonArray(Arrays.Select(a => (JsonNode)a).ToArray()),
        ["h3_resolution"] = Resolution,
        ["options"] = Options.DeepClone(),
        ["columns"] = new JsonArray(Columns.Select(c => (JsonNode)new JsonObject { ["name"] = c.Name, ["type"] = c.Type, ["units"] = c.Units }).ToArray()),
        ["files"] = new JsonArray(Files.Values.Select(f => (JsonNode)FileJson(f)).ToArray()),
    };

    private static JsonObject FileJson(ExportedFile file)
    {
        var values = new JsonObject();
        foreach (var (name, summary) in file.Values)
        {
            values[name] = new JsonObject
            {
                ["count"] = summary.Count,
                ["missing"] = summary.Missing,
                ["min"] = summary.Min,
                ["max"] = summary.Max,
                ["sum"] = summary.Sum,
                ["mean"] = summary.Mean,
                ["wet"] = summary.WetFraction,
                ["wet_count"] = summary.Wet,
            };
        }

        return new JsonObject
        {
            ["path"] = file.Path,
            ["date"] = file.Date,
            ["start"] = Iso(file.Start),
            ["end"] = Iso(file.End),
            ["last"] = Iso(file.Last),
            ["rows"] = file.Rows,
            ["row_groups"] = file.RowGroups,
            ["bytes"] = file.Bytes,
            ["snapshot"] = file.Snapshot,
            ["bbox"] = new JsonArray(file.Bbox.Select(v => (JsonNode)v).ToArray()),
            ["values"] = values,
            ["coarse_cells"] = new JsonArray(file.CoarseCells.Select(c => (JsonNode)c).ToArray()),
        };
    }

    private static ExportedFile ParseFile(JsonObject json)
    {
        var values = new Dictionary<string, ValueSummary>(StringComparer.Ordinal);
        foreach (var (name, node) in json["values"]!.AsObject())
        {
            var v = node!.AsObject();
            values[name] = new ValueSummary(v["count"]!.GetValue<long>(), v["missing"]!.GetValue<long>(), v["min"]?.GetValue<double>(),
                v["max"]?.GetValue<double>(), v["sum"]!.GetValue<double>(), v["wet_count"]!.GetValue<long>());
        }

        var start = DateTimeOffset.Parse(json["start"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        return new ExportedFile(
            json["path"]!.GetValue<string>(),
            json["date"]!.GetValue<string>(),
            start,
            DateTimeOffset.Parse(json["end"]!.GetValue<string>(), CultureInfo.InvariantCulture),
            // Manifests written before "last" was recorded: the start is the one time step known to be in the file.
            json["last"] is { } last ? DateTimeOffset.Parse(last.GetValue<string>(), CultureInfo.InvariantCulture) : start,
            json["rows"]!.GetValue<long>(),
            json["row_groups"]!.GetValue<int>(),
            json["bytes"]!.GetValue<long>(),
            json["snapshot"]!.GetValue<string>(),
            json["bbox"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray(),
            values,
            json["coarse_cells"]!.AsArray().Select(c => c!.GetValue<string>()).ToArray());
    }

    public static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
