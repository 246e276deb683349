using System.IO.Enumeration;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Floe.Storage;

/// <summary>
/// The embedded object store: key "a/b/c" is the file "&lt;root&gt;/a/b/c". Safe for several threads and several
/// processes on one machine (Linux or macOS; the conditional writes use link(2), rename(2) and flock(2)).
/// </summary>
/// <remarks>
/// <para>Every write goes to a temporary file in the target's directory (named with <see cref="TempPrefix"/>,
/// never listed), is flushed to disk, then renamed or linked into place, so readers see whole objects only and a
/// crash leaves at most an invisible temporary file.</para>
/// <para>Etags are the first 16 bytes of the SHA-256 of the content, in lowercase hex. Content-addressed etags
/// make compare-and-swap immune to inode and mtime reuse (a recycled inode or a coarse clock cannot fake a match),
/// and two objects with equal content are the same state, so matching them is correct.</para>
/// <para>Put-if-absent is a link(2) of the temporary file to the target, which fails atomically when the target
/// exists. Put, put-if-match and delete hold an exclusive flock on "&lt;root&gt;/.locks/&lt;hash of key&gt;" while they
/// compare and rename; the kernel drops the lock when a process dies, so no lock is ever stale. Lock files are
/// kept (deleting them would race with waiters), one per key ever written unconditionally, matched or deleted.</para>
/// <para>Because keys are paths, a key cannot be both an object and a "directory" of other keys: with "a" stored,
/// writing "a/b" fails with an <see cref="ObjectStoreException"/>, and the reverse.</para>
/// </remarks>
public sealed class FileSystemObjectStore : IObjectStore
{
    /// <summary>Names starting with this are temporary files of writes in progress (or of crashed writers).</summary>
    public const string TempPrefix = ".tmp-";

    /// <summary>The directory under the root that holds the per-key lock files.</summary>
    public const string LockDirectoryName = ".locks";

    /// <summary>
    /// Ranged reads of objects up to this size return the content etag of the whole object (they read it all,
    /// which is cheap). Larger objects get a weak version marker "W/&lt;size&gt;-&lt;mtime&gt;" instead, which identifies the
    /// version for a reader but never equals a content etag, so a conditional write given it fails safely.
    /// </summary>
    public const int RangeEtagHashLimit = 1 << 20;

    private const int StripeCount = 64;

    private readonly string _root;
    private readonly string _lockDirectory;
    private readonly bool _flushToDisk;

    // Writers in this process queue here asynchronously, so at most one thread per stripe blocks in flock.
    private readonly SemaphoreSlim[] _stripes;

    /// <summary>Opens (creating if needed) the store rooted at <paramref name="root"/>.</summary>
    /// <param name="root">The directory holding the objects.</param>
    /// <param name="flushToDisk">
    /// Flush files and directory entries to disk before a write returns (fsync). Turn off only for scratch data:
    /// writes stay atomic, but a power loss may lose acknowledged ones.
    /// </param>
    public FileSystemObjectStore(string root, bool flushToDisk = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("FileSystemObjectStore needs POSIX link, rename and flock.");
        }

        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _lockDirectory = Path.Join(_root, LockDirectoryName);
        _flushToDisk = flushToDisk;
        _stripes = new SemaphoreSlim[StripeCount];
        for (var i = 0; i < _stripes.Length; i++)
        {
            _stripes[i] = new SemaphoreSlim(1, 1);
        }

        try
        {
            Directory.CreateDirectory(_lockDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ObjectStoreException($"file://{_root}: cannot create the store directory: {ex.Message}", ex);
        }
    }

    /// <summary>The full path of the root directory.</summary>
    public string Root => _root;

    public string Description => "file://" + _root;

