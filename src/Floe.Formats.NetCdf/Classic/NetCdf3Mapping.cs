using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json.Nodes;
using Floe.Core;

namespace Floe.Formats.NetCdf;

/// <summary>
/// Maps a NetCDF-3 file to Floe virtual arrays whose chunks are byte ranges of the file. One root group "/" holds
/// the global attributes; every numeric variable becomes the array "/name" with big-endian bytes codecs:
/// <list type="bullet">
/// <item>record variables get one chunk per record ([1, other dimensions...]);</item>
/// <item>fixed variables, stored contiguously, are cut along their first dimension into contiguous chunks of at most
/// <see cref="ContiguousChunkBytes"/> (along a later dimension when a single row is larger); the last chunk may be
/// partial, its length covering only the rows present;</item>
/// <item>variables of at most <see cref="NetCdf3Reader.InlineThreshold"/> bytes carry their bytes inline;</item>
/// <item>packed variables (scale_factor/add_offset) decode through <c>cf_scale_offset</c> to the type and values
/// netCDF4-python returns by default, masked values as NaN.</item>
/// </list>
/// Char variables are listed as skipped.
/// </summary>
public static class NetCdf3Mapping
{
    /// <summary>Most bytes in one chunk of a fixed (contiguous) variable.</summary>
    public const int ContiguousChunkBytes = 16 << 20;

    public static VirtualDataset ToVirtualDataset(NetCdf3File file) => ToVirtualDataset(file, ContiguousChunkBytes);

