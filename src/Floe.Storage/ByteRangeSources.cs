namespace Floe.Storage;

/// <summary>
/// A registry of byte-range sources that sends each location to the first registered source that can read it.
/// Safe to read from many threads while sources are being added.
/// </summary>
public sealed class ByteRangeSources : IByteRangeSource
{
    // Shared by every default registry created without a client, as HttpClient is meant to be.
    private static readonly Lazy<HttpClient> SharedHttp = new(() => new HttpClient(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AutomaticDecompression = System.Net.DecompressionMethods.None,
    }));

    private volatile IByteRangeSource[] _sources;

    public ByteRangeSources(params IEnumerable<IByteRangeSource> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        _sources = [.. sources];
        foreach (var source in _sources)
        {
            ArgumentNullException.ThrowIfNull(source, nameof(sources));
        }
    }

    /// <summary>The registered sources in the order they are tried.</summary>
    public IReadOnlyList<IByteRangeSource> Sources => _sources;

    /// <summary>A registry of a <see cref="LocalFileSource"/> and an <see cref="HttpSource"/> (on a shared client unless one is given).</summary>
    public static ByteRangeSources CreateDefault(HttpClient? http = null) =>
        new(new LocalFileSource(), new HttpSource(http ?? SharedHttp.Value));

    /// <summary>Registers a source after the existing ones.</summary>
    public void Add(IByteRangeSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        IByteRangeSource[] current, updated;
        do
        {
            current = _sources;
            updated = [.. current, source];
        }
        while (Interlocked.CompareExchange(ref _sources, updated, current) != current);
    }

    public bool CanRead(string location) => Find(location) is not null;

    public ValueTask<SourceInfo> StatAsync(string location, CancellationToken cancellationToken = default) =>
        Resolve(location).StatAsync(location, cancellationToken);

    public ValueTask<SourceRead> ReadAsync(string location, long offset, int length, CancellationToken cancellationToken = default) =>
        Resolve(location).ReadAsync(location, offset, length, cancellationToken);

    public ValueTask<SourceRead> ReadUpToAsync(string location, long offset, int maxLength, CancellationToken cancellationToken = default) =>
        Resolve(location).ReadUpToAsync(location, offset, maxLength, cancellationToken);

    public ValueTask<SourceMultiRead> ReadManyAsync(string location, IReadOnlyList<(long Offset, int Length)> ranges, CancellationToken cancellationToken = default) =>
        Resolve(location).ReadManyAsync(location, ranges, cancellationToken);

    private IByteRangeSource? Find(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        foreach (var source in _sources)
        {
            if (source.CanRead(location))
            {
                return source;
            }
        }

        return null;
    }

    private IByteRangeSource Resolve(string location) =>
        Find(location) ?? throw new SourceReadException(location, $"no source can read this location (scheme {SchemeOf(location)})");

    private static string SchemeOf(string location)
    {
        var colon = location.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && location.AsSpan(0, colon).IndexOfAny('/', '\\') < 0
            ? $"\"{location[..colon]}\""
            : "none: not an absolute path or URL";
    }
}
