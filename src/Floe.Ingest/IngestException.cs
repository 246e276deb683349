namespace Floe.Ingest;

/// <summary>A source file cannot be ingested; the message names it.</summary>
public class IngestException(string location, string message, Exception? inner = null) : Exception($"{location}: {message}", inner)
{
    public string Location { get; } = location;
}

/// <summary>A file does not match the arrays it should extend; <see cref="Differences"/> lists every difference.</summary>
public sealed class MismatchException(string location, IReadOnlyList<string> differences)
    : IngestException(location, string.Join("; ", differences))
{
    public IReadOnlyList<string> Differences { get; } = differences;
}
