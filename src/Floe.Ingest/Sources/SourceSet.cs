namespace Floe.Ingest.Sources;

/// <summary>An ordered set of source files, streamed rather than listed up front.</summary>
public abstract class SourceSet
{
    /// <summary>One line saying what the set is, for logs and messages.</summary>
    public abstract string Description { get; }

    /// <summary>How many files the set has, when known without enumerating it (lists and templates).</summary>
    public virtual long? Count => null;

    /// <summary>The start of the first step (time templates only).</summary>
    public virtual DateTimeOffset? Start => null;

    /// <summary>The time between files (time templates only).</summary>
    public virtual TimeSpan? Step => null;

    /// <summary>Streams the files in order, beginning at <paramref name="fromOrdinal"/> (to resume an interrupted ingest).</summary>
    public abstract IAsyncEnumerable<SourceFile> EnumerateAsync(long fromOrdinal = 0, CancellationToken cancellationToken = default);

    public override string ToString() => Description;

    private protected static string Files(long count) => count == 1 ? "1 file" : $"{count} files";
}
