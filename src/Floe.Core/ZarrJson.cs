using System.Text.Json;
using System.Text.Json.Nodes;

namespace Floe.Core;

/// <summary>Shared helpers for reading and writing zarr.json documents.</summary>
internal static class ZarrJson
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true };

    public static JsonDocument ParseDocument(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            var document = JsonDocument.ParseValue(ref reader);
            if (reader.Read())
            {
                document.Dispose();
                throw new FormatException("zarr.json: unexpected content after the JSON document.");
            }

            return document;
        }
        catch (JsonException ex)
        {
            throw new FormatException($"zarr.json is not valid JSON: {ex.Message}", ex);
        }
    }

    public static JsonElement RootObject(JsonDocument document)
    {
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"zarr.json: expected a JSON object, got {root.ValueKind}.");
        }

        return root;
    }

    public static JsonElement Required(JsonElement obj, string field) =>
        obj.TryGetProperty(field, out var value)
            ? value
            : throw new FormatException($"zarr.json: missing required field \"{field}\".");

    public static void CheckFormatAndNodeType(JsonElement root, string nodeType)
    {
        var format = Required(root, "zarr_format");
        if (format.ValueKind != JsonValueKind.Number || !format.TryGetInt32(out var version) || version != 3)
        {
            throw new FormatException($"zarr.json: zarr_format must be 3, got {Describe(format)}.");
        }

        var type = Required(root, "node_type");
        if (type.ValueKind != JsonValueKind.String || type.GetString() != nodeType)
        {
            throw new FormatException($"zarr.json: node_type must be \"{nodeType}\", got {Describe(type)}.");
        }
    }

    public static JsonObject ReadAttributes(JsonElement root)
    {
        if (!root.TryGetProperty("attributes", out var attributes) || attributes.ValueKind == JsonValueKind.Null)
        {
            return new JsonObject();
        }

        if (attributes.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"zarr.json: attributes must be an object, got {Describe(attributes)}.");
        }

        return ToObject(attributes);
    }

    /// <summary>Rejects unknown top-level keys unless they say "must_understand": false, as the spec requires.</summary>
    public static void CheckUnknownFields(JsonElement root, IReadOnlySet<string> known)
    {
        foreach (var property in root.EnumerateObject())
        {
            if (known.Contains(property.Name))
            {
                continue;
            }

            var optional = property.Value.ValueKind == JsonValueKind.Object
                && property.Value.TryGetProperty("must_understand", out var must)
                && must.ValueKind == JsonValueKind.False;
            if (!optional)
            {
                throw new FormatException($"zarr.json: unsupported field \"{property.Name}\".");
            }
        }
    }

    // Detached copy: nodes built on a JsonElement would die with their JsonDocument.
    public static JsonObject ToObject(JsonElement element) => JsonNode.Parse(element.GetRawText())!.AsObject();

    /// <summary>A configuration object as a self-contained JsonElement, so numbers read the same however they were built.</summary>
    public static JsonElement ToElement(JsonObject? obj)
    {
        using var document = JsonDocument.Parse(obj?.ToJsonString() ?? "{}");
        return document.RootElement.Clone();
    }

    public static byte[] Write(JsonNode node)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            node.WriteTo(writer);
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    public static string Describe(JsonElement element)
    {
        var text = element.GetRawText();
        return text.Length > 60 ? text[..60] + "…" : text;
    }
}
