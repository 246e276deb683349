namespace Floe.Storage;

/// <summary>
/// A view of another store under a key prefix ("repos/era5/"), so that one bucket or directory holds many
/// repositories. Keys and listings are relative to the prefix; conditional writes pass straight through.
/// </summary>
public sealed class PrefixedObjectStore : IObjectStore
{
    private readonly IObjectStore _inner;
    private readonly string _prefix;

    /// <param name="prefix">A valid key followed by '/', such as "repos/era5/".</param>
    public PrefixedObjectStore(IObjectStore inner, string prefix)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(prefix);
        if (!prefix.EndsWith('/') || !ObjectKeys.IsValid(prefix[..^1]))
        {
            throw new ArgumentException($"Invalid store prefix \"{prefix}\": expected a valid key followed by '/'.", nameof(prefix));
        }

        _inner = inner;
        _prefix = prefix;
    }

    public string Description => $"{_inner.Description} ({_prefix})";

    public ValueTask<StoredObject?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        _inner.GetAsync(Full(key), cancellationToken);

    public ValueTask<StoredObject?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default) =>
        _inner.GetRangeAsync(Full(key), offset, length, cancellationToken);

    public ValueTask<string> PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        _inner.PutAsync(Full(key), data, cancellationToken);

    public ValueTask<string?> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        _inner.PutIfAbsentAsync(Full(key), data, cancellationToken);

    public ValueTask<string?> PutIfMatchAsync(string key, ReadOnlyMemory<byte> data, string expectedEtag, CancellationToken cancellationToken = default) =>
        _inner.PutIfMatchAsync(Full(key), data, expectedEtag, cancellationToken);

    public async ValueTask<ListPage> ListAsync(string prefix, string? continuationToken = null, int pageSize = 1000, CancellationToken cancellationToken = default)
    {
        ObjectKeys.ValidatePrefix(prefix);
        var page = await _inner.ListAsync(_prefix + prefix, continuationToken, pageSize, cancellationToken);
        return new ListPage(page.Keys.Select(k => k[_prefix.Length..]).ToList(), page.ContinuationToken);
    }

    public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        _inner.DeleteAsync(Full(key), cancellationToken);

    private string Full(string key)
    {
        ObjectKeys.Validate(key);
        return _prefix + key;
    }
}
