using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Floe.Storage;

namespace Floe.Grains;

/// <summary>Names one piece of grain state: the grain type's name, the grain's key and the state's name.</summary>
public readonly record struct GrainStateId(string GrainType, string GrainKey, string StateName);

/// <summary>
/// What a storage provider read: the serialized state (null when there is no record) and the etag to pass to the
/// next write (it may be non-null without a record, after a clear).
/// </summary>
public sealed record GrainStateRecord(ReadOnlyMemory<byte>? Data, string? Etag)
{
    public bool RecordExists => Data is not null;
}

/// <summary>
/// A write or clear found the stored etag was not the expected one: another activation (maybe in another process)
/// wrote the state since this one read it. Re-read, reapply, write again.
/// </summary>
public sealed class InconsistentStateException(string message, string? expectedEtag) : Exception(message)
{
    /// <summary>The etag the writer expected.</summary>
    public string? ExpectedEtag { get; } = expectedEtag;
}

/// <summary>
/// Where grain state lives (the role of Orleans' IGrainStorage). Every write and clear is conditional on the etag
/// the caller last saw, so two writers never overwrite each other silently.
/// </summary>
public interface IGrainStorage
{
    /// <summary>Reads the state; a missing record is a record with null data.</summary>
    ValueTask<GrainStateRecord> ReadAsync(GrainStateId id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes <paramref name="data"/> (non-empty) when the stored etag is still <paramref name="expectedEtag"/>
    /// (null: no record may exist) and returns the new etag; otherwise throws <see cref="InconsistentStateException"/>.
    /// </summary>
    ValueTask<string> WriteAsync(GrainStateId id, ReadOnlyMemory<byte> data, string? expectedEtag, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes the record under the same condition as a write and returns the etag for the next write (possibly null);
    /// throws <see cref="InconsistentStateException"/> on a conflict.
    /// </summary>
    ValueTask<string?> ClearAsync(GrainStateId id, string? expectedEtag, CancellationToken cancellationToken = default);
}

/// <summary>
/// Grain storage over an <see cref="IObjectStore"/>: one object per state at
/// <c>{prefix}/{grain type}/{escaped key}/{state name}</c>, written with PutIfAbsent/PutIfMatch so processes sharing
/// the store never overwrite each other silently. The store has no conditional delete, so a clear writes an empty
/// object (a tombstone) conditionally; an empty object reads as "no record" with the tombstone's etag.
/// </summary>
public sealed class ObjectStoreGrainStorage : IGrainStorage
{
    private readonly IObjectStore _store;
    private readonly string _prefix;

    public ObjectStoreGrainStorage(IObjectStore store, string prefix = "grains")
    {
        ArgumentNullException.ThrowIfNull(store);
        ObjectKeys.Validate(prefix, nameof(prefix));
        _store = store;
        _prefix = prefix;
    }

    /// <summary>The object key holding <paramref name="id"/>.</summary>
    public string GetObjectKey(GrainStateId id)
    {
        var key = $"{_prefix}/{EscapeSegment(id.GrainType)}/{EscapeSegment(id.GrainKey)}/{EscapeSegment(id.StateName)}";
        ObjectKeys.Validate(key);
        return key;
    }

    public async ValueTask<GrainStateRecord> ReadAsync(GrainStateId id, CancellationToken cancellationToken = default)
    {
        var stored = await _store.GetAsync(GetObjectKey(id), cancellationToken).ConfigureAwait(false);
        return stored is null
            ? new GrainStateRecord(null, null)
            : new GrainStateRecord(stored.Data.IsEmpty ? (ReadOnlyMemory<byte>?)null : stored.Data, stored.Etag);
    }

    public async ValueTask<string> WriteAsync(GrainStateId id, ReadOnlyMemory<byte> data, string? expectedEtag, CancellationToken cancellationToken = default)
    {
        if (data.IsEmpty)
        {
            throw new ArgumentException("Grain state data must not be empty.", nameof(data));
        }

        return await PutAsync(id, data, expectedEtag, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<string?> ClearAsync(GrainStateId id, string? expectedEtag, CancellationToken cancellationToken = default) =>
        await PutAsync(id, ReadOnlyMemory<byte>.Empty, expectedEtag, cancellationToken).ConfigureAwait(false);

    private async ValueTask<string> PutAsync(GrainStateId id, ReadOnlyMemory<byte> data, string? expectedEtag, CancellationToken cancellationToken)
    {
        var key = GetObjectKey(id);
        var etag = expectedEtag is null
            ? await _store.PutIfAbsentAsync(key, data, cancellationToken).ConfigureAwait(false)
            : await _store.PutIfMatchAsync(key, data, expectedEtag, cancellationToken).ConfigureAwait(false);
        return etag ?? throw new InconsistentStateException(
            $"{_store.Description}: grain state \"{key}\" was changed by another writer (expected etag {expectedEtag ?? "none"}).",
            expectedEtag);
    }

    /// <summary>
    /// Maps any string to a valid, distinct key segment: ASCII letters, digits, '-', '_' and non-leading '.' stay,
    /// everything else becomes %XX of its UTF-8 bytes. A leading '.' is escaped so no segment is "." or ".." or looks
    /// like a store's hidden file; the empty string becomes "%", which no escaped non-empty string can be.
    /// </summary>
    public static string EscapeSegment(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0)
        {
            return "%";
        }

        var builder = new StringBuilder(value.Length);
        var bytes = Encoding.UTF8.GetBytes(value);
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            var plain = b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9'
                or (byte)'-' or (byte)'_' || (b == (byte)'.' && i > 0);
            if (plain)
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}

/// <summary>
/// Grain storage in this process's memory, for tests and single-process use. Etags come from one counter, so a
/// cleared and rewritten record never repeats an etag.
/// </summary>
public sealed class MemoryGrainStorage : IGrainStorage
{
    private readonly ConcurrentDictionary<GrainStateId, (byte[] Data, string Etag)> _records = new();
    private long _version;

    /// <summary>The number of records stored.</summary>
    public int Count => _records.Count;

    public ValueTask<GrainStateRecord> ReadAsync(GrainStateId id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_records.TryGetValue(id, out var record)
            ? new GrainStateRecord(record.Data.ToArray(), record.Etag)
            : new GrainStateRecord(null, null));
    }

    public ValueTask<string> WriteAsync(GrainStateId id, ReadOnlyMemory<byte> data, string? expectedEtag, CancellationToken cancellationToken = default)
    {
        if (data.IsEmpty)
        {
            throw new ArgumentException("Grain state data must not be empty.", nameof(data));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var etag = Interlocked.Increment(ref _version).ToString(CultureInfo.InvariantCulture);
        var updated = expectedEtag is null
            ? _records.TryAdd(id, (data.ToArray(), etag))
            : _records.TryGetValue(id, out var current) && current.Etag == expectedEtag
                && _records.TryUpdate(id, (data.ToArray(), etag), current);
        return updated ? ValueTask.FromResult(etag) : throw Conflict(id, expectedEtag);
    }

    public ValueTask<string?> ClearAsync(GrainStateId id, string? expectedEtag, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (expectedEtag is null)
        {
            // Clearing what the caller believes is absent succeeds only while it is absent.
            return _records.ContainsKey(id) ? throw Conflict(id, expectedEtag) : ValueTask.FromResult<string?>(null);
        }

        return _records.TryGetValue(id, out var current) && current.Etag == expectedEtag
            && _records.TryRemove(new KeyValuePair<GrainStateId, (byte[], string)>(id, current))
            ? ValueTask.FromResult<string?>(null)
            : throw Conflict(id, expectedEtag);
    }

    private static InconsistentStateException Conflict(GrainStateId id, string? expectedEtag) =>
        new($"memory: grain state {id.GrainType}/{id.GrainKey}/{id.StateName} was changed by another writer (expected etag {expectedEtag ?? "none"}).",
            expectedEtag);
}

/// <summary>
/// A grain's typed, persisted state (the shape of Orleans' IPersistentState). Obtained with
/// <see cref="Grain.GetPersistentState{T}"/> in the grain's constructor and read before OnActivateAsync runs.
/// </summary>
public interface IPersistentState<T> where T : new()
{
    /// <summary>The state; a new <typeparamref name="T"/> when no record exists.</summary>
    T State { get; set; }

    /// <summary>The etag of the version last read or written (null when nothing has been stored).</summary>
    string? Etag { get; }

    /// <summary>True when a record was read or written and not cleared since.</summary>
    bool RecordExists { get; }

    Task ReadStateAsync(CancellationToken cancellationToken = default);

    /// <summary>Writes <see cref="State"/>; throws <see cref="InconsistentStateException"/> if someone else wrote since.</summary>
    Task WriteStateAsync(CancellationToken cancellationToken = default);

    /// <summary>Removes the record and resets <see cref="State"/>; conditional like a write.</summary>
    Task ClearStateAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// JSON-serialized state over an <see cref="IGrainStorage"/>. Its awaits keep the grain's scheduler (no
/// ConfigureAwait(false)) because they update the state's fields, which belong to the grain's turns.
/// </summary>
internal sealed class PersistentState<T>(IGrainStorage storage, GrainStateId id, JsonSerializerOptions json) : IPersistentState<T>
    where T : new()
{
    public T State { get; set; } = new();

    public string? Etag { get; private set; }

    public bool RecordExists { get; private set; }

    public async Task ReadStateAsync(CancellationToken cancellationToken = default)
    {
        var record = await storage.ReadAsync(id, cancellationToken);
        State = record.Data is { } data
            ? JsonSerializer.Deserialize<T>(data.Span, json) ?? new T()
            : new T();
        RecordExists = record.RecordExists;
        Etag = record.Etag;
    }

    public async Task WriteStateAsync(CancellationToken cancellationToken = default)
    {
        var data = JsonSerializer.SerializeToUtf8Bytes(State, json);
        Etag = await storage.WriteAsync(id, data, Etag, cancellationToken);
        RecordExists = true;
    }

    public async Task ClearStateAsync(CancellationToken cancellationToken = default)
    {
        Etag = await storage.ClearAsync(id, Etag, cancellationToken);
        State = new T();
        RecordExists = false;
    }
}
