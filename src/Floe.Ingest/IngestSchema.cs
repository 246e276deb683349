using System.Globalization;
using System.Text.Json.Nodes;
using Floe.Core;
using Floe.Formats.NetCdf;
using Floe.Store;

namespace Floe.Ingest;

/// <summary>How an ingested array is stored.</summary>
public enum TargetKind
{
    /// <summary>Along the append dimension, chunks referenced where they are in each file.</summary>
    Virtual,

    /// <summary>
    /// Along the append dimension but copied as native chunks: the dimension's own coordinate, and small arrays whose
    /// file chunks do not line up with the files (time bounds chunked by 32 in files holding one time each).
    /// </summary>
    Native,

    /// <summary>Without the append dimension (latitude, longitude): written once, then only checked.</summary>
    Static,
}

/// <summary>One array an ingest writes: its path (the same in the store as in the files), how, and its store metadata.</summary>
public sealed record TargetArray(string Path, TargetKind Kind, ArrayMetadata Metadata);

/// <summary>
/// The arrays an ingest fills and the append axis: each file's coordinate values v give positions
/// (v − Origin) / Step along the append dimension, so a file always lands in the same place whatever order files
/// come in, and a missing file leaves a gap instead of shifting later data. Kept in the coordinate array's
/// attributes so an append or a resumed run finds it again.
/// </summary>
public sealed class IngestSchema
{
    /// <summary>The attribute of the coordinate array that records the axis.</summary>
    public const string AxisAttribute = "_floe_append_axis";

    /// <summary>Native copies of one file's rows along the append dimension are at most this large.</summary>
    public const long MaxNativeBytesPerFile = 1 << 20;

    private readonly TimeUnits? _timeUnits;

    private IngestSchema(string dimension, string coordinatePath, double origin, double step, string? units, IReadOnlyList<TargetArray> arrays)
    {
        Dimension = dimension;
        CoordinatePath = coordinatePath;
        Origin = origin;
        Step = step;
        Units = units;
        Arrays = arrays;
        try
        {
            _timeUnits = units is null ? null : TimeUnits.Parse(units);
        }
        catch (FormatException)
        {
            // Units that are not CF time units: positions still work, times are just not shown.
        }
    }

    public string Dimension { get; }

    /// <summary>The append dimension's coordinate array, for example "/Grid/time".</summary>
    public string CoordinatePath { get; }

    /// <summary>The coordinate value at position 0, in the coordinate's units.</summary>
    public double Origin { get; }

    /// <summary>The coordinate's spacing, in its units.</summary>
    public double Step { get; }

    /// <summary>The coordinate's units attribute ("seconds since 1970-01-01 00:00:00 UTC"), if it has one.</summary>
    public string? Units { get; }

    public IReadOnlyList<TargetArray> Arrays { get; }

    public TargetArray? Find(string path) => Arrays.FirstOrDefault(a => a.Path == path);

