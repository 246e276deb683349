using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;

namespace Floe.Storage;

/// <summary>
/// Reads byte ranges of files served over http:// or https:// with "Range: bytes=a-b" GETs on a shared
/// <see cref="HttpClient"/>. The version is the server's ETag and Last-Modified. Counts requests and bytes so
/// benchmarks can report requests per file.
/// </summary>
/// <remarks>
/// A server that ignores Range answers 200 with the whole file. Such a body is sliced: it is read only up to the
/// end of the requested range (then the connection is dropped), and only when that is at most
/// <see cref="MaxIgnoredRangeBytes"/>; beyond that the read fails rather than download a huge file per range.
/// A read's <see cref="SourceInfo.Length"/> is -1 when the server does not report the total ("bytes a-b/*").
/// <para>
/// <see cref="ReadManyAsync"/> asks for several ranges in one GET ("Range: bytes=a-b,c-d"); servers that support
/// it (nginx, Apache, most HTTP file servers) answer with a multipart/byteranges body. Object stores (S3, Azure
/// Blob, GCS) and ASP.NET's file results do not: they answer 200 with the whole file, which is dropped unread, and
/// the ranges are then read one GET each, all at once. Such a host is remembered and later calls go straight to
/// single-range GETs.
/// </para>
/// </remarks>
public sealed class HttpSource(HttpClient http) : IByteRangeSource
{
    private readonly HttpClient _http = http ?? throw new ArgumentNullException(nameof(http));

    // Hosts (scheme://host:port) seen ignoring multi-range requests.
    private readonly ConcurrentDictionary<string, bool> _singleRangeHosts = new(StringComparer.OrdinalIgnoreCase);
    private long _requests;
    private long _bytes;

    /// <summary>The most bytes read from a 200 response that ignored Range (up to the end of the range). Default 64 MiB.</summary>
    public long MaxIgnoredRangeBytes { get; init; } = 64L << 20;

    /// <summary>Ranges asked for in one multi-range GET at most; more are split across several. Default 64.</summary>
    public int MaxRangesPerRequest { get; init; } = 64;

    /// <summary>Whether <see cref="ReadManyAsync"/> tries multi-range GETs at all. Default true.</summary>
    public bool UseMultipleRanges { get; init; } = true;

    /// <summary>HTTP requests sent, including HEADs and failed ones.</summary>
    public long RequestCount => Interlocked.Read(ref _requests);

    /// <summary>Response body bytes received, including any a server sent before a range it ignored.</summary>
    public long BytesReceived => Interlocked.Read(ref _bytes);

    /// <summary>Sets <see cref="RequestCount"/> and <see cref="BytesReceived"/> back to zero.</summary>
    public void ResetCounters()
    {
        Interlocked.Exchange(ref _requests, 0);
        Interlocked.Exchange(ref _bytes, 0);
    }