    /// <summary>The etag of content: lowercase hex of the first 16 bytes of its SHA-256.</summary>
    public static string ComputeEtag(ReadOnlySpan<byte> content)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(content, hash);
        return Convert.ToHexStringLower(hash[..16]);
    }

    public async ValueTask<StoredObject?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            using var handle = OpenForRead(path);
            if (handle is null)
            {
                return null;
            }

            var data = await ReadAllAsync(handle, key, cancellationToken);
            return new StoredObject(data, () => ComputeEtag(data));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Failure("get", key, ex);
        }
    }

    public async ValueTask<StoredObject?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            // One handle serves the size, the bytes and the etag: objects are replaced by rename, never written in
            // place, so everything read through it belongs to one version.
            using var handle = OpenForRead(path);
            if (handle is null)
            {
                return null;
            }

            var size = RandomAccess.GetLength(handle);
            if (offset > size - length)
            {
                throw new ObjectStoreException(
                    $"{Description}: range {offset}+{length} of \"{key}\" is past the end of the object ({size} bytes).");
            }

            if (size <= RangeEtagHashLimit)
            {
                var whole = await ReadAllAsync(handle, key, cancellationToken);
                return new StoredObject(whole.AsMemory((int)offset, length), () => ComputeEtag(whole));
            }

            var data = GC.AllocateUninitializedArray<byte>(length);
            await ReadExactlyAsync(handle, data, offset, key, cancellationToken);
            var modified = File.GetLastWriteTimeUtc(handle);
            return new StoredObject(data, $"W/{size:x}-{modified.Ticks:x}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Failure("get", key, ex);
        }
    }

    public async ValueTask<string> PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        cancellationToken.ThrowIfCancellationRequested();
        string? temp = null;
        try
        {
            temp = await WriteTempAsync(path, data, cancellationToken);
            // Under the key's lock so a put never lands between a conditional write's compare and its rename.
            using (await LockAsync(key, cancellationToken))
            {
                Posix.Rename(temp, path);
                temp = null;
                FlushDirectory(path);
            }

            return ComputeEtag(data.Span);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Failure("put", key, ex);
        }
        finally
        {
            DeleteQuietly(temp);
        }
    }

    public async ValueTask<string?> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        cancellationToken.ThrowIfCancellationRequested();
        string? temp = null;
        try
        {
            // Seen to exist now is a valid answer; it spares writing a temporary file that would lose anyway.
            if (Path.Exists(path))
            {
                return null;
            }

            temp = await WriteTempAsync(path, data, cancellationToken);
            // link(2) creates the name only if it does not exist, atomically, so it needs no lock.
            if (!Posix.TryLink(temp, path))
            {
                return null;
            }

            FlushDirectory(path);
            return ComputeEtag(data.Span);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Failure("put-if-absent", key, ex);
        }
        finally
        {
            // After a successful link the object has its own name; the temporary one goes either way.
            DeleteQuietly(temp);
        }
    }

    public async ValueTask<string?> PutIfMatchAsync(string key, ReadOnlyMemory<byte> data, string expectedEtag, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        ArgumentNullException.ThrowIfNull(expectedEtag);
        cancellationToken.ThrowIfCancellationRequested();
        string? temp = null;
        try
        {
            // A mismatch seen now is a valid answer; under contention it spares writing a doomed temporary file.
            if (!string.Equals(ReadEtag(path), expectedEtag, StringComparison.Ordinal))
            {
                return null;
            }

            temp = await WriteTempAsync(path, data, cancellationToken);
            using (await LockAsync(key, cancellationToken))
            {
                if (!string.Equals(ReadEtag(path), expectedEtag, StringComparison.Ordinal))
                {
                    return null;
                }

                Posix.Rename(temp, path);
                temp = null;
                // Durable before anyone can build on it (the lock is still held).
                FlushDirectory(path);
            }

            return ComputeEtag(data.Span);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Failure("put-if-match", key, ex);
        }
        finally
        {
            DeleteQuietly(temp);
        }
    }

    public ValueTask<ListPage> ListAsync(string prefix, string? continuationToken = null, int pageSize = 1000, CancellationToken cancellationToken = default)
    {
        ObjectKeys.ValidatePrefix(prefix);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            // Walk only the deepest directory the prefix names; its last, possibly partial, segment filters names.
            var slash = prefix.LastIndexOf('/');
            var directoryKey = prefix[..(slash + 1)];
            var namePrefix = prefix[(slash + 1)..];
            var keys = new List<string>(Math.Min(pageSize + 1, 1024));
            foreach (var key in Walk(Path.Join(_root, directoryKey), directoryKey, namePrefix, continuationToken))
            {
                cancellationToken.ThrowIfCancellationRequested();
                keys.Add(key);
                if (keys.Count > pageSize)
                {
                    keys.RemoveAt(pageSize);
                    return ValueTask.FromResult(new ListPage(keys, keys[^1]));
                }
            }

            return ValueTask.FromResult(new ListPage(keys, null));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ObjectStoreException($"{Description}: listing \"{prefix}\" failed under root {_root}: {ex.Message}", ex);
        }
    }

    public async ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            using (await LockAsync(key, cancellationToken))
            {
                // File.Exists is false for a directory, which is not an object.
                if (!File.Exists(path))
                {
                    return false;
                }

                File.Delete(path);
                FlushDirectory(path);
                return true;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Failure("delete", key, ex);
        }
    }

    private string PathOf(string key)
    {
        ObjectKeys.Validate(key);
        if (key.StartsWith(LockDirectoryName + "/", StringComparison.Ordinal) || key == LockDirectoryName)
        {
            throw new ArgumentException($"Invalid object key \"{key}\": \"{LockDirectoryName}\" is reserved by the file-system store.", nameof(key));
        }

        if (key.StartsWith(TempPrefix, StringComparison.Ordinal) || key.Contains("/" + TempPrefix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Invalid object key \"{key}\": segments starting with \"{TempPrefix}\" are reserved by the file-system store.", nameof(key));
        }

        return Path.Join(_root, key);
    }

    // Null when there is no object: no file, a missing or non-directory parent, or a directory in the object's place.
    private static SafeFileHandle? OpenForRead(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (UnauthorizedAccessException) when (Directory.Exists(path))
        {
            return null;
        }
        catch (IOException) when (!Path.Exists(path))
        {
            return null;
        }
    }

    private static string? ReadEtag(string path)
    {
        using var handle = OpenForRead(path);
        if (handle is null)
        {
            return null;
        }

        using var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(stream, hash);
        return Convert.ToHexStringLower(hash[..16]);
    }

    private static async ValueTask<byte[]> ReadAllAsync(SafeFileHandle handle, string key, CancellationToken cancellationToken)
    {
        var size = RandomAccess.GetLength(handle);
        if (size > Array.MaxLength)
        {
            throw new IOException($"\"{key}\" is too large to read whole ({size} bytes)");
        }

        // Every byte is overwritten by the read, so the array need not be zeroed first (a large saving for chunks).
        var data = GC.AllocateUninitializedArray<byte>((int)size);
        await ReadExactlyAsync(handle, data, 0, key, cancellationToken);
        return data;
    }

    private static async ValueTask ReadExactlyAsync(SafeFileHandle handle, Memory<byte> buffer, long offset, string key, CancellationToken cancellationToken)
    {
        var done = 0;
        while (done < buffer.Length)
        {
            var read = await RandomAccess.ReadAsync(handle, buffer[done..], offset + done, cancellationToken);
            if (read == 0)
            {
                // Only possible if something outside the store truncated the file in place.
                throw new IOException($"\"{key}\" ended after {offset + done} bytes while reading {buffer.Length} at {offset}");
            }

            done += read;
        }
    }

    private async ValueTask<string> WriteTempAsync(string targetPath, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(targetPath)!;
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory);
            if (_flushToDisk)
            {
                // New directories are entries of their parents, which must reach the disk too.
                for (var dir = directory; dir.Length > _root.Length; dir = Path.GetDirectoryName(dir)!)
                {
                    Posix.FsyncDirectory(Path.GetDirectoryName(dir)!);
                }
            }
        }

        var temp = Path.Join(directory, TempPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)));
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                BufferSize = 0,
                PreallocationSize = data.Length,
            };
            await using (var stream = new FileStream(temp, options))
            {
                await stream.WriteAsync(data, cancellationToken);
                if (_flushToDisk)
                {
                    stream.Flush(flushToDisk: true);
                }
            }

            return temp;
        }
        catch
        {
            DeleteQuietly(temp);
            throw;
        }
    }

    private void FlushDirectory(string targetPath)
    {
        if (_flushToDisk)
        {
            Posix.FsyncDirectory(Path.GetDirectoryName(targetPath)!);
        }
    }

    private static void DeleteQuietly(string? path)
    {
        if (path is null)
        {
            return;
        }

        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover temporary file is invisible and harmless.
        }
    }

    private async ValueTask<KeyLock> LockAsync(string key, CancellationToken cancellationToken)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.ASCII.GetBytes(key), hash);
        var lockPath = Path.Join(_lockDirectory, Convert.ToHexStringLower(hash[..16]));
        var stripe = _stripes[hash[0] % StripeCount];

        await stripe.WaitAsync(cancellationToken);
        SafeFileHandle? handle = null;
        try
        {
            try
            {
                handle = Posix.OpenLockFile(lockPath);
            }
            catch (IOException) when (!Directory.Exists(_lockDirectory))
            {
                // Someone removed the lock directory; lock files carry no state, so recreate it.
                Directory.CreateDirectory(_lockDirectory);
                handle = Posix.OpenLockFile(lockPath);
            }

            // Blocks only while another process holds this key, for the few synchronous calls of its critical section.
            Posix.LockExclusive(handle, lockPath);
            return new KeyLock(handle, stripe);
        }
        catch
        {
            handle?.Dispose();
            stripe.Release();
            throw;
        }
    }

    private ObjectStoreException Failure(string operation, string key, Exception inner) =>
        new($"{Description}: {operation} \"{key}\" failed under root {_root}: {inner.Message}", inner);

    private sealed class KeyLock(SafeFileHandle handle, SemaphoreSlim stripe) : IDisposable
    {
        public void Dispose()
        {
            Posix.Unlock(handle);
            handle.Dispose();
            stripe.Release();
        }
    }

    private IEnumerable<string> Walk(string directory, string directoryKey, string namePrefix, string? after)
    {
        var isRoot = directoryKey.Length == 0;
        var entries = new List<(string SortKey, string Name, bool IsDirectory)>();
        try
        {
            var options = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false };
            var enumerable = new FileSystemEnumerable<(string Name, bool IsDirectory)>(
                directory, static (ref FileSystemEntry entry) => (entry.FileName.ToString(), entry.IsDirectory), options);
            foreach (var (name, isDirectory) in enumerable)
            {
                if (!name.StartsWith(namePrefix, StringComparison.Ordinal)
                    || name.StartsWith(TempPrefix, StringComparison.Ordinal)
                    || (isRoot && name == LockDirectoryName)
                    || !ObjectKeys.IsValidSegment(name))
                {
                    continue;
                }

                // A directory sorts as "name/" because every key inside it starts with that.
                var sortKey = directoryKey + name + (isDirectory ? "/" : "");
                entries.Add((sortKey, name, isDirectory));
            }
        }
        catch (DirectoryNotFoundException)
        {
            yield break;
        }
        catch (IOException) when (!Directory.Exists(directory))
        {
            // The prefix names a file, not a directory (ENOTDIR): nothing lives below it.
            yield break;
        }

        entries.Sort(static (a, b) => string.CompareOrdinal(a.SortKey, b.SortKey));
        foreach (var (sortKey, name, isDirectory) in entries)
        {
            if (isDirectory)
            {
                // Skip subtrees whose keys all sort at or before the continuation token.
                if (after is not null && string.CompareOrdinal(sortKey, after) < 0 && !after.StartsWith(sortKey, StringComparison.Ordinal))
                {
                    continue;
                }

                foreach (var key in Walk(Path.Join(directory, name), sortKey, "", after))
                {
                    yield return key;
                }
            }
            else if (after is null || string.CompareOrdinal(sortKey, after) > 0)
            {
                yield return sortKey;
            }
        }
    }
}