    /// <summary>The time a position stands for, when the coordinate has CF time units.</summary>
    public DateTimeOffset? TimeAt(long position)
    {
        if (_timeUnits is null)
        {
            return null;
        }

        try
        {
            return _timeUnits.ToTime(Origin + (position * Step));
        }
        catch (Exception ex) when (ex is OverflowException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>The schema an earlier ingest recorded on the branch, or null when there is none.</summary>
    public static IngestSchema? Load(NodeReader reader, string dimension)
    {
        var coordinate = reader.Walk().FirstOrDefault(n => n.Kind == NodeKind.Array && n.ArrayMetadata.Attributes[AxisAttribute] is JsonObject axis
            && axis["dimension"]?.GetValue<string>() == dimension);
        if (coordinate is null)
        {
            return null;
        }

        var axisJson = coordinate.ArrayMetadata.Attributes[AxisAttribute]!.AsObject();
        var arrays = new List<TargetArray>();
        foreach (var entry in axisJson["arrays"]!.AsObject())
        {
            var kind = Enum.Parse<TargetKind>(entry.Value!.GetValue<string>(), ignoreCase: true);
            var node = reader.FindNode(entry.Key) ?? throw new FloeStoreException($"ingested array '{entry.Key}' is missing from the branch");
            arrays.Add(new TargetArray(entry.Key, kind, node.ArrayMetadata));
        }

        return new IngestSchema(dimension, coordinate.Path, axisJson["origin"]!.GetValue<double>(), axisJson["step"]!.GetValue<double>(),
            coordinate.ArrayMetadata.Attributes["units"]?.GetValue<string>(), arrays);
    }

    /// <summary>
    /// Decides the arrays from a first file (and a second when the step must come from the gap between them) and
    /// creates them, empty along the append dimension, with the static arrays' values.
    /// </summary>
    public static async Task<IngestSchema> CreateAsync(Session session, IngestOptions options, FileSample first, FileSample? second,
        TimeSpan? sourceStep, long firstOrdinal, CancellationToken cancellationToken)
    {
        var dataset = first.Dataset;
        var selected = Select(dataset, options);
        var coordinate = FindCoordinate(dataset, options) ?? throw new IngestException(first.Location,
            $"no coordinate variable named \"{options.Dimension}\"{(options.Group is null ? "" : $" in {options.Group}")}; choose the append dimension with --dimension");
        var units = coordinate.Metadata.Attributes["units"]?.GetValue<string>();
        var values = first.Coordinate;
        if (values.Length == 0)
        {
            throw new IngestException(first.Location, $"{coordinate.Path} is empty: the file has no {options.Dimension}");
        }

        double step;
        if (options.Step is { } given)
        {
            step = InUnits(given, units, first.Location);
        }
        else if (sourceStep is { } perFile)
        {
            step = InUnits(perFile, units, first.Location) / values.Length;
        }
        else if (values.Length > 1)
        {
            step = values[1] - values[0];
        }
        else if (second is not null && second.Coordinate.Length > 0)
        {
            step = second.Coordinate[0] - values[0];
        }
        else
        {
            throw new IngestException(first.Location, $"cannot tell the spacing of {options.Dimension} from one file holding one value; pass --step");
        }

        if (!(step > 0) || double.IsInfinity(step))
        {
            throw new IngestException(first.Location, $"{options.Dimension} step {step} (in the file's units) is not positive");
        }

        // A time template numbers its files from the range start: the first file sits at its ordinal's position.
        var origin = values[0] - ((sourceStep is null ? 0 : firstOrdinal) * values.Length * step);
        var arrays = new List<TargetArray>();
        var axisArrays = new JsonObject();
        foreach (var array in selected)
        {
            var kind = KindOf(array, coordinate, options.Dimension, values.Length, first.Location);
            var metadata = StoreMetadata(array, kind, options);
            arrays.Add(new TargetArray(array.Path, kind, metadata));
            axisArrays[array.Path] = kind.ToString().ToLowerInvariant();
        }

        foreach (var group in dataset.Groups)
        {
            if (group.Path != NodePath.Root && session.FindNode(group.Path) is null && arrays.Any(a => a.Path.StartsWith(group.Path + "/", StringComparison.Ordinal)))
            {
                session.CreateGroup(group.Path, group.Attributes);
            }
            else if (group.Path == NodePath.Root && options.Group is null)
            {
                session.UpdateAttributes(NodePath.Root, group.Attributes);
            }
        }

        var axis = new JsonObject
        {
            ["dimension"] = options.Dimension,
            ["origin"] = origin,
            ["step"] = step,
            ["arrays"] = axisArrays,
        };
        for (var i = 0; i < arrays.Count; i++)
        {
            var target = arrays[i];
            var metadata = target.Metadata;
            if (target.Path == coordinate.Path)
            {
                var attributes = (JsonObject)metadata.Attributes.DeepClone();
                attributes[AxisAttribute] = axis;
                metadata = metadata with { Attributes = attributes };
                arrays[i] = target = target with { Metadata = metadata };
            }

            session.CreateArray(target.Path, metadata);
            if (target.Kind == TargetKind.Static)
            {
                var array = dataset.Arrays.First(a => a.Path == target.Path);
                var data = await VirtualValues.ReadAsync(array, first.Source, first.ReadFrom, cancellationToken);
                if (data.Length > 0)
                {
                    await session.WriteChunkAsync(target.Path, new long[metadata.Rank], data, cancellationToken);
                }
            }
        }

        return new IngestSchema(options.Dimension, coordinate.Path, origin, step, units, arrays);
    }

    /// <summary>The arrays of a file an ingest with these options takes: the selection, the coordinate and the other dimensions' coordinates.</summary>
    internal static List<VirtualArray> Select(VirtualDataset dataset, IngestOptions options)
    {
        var inGroup = dataset.Arrays.Where(a => options.Group is null || NodePath.Parent(a.Path) == NodePath.Normalize(options.Group)).ToList();
        if (options.Variables is null)
        {
            return inGroup;
        }

        var chosen = new List<VirtualArray>();
        foreach (var name in options.Variables)
        {
            var match = inGroup.FirstOrDefault(a => a.Path == name || NodePath.Name(a.Path) == name)
                ?? throw new IngestException(dataset.Location, $"no variable \"{name}\"{(options.Group is null ? "" : $" in {options.Group}")} (it has {string.Join(", ", inGroup.Select(a => NodePath.Name(a.Path)))})");
            chosen.Add(match);
        }

        // The coordinates of the chosen arrays' dimensions come along, the append dimension's first.
        var dimensions = chosen.SelectMany(a => a.Metadata.DimensionNames ?? []).Where(d => d is not null).Prepend(options.Dimension).Distinct().ToList();
        foreach (var dimension in dimensions)
        {
            var coordinate = inGroup.FirstOrDefault(a => NodePath.Name(a.Path) == dimension);
            if (coordinate is not null && !chosen.Contains(coordinate))
            {
                chosen.Add(coordinate);
            }
        }

        return [.. inGroup.Where(chosen.Contains)];
    }

    internal static VirtualArray? FindCoordinate(VirtualDataset dataset, IngestOptions options)
    {
        var group = options.Group is null ? NodePath.Root : NodePath.Normalize(options.Group);
        return dataset.Arrays.FirstOrDefault(a => NodePath.Parent(a.Path) == group && NodePath.Name(a.Path) == options.Dimension)
            ?? dataset.Arrays.FirstOrDefault(a => NodePath.Name(a.Path) == options.Dimension && a.Metadata.Rank == 1);
    }

    private static TargetKind KindOf(VirtualArray array, VirtualArray coordinate, string dimension, int valuesPerFile, string location)
    {
        var names = array.Metadata.DimensionNames;
        var along = names is { Length: > 0 } && names[0] == dimension;
        if (!along)
        {
            if (names is not null && names.Contains(dimension))
            {
                throw new IngestException(location, $"{array.Path} has {dimension} as a dimension other than its first ({string.Join(", ", names)}); only the first can be appended along");
            }

            return TargetKind.Static;
        }

        if (array.Path != coordinate.Path && valuesPerFile % array.Metadata.ChunkShape[0] == 0)
        {
            return TargetKind.Virtual;
        }

        var rowBytes = array.Metadata.Shape.Skip(1).Aggregate((long)array.Metadata.DataType.Size, (a, b) => a * b);
        return rowBytes * valuesPerFile <= MaxNativeBytesPerFile
            ? TargetKind.Native
            : throw new IngestException(location, $"{array.Path} is chunked by {array.Metadata.ChunkShape[0]} along {dimension} but the file holds {valuesPerFile} values: its chunks cannot be referenced file by file, and at {rowBytes * valuesPerFile} bytes per file it is too large to copy");
    }

    private static ArrayMetadata StoreMetadata(VirtualArray array, TargetKind kind, IngestOptions options)
    {
        var source = array.Metadata;
        switch (kind)
        {
            case TargetKind.Virtual:
                return source with { Shape = [0, .. source.Shape.Skip(1)] };
            case TargetKind.Native:
                var chunk = (int[])source.ChunkShape.Clone();
                chunk[0] = options.NativeChunkLength;
                for (var d = 1; d < chunk.Length; d++)
                {
                    chunk[d] = (int)Math.Max(1, source.Shape[d]);
                }

                return source with { Shape = [0, .. source.Shape.Skip(1)], ChunkShape = chunk, Codecs = ArrayMetadata.DefaultCodecs(source.DataType) };
            default:
                return source with
                {
                    ChunkShape = [.. source.Shape.Select(d => (int)Math.Max(1, d))],
                    Codecs = ArrayMetadata.DefaultCodecs(source.DataType),
                };
        }
    }

    private static double InUnits(TimeSpan step, string? units, string location)
    {
        if (units is null)
        {
            throw new IngestException(location, "the coordinate has no units, so a step given as a duration cannot be placed; its values must be evenly spaced numbers");
        }

        try
        {
            return TimeUnits.Parse(units).StepInUnits(step);
        }
        catch (FormatException ex)
        {
            throw new IngestException(location, ex.Message, ex);
        }
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{CoordinatePath}: origin {Origin}, step {Step} {Units}; {string.Join(", ", Arrays.Select(a => $"{a.Path} ({a.Kind.ToString().ToLowerInvariant()})"))}");
}
