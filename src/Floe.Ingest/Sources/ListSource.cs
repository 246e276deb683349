namespace Floe.Ingest.Sources;

/// <summary>Explicit locations (paths or URLs), in the order given.</summary>
public sealed class ListSource : SourceSet
{
    private readonly string[] _locations;
    private readonly string? _listFile;

    public ListSource(IEnumerable<string> locations)
        : this(locations, listFile: null)
    {
    }

    private ListSource(IEnumerable<string> locations, string? listFile)
    {
        ArgumentNullException.ThrowIfNull(locations);
        _locations = [.. locations];
        _listFile = listFile;
        var blank = Array.FindIndex(_locations, string.IsNullOrWhiteSpace);
        if (blank >= 0)
        {
            throw new ArgumentException($"Location {blank} of the list is blank.", nameof(locations));
        }
    }

    public IReadOnlyList<string> Locations => _locations;

    public override string Description => _listFile is null
        ? $"list of {Files(_locations.Length)}"
        : $"list file {_listFile} ({Files(_locations.Length)})";

    public override long? Count => _locations.Length;

    /// <summary>Reads one location per line, ignoring blank lines and lines starting with '#'.</summary>
    public static async Task<ListSource> FromFileAsync(string path, CancellationToken cancellationToken = default)
    {
        var lines = await File.ReadAllLinesAsync(path, cancellationToken);
        // The full path, so a rerun from another directory is recognised as the same source and resumes.
        return FromLines(lines, Path.GetFullPath(path));
    }

    internal static ListSource FromLines(IEnumerable<string> lines, string listFile) =>
        new(lines.Select(line => line.Trim()).Where(line => line.Length > 0 && line[0] != '#'), listFile);

    public override IAsyncEnumerable<SourceFile> EnumerateAsync(long fromOrdinal = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromOrdinal);
        return Enumerate(fromOrdinal, cancellationToken).ToAsyncEnumerable();
    }

    private IEnumerable<SourceFile> Enumerate(long fromOrdinal, CancellationToken cancellationToken)
    {
        for (var i = fromOrdinal; i < _locations.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new SourceFile(_locations[i], i);
        }
    }
}