    public bool CanRead(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        return Uri.TryCreate(location, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
    }

    public async ValueTask<SourceInfo> StatAsync(string location, CancellationToken cancellationToken = default)
    {
        var uri = ToUri(location);
        using (var head = new HttpRequestMessage(HttpMethod.Head, uri))
        using (var response = await SendAsync(head, location, cancellationToken))
        {
            var status = response.StatusCode;
            if (status is HttpStatusCode.NotFound or HttpStatusCode.Gone)
            {
                throw new SourceNotFoundException(location);
            }

            if (status == HttpStatusCode.OK && response.Content.Headers.ContentLength is { } length)
            {
                return InfoOf(response, length);
            }

            // Some servers refuse HEAD (presigned GET URLs answer 403, others 405 or 501) or omit the length:
            // a one-byte ranged GET tells the same.
            if (status != HttpStatusCode.OK && status is not (HttpStatusCode.Forbidden or HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotImplemented))
            {
                throw StatusError(location, response, "HEAD");
            }
        }

        using var get = new HttpRequestMessage(HttpMethod.Get, uri);
        get.Headers.Range = new RangeHeaderValue(0, 0);
        using var ranged = await SendAsync(get, location, cancellationToken);
        switch (ranged.StatusCode)
        {
            case HttpStatusCode.NotFound or HttpStatusCode.Gone:
                throw new SourceNotFoundException(location);
            case HttpStatusCode.PartialContent when ranged.Content.Headers.ContentRange?.Length is { } total:
                await ReadBodyAsync(ranged, location, skip: 0, length: (int)Math.Min(1, total), offset: 0, cancellationToken);
                return InfoOf(ranged, total);
            case HttpStatusCode.RequestedRangeNotSatisfiable when ranged.Content.Headers.ContentRange?.Length is { } total:
                // Even byte 0 is past the end: the file is empty.
                return InfoOf(ranged, total);
            case HttpStatusCode.OK when ranged.Content.Headers.ContentLength is { } whole:
                // The server ignored Range; its headers tell the size and the body is not needed.
                return InfoOf(ranged, whole);
            default:
                throw StatusError(location, ranged, "GET bytes=0-0");
        }
    }

    public async ValueTask<SourceRead> ReadAsync(string location, long offset, int length, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var uri = ToUri(location);
        if (length == 0)
        {
            // "bytes=a-(a-1)" cannot be expressed; an empty read only needs the size.
            var info = await StatAsync(location, cancellationToken);
            return offset <= info.Length ? new SourceRead(ReadOnlyMemory<byte>.Empty, info) : throw PastEnd(location, offset, length, info.Length);
        }

        var last = offset + length - 1;
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Range = new RangeHeaderValue(offset, last);
        using var response = await SendAsync(request, location, cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.NotFound or HttpStatusCode.Gone => throw new SourceNotFoundException(location),
            HttpStatusCode.PartialContent => await ReadPartialAsync(response, location, offset, length, cancellationToken),
            HttpStatusCode.OK => await ReadIgnoredRangeAsync(response, location, offset, length, cancellationToken),
            HttpStatusCode.RequestedRangeNotSatisfiable =>
                throw PastEnd(location, offset, length, response.Content.Headers.ContentRange?.Length ?? -1),
            _ => throw StatusError(location, response, $"GET bytes={offset}-{last}"),
        };
    }

    public async ValueTask<SourceRead> ReadUpToAsync(string location, long offset, int maxLength, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        var uri = ToUri(location);
        if (maxLength == 0)
        {
            var info = await StatAsync(location, cancellationToken);
            return offset <= info.Length ? new SourceRead(ReadOnlyMemory<byte>.Empty, info) : throw PastEnd(location, offset, 0, info.Length);
        }

        var last = offset + maxLength - 1;
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Range = new RangeHeaderValue(offset, last);
        using var response = await SendAsync(request, location, cancellationToken);
        var headers = response.Content.Headers;
        switch (response.StatusCode)
        {
            case HttpStatusCode.NotFound or HttpStatusCode.Gone:
                throw new SourceNotFoundException(location);
            case HttpStatusCode.PartialContent:
                // The server clamps a range that runs past the end of the file.
                if (headers.ContentRange is not { HasRange: true, From: { } from, To: { } to } range || from != offset || to > last)
                {
                    throw new SourceReadException(location, $"206 with Content-Range \"{headers.ContentRange}\" for requested bytes {offset}-{last}");
                }

                var data = await ReadBodyAsync(response, location, skip: 0, (int)(to - from + 1), offset, cancellationToken);
                return new SourceRead(data, InfoOf(response, range.Length ?? -1));
            case HttpStatusCode.RequestedRangeNotSatisfiable when headers.ContentRange?.Length is { } total && total == offset:
                // Reading at exactly the end of the file.
                return new SourceRead(ReadOnlyMemory<byte>.Empty, InfoOf(response, total));
            case HttpStatusCode.RequestedRangeNotSatisfiable:
                throw PastEnd(location, offset, maxLength, headers.ContentRange?.Length ?? -1);
            case HttpStatusCode.OK:
                var whole = headers.ContentLength ?? -1;
                if (whole >= 0 && offset > whole)
                {
                    throw PastEnd(location, offset, maxLength, whole);
                }

                var available = whole >= 0 ? (int)Math.Min(maxLength, whole - offset) : maxLength;
                return await ReadIgnoredRangeAsync(response, location, offset, available, cancellationToken);
            default:
                throw StatusError(location, response, $"GET bytes={offset}-{last}");
        }
    }

    public async ValueTask<SourceMultiRead> ReadManyAsync(string location, IReadOnlyList<(long Offset, int Length)> ranges, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        ArgumentOutOfRangeException.ThrowIfZero(ranges.Count, nameof(ranges));
        foreach (var (offset, length) in ranges)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(offset, nameof(ranges));
            ArgumentOutOfRangeException.ThrowIfNegative(length, nameof(ranges));
        }

        var uri = ToUri(location);
        var host = uri.GetLeftPart(UriPartial.Authority);
        var data = new ReadOnlyMemory<byte>[ranges.Count];
        var done = new bool[ranges.Count];
        SourceInfo? info = null;
        var requests = 0;
        if (ranges.Count > 1 && UseMultipleRanges && !_singleRangeHosts.ContainsKey(host))
        {
            for (var first = 0; first < ranges.Count; first += MaxRangesPerRequest)
            {
                var batch = Enumerable.Range(first, Math.Min(MaxRangesPerRequest, ranges.Count - first)).Where(i => ranges[i].Length > 0).ToList();
                if (batch.Count < 2)
                {
                    continue;
                }

                requests++;
                var parts = await ReadMultipleRangesAsync(uri, location, [.. batch.Select(i => ranges[i])], cancellationToken);
                if (parts is null)
                {
                    _singleRangeHosts[host] = true;
                    break;
                }

                foreach (var i in batch)
                {
                    var (offset, length) = ranges[i];
                    foreach (var part in parts.Value.Parts)
                    {
                        if (offset >= part.From && offset + length <= part.From + part.Data.Length)
                        {
                            data[i] = part.Data.AsMemory((int)(offset - part.From), length);
                            done[i] = true;
                            info ??= parts.Value.Info;
                            break;
                        }
                    }
                }
            }
        }

        // Whatever a multi-range answer did not cover (or every range, where the server does not do them).
        var rest = Enumerable.Range(0, ranges.Count).Where(i => !done[i]).ToList();
        var reads = await Task.WhenAll(rest.Select(i => ReadAsync(location, ranges[i].Offset, ranges[i].Length, cancellationToken).AsTask()));
        for (var k = 0; k < rest.Count; k++)
        {
            data[rest[k]] = reads[k].Data;
            info ??= reads[k].Info;
        }

        return new SourceMultiRead(data, info!, requests + rest.Count);
    }

