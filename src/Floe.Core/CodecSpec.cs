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
}
