using System.Globalization;
using System.Text.Json.Nodes;
using Floe.Core;
using Floe.Formats.Hdf5;
using Floe.Storage;

namespace Floe.Formats.NetCdf;

/// <summary>
/// Reads NetCDF4 (and plain HDF5) files as Floe virtual arrays: HDF5 groups become groups, numeric datasets become
/// arrays whose codecs undo the file's filters (byte order, shuffle, deflate, fletcher32, zstd) and CF packing,
/// with dimension names from the netCDF dimension scales and one byte-range reference per stored chunk.
/// </summary>
public static class NetCdf4Reader
{
    // netCDF-4's bookkeeping attributes: they describe the HDF5 encoding, not the data.
    private static readonly HashSet<string> InternalAttributes =
    [
        "_Netcdf4Dimid", "_Netcdf4Coordinates", "DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME", "_nc3_strict", "_NCProperties",
        "_IsNetcdf4",
    ];

    private const string PureDimensionPrefix = "This is a netCDF dimension but not a netCDF variable";

    /// <summary>Arrays whose stored chunks total at most this many bytes carry their bytes inline.</summary>
    public const int InlineThreshold = NetCdf3Reader.InlineThreshold;

    public static async Task<VirtualDataset> ReadVirtualAsync(
        IByteRangeSource source, string location, CachingRangeReaderOptions? options = null, CancellationToken cancellationToken = default)
    {
        var file = await Hdf5File.OpenAsync(source, location, options, cancellationToken);
        return await ToVirtualAsync(file, cancellationToken);
    }

    /// <summary>Maps an open HDF5 file; reads chunk indexes and the bytes of small arrays through the file's reader.</summary>
    public static async Task<VirtualDataset> ToVirtualAsync(Hdf5File file, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        var groups = new List<VirtualGroup>();
        var arrays = new List<VirtualArray>();
        var skipped = new List<SkippedObject>();
        var isNetCdf4 = file.Root.Attribute("_NCProperties") is not null;
        var dimensionLengths = DimensionLengths(file);
        await file.PrefetchChunkIndexesAsync(file.Walk().OfType<Hdf5Dataset>(), cancellationToken);

        foreach (var node in file.Walk())
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (node)
            {
                case Hdf5Group group:
                    groups.Add(new VirtualGroup(group.Path, Attributes(group.Attributes)));
                    foreach (var link in group.Links)
                    {
                        switch (link)
                        {
                            case Hdf5SoftLink soft:
                                skipped.Add(new SkippedObject(Join(group.Path, soft.Name),
                                    soft.Resolved is null
                                        ? $"soft link to {soft.TargetPath}, which does not exist"
                                        : $"soft link to {soft.TargetPath} (read there)"));
                                break;
                            case Hdf5ExternalLink external:
                                skipped.Add(new SkippedObject(Join(group.Path, external.Name),
                                    $"external link to {external.ObjectPath} in file {external.FileName} (not followed)"));
                                break;
                        }
                    }

                    break;
                case Hdf5Dataset dataset:
                    isNetCdf4 |= dataset.Attribute("_Netcdf4Dimid") is not null || dataset.Attribute("DIMENSION_LIST") is not null;
                    var array = await MapDatasetAsync(file, dataset, dimensionLengths, skipped, cancellationToken);
                    if (array is not null)
                    {
                        arrays.Add(array);
                    }

                    break;
                case Hdf5NamedDatatype type:
                    skipped.Add(new SkippedObject(type.Path, "named datatype (no data)"));
                    break;
            }
        }

