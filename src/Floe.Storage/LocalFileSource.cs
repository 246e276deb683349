using Microsoft.Win32.SafeHandles;

namespace Floe.Storage;

/// <summary>
/// Reads byte ranges of local files named by an absolute path or a file:// URL. Local files have no etag, so the
/// version is the length and the modification time (UTC).
/// </summary>
public sealed class LocalFileSource : IByteRangeSource
{
    public bool CanRead(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        return location.StartsWith("file://", StringComparison.OrdinalIgnoreCase) || Path.IsPathFullyQualified(location);
    }

    /// <summary>The file path a location names; throws <see cref="SourceReadException"/> for remote file:// hosts.</summary>
    public static string ToPath(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (!location.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
        {
            return Path.IsPathFullyQualified(location)
                ? location
                : throw new SourceReadException(location, "not an absolute path or file:// URL");
        }

        if (!Uri.TryCreate(location, UriKind.Absolute, out var uri) || !uri.IsFile)
        {
            throw new SourceReadException(location, "malformed file:// URL");
        }

        if (!string.IsNullOrEmpty(uri.Host) && !string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            throw new SourceReadException(location, $"file:// URL names the remote host \"{uri.Host}\"");
        }

        // LocalPath decodes escapes such as %20.
        return uri.LocalPath;
    }

    public ValueTask<SourceInfo> StatAsync(string location, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = ToPath(location);
        try
        {
            using var handle = Open(location, path);
            return ValueTask.FromResult(InfoOf(handle));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SourceReadException(location, ex.Message, ex);
        }
    }

    public ValueTask<SourceRead> ReadAsync(string location, long offset, int length, CancellationToken cancellationToken = default) =>
        Read(location, offset, length, upTo: false, cancellationToken);

    public ValueTask<SourceRead> ReadUpToAsync(string location, long offset, int maxLength, CancellationToken cancellationToken = default) =>
        Read(location, offset, maxLength, upTo: true, cancellationToken);

    private static ValueTask<SourceRead> Read(string location, long offset, int length, bool upTo, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        cancellationToken.ThrowIfCancellationRequested();
        var path = ToPath(location);
        try
        {
            using var handle = Open(location, path);
            var info = InfoOf(handle);
            if (upTo && offset <= info.Length)
            {
                length = (int)Math.Min(length, info.Length - offset);
            }

            if (offset > info.Length - length)
            {
                throw new SourceReadException(location,
                    $"range {offset}+{length} is past the end of the file ({info.Length} bytes)");
            }

            // RandomAccess reads at an explicit offset: no shared file position, safe from any thread.
            var data = GC.AllocateUninitializedArray<byte>(length);
            var done = 0;
            while (done < length)
            {
                var read = RandomAccess.Read(handle, data.AsSpan(done), offset + done);
                if (read == 0)
                {
                    throw new SourceReadException(location,
                        $"file ended after {offset + done} bytes while reading {length} bytes at offset {offset}");
                }

                done += read;
            }

            return ValueTask.FromResult(new SourceRead(data, info));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SourceReadException(location, ex.Message, ex);
        }
    }

    private static SafeFileHandle Open(string location, string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SourceNotFoundException(location, ex);
        }
    }

    private static SourceInfo InfoOf(SafeFileHandle handle) =>
        new(RandomAccess.GetLength(handle), null, new DateTimeOffset(File.GetLastWriteTimeUtc(handle), TimeSpan.Zero));
}
