using Floe.Core;
using Floe.Formats.NetCdf;
using Floe.Storage;
using Floe.Store;

namespace Floe.Ingest;

/// <summary>One source file read: its structure as virtual arrays and its append coordinate's values.</summary>
public sealed class FileSample
{
    private FileSample(string location, string readFrom, IByteRangeSource source, VirtualDataset dataset, double[] coordinate, string? units,
        string coordinatePath, byte[]? coordinateRows)
    {
        CoordinatePath = coordinatePath;
        CoordinateRows = coordinateRows;
        CoordinateUnits = units;
        Location = location;
        ReadFrom = readFrom;
        Source = source;
        Dataset = dataset;
        Coordinate = coordinate;
    }

    /// <summary>The location chunk references record.</summary>
    public string Location { get; }

    /// <summary>The location read (a stand-in's physical file, else <see cref="Location"/>).</summary>
    public string ReadFrom { get; }

    public IByteRangeSource Source { get; }

    public VirtualDataset Dataset { get; }

    /// <summary>The append coordinate's values in the file, in its units.</summary>
    public double[] Coordinate { get; }

    /// <summary>The append coordinate's units attribute, if it has one.</summary>
    public string? CoordinateUnits { get; }

    public string CoordinatePath { get; }

    /// <summary>For a stand-in, the coordinate's values moved to the logical file's time, encoded as stored; else null.</summary>
    public byte[]? CoordinateRows { get; }

    /// <summary>
    /// Reads a file's structure and coordinate. A file read from a stand-in (<paramref name="readFrom"/> differs from
    /// <paramref name="location"/>) takes its place from <paramref name="logicalTime"/>: its coordinate values are moved
    /// so the first is that time, keeping their spacing; otherwise every logical file would land on its stand-in's place.
    /// </summary>
    public static async Task<FileSample> ReadAsync(IByteRangeSource source, string location, string readFrom, DateTimeOffset? logicalTime,
        IngestOptions options, CancellationToken cancellationToken)
    {
        var dataset = await VirtualFileReader.ReadAsync(source, readFrom, cancellationToken: cancellationToken);
        var coordinate = IngestSchema.FindCoordinate(dataset, options) ?? throw new IngestException(location,
            $"no coordinate variable named \"{options.Dimension}\"{(options.Group is null ? "" : $" in {options.Group}")}");
        var type = coordinate.Metadata.DataType;
        var values = NumericValues.ToDoubles(await VirtualValues.ReadAsync(coordinate, source, readFrom, cancellationToken), type);
        var units = coordinate.Metadata.Attributes["units"]?.GetValue<string>();
        byte[]? rows = null;
        if (readFrom != location && values.Length > 0)
        {
            if (logicalTime is not { } time || units is null)
            {
                throw new IngestException(location, $"is read from the stand-in {readFrom}, which needs a time template and {coordinate.Path} units to place it");
            }

            var shift = TimeUnits.Parse(units).FromTime(time) - values[0];
            values = values.Select(v => v + shift).ToArray();
            rows = VirtualValues.FromDoubles(values, type);
        }

        return new FileSample(location, readFrom, source, dataset, values, units, coordinate.Path, rows);
    }
}

/// <summary>What one file adds: its place along the append dimension, its chunk references and the rows copied natively.</summary>
internal sealed record FileChanges(
    string Location,
    long Position,
    int Count,
    List<(string Path, long[] Coords, ChunkRef Ref)> Refs,
    Dictionary<string, byte[]> NativeRows);

/// <summary>Checks a file against the schema and turns it into changes; every difference is reported, naming the file.</summary>
internal static class FileMapper
{
    public static FileChanges Map(FileSample file, IngestSchema schema)
    {
        var problems = new List<string>();
        var values = file.Coordinate;
        var count = values.Length;
        var units = file.CoordinateUnits;
        if (units != schema.Units)
        {
            throw new MismatchException(file.Location, [$"{schema.CoordinatePath} units \"{units}\" differ from the array's \"{schema.Units}\""]);
        }

        if (count == 0)
        {
            throw new MismatchException(file.Location, [$"{schema.CoordinatePath} is empty"]);
        }

        var position = PositionOf(values[0], schema, file.Location);
        for (var i = 1; i < count; i++)
        {
            if (PositionOf(values[i], schema, file.Location) != position + i)
            {
                throw new MismatchException(file.Location, [$"{schema.CoordinatePath} values are not evenly spaced by {schema.Step}: value {i} is {values[i]}, after {values[0]}"]);
            }
        }

        var refs = new List<(string, long[], ChunkRef)>();
        var native = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var keepVersion = file.ReadFrom == file.Location;
        foreach (var target in schema.Arrays)
        {
            var array = file.Dataset.Arrays.FirstOrDefault(a => a.Path == target.Path);
            if (array is null)
            {
                problems.Add($"{target.Path} is missing");
                continue;
            }

            var before = problems.Count;
            Compare(target, array, count, problems);
            if (problems.Count != before)
            {
                continue;
            }

            switch (target.Kind)
            {
                case TargetKind.Virtual:
                    var chunkLength = target.Metadata.ChunkShape[0];
                    if (position % chunkLength != 0)
                    {
                        problems.Add($"{target.Path} is chunked by {chunkLength} along {schema.Dimension} but the file starts at position {position}, inside a chunk");
                        continue;
                    }

                    var ownCodecs = new Dictionary<uint, ChunkCodecs?>();
                    foreach (var chunk in array.Chunks)
                    {
                        var coords = (long[])chunk.Index.Clone();
                        coords[0] += position / chunkLength;
                        if (!ownCodecs.TryGetValue(chunk.FilterMask, out var codecs))
                        {
                            var chunkMetadata = array.MetadataFor(chunk);
                            codecs = chunkMetadata.Codecs.SequenceEqual(target.Metadata.Codecs) ? null : ChunkCodecs.From(chunkMetadata.Codecs);
                            ownCodecs[chunk.FilterMask] = codecs;
                        }

                        ChunkRef chunkRef = chunk.Inline is { } inline
                            ? new InlineChunkRef(inline)
                            : keepVersion
                                ? new VirtualChunkRef(file.Location, chunk.Offset, chunk.Length, file.Dataset.Source.Etag, file.Dataset.Source.LastModified)
                                : new VirtualChunkRef(file.Location, chunk.Offset, chunk.Length);
                        refs.Add((target.Path, coords, codecs is null ? chunkRef : chunkRef with { Codecs = codecs }));
                    }

                    break;
                case TargetKind.Native:
                    native[target.Path] = [];
                    break;
            }
        }

        if (problems.Count > 0)
        {
            throw new MismatchException(file.Location, problems);
        }

        return new FileChanges(file.Location, position, count, refs, native);
    }

