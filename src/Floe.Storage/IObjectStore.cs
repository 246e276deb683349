namespace Floe.Storage;

/// <summary>
/// A flat key/value object store with the conditional writes the versioned store's commit protocol needs.
/// Keys are '/'-separated relative paths of printable ASCII without "." or ".." segments.
/// Every write is all-or-nothing: a reader sees either the previous object or the whole new one.
/// </summary>
public interface IObjectStore
{
    /// <summary>A short description for messages, such as "file:///data/repo" or "memory".</summary>
    string Description { get; }

    /// <summary>Reads a whole object, or null when it does not exist.</summary>
    ValueTask<StoredObject?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads <paramref name="length"/> bytes from <paramref name="offset"/>, or null when the object does not exist.
    /// A range past the end is an <see cref="ObjectStoreException"/> naming the key; it is never silently shortened.
    /// </summary>
    ValueTask<StoredObject?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default);

    /// <summary>Writes unconditionally, replacing any existing object, and returns the new etag.</summary>
    ValueTask<string> PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>Writes only when no object exists under the key; returns the etag, or null when one existed.</summary>
    ValueTask<string?> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the object only while its etag is still <paramref name="expectedEtag"/>; returns the new etag,
    /// or null when the object changed or no longer exists.
    /// </summary>
    ValueTask<string?> PutIfMatchAsync(string key, ReadOnlyMemory<byte> data, string expectedEtag, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists keys that start with <paramref name="prefix"/> in ordinal order, at most <paramref name="pageSize"/>
    /// per page; pass the returned continuation token back for the next page (null when there is none).
    /// </summary>
    ValueTask<ListPage> ListAsync(string prefix, string? continuationToken = null, int pageSize = 1000, CancellationToken cancellationToken = default);

    /// <summary>Deletes an object; returns false when it did not exist.</summary>
    ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);
}

/// <summary>The bytes of an object (or of a range of it) and the etag of the version they were read from.</summary>
public sealed class StoredObject
{
    private readonly Func<string>? _computeEtag;
    private string? _etag;

    public StoredObject(ReadOnlyMemory<byte> data, string etag)
    {
        Data = data;
        _etag = etag;
    }

    /// <summary>
    /// An object whose etag is computed on first use. Readers of chunk bytes never ask for it, so a store whose etag
    /// is a content hash does not hash every chunk it serves.
    /// </summary>
    public StoredObject(ReadOnlyMemory<byte> data, Func<string> computeEtag)
    {
        Data = data;
        _computeEtag = computeEtag;
    }

    public ReadOnlyMemory<byte> Data { get; }

    public string Etag => _etag ??= _computeEtag!();
}

/// <summary>One page of a listing.</summary>
public sealed record ListPage(IReadOnlyList<string> Keys, string? ContinuationToken);

/// <summary>A failure of an object store: a bad key, an I/O error, a range past the end.</summary>
public class ObjectStoreException(string message, Exception? inner = null) : Exception(message, inner);
