using System.Text.Json.Nodes;

namespace Floe.Core;

/// <summary>One codec of an array's pipeline, as Zarr v3 writes it: {"name": ..., "configuration": {...}}.</summary>
public sealed record CodecSpec(string Name, JsonObject? Configuration = null)
{
    public JsonObject ToJson()
    {
        var json = new JsonObject { ["name"] = Name };
        if (Configuration is not null)
        {
            json["configuration"] = Configuration.DeepClone();
        }

        return json;
    }

    // JsonObject compares by reference; specs are equal when their JSON is.
    public bool Equals(CodecSpec? other) =>
        other is not null && other.Name == Name && JsonNode.DeepEquals(Configuration, other.Configuration);

    public override int GetHashCode() => HashCode.Combine(Name, Configuration?.Count ?? -1);

    public override string ToString() => ToJson().ToJsonString();

    /// <summary>A codec list as compact JSON, in the form zarr.json's "codecs" has; equal lists give equal text.</summary>
    public static string ListToJson(IEnumerable<CodecSpec> codecs) =>
        new JsonArray([.. codecs.Select(c => (JsonNode)c.ToJson())]).ToJsonString();

    /// <summary>Parses a codec list written by <see cref="ListToJson"/> (or zarr.json's "codecs"); throws <see cref="FormatException"/>.</summary>
    public static IReadOnlyList<CodecSpec> ParseList(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(json);
            return ArrayMetadata.ReadCodecs(document.RootElement);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new FormatException($"codec list is not JSON: {ex.Message}", ex);
        }
    }
}
