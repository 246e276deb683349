using System.Text.Json.Nodes;
using Floe.Formats.Hdf5;
using Floe.Storage;

namespace Floe.Formats.NetCdf;

/// <summary>
/// What `floe inspect` prints: a file's groups and arrays as the file stores them (numpy dtype, layout, filters,
/// fill value, attributes, chunk refs) side by side with how Floe reads each array. The JSON is documented in
/// docs/formats.md.
/// </summary>
public static class FileInspector
{
    public static async Task<JsonObject> InspectAsync(
        IByteRangeSource source, string location, bool includeRefs, CachingRangeReaderOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var reader = new CachingRangeReader(source, location, options);
        var format = await VirtualFileReader.DetectAsync(reader, cancellationToken);
        return format switch
        {
            SourceFormat.Hdf5 => await InspectHdf5Async(reader, includeRefs, cancellationToken),
            SourceFormat.NetCdf3 => await InspectNetCdf3Async(reader, includeRefs, cancellationToken),
            _ => throw new FormatException($"{location}: neither NetCDF-3 nor HDF5"),
        };
    }

    private static async Task<JsonObject> InspectHdf5Async(CachingRangeReader reader, bool includeRefs, CancellationToken cancellationToken)
    {
        var file = await Hdf5File.OpenAsync(reader, cancellationToken);
        var dataset = await NetCdf4Reader.ToVirtualAsync(file, cancellationToken);
        var mapped = dataset.Arrays.ToDictionary(a => a.Path, StringComparer.Ordinal);
        var groups = new JsonArray();
        foreach (var group in file.Walk().OfType<Hdf5Group>())
        {
            groups.Add(new JsonObject { ["path"] = group.Path, ["attributes"] = AllAttributes(group.Attributes) });
        }

        var arrays = new JsonArray();
        foreach (var node in file.Walk().OfType<Hdf5Dataset>())
        {
            var space = node.Dataspace;
            var json = new JsonObject
            {
                ["path"] = node.Path,
                ["dtype"] = node.Datatype.NumpyTypeString,
                ["shape"] = Longs(space.Dimensions),
            };
            if (space.MaxDimensions is { } max)
            {
                json["max_shape"] = new JsonArray([.. max.Select(m => m < 0 ? null : JsonValue.Create(m))]);
            }

            switch (node.Layout)
            {
                case Hdf5ChunkedLayout chunked:
                    json["chunk_shape"] = new JsonArray([.. chunked.ChunkShape.Select(c => (JsonNode)c)]);
                    json["layout"] = "chunked";
                    json["chunk_index"] = IndexName(chunked.IndexType);
                    break;
                case Hdf5ContiguousLayout:
                    json["layout"] = "contiguous";
                    break;
                case Hdf5CompactLayout:
                    json["layout"] = "compact";
                    break;
            }

            json["filters"] = new JsonArray([.. node.Filters.Select(f => (JsonNode)new JsonObject
            {
                ["id"] = f.Id,
                ["name"] = f.Name,
                ["parameters"] = new JsonArray([.. f.ClientData.Select(p => (JsonNode)p)]),
            })]);
            json["fill_value"] = FillJson(node);
            json["attributes"] = AllAttributes(node.Attributes);
            var chunks = await file.ReadChunksAsync(node, cancellationToken);
            json["chunks"] = chunks.Count;
            json["stored_bytes"] = chunks.Sum(c => c.Length);
            if (mapped.TryGetValue(node.Path, out var array))
            {
                json["dimensions"] = array.Metadata.DimensionNames is { } names ? new JsonArray([.. names.Select(n => (JsonNode?)n)]) : null;
                json["floe"] = FloeJson(array);
            }

            if (includeRefs)
            {
                json["refs"] = new JsonArray([.. chunks.Select(c => (JsonNode)Ref(c.Index, c.Offset, c.Length, c.FilterMask))]);
            }

            arrays.Add(json);
        }

        return Document(dataset, file.Source.Length, groups, arrays);
    }

    private static async Task<JsonObject> InspectNetCdf3Async(CachingRangeReader reader, bool includeRefs, CancellationToken cancellationToken)
    {
        var file = await NetCdf3Reader.ReadAsync(reader, cancellationToken);
        var dataset = NetCdf3Mapping.ToVirtualDataset(file);
        var mapped = dataset.Arrays.ToDictionary(a => a.Path, StringComparer.Ordinal);
        var groups = new JsonArray { new JsonObject { ["path"] = "/", ["attributes"] = dataset.Groups[0].Attributes.DeepClone() } };
        var arrays = new JsonArray();
        foreach (var variable in file.Variables)
        {
            var path = "/" + variable.Name;
            var json = new JsonObject
            {
                ["path"] = path,
                ["dtype"] = NumpyType(variable.Type),
                ["shape"] = Longs(variable.Shape),
                ["layout"] = variable.IsRecord ? "records" : "contiguous",
                ["filters"] = new JsonArray(),
                ["fill_value"] = FillJson(variable),
                ["dimensions"] = new JsonArray([.. variable.Dimensions.Select(d => (JsonNode)d.Name)]),
                ["attributes"] = NetCdf3Mapping.Attributes(variable.Attributes),
            };
            if (mapped.TryGetValue(path, out var array))
            {
                json["chunks"] = array.Chunks.Count;
                json["stored_bytes"] = array.Chunks.Sum(c => c.Length);
                json["floe"] = FloeJson(array);
                if (includeRefs)
                {
                    json["refs"] = new JsonArray([.. array.Chunks.Select(c => (JsonNode)Ref(c.Index, c.Offset, c.Length, 0))]);
                }
            }

            arrays.Add(json);
        }

        return Document(dataset, file.Source.Length, groups, arrays);
    }