    // One GET for several ranges: the parts the server sent (a multipart/byteranges body, or one part where it merged
    // the ranges into one), or null where it ignored the request (200 with the whole file, whose body is not read).
    private async Task<(List<(long From, byte[] Data)> Parts, SourceInfo Info)?> ReadMultipleRangesAsync(
        Uri uri, string location, List<(long Offset, int Length)> ranges, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        var header = new RangeHeaderValue();
        foreach (var (offset, length) in ranges)
        {
            header.Ranges.Add(new RangeItemHeaderValue(offset, offset + length - 1));
        }

        request.Headers.Range = header;
        using var response = await SendAsync(request, location, cancellationToken);
        var description = $"GET {header}";
        switch (response.StatusCode)
        {
            case HttpStatusCode.NotFound or HttpStatusCode.Gone:
                throw new SourceNotFoundException(location);
            case HttpStatusCode.OK:
                return null;
            case HttpStatusCode.PartialContent:
                break;
            case HttpStatusCode.RequestedRangeNotSatisfiable:
                // Some range lies past the end; the single reads that follow name it.
                return ([], InfoOf(response, response.Content.Headers.ContentRange?.Length ?? -1));
            default:
                throw StatusError(location, response, description);
        }

        var headers = response.Content.Headers;
        var limit = ranges.Sum(r => (long)r.Length) + (ranges.Count * 1024L) + (64 << 10);
        if (headers.ContentType is { MediaType: "multipart/byteranges" } type)
        {
            var boundary = type.Parameters.FirstOrDefault(p => string.Equals(p.Name, "boundary", StringComparison.OrdinalIgnoreCase))?.Value?.Trim('"');
            if (string.IsNullOrEmpty(boundary))
            {
                throw new SourceReadException(location, $"multipart/byteranges answer to {description} has no boundary");
            }

            var body = await ReadWholeBodyAsync(response, location, Math.Min(limit, MaxIgnoredRangeBytes), cancellationToken);
            var (parts, total) = MultipartByteRanges.Parse(body, boundary, location);
            return (parts, InfoOf(response, total));
        }

        // The server merged the ranges into one part.
        if (headers.ContentRange is not { HasRange: true, From: { } from, To: { } to } range || to < from)
        {
            throw new SourceReadException(location, $"206 with Content-Range \"{headers.ContentRange}\" for {description}");
        }

        var span = to - from + 1;
        if (span > MaxIgnoredRangeBytes)
        {
            throw new SourceReadException(location, $"206 for {description} is {span} bytes, more than the {MaxIgnoredRangeBytes} allowed");
        }

        var single = await ReadBodyAsync(response, location, skip: 0, (int)span, from, cancellationToken);
        return ([(from, single)], InfoOf(response, range.Length ?? -1));
    }