        return new VirtualDataset(file.Location, file.Source, isNetCdf4 ? "netcdf4" : "hdf5", groups, arrays, skipped,
            file.RequestCount, file.BytesRead)
        { RoundTrips = file.RoundTrips };
    }

    private static async Task<VirtualArray?> MapDatasetAsync(
        Hdf5File file, Hdf5Dataset dataset, Dictionary<long, long> dimensionLengths, List<SkippedObject> skipped, CancellationToken cancellationToken)
    {
        if (dataset.Attribute("NAME")?.Value is string name && name.StartsWith(PureDimensionPrefix, StringComparison.Ordinal))
        {
            skipped.Add(new SkippedObject(dataset.Path, "netCDF dimension without a variable"));
            return null;
        }

        if (dataset.Dataspace.Kind == Hdf5DataspaceKind.Null)
        {
            skipped.Add(new SkippedObject(dataset.Path, "empty (null) dataspace"));
            return null;
        }

        var stored = StoredType(dataset.Datatype);
        if (stored is null)
        {
            skipped.Add(new SkippedObject(dataset.Path, $"{dataset.Datatype.Class} data ({dataset.Datatype.NumpyTypeString}) has no Floe array type"));
            return null;
        }

        var codecs = new List<CodecSpec>();
        var filterCodecs = new List<int>();
        foreach (var filter in dataset.Filters)
        {
            var spec = FilterCodec(filter, stored);
            if (spec is null)
            {
                skipped.Add(new SkippedObject(dataset.Path, $"filter {filter.Name} (id {filter.Id}) is not supported"));
                return null;
            }

            filterCodecs.Add(codecs.Count);
            codecs.Add(spec);
        }

        var bytes = stored.Size == 1
            ? new CodecSpec("bytes")
            : new CodecSpec("bytes", new JsonObject { ["endian"] = dataset.Datatype.IsBigEndian ? "big" : "little" });
        codecs.Insert(0, bytes);
        for (var i = 0; i < filterCodecs.Count; i++)
        {
            filterCodecs[i]++;
        }

        var attributes = Attributes(dataset.Attributes);
        var arrayType = stored;
        var fill = FillOf(dataset, stored);
        var packing = Packing(dataset, stored, fill);
        if (packing is not null)
        {
            codecs.Insert(0, packing.Value.Spec);
            for (var i = 0; i < filterCodecs.Count; i++)
            {
                filterCodecs[i]++;
            }

            arrayType = packing.Value.Unpacked;
            fill = FillValue.FromDouble(arrayType, double.NaN);
        }

        var shape = dataset.Dataspace.Kind == Hdf5DataspaceKind.Scalar ? [] : (long[])dataset.Dataspace.Dimensions.Clone();
        var scales = DimensionScales(dataset);
        for (var d = 0; d < shape.Length && scales is not null; d++)
        {
            // netCDF shares an unlimited dimension's length among all its variables; what a variable has not
            // written reads as fill, as netCDF4-python reads it.
            if (scales[d] is { } scale && dimensionLengths.TryGetValue(scale, out var length) && dataset.Dataspace.MaxDimensions?[d] == Hdf5Dataspace.Unlimited)
            {
                shape[d] = Math.Max(shape[d], length);
            }
        }
        var storedChunks = await file.ReadChunksAsync(dataset, cancellationToken);
        int[] chunkShape;
        List<VirtualChunk> chunks;
        switch (dataset.Layout)
        {
            case Hdf5ChunkedLayout chunked:
                chunkShape = chunked.ChunkShape;
                chunks = [.. storedChunks.Select(c => new VirtualChunk(c.Index, c.Offset, c.Length, c.FilterMask))];
                break;
            case Hdf5ContiguousLayout:
                (chunkShape, chunks) = SplitContiguous(shape, stored.Size, storedChunks);
                break;
            case Hdf5CompactLayout compact:
                chunkShape = [.. shape.Select(d => (int)Math.Max(1, d))];
                chunks = storedChunks.Count == 0 ? [] : [new VirtualChunk(new long[shape.Length], compact.DataOffset, compact.Data.Length, 0, compact.Data)];
                break;
            default:
                skipped.Add(new SkippedObject(dataset.Path, $"layout {dataset.Layout.GetType().Name} is not supported"));
                return null;
        }

        var metadata = new ArrayMetadata(shape, arrayType, chunkShape, fill, codecs, DimensionNames(file, dataset), attributes);
        try
        {
            metadata.Validate();
        }
        catch (ArgumentException ex)
        {
            skipped.Add(new SkippedObject(dataset.Path, ex.Message));
            return null;
        }

        if (chunks.Count > 0 && chunks.All(c => c.Inline is null) && chunks.Sum(c => c.Length) <= InlineThreshold)
        {
            chunks = await InlineAsync(file, dataset, chunks, cancellationToken);
        }

        return new VirtualArray(dataset.Path, metadata, chunks) { FilterCodecs = filterCodecs };
    }

    private static async Task<List<VirtualChunk>> InlineAsync(Hdf5File file, Hdf5Dataset dataset, List<VirtualChunk> chunks, CancellationToken cancellationToken)
    {
        var inlined = new List<VirtualChunk>(chunks.Count);
        foreach (var chunk in chunks)
        {
            var data = await file.ReadStoredBytesAsync(chunk.Offset, (int)chunk.Length, dataset.Path, cancellationToken);
            inlined.Add(chunk with { Inline = data });
        }

        return inlined;
    }

    // Contiguous data is one byte range in C order, so runs of whole rows are chunks (cut as NetCDF-3 fixed variables are).
    private static (int[] ChunkShape, List<VirtualChunk> Chunks) SplitContiguous(long[] shape, int elementSize, IReadOnlyList<Hdf5StoredChunk> stored)
    {
        var (chunkShape, pieces) = NetCdf3Mapping.ContiguousPieces(shape, elementSize, NetCdf3Mapping.ContiguousChunkBytes);
        if (stored.Count == 0)
        {
            return (chunkShape, []);
        }

        var start = stored[0].Offset;
        return (chunkShape, [.. pieces.Select(p => new VirtualChunk(p.Index, start + p.Offset, p.Length))]);
    }

    /// <summary>The Floe type a dataset's elements are stored as, or null when it has none.</summary>
    private static DataType? StoredType(Hdf5Datatype type)
    {
        var datatype = type.Class == Hdf5DatatypeClass.Enum && type.BaseType is { } enumBase ? enumBase : type;
        return datatype.Class switch
        {
            Hdf5DatatypeClass.FixedPoint or Hdf5DatatypeClass.Bitfield => (datatype.Size, datatype.IsSigned && datatype.Class == Hdf5DatatypeClass.FixedPoint) switch
            {
                (1, true) => DataType.Int8,
                (2, true) => DataType.Int16,
                (4, true) => DataType.Int32,
                (8, true) => DataType.Int64,
                (1, false) => DataType.UInt8,
                (2, false) => DataType.UInt16,
                (4, false) => DataType.UInt32,
                (8, false) => DataType.UInt64,
                _ => null,
            },
            Hdf5DatatypeClass.FloatingPoint => datatype.Size switch
            {
                2 => DataType.Float16,
                4 => DataType.Float32,
                8 => DataType.Float64,
                _ => null,
            },
            _ => null,
        };
    }

    private static CodecSpec? FilterCodec(Hdf5Filter filter, DataType stored) => filter.Id switch
    {
        1 => new CodecSpec("zlib", new JsonObject { ["level"] = filter.ClientData.Length > 0 ? (int)Math.Min(filter.ClientData[0], 9) : 6 }),
        2 => new CodecSpec("shuffle", new JsonObject { ["elementsize"] = filter.ClientData.Length > 0 ? (int)filter.ClientData[0] : stored.Size }),
        3 => new CodecSpec("fletcher32"),
        32015 => new CodecSpec("zstd", new JsonObject { ["level"] = filter.ClientData.Length > 0 ? (int)Math.Clamp(filter.ClientData[0], 1, 22) : 3 }),
        _ => null,
    };

    /// <summary>
    /// The fill value: the <c>_FillValue</c> attribute, else the HDF5 fill value, else IMERG's
    /// <c>CodeMissingValue</c>, else zero.
    /// </summary>
    private static FillValue FillOf(Hdf5Dataset dataset, DataType stored)
    {
        if (dataset.Attribute("_FillValue")?.Value is { } attribute && ToDouble(attribute) is { } fromAttribute)
        {
            return FromNumber(stored, attribute, fromAttribute);
        }

        if (dataset.FillValue is { IsDefined: true, Value: { } raw } && raw.Length == stored.Size)
        {
            var littleEndian = raw.ToArray();
            if (dataset.Datatype.IsBigEndian)
            {
                Array.Reverse(littleEndian);
            }

            return FillValue.FromBytes(stored, littleEndian);
        }

        if (dataset.Attribute("CodeMissingValue")?.Value is string code &&
            double.TryParse(code.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
        {
            return FillValue.FromDouble(stored, stored.IsFloat ? parsed : Math.Round(parsed));
        }

        return FillValue.Zero(stored);
    }

    private static FillValue FromNumber(DataType type, object value, double asDouble) => value switch
    {
        long l when type.IsInteger => FillValue.FromBytes(type, BitConverter.GetBytes(l).AsSpan(0, type.Size)),
        ulong u when type.IsInteger => FillValue.FromBytes(type, BitConverter.GetBytes(u).AsSpan(0, type.Size)),
        _ => FillValue.FromDouble(type, asDouble),
    };

    /// <summary>CF packing as netCDF4-python applies it: integer data with scale_factor and/or add_offset.</summary>
    private static (CodecSpec Spec, DataType Unpacked)? Packing(Hdf5Dataset dataset, DataType stored, FillValue fill)
    {
        var scaleAttribute = dataset.Attribute("scale_factor");
        var offsetAttribute = dataset.Attribute("add_offset");
        if (scaleAttribute is null && offsetAttribute is null)
        {
            return null;
        }

        var scale = scaleAttribute?.Value is { } s ? ToDouble(s) : null;
        var offset = offsetAttribute?.Value is { } o ? ToDouble(o) : null;
        if ((scaleAttribute is not null && scale is null) || (offsetAttribute is not null && offset is null))
        {
            return null;
        }

        // numpy's result type of packed data times the attribute (a scalar): float data keeps its type; integers
        // take the attribute's float type, widened to float64 when float32 cannot hold them.
        var attributeIsDouble = (scaleAttribute ?? offsetAttribute)!.Datatype.Size == 8;
        var unpacked = stored.IsFloat
            ? (stored == DataType.Float64 ? DataType.Float64 : DataType.Float32)
            : attributeIsDouble || stored.Size >= 4 ? DataType.Float64 : DataType.Float32;

        var config = new JsonObject { ["packed_type"] = stored.Name };
        if (scale is { } sf)
        {
            config["scale_factor"] = sf;
        }

        if (offset is { } ao)
        {
            config["add_offset"] = ao;
        }

        var mask = new JsonArray { JsonValue.Create(fill.ToDouble()) };
        if (dataset.Attribute("missing_value")?.Value is { } missing)
        {
            foreach (var value in Flatten(missing))
            {
                if (ToDouble(value) is { } m)
                {
                    mask.Add(m);
                }
            }
        }

        config["mask"] = mask;
        if (dataset.Attribute("valid_min")?.Value is { } vmin && ToDouble(vmin) is { } min)
        {
            config["valid_min"] = min;
        }

        if (dataset.Attribute("valid_max")?.Value is { } vmax && ToDouble(vmax) is { } max)
        {
            config["valid_max"] = max;
        }

        if (dataset.Attribute("valid_range")?.Value is Array { Length: 2 } range &&
            ToDouble(range.GetValue(0)!) is { } low && ToDouble(range.GetValue(1)!) is { } high)
        {
            config["valid_min"] = low;
            config["valid_max"] = high;
        }

        return (new CodecSpec("cf_scale_offset", config), unpacked);
    }

    /// <summary>Per dimension scale (by object address): the longest extent any dataset has along it.</summary>
    private static Dictionary<long, long> DimensionLengths(Hdf5File file)
    {
        var lengths = new Dictionary<long, long>();
        foreach (var dataset in file.Walk().OfType<Hdf5Dataset>())
        {
            var dims = dataset.Dataspace.Dimensions;
            if (dataset.Attribute("CLASS")?.Value is "DIMENSION_SCALE" && dims.Length == 1)
            {
                lengths[dataset.Address] = Math.Max(lengths.GetValueOrDefault(dataset.Address), dims[0]);
            }

            if (DimensionScales(dataset) is { } scales)
            {
                for (var d = 0; d < scales.Length; d++)
                {
                    if (scales[d] is { } scale)
                    {
                        lengths[scale] = Math.Max(lengths.GetValueOrDefault(scale), dims[d]);
                    }
                }
            }
        }

        return lengths;
    }

    /// <summary>The object address of each dimension's scale, from DIMENSION_LIST; a scale is its own; null without any.</summary>
    private static long?[]? DimensionScales(Hdf5Dataset dataset)
    {
        var rank = dataset.Dataspace.Dimensions.Length;
        if (rank == 1 && dataset.Attribute("CLASS")?.Value is "DIMENSION_SCALE")
        {
            return [dataset.Address];
        }

        if (rank == 0 || dataset.Attribute("DIMENSION_LIST")?.Value is not Array list || list.Length != rank)
        {
            return null;
        }

        var scales = new long?[rank];
        for (var d = 0; d < rank; d++)
        {
            scales[d] = list.GetValue(d) switch
            {
                Hdf5ObjectReference single => single.Address,
                Array { Length: > 0 } many when many.GetValue(0) is Hdf5ObjectReference first => first.Address,
                _ => null,
            };
        }

        return scales;
    }

    private static string?[]? DimensionNames(Hdf5File file, Hdf5Dataset dataset) =>
        DimensionScales(dataset) is { } scales
            ? [.. scales.Select(scale => scale is { } address ? file.FindByAddress(address)?.Name : null)]
            : null;

    /// <summary>Attributes as Zarr attributes: netCDF bookkeeping dropped, one-element arrays as scalars.</summary>
    internal static JsonObject Attributes(IReadOnlyList<Hdf5Attribute> attributes)
    {
        var json = new JsonObject();
        foreach (var attribute in attributes)
        {
            if (InternalAttributes.Contains(attribute.Name))
            {
                continue;
            }

            if (ToJson(attribute.Value) is { } node)
            {
                json[attribute.Name] = node;
            }
        }

        return json;
    }

    /// <summary>An attribute value as JSON; null for values JSON cannot carry (references, opaque bytes).</summary>
    internal static JsonNode? ToJson(object? value)
    {
        switch (value)
        {
            case null:
                return null;
            case string s:
                return JsonValue.Create(s);
            case byte[]:
                return null;
            case Hdf5ObjectReference reference:
                return new JsonObject { ["object_address"] = reference.Address };
            case Array { Length: 1 } one:
                return ToJson(one.GetValue(0));
            case Array many:
                var array = new JsonArray();
                foreach (var item in many)
                {
                    var node = ToJson(item);
                    if (node is null && item is not null)
                    {
                        return null;
                    }

                    array.Add(node);
                }

                return array;
            case IReadOnlyDictionary<string, object?> compound:
                var obj = new JsonObject();
                foreach (var (key, member) in compound)
                {
                    obj[key] = ToJson(member);
                }

                return obj;
            case float f:
                return Number(f);
            case double d:
                return Number(d);
            case Half h:
                return Number((double)h);
            case sbyte or byte or short or ushort or int or uint or long or ulong:
                return JsonValue.Create(Convert.ToDecimal(value, CultureInfo.InvariantCulture));
            default:
                return null;
        }
    }

    private static JsonNode Number(double value) => double.IsFinite(value)
        ? JsonValue.Create(value)
        : JsonValue.Create(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");

    private static JsonNode Number(float value) => float.IsFinite(value)
        ? JsonValue.Create(value)
        : JsonValue.Create(float.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");

    private static IEnumerable<object> Flatten(object value) => value is Array array ? array.Cast<object>() : [value];

    private static double? ToDouble(object value) => value switch
    {
        Array { Length: 1 } one => one.GetValue(0) is { } inner ? ToDouble(inner) : null,
        string text => double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : null,
        float f => f,
        double d => d,
        Half h => (double)h,
        sbyte or byte or short or ushort or int or uint or long or ulong => Convert.ToDouble(value, CultureInfo.InvariantCulture),
        _ => null,
    };

    private static string Join(string group, string name) => group == "/" ? "/" + name : group + "/" + name;
}