    private static JsonObject Document(VirtualDataset dataset, long size, JsonArray groups, JsonArray arrays) => new()
    {
        ["file"] = dataset.Location,
        ["format"] = dataset.Format,
        ["size"] = size,
        ["requests"] = dataset.Requests,
        ["round_trips"] = dataset.RoundTrips,
        ["bytes_read"] = dataset.BytesRead,
        ["groups"] = groups,
        ["arrays"] = arrays,
        ["skipped"] = new JsonArray([.. dataset.Skipped.Select(s => (JsonNode)new JsonObject { ["path"] = s.Path, ["reason"] = s.Reason })]),
    };

    private static JsonObject FloeJson(VirtualArray array)
    {
        var metadata = array.Metadata;
        return new JsonObject
        {
            ["data_type"] = metadata.DataType.Name,
            ["chunk_shape"] = new JsonArray([.. metadata.ChunkShape.Select(c => (JsonNode)c)]),
            ["fill_value"] = metadata.FillValue.ToJson(),
            ["codecs"] = new JsonArray([.. metadata.Codecs.Select(c => (JsonNode)c.ToJson())]),
            ["inline"] = array.Chunks.Count > 0 && array.Chunks.All(c => c.Inline is not null),
        };
    }

    private static JsonObject Ref(long[] index, long offset, long length, uint filterMask) => new()
    {
        ["index"] = Longs(index),
        ["offset"] = offset,
        ["length"] = length,
        ["filter_mask"] = filterMask,
    };

    private static JsonArray Longs(IEnumerable<long> values) => new([.. values.Select(v => (JsonNode)v)]);

    private static JsonObject AllAttributes(IReadOnlyList<Hdf5Attribute> attributes)
    {
        var json = new JsonObject();
        foreach (var attribute in attributes)
        {
            json[attribute.Name] = NetCdf4Reader.ToJson(attribute.Value) ?? JsonValue.Create($"<{attribute.Datatype.Class}>");
        }

        return json;
    }

    private static JsonNode? FillJson(Hdf5Dataset dataset) =>
        dataset.FillValue is { IsDefined: true, Value: { } raw } ? NetCdf4Reader.ToJson(Hdf5File.DecodeElement(dataset.Datatype, raw)) : null;

    // NetCDF-3 stores big-endian; the fill is _FillValue or the type's default fill.
    private static JsonNode? FillJson(NetCdf3Variable variable)
    {
        if (variable.Type == NetCdf3Type.Char)
        {
            return null;
        }

        if (variable.Attribute("_FillValue") is { IsText: false, Count: 1 } fill)
        {
            return NetCdf4Reader.ToJson(fill.Values);
        }

        var bytes = NetCdf3Types.DefaultFillBigEndian(variable.Type);
        return NetCdf4Reader.ToJson(new NetCdf3Attribute("_FillValue", variable.Type, bytes).Values);
    }

    private static string NumpyType(NetCdf3Type type) => type switch
    {
        NetCdf3Type.Char => "|S1",
        _ when NetCdf3Types.SizeOf(type) == 1 => "|" + Short(type),
        _ => ">" + Short(type),
    };

    private static string Short(NetCdf3Type type)
    {
        var dataType = NetCdf3Types.ToDataType(type)!;
        var kind = dataType.IsFloat ? 'f' : dataType.IsSignedInteger ? 'i' : 'u';
        return $"{kind}{dataType.Size}";
    }

    private static string IndexName(Hdf5ChunkIndexType type) => type switch
    {
        Hdf5ChunkIndexType.BTreeV1 => "btree_v1",
        Hdf5ChunkIndexType.SingleChunk => "single_chunk",
        Hdf5ChunkIndexType.Implicit => "implicit",
        Hdf5ChunkIndexType.FixedArray => "fixed_array",
        Hdf5ChunkIndexType.ExtensibleArray => "extensible_array",
        Hdf5ChunkIndexType.BTreeV2 => "btree_v2",
        _ => type.ToString(),
    };
}