    private async Task<byte[]> ReadWholeBodyAsync(HttpResponseMessage response, string location, long limit, CancellationToken cancellationToken)
    {
        try
        {
            using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var buffer = new MemoryStream();
            var scratch = new byte[81920];
            int read;
            while ((read = await body.ReadAsync(scratch, cancellationToken)) > 0)
            {
                Interlocked.Add(ref _bytes, read);
                buffer.Write(scratch, 0, read);
                if (buffer.Length > limit)
                {
                    throw new SourceReadException(location, $"multipart/byteranges answer is longer than the {limit} bytes expected");
                }
            }

            return buffer.ToArray();
        }
        catch (IOException ex)
        {
            throw new SourceReadException(location, $"connection failed reading a multi-range answer: {ex.Message}", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new SourceReadException(location, $"connection failed reading a multi-range answer: {ex.Message}", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SourceReadException(location, "timed out reading a multi-range answer", ex);
        }
    }

    // 206: the body must be exactly the requested range.
    private async Task<SourceRead> ReadPartialAsync(HttpResponseMessage response, string location, long offset, int length, CancellationToken cancellationToken)
    {
        var headers = response.Content.Headers;
        var last = offset + length - 1;
        var range = headers.ContentRange;
        if (range is not { HasRange: true, From: { } from, To: { } to } || from != offset)
        {
            throw new SourceReadException(location, $"206 with Content-Range \"{range}\" for requested bytes {offset}-{last}");
        }

        // Servers clamp a range that runs past the end to the end of the file.
        if (to < last)
        {
            throw PastEnd(location, offset, length, range.Length ?? to + 1);
        }

        if (to > last || (headers.ContentLength is { } bodyLength && bodyLength != length))
        {
            throw new SourceReadException(location,
                $"206 with Content-Range \"{range}\" and Content-Length {headers.ContentLength} for requested bytes {offset}-{last}");
        }

        var data = await ReadBodyAsync(response, location, skip: 0, length, offset, cancellationToken);
        // A total of "*" (unknown) is reported as -1.
        return new SourceRead(data, InfoOf(response, range.Length ?? -1));
    }

    // 200: the server ignored Range and sends the whole file; slice the range out of its start.
    private async Task<SourceRead> ReadIgnoredRangeAsync(HttpResponseMessage response, string location, long offset, int length, CancellationToken cancellationToken)
    {
        var headers = response.Content.Headers;
        var last = offset + length - 1;
        if (headers.ContentEncoding.Count > 0)
        {
            throw new SourceReadException(location,
                $"200 with Content-Encoding {string.Join(",", headers.ContentEncoding)} instead of the requested bytes {offset}-{last}");
        }

        var total = headers.ContentLength ?? -1;
        if (total >= 0 && offset + length > total)
        {
            throw PastEnd(location, offset, length, total);
        }

        if (offset + length > MaxIgnoredRangeBytes)
        {
            throw new SourceReadException(location,
                $"server ignored Range and sent the whole file; reading bytes {offset}-{last} would need {offset + length} bytes, more than the {MaxIgnoredRangeBytes} allowed");
        }

        var data = await ReadBodyAsync(response, location, skip: offset, length, offset, cancellationToken);
        return new SourceRead(data, InfoOf(response, total));
    }

    private static Uri ToUri(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        return Uri.TryCreate(location, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new SourceReadException(location, "not an http:// or https:// URL");
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string location, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new SourceReadException(location, $"{request.Method} failed: {ex.Message}", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SourceReadException(location, $"{request.Method} timed out", ex);
        }
    }

    // Reads exactly `length` bytes after skipping `skip`, then stops; disposing the response drops any rest.
    private async Task<byte[]> ReadBodyAsync(HttpResponseMessage response, string location, long skip, int length, long offset, CancellationToken cancellationToken)
    {
        var data = new byte[length];
        long received = 0;
        try
        {
            using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            if (skip > 0)
            {
                var scratch = new byte[(int)Math.Min(skip, 81920)];
                while (received < skip)
                {
                    var read = await body.ReadAsync(scratch.AsMemory(0, (int)Math.Min(scratch.Length, skip - received)), cancellationToken);
                    if (read == 0)
                    {
                        break;
                    }

                    received += read;
                    Interlocked.Add(ref _bytes, read);
                }
            }

            var done = 0;
            while (received >= skip && done < length)
            {
                var read = await body.ReadAsync(data.AsMemory(done), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                done += read;
                Interlocked.Add(ref _bytes, read);
            }

            if (done < length)
            {
                throw new SourceReadException(location,
                    $"short body: the response (HTTP {(int)response.StatusCode}) ended after {received + done} bytes, before all {length} bytes at offset {offset}");
            }

            return data;
        }
        catch (IOException ex)
        {
            throw new SourceReadException(location, $"connection failed reading {length} bytes at offset {offset}: {ex.Message}", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new SourceReadException(location, $"connection failed reading {length} bytes at offset {offset}: {ex.Message}", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SourceReadException(location, $"timed out reading {length} bytes at offset {offset}", ex);
        }
    }

    private static SourceInfo InfoOf(HttpResponseMessage response, long length) =>
        new(length, response.Headers.ETag?.ToString(), response.Content.Headers.LastModified);

    private static SourceReadException PastEnd(string location, long offset, int length, long size) =>
        new(location, size >= 0
            ? $"range {offset}+{length} is past the end of the file ({size} bytes)"
            : $"range {offset}+{length} is past the end of the file");

    private static SourceReadException StatusError(string location, HttpResponseMessage response, string request) =>
        new(location, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase} for {request}");
}
