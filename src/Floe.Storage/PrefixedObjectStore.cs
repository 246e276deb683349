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

    public async ValueTask<StoredObject?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        var full = Full(key);
        try
        {
            return await _inner.GetRangeAsync(full, offset, length, cancellationToken);
        }
        catch (ObjectStoreException e)
        {
            // Name the key as this view's callers know it, and where it lives.
            throw new ObjectStoreException($"{e.Message.Replace($"\"{full}\"", $"\"{key}\"", StringComparison.Ordinal)} (under {_prefix})", e);
        }
    }

    public ValueTask<string> PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        _inner.PutAsync(Full(key), data, cancellationToken);

    public ValueTask<string?> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        _inner.PutIfAbsentAsync(Full(key), data, cancellationToken);

    public ValueTask<string?> PutIfMatchAsync(string key, ReadOnlyMemory<byte> data, string expectedEtag, CancellationToken cancellationToken = default) =>
        _inner.PutIfMatchAsync(Full(key), data, expectedEtag, cancellationToken);

    public async ValueTask<ListPage> ListAsync(string prefix, string? continuationToken = null, int pageSize = 1000, CancellationToken cancellationToken = default)
    {
        ObjectKeys.ValidatePrefix(prefix);
        // The backends here continue after a key, so tokens are keys and get the prefix like any key.
        var page = await _inner.ListAsync(_prefix + prefix, continuationToken is null ? null : _prefix + continuationToken, pageSize, cancellationToken);
        var next = page.ContinuationToken is { } token && token.StartsWith(_prefix, StringComparison.Ordinal) ? token[_prefix.Length..] : page.ContinuationToken;
        return new ListPage(page.Keys.Select(k => k[_prefix.Length..]).ToList(), next);
    }

    public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        _inner.DeleteAsync(Full(key), cancellationToken);

    private string Full(string key)
    {
        ObjectKeys.Validate(key);
        return _prefix + key;
    }
}