    /// <summary>As <see cref="ToVirtualDataset(NetCdf3File)"/> with another chunk size target (tests use small ones).</summary>
    internal static VirtualDataset ToVirtualDataset(NetCdf3File file, long chunkBytes)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 8);
        var arrays = new List<VirtualArray>();
        var skipped = new List<SkippedObject>();
        foreach (var variable in file.Variables)
        {
            var path = "/" + variable.Name;
            if (InvalidNameReason(variable.Name) is { } reason)
            {
                skipped.Add(new SkippedObject(path, reason));
            }
            else if (variable.Type == NetCdf3Type.Char)
            {
                skipped.Add(new SkippedObject(path, "character data has no Floe array type"));
            }
            else
            {
                arrays.Add(MapVariable(variable, path, chunkBytes));
            }
        }

        return new VirtualDataset(
            file.Location, file.Source, file.Format, [new VirtualGroup("/", Attributes(file.Attributes))], arrays, skipped, file.Requests, file.BytesRead)
        {
            RoundTrips = file.RoundTrips,
        };
    }

    private static VirtualArray MapVariable(NetCdf3Variable variable, string path, long chunkBytes)
    {
        var stored = NetCdf3Types.ToDataType(variable.Type)!;
        var bytes = stored.Size == 1 ? new CodecSpec("bytes") : new CodecSpec("bytes", new JsonObject { ["endian"] = "big" });
        DataType dataType;
        FillValue fill;
        IReadOnlyList<CodecSpec> codecs;
        if (Packing(variable) is { } packing)
        {
            dataType = packing.Unpacked;
            fill = FillValue.FromDouble(dataType, double.NaN);
            codecs = [packing.Spec, bytes];
        }
        else
        {
            dataType = stored;
            fill = FillFor(variable, stored);
            codecs = [bytes];
        }

        var (chunkShape, chunks) = Chunks(variable, variable.InlineData is null ? chunkBytes : long.MaxValue);
        var metadata = new ArrayMetadata(
            [.. variable.Shape], dataType, chunkShape, fill, codecs, [.. variable.Dimensions.Select(d => (string?)d.Name)], Attributes(variable.Attributes));
        return new VirtualArray(path, metadata, chunks);
    }

    // Node names Floe accepts: 1-255 characters, not "." or "..", no "/" and no control characters.
    private static string? InvalidNameReason(string name) =>
        name.Length > 255 ? "the name is longer than the 255 characters Floe allows"
        : name is "." or ".." ? $"\"{name}\" cannot name a Floe node"
        : name.Contains('/', StringComparison.Ordinal) ? "the name contains \"/\", which separates Floe node names"
        : name.Any(char.IsControl) ? "the name contains control characters, which Floe node names may not"
        : null;

    // ---- Chunk layout ----

    private static (int[] ChunkShape, List<VirtualChunk> Chunks) Chunks(NetCdf3Variable variable, long chunkBytes)
    {
        var size = NetCdf3Types.SizeOf(variable.Type);
        var inner = variable.IsRecord ? variable.Shape[1..] : variable.Shape;
        var (innerChunk, pieces) = ContiguousPieces(inner, size, chunkBytes);
        var chunks = new List<VirtualChunk>();
        for (long record = 0; record < variable.RecordCount; record++)
        {
            foreach (var (index, offset, length) in pieces)
            {
                var at = (record * variable.SlabBytes) + offset;
                byte[]? inline = variable.InlineData is { } data ? data.AsSpan((int)at, (int)length).ToArray() : null;
                chunks.Add(new VirtualChunk(
                    variable.IsRecord ? [record, .. index] : index,
                    variable.Begin + (record * variable.RecordStride) + offset,
                    length,
                    Inline: inline));
            }
        }

        return (variable.IsRecord ? [1, .. innerChunk] : innerChunk, chunks);
    }

    /// <summary>
    /// Cuts a C-order block of the given shape into contiguous chunks of at most <paramref name="chunkBytes"/>:
    /// [1, ..., 1, k, full...], splitting at the first dimension whose trailing rows fit. k is the largest count that
    /// fits that divides the dimension, so that no chunk is partial.
    /// </summary>
    internal static (int[] ChunkShape, List<(long[] Index, long Offset, long Length)> Pieces) ContiguousPieces(long[] shape, int size, long chunkBytes)
    {
        var rank = shape.Length;
        if (rank == 0)
        {
            return ([], [([], 0, size)]);
        }

        // tail[d]: bytes of one step along dimension d (the product of the later dimensions times the value size).
        var tail = new long[rank];
        tail[rank - 1] = size;
        for (var d = rank - 2; d >= 0; d--)
        {
            tail[d] = tail[d + 1] * shape[d + 1];
        }

        var split = 0;
        while (tail[split] > chunkBytes)
        {
            split++;
        }

        var rows = shape[split];
        var fit = Math.Max(1, chunkBytes / tail[split]);
        var k = fit >= rows ? rows : PreferDivisor(rows, fit);

        var chunkShape = new int[rank];
        for (var d = 0; d < rank; d++)
        {
            chunkShape[d] = d < split ? 1 : d == split ? (int)k : (int)shape[d];
        }

        // Enumerate chunk indexes over dimensions 0..split in C order.
        var counts = new long[split + 1];
        for (var d = 0; d < split; d++)
        {
            counts[d] = shape[d];
        }

        counts[split] = ((rows - 1) / k) + 1;
        var pieces = new List<(long[] Index, long Offset, long Length)>();
        if (counts.Any(c => c == 0))
        {
            return (chunkShape, pieces);
        }

        var index = new long[split + 1];
        while (true)
        {
            long offset = 0;
            for (var d = 0; d < split; d++)
            {
                offset += index[d] * tail[d];
            }

            offset += index[split] * k * tail[split];
            var length = Math.Min(k, rows - (index[split] * k)) * tail[split];
            var full = new long[rank];
            index.CopyTo(full, 0);
            pieces.Add((full, offset, length));

            var dim = split;
            while (dim >= 0 && ++index[dim] == counts[dim])
            {
                index[dim] = 0;
                dim--;
            }

            if (dim < 0)
            {
                return (chunkShape, pieces);
            }
        }
    }

    // The largest count of rows up to `fit` that divides the dimension: Floe decodes whole chunks, so none may be partial.
    private static long PreferDivisor(long rows, long fit)
    {
        for (var k = fit; k > 1; k--)
        {
            if (rows % k == 0)
            {
                return k;
            }
        }

        return 1;
    }

    // ---- Fill values ----

    // _FillValue when it is one value the variable's type holds exactly, else NetCDF's default fill.
    private static FillValue FillFor(NetCdf3Variable variable, DataType stored)
    {
        var bytes = new byte[stored.Size];
        if (variable.Attribute("_FillValue") is { IsText: false, Count: 1 } fill && TryCastExact(fill, 0, variable.Type, bytes))
        {
            return FillValue.FromBytes(stored, bytes);
        }

        bytes = NetCdf3Types.DefaultFillBigEndian(variable.Type);
        bytes.AsSpan().Reverse();
        return FillValue.FromBytes(stored, bytes);
    }

    /// <summary>
    /// Converts value <paramref name="i"/> of a numeric attribute to <paramref name="target"/>, writing its
    /// little-endian bytes, when the type holds it exactly (NaN counts as exact for float types): netCDF4-python's
    /// "safe cast" test for _FillValue, missing_value and valid_*.
    /// </summary>
    internal static bool TryCastExact(NetCdf3Attribute attribute, int i, NetCdf3Type target, Span<byte> littleEndian)
    {
        if (attribute.Type == target)
        {
            var size = NetCdf3Types.SizeOf(target);
            attribute.RawValues.Span.Slice(i * size, size).CopyTo(littleEndian);
            littleEndian[..size].Reverse();
            return true;
        }

        switch (target)
        {
            case NetCdf3Type.Float:
                {
                    var value = attribute.IsFloatingPoint ? attribute.FloatAt(i) : (double)attribute.IntegerAt(i);
                    var single = (float)value;
                    var exact = attribute.IsFloatingPoint
                        ? single == value || double.IsNaN(value)
                        : (Int128)single == attribute.IntegerAt(i);
                    BinaryPrimitives.WriteSingleLittleEndian(littleEndian, single);
                    return exact;
                }

            case NetCdf3Type.Double:
                {
                    var value = attribute.IsFloatingPoint ? attribute.FloatAt(i) : (double)attribute.IntegerAt(i);
                    BinaryPrimitives.WriteDoubleLittleEndian(littleEndian, value);
                    return attribute.IsFloatingPoint || (Int128)value == attribute.IntegerAt(i);
                }

            case NetCdf3Type.Char:
                return false;
        }

        Int128 integer;
        if (attribute.IsFloatingPoint)
        {
            var value = attribute.FloatAt(i);
            if (!double.IsFinite(value) || Math.Floor(value) != value || Math.Abs(value) >= 1.9e19)
            {
                return false;
            }

            integer = (Int128)value;
        }
        else
        {
            integer = attribute.IntegerAt(i);
        }

        var (min, max) = Range(target);
        if (integer < min || integer > max)
        {
            return false;
        }

        var size2 = NetCdf3Types.SizeOf(target);
        for (var b = 0; b < size2; b++)
        {
            littleEndian[b] = (byte)(integer >> (8 * b));
        }

        return true;
    }

    private static (Int128 Min, Int128 Max) Range(NetCdf3Type type) => type switch
    {
        NetCdf3Type.Byte => (sbyte.MinValue, sbyte.MaxValue),
        NetCdf3Type.UByte => (byte.MinValue, byte.MaxValue),
        NetCdf3Type.Short => (short.MinValue, short.MaxValue),
        NetCdf3Type.UShort => (ushort.MinValue, ushort.MaxValue),
        NetCdf3Type.Int => (int.MinValue, int.MaxValue),
        NetCdf3Type.UInt => (uint.MinValue, uint.MaxValue),
        NetCdf3Type.Int64 => (long.MinValue, long.MaxValue),
        NetCdf3Type.UInt64 => (ulong.MinValue, ulong.MaxValue),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not an integer type"),
    };

    // True when every value of a numeric attribute converts exactly to the type; char attributes never do.
    private static bool AllCastExact(NetCdf3Attribute attribute, NetCdf3Type target)
    {
        if (attribute.IsText)
        {
            return false;
        }

        Span<byte> scratch = stackalloc byte[8];
        for (var i = 0; i < attribute.Count; i++)
        {
            if (!TryCastExact(attribute, i, target, scratch))
            {
                return false;
            }
        }

        return true;
    }

    // ---- CF packing ----

    /// <summary>
    /// The cf_scale_offset codec and unpacked type for a variable that netCDF4-python unpacks by default, or null.
    /// It unpacks when each of scale_factor and add_offset that is present is one number, and then only if the
    /// values change: both present and not (1, 0), which converts to scale_factor's type even when they are; or
    /// scale_factor alone and not 1; or add_offset alone and not 0. The unpacked type is numpy 1.x's result type
    /// of <c>packed * scale_factor + add_offset</c>. Values masked by netCDF4-python (before unpacking) are listed
    /// as packed values: _FillValue (or the type's default fill), every missing_value, and valid_range or
    /// valid_min/valid_max, each used only when the variable's type holds it exactly, as netCDF4-python requires.
    /// </summary>
    private static (CodecSpec Spec, DataType Unpacked)? Packing(NetCdf3Variable variable)
    {
        var scale = variable.Attribute("scale_factor");
        var offset = variable.Attribute("add_offset");
        if (scale is null && offset is null)
        {
            return null;
        }

        if ((scale is not null && (scale.IsText || scale.Count != 1)) || (offset is not null && (offset.IsText || offset.Count != 1)))
        {
            return null;
        }

        var packed = NetCdf3Types.ToDataType(variable.Type)!;
        var s = scale?.DoubleAt(0);
        var o = offset?.DoubleAt(0);
        DataType? unpacked;
        if (scale is not null && offset is not null)
        {
            unpacked = o != 0 || s != 1
                ? NetCdf3Numpy.ArrayWithScalar(NetCdf3Numpy.ArrayWithScalar(packed, TypeOf(scale), s!.Value), TypeOf(offset), o!.Value)
                : TypeOf(scale);
        }
        else if (scale is not null)
        {
            unpacked = s != 1 ? NetCdf3Numpy.ArrayWithScalar(packed, TypeOf(scale), s!.Value) : null;
        }
        else
        {
            unpacked = o != 0 ? NetCdf3Numpy.ArrayWithScalar(packed, TypeOf(offset!), o!.Value) : null;
        }

        // Integer results cannot hold NaN for masked values, and non-finite or zero factors cannot be configured:
        // such variables keep their stored values.
        if (unpacked is null || (unpacked != DataType.Float32 && unpacked != DataType.Float64)
            || s is { } sv && (!double.IsFinite(sv) || sv == 0) || o is { } ov && !double.IsFinite(ov))
        {
            return null;
        }

        var config = new JsonObject { ["packed_type"] = packed.Name };
        if (s is { } sf)
        {
            config["scale_factor"] = sf;
        }

        if (o is { } ao)
        {
            config["add_offset"] = ao;
        }

        var mask = new List<double>();
        void AddMask(double value)
        {
            // NaN cannot be listed, and needs no listing: NaN stays NaN through the arithmetic.
            if (!double.IsNaN(value) && !mask.Contains(value))
            {
                mask.Add(value);
            }
        }

        if (variable.Attribute("missing_value") is { } missing && AllCastExact(missing, variable.Type))
        {
            for (var i = 0; i < missing.Count; i++)
            {
                AddMask(missing.DoubleAt(i));
            }
        }

        if (variable.Attribute("_FillValue") is { Count: 1 } fill && AllCastExact(fill, variable.Type))
        {
            AddMask(fill.DoubleAt(0));
        }
        else
        {
            // netCDF4-python masks the type's default fill when _FillValue is absent (or unusable), bytes included,
            // since NetCDF-3 files are always read in fill mode.
            AddMask(DefaultFill(variable.Type));
        }

        config["mask"] = new JsonArray([.. mask.Select(Number)]);

        double? validMin = null, validMax = null;
        if (variable.Attribute("valid_range") is { Count: 2 } range && AllCastExact(range, variable.Type))
        {
            validMin = range.DoubleAt(0);
            validMax = range.DoubleAt(1);
        }
        else
        {
            if (variable.Attribute("valid_min") is { Count: 1 } min && AllCastExact(min, variable.Type))
            {
                validMin = min.DoubleAt(0);
            }

            if (variable.Attribute("valid_max") is { Count: 1 } max && AllCastExact(max, variable.Type))
            {
                validMax = max.DoubleAt(0);
            }
        }

        // Comparisons with NaN mask nothing, as if the bound were absent.
        if (validMin is { } vmin && !double.IsNaN(vmin))
        {
            config["valid_min"] = Number(vmin);
        }

        if (validMax is { } vmax && !double.IsNaN(vmax))
        {
            config["valid_max"] = Number(vmax);
        }

        return (new CodecSpec("cf_scale_offset", config), unpacked);
    }

    // The numpy scalar type of a one-value numeric attribute.
    private static DataType TypeOf(NetCdf3Attribute attribute) => NetCdf3Types.ToDataType(attribute.Type)!;

    private static double DefaultFill(NetCdf3Type type)
    {
        var fill = new NetCdf3Attribute("_FillValue", type, NetCdf3Types.DefaultFillBigEndian(type));
        return fill.DoubleAt(0);
    }

    // Whole numbers as JSON integers, others as doubles.
    private static JsonNode Number(double value) =>
        Math.Floor(value) == value && Math.Abs(value) < 9.2e18 ? JsonValue.Create((long)value) : JsonValue.Create(value);

    // ---- Attributes ----

    /// <summary>
    /// Attributes as Zarr attributes: text for char attributes, a number for one value, an array for several (or
    /// none); non-finite floats as "NaN", "Infinity" and "-Infinity"; float values written as their shortest float32 text.
    /// </summary>
    public static JsonObject Attributes(IEnumerable<NetCdf3Attribute> attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        var json = new JsonObject();
        foreach (var attribute in attributes)
        {
            json[attribute.Name] = AttributeValue(attribute);
        }

        return json;
    }

    private static JsonNode AttributeValue(NetCdf3Attribute attribute)
    {
        if (attribute.IsText)
        {
            return JsonValue.Create(attribute.Text!);
        }

        if (attribute.Count == 1)
        {
            return Element(attribute, 0);
        }

        var array = new JsonArray();
        for (var i = 0; i < attribute.Count; i++)
        {
            array.Add(Element(attribute, i));
        }

        return array;
    }

    private static JsonNode Element(NetCdf3Attribute attribute, int i)
    {
        switch (attribute.Type)
        {
            case NetCdf3Type.Float:
                var single = (float)attribute.FloatAt(i);
                return float.IsFinite(single) ? JsonNode.Parse(single.ToString("R", CultureInfo.InvariantCulture))! : NonFinite(single);
            case NetCdf3Type.Double:
                var value = attribute.FloatAt(i);
                return double.IsFinite(value) ? JsonNode.Parse(value.ToString("R", CultureInfo.InvariantCulture))! : NonFinite(value);
            case NetCdf3Type.UInt64:
                return JsonValue.Create((ulong)attribute.IntegerAt(i));
            default:
                return JsonValue.Create((long)attribute.IntegerAt(i));
        }
    }

    private static JsonValue NonFinite(double value) =>
        JsonValue.Create(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
}
