using System.Globalization;
using System.Text.Json.Nodes;
using System.Xml;
using Floe.Core;
using Floe.Export;
using Floe.Store;

namespace Floe.Stac;

/// <summary>The datacube extension's <c>cube:dimensions</c> and <c>cube:variables</c> for arrays of a snapshot.</summary>
public static class Datacube
{
    /// <summary>Dimensions of a time/latitude/longitude grid: temporal, and spatial y and x in EPSG:4326.</summary>
    public static JsonObject Dimensions(GridDescription grid)
    {
        ArgumentNullException.ThrowIfNull(grid);
        var dimensions = new JsonObject();
        var time = new JsonObject
        {
            ["type"] = "temporal",
            ["extent"] = new JsonArray(grid.FirstTime is { } first ? StacJson.Time(first) : null, grid.LastTime is { } last ? StacJson.Time(last) : null),
            ["step"] = grid.TimeStep is { } step ? XmlConvert.ToString(step) : null,
        };
        dimensions[grid.Dimensions[grid.TimeAxis]] = time;
        dimensions[grid.Latitude.Name] = Spatial("y", Math.Min(grid.Latitude.First, grid.Latitude.Last), Math.Max(grid.Latitude.First, grid.Latitude.Last), grid.Latitude.Step);
        dimensions[grid.Longitude.Name] = Spatial("x", grid.Longitude.First, grid.Longitude.Last, grid.Longitude.Step);
        return dimensions;
    }

    /// <summary>A variable per array: its dimensions, units and long name.</summary>
    public static JsonObject Variables(IEnumerable<(string Path, ArrayMetadata Metadata)> arrays, Func<string, string>? name = null)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        var variables = new JsonObject();
        foreach (var (path, metadata) in arrays)
        {
            var variable = new JsonObject
            {
                ["dimensions"] = StacJson.Strings((metadata.DimensionNames ?? []).Select((n, i) => n ?? $"dim_{i}")),
                ["type"] = "data",
                ["data_type"] = DataTypeName(metadata.DataType),
            };
            if (Attribute(metadata, "units") is { } units)
            {
                variable["unit"] = units;
            }

            if (Attribute(metadata, "long_name") is { } longName)
            {
                variable["description"] = longName;
            }

            variables[name is null ? NodePath.Name(path) : name(path)] = variable;
        }

        return variables;
    }

    /// <summary>
    /// The dimensions and variables of every array in a snapshot: 1-D arrays named like their dimension are
    /// coordinates (their dimension's extent), the others variables. Dimensions without a coordinate get the
    /// index range.
    /// </summary>
    public static async Task<(JsonObject Dimensions, JsonObject Variables)> DescribeSnapshotAsync(NodeReader reader, GridDescription? grid,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var arrays = reader.Walk().Where(n => n.Kind == NodeKind.Array).ToList();
        var dimensions = grid is null ? new JsonObject() : Dimensions(grid);
        var coordinates = arrays.Where(a => a.ArrayMetadata.Rank == 1 && a.ArrayMetadata.DimensionNames is [{ } d] && d == NodePath.Name(a.Path)).ToList();
        foreach (var array in arrays)
        {
            var metadata = array.ArrayMetadata;
            var names = metadata.DimensionNames ?? [];
            for (var d = 0; d < metadata.Rank; d++)
            {
                var dimension = d < names.Length && names[d] is { } n ? n : $"dim_{d}";
                if (dimensions.ContainsKey(dimension))
                {
                    continue;
                }

                var coordinate = coordinates.FirstOrDefault(c => NodePath.Name(c.Path) == dimension);
                dimensions[dimension] = coordinate is null
                    ? new JsonObject { ["type"] = "index", ["extent"] = new JsonArray(0, metadata.Shape[d] - 1), ["step"] = 1 }
                    : await CoordinateDimensionAsync(reader, coordinate, cancellationToken);
            }
        }

        var variables = Variables(arrays.Except(coordinates).Select(a => (a.Path, a.ArrayMetadata)), path => path.TrimStart('/'));
        return (dimensions, variables);
    }

    private static async Task<JsonObject> CoordinateDimensionAsync(NodeReader reader, Node coordinate, CancellationToken cancellationToken)
    {
        var metadata = coordinate.ArrayMetadata;
        var dimension = new JsonObject { ["type"] = "other" };
        if (metadata.Shape[0] == 0 || metadata.DataType.IsComplex || metadata.DataType.IsBool || metadata.Shape[0] > 10_000_000)
        {
            dimension["extent"] = new JsonArray(null, null);
            return dimension;
        }

        double[] values;
        try
        {
            values = NumericValues.ToDoubles(await reader.ReadRegionAsync(coordinate.Path, [0], [metadata.Shape[0]], cancellationToken), metadata.DataType);
        }
        catch (NotSupportedException)
        {
            dimension["extent"] = new JsonArray(null, null);
            return dimension;
        }

        var finite = values.Where(double.IsFinite).ToArray();
        dimension["extent"] = finite.Length == 0 ? new JsonArray(null, null) : new JsonArray(finite.Min(), finite.Max());
        if (Attribute(metadata, "units") is { } units)
        {
            dimension["unit"] = units;
        }

        return dimension;
    }

    private static JsonObject Spatial(string axis, double from, double to, double? step) => new()
    {
        ["type"] = "spatial",
        ["axis"] = axis,
        ["extent"] = new JsonArray(from, to),
        ["step"] = step,
        ["reference_system"] = 4326,
    };

    internal static string? Attribute(ArrayMetadata metadata, string name) =>
        metadata.Attributes[name] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;

    // The extension's names are the Zarr names for real numbers; complex ones are named by their parts.
    private static string DataTypeName(DataType type) => type.ToString() switch
    {
        "complex64" => "cfloat32",
        "complex128" => "cfloat64",
        "bool" => "other",
        var name => name,
    };
}
