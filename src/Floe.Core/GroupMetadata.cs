using System.Text;
using System.Text.Json.Nodes;

namespace Floe.Core;

/// <summary>Zarr v3 group metadata: {"zarr_format":3,"node_type":"group","attributes":{...}}.</summary>
public sealed record GroupMetadata(JsonObject Attributes)
{
    private static readonly HashSet<string> KnownFields = ["zarr_format", "node_type", "attributes"];

    public byte[] ToJsonBytes() => ZarrJson.Write(new JsonObject
    {
        ["zarr_format"] = 3,
        ["node_type"] = "group",
        ["attributes"] = Attributes.DeepClone(),
    });

    /// <summary>Reads a group zarr.json; malformed documents throw <see cref="FormatException"/> naming the field.</summary>
    public static GroupMetadata Parse(ReadOnlySpan<byte> zarrJson)
    {
        using var document = ZarrJson.ParseDocument(zarrJson);
        var root = ZarrJson.RootObject(document);
        ZarrJson.CheckFormatAndNodeType(root, "group");
        ZarrJson.CheckUnknownFields(root, KnownFields);
        return new GroupMetadata(ZarrJson.ReadAttributes(root));
    }

    public bool Equals(GroupMetadata? other) => other is not null && JsonNode.DeepEquals(Attributes, other.Attributes);

    public override int GetHashCode() => Attributes.Count;

    public override string ToString() => Encoding.UTF8.GetString(ToJsonBytes());
}
