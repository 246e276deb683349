namespace Floe.Ingest.Sources;

/// <summary>
/// The files of a logical set, each read from one of a few physical stand-ins (cycling by ordinal), so tests and
/// benchmarks can ingest a small set of real files under hundreds of thousands of logical locations.
/// </summary>
public sealed class StandInSource : SourceSet
{
    private readonly SourceSet _logical;
    private readonly string[] _physical;

    public StandInSource(SourceSet logical, IReadOnlyList<string> physical)
    {
        ArgumentNullException.ThrowIfNull(logical);
        ArgumentNullException.ThrowIfNull(physical);
        if (physical.Count == 0)
        {
            throw new ArgumentException("A stand-in set needs at least one physical file.", nameof(physical));
        }

        _logical = logical;
        _physical = [.. physical];
    }

    public SourceSet Logical => _logical;

    public IReadOnlyList<string> Physical => _physical;

    public override string Description => $"{_logical.Description}, read from {Files(_physical.Length)} standing in";

    public override long? Count => _logical.Count;

    public override DateTimeOffset? Start => _logical.Start;

    public override TimeSpan? Step => _logical.Step;

    public override IAsyncEnumerable<SourceFile> EnumerateAsync(long fromOrdinal = 0, CancellationToken cancellationToken = default) =>
        _logical.EnumerateAsync(fromOrdinal, cancellationToken)
            .Select(file => file with { ReadFrom = _physical[file.Ordinal % _physical.Length] });
}
