namespace Floe.Ingest.Sources;

/// <summary>
/// One source file to ingest: its logical <paramref name="Location"/> (recorded in chunk references), the location
/// actually read (<see cref="ReadFrom"/>), its 0-based <paramref name="Ordinal"/> in the source set (for time
/// templates the step index from the range start), and for time templates the start <paramref name="Time"/> of its step.
/// </summary>
public sealed record SourceFile(string Location, long Ordinal, DateTimeOffset? Time = null)
{
    /// <summary>Where the bytes are read from: <see cref="Location"/> unless a stand-in set maps it elsewhere.</summary>
    public string ReadFrom { get; init; } = Location;
}
