using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Floe.Formats.NetCdf;
using Floe.Storage;

namespace Floe.Cli;

/// <summary>`floe inspect FILE [--json] [--refs]`: a source file's groups, arrays and chunk references.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A NetCDF4/HDF5 or NetCDF-3 file: a path or an http(s) URL" };
        var json = new Option<bool>("--json") { Description = "Print one JSON document (see docs/formats.md)" };
        var refs = new Option<bool>("--refs") { Description = "Include every chunk reference (index, offset, length, filter mask)" };
        var command = new Command("inspect", "Show a source file's groups and arrays (dtype, shape, chunks, filters, attributes) and how Floe reads them")
        {
            file, json, refs,
        };
        command.SetAction((parse, ct) => Commands.Run(async () =>
        {
            var location = parse.GetValue(file)!;
            if (!location.Contains("://", StringComparison.Ordinal))
            {
                location = Path.GetFullPath(location);
            }

            var document = await FileInspector.InspectAsync(ByteRangeSources.CreateDefault(), location, parse.GetValue(refs), cancellationToken: ct);
            if (parse.GetValue(json))
            {
                Console.WriteLine(document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                Print(Console.Out, document, parse.GetValue(refs));
            }
        }));
        return command;
    }

    internal static void Print(TextWriter output, JsonObject document, bool refs)
    {
        output.WriteLine($"{document["file"]}");
        output.WriteLine($"  format {document["format"]}, {Size(document["size"]!.GetValue<long>())}; structure read with {document["requests"]} request(s), {Size(document["bytes_read"]!.GetValue<long>())}");
        foreach (var group in document["groups"]!.AsArray())
        {
            var attributes = group!["attributes"]!.AsObject();
            output.WriteLine();
            output.WriteLine($"group {group["path"]}" + (attributes.Count > 0 ? $"  ({attributes.Count} attribute(s))" : ""));
            foreach (var (name, value) in attributes)
            {
                output.WriteLine($"    {name} = {Short(value)}");
            }
        }

        foreach (var array in document["arrays"]!.AsArray())
        {
            var a = array!.AsObject();
            output.WriteLine();
            var shape = string.Join(" × ", a["shape"]!.AsArray().Select(n => n!.ToJsonString()));
            output.WriteLine($"array {a["path"]}  {a["dtype"]}  [{shape}]  {a["layout"]}" +
                (a["chunk_shape"] is JsonArray chunkShape ? $" ({string.Join(" × ", chunkShape.Select(n => n!.ToJsonString()))}, {a["chunk_index"]})" : ""));
            if (a["dimensions"] is JsonArray dims)
            {
                output.WriteLine($"    dimensions  {string.Join(", ", dims.Select(d => d?.GetValue<string>() ?? "?"))}");
            }

            var filters = a["filters"]!.AsArray();
            if (filters.Count > 0)
            {
                output.WriteLine($"    filters     {string.Join(", ", filters.Select(f => $"{f!["name"]}({string.Join(",", f["parameters"]!.AsArray().Select(p => p!.ToJsonString()))})"))}");
            }

            output.WriteLine($"    fill value  {a["fill_value"]?.ToJsonString() ?? "undefined"}");
            if (a["chunks"] is { } chunks)
            {
                output.WriteLine($"    stored      {chunks} chunk(s), {Size(a["stored_bytes"]!.GetValue<long>())}");
            }

            if (a["floe"] is JsonObject floe)
            {
                output.WriteLine($"    floe        {floe["data_type"]}, codecs {string.Join(" | ", floe["codecs"]!.AsArray().Select(c => c!["name"]))}" +
                    (floe["inline"]!.GetValue<bool>() ? ", inline" : ""));
            }

            foreach (var (name, value) in a["attributes"]!.AsObject())
            {
                output.WriteLine($"    {name} = {Short(value)}");
            }

            if (refs && a["refs"] is JsonArray list)
            {
                foreach (var r in list)
                {
                    output.WriteLine($"    ref [{string.Join(",", r!["index"]!.AsArray().Select(i => i!.ToJsonString()))}]  offset {r["offset"]}  length {r["length"]}" +
                        (r["filter_mask"]!.GetValue<uint>() != 0 ? $"  filter mask 0x{r["filter_mask"]!.GetValue<uint>():x}" : ""));
                }
            }
        }

        var skipped = document["skipped"]!.AsArray();
        if (skipped.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("not read as arrays:");
            foreach (var s in skipped)
            {
                output.WriteLine($"    {s!["path"]}: {s["reason"]}");
            }
        }
    }

    private static string Short(JsonNode? value)
    {
        var text = value?.ToJsonString() ?? "null";
        text = text.Replace("\\n", " ", StringComparison.Ordinal);
        return text.Length > 100 ? text[..97] + "..." : text;
    }

    private static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1 << 20 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KB",
        _ => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MB",
    };
}