    /// <summary>Fills in the native rows (decoded values), which needs reads for chunks not inlined.</summary>
    public static async Task LoadNativeRowsAsync(FileSample file, FileChanges changes, CancellationToken cancellationToken)
    {
        foreach (var path in changes.NativeRows.Keys.ToList())
        {
            if (path == file.CoordinatePath && file.CoordinateRows is { } moved)
            {
                changes.NativeRows[path] = moved;
                continue;
            }

            var array = file.Dataset.Arrays.First(a => a.Path == path);
            changes.NativeRows[path] = await VirtualValues.ReadAsync(array, file.Source, file.ReadFrom, cancellationToken);
        }
    }

    private static long PositionOf(double value, IngestSchema schema, string location)
    {
        var exact = (value - schema.Origin) / schema.Step;
        var position = Math.Round(exact);
        if (Math.Abs(exact - position) > 1e-6 || position < 0 || position > long.MaxValue / 2)
        {
            throw new MismatchException(location,
                [$"{schema.CoordinatePath} value {value} is not on the axis (origin {schema.Origin}, step {schema.Step}){(position < 0 ? ": it comes before the first position" : "")}"]);
        }

        return (long)position;
    }

    private static void Compare(TargetArray target, VirtualArray array, int count, List<string> problems)
    {
        var expected = target.Metadata;
        var actual = array.Metadata;
        var path = target.Path;
        if (actual.DataType != expected.DataType)
        {
            problems.Add($"{path} data type {actual.DataType} differs from the array's {expected.DataType}");
            return;
        }

        var alongAxis = target.Kind != TargetKind.Static;
        var expectedShape = alongAxis ? expected.Shape.Skip(1) : expected.Shape;
        var actualShape = alongAxis ? actual.Shape.Skip(1) : actual.Shape;
        if (actual.Rank != expected.Rank || !expectedShape.SequenceEqual(actualShape))
        {
            problems.Add($"{path} shape [{string.Join(", ", actual.Shape)}] differs from the array's [{(alongAxis ? "n, " : "")}{string.Join(", ", expectedShape)}]");
            return;
        }

        if (alongAxis && actual.Shape[0] != count)
        {
            problems.Add($"{path} holds {actual.Shape[0]} values along the append dimension, its coordinate {count}");
        }

        if (target.Kind != TargetKind.Virtual)
        {
            return;
        }

        if (!actual.ChunkShape.SequenceEqual(expected.ChunkShape))
        {
            problems.Add($"{path} chunk shape [{string.Join(", ", actual.ChunkShape)}] differs from the array's [{string.Join(", ", expected.ChunkShape)}]");
        }

        if (!actual.FillValue.Equals(expected.FillValue))
        {
            problems.Add($"{path} fill value {actual.FillValue} differs from the array's {expected.FillValue}");
        }

        // Packing parameters may differ file by file (each chunk then carries its own); any other codec change is a schema change.
        if (!WithoutPackingParameters(actual.Codecs).SequenceEqual(WithoutPackingParameters(expected.Codecs)))
        {
            problems.Add($"{path} codecs {CodecSpec.ListToJson(actual.Codecs)} differ from the array's {CodecSpec.ListToJson(expected.Codecs)}");
        }
    }

    private static IEnumerable<CodecSpec> WithoutPackingParameters(IEnumerable<CodecSpec> codecs) =>
        codecs.Select(c =>
        {
            if (c.Name != "cf_scale_offset" || c.Configuration is null)
            {
                return c;
            }

            var configuration = (System.Text.Json.Nodes.JsonObject)c.Configuration.DeepClone();
            configuration.Remove("scale_factor");
            configuration.Remove("add_offset");
            return c with { Configuration = configuration };
        });
}
