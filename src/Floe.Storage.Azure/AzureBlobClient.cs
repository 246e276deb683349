using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Xml;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Floe.Storage.Azure;

/// <summary>
/// The few Blob service REST operations Floe needs (get, ranged get, properties, put with conditions, delete, list,
/// create container) on one storage account, signed with SharedKey or a SAS (or anonymous), with retries.
/// </summary>
/// <remarks>
/// Every call is retried with exponential backoff and jitter (honouring Retry-After) on 408, 429, 500, 502, 503 and
/// 504, on connection failures and on a try that exceeds <see cref="AzureRetryOptions.TryTimeout"/>; each retry is
/// logged at Warning with the cause and the wait. A write whose earlier try may have been applied (the connection
/// failed after sending, or the service answered 500/504) is reported as <see cref="BlobWrite.Ambiguous"/>, so the
/// caller can tell its own earlier write from another writer's.
/// </remarks>
public sealed class AzureBlobClient
{
    /// <summary>The REST API version sent with every request.</summary>
    public const string ApiVersion = "2023-11-03";

    private static readonly Lazy<HttpClient> SharedHttp = new(() => new HttpClient(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        AutomaticDecompression = DecompressionMethods.None,
        MaxConnectionsPerServer = 256,
    })
    { Timeout = Timeout.InfiniteTimeSpan });

    private readonly HttpClient _http;
    private readonly ILogger _log;
    private long _requests;
    private long _retries;

    public AzureBlobClient(AzureConnectionString account, HttpClient? http = null, AzureRetryOptions? retry = null, ILogger? logger = null)
    {
        Account = account ?? throw new ArgumentNullException(nameof(account));
        _http = http ?? SharedHttp.Value;
        Retry = retry ?? new AzureRetryOptions();
        _log = logger ?? NullLogger.Instance;
    }

    public AzureConnectionString Account { get; }

    public AzureRetryOptions Retry { get; }

    /// <summary>HTTP requests sent (every try counts).</summary>
    public long RequestCount => Interlocked.Read(ref _requests);

    /// <summary>Tries that failed and were retried.</summary>
    public long RetryCount => Interlocked.Read(ref _retries);

    /// <summary>The blob's URL without any signature, for messages.</summary>
    public string UrlOf(string container, string? blob = null) =>
        Account.BlobEndpoint + container + (blob is null ? "" : "/" + EscapePath(blob));

    /// <summary>The whole blob, or bytes [offset, offset+length); null when the blob (or its container) does not exist.</summary>
    /// <exception cref="AzureBlobException">Status 416 when <paramref name="offset"/> is at or past the end; other failures.</exception>
    public async Task<BlobRead?> GetAsync(string container, string blob, long offset = 0, int? length = null, CancellationToken cancellationToken = default)
    {
        var response = await SendAsync("get", HttpMethod.Get, container, blob, [], request =>
        {
            if (length is { } n)
            {
                request.Headers.TryAddWithoutValidation("x-ms-range", $"bytes={offset}-{offset + n - 1}");
            }
            else if (offset > 0)
            {
                request.Headers.TryAddWithoutValidation("x-ms-range", $"bytes={offset}-");
            }
        }, cancellationToken).ConfigureAwait(false);
        if (response.Status == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccess(UrlOf(container, blob), HttpStatusCode.OK, HttpStatusCode.PartialContent);
        var total = response.Status == HttpStatusCode.PartialContent ? response.ContentRangeTotal() ?? -1 : response.Body.Length;
        return new BlobRead(response.Body, response.Properties(total), total);
    }

    /// <summary>Length, etag, last-modified time and metadata of a blob, or null when it does not exist.</summary>
    public async Task<BlobProperties?> GetPropertiesAsync(string container, string blob, CancellationToken cancellationToken = default)
    {
        var response = await SendAsync("head", HttpMethod.Head, container, blob, [], null, cancellationToken).ConfigureAwait(false);
        if (response.Status == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccess(UrlOf(container, blob), HttpStatusCode.OK);
        return response.Properties(response.ContentLength ?? -1);
    }

    /// <summary>
    /// Writes a block blob in one request under <paramref name="condition"/>. A failed condition (412, or 409 for
    /// If-None-Match: *) or a missing blob for If-Match comes back as <see cref="BlobWrite.ConditionFailed"/>.
    /// A missing container is created once and the write repeated.
    /// </summary>
    public async Task<BlobWrite> PutAsync(string container, string blob, ReadOnlyMemory<byte> data, BlobCondition condition,
        IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var ambiguous = false;
        for (var createdContainer = false; ; createdContainer = true)
        {
            var response = await SendAsync("put", HttpMethod.Put, container, blob, [], request =>
            {
                request.Content = new ReadOnlyMemoryContent(data);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                request.Headers.TryAddWithoutValidation("x-ms-blob-type", "BlockBlob");
                if (condition.IfNoneMatchAny)
                {
                    request.Headers.TryAddWithoutValidation("If-None-Match", "*");
                }

                if (condition.IfMatch is { } etag)
                {
                    request.Headers.TryAddWithoutValidation("If-Match", etag);
                }

                foreach (var (name, value) in metadata ?? new Dictionary<string, string>())
                {
                    request.Headers.TryAddWithoutValidation("x-ms-meta-" + name, value);
                }
            }, cancellationToken, mayBeApplied: () => ambiguous = true).ConfigureAwait(false);

            if (response.Status == HttpStatusCode.Created)
            {
                return new BlobWrite(response.ETag(), false, ambiguous);
            }

            if (response.Status == HttpStatusCode.PreconditionFailed
                || response.Status == HttpStatusCode.Conflict && condition.IfNoneMatchAny && response.ErrorCode == "BlobAlreadyExists"
                || response.Status == HttpStatusCode.NotFound && condition.IfMatch is not null)
            {
                return new BlobWrite(null, true, ambiguous);
            }

            if (response.Status == HttpStatusCode.NotFound && response.ErrorCode == "ContainerNotFound" && !createdContainer)
            {
                await CreateContainerAsync(container, cancellationToken).ConfigureAwait(false);
                continue;
            }

            response.EnsureSuccess(UrlOf(container, blob), HttpStatusCode.Created);
        }
    }

    /// <summary>Deletes a blob; false when it (or its container) did not exist.</summary>
    public async Task<bool> DeleteAsync(string container, string blob, CancellationToken cancellationToken = default)
    {
        var response = await SendAsync("delete", HttpMethod.Delete, container, blob, [], null, cancellationToken).ConfigureAwait(false);
        if (response.Status == HttpStatusCode.NotFound)
        {
            return false;
        }

        response.EnsureSuccess(UrlOf(container, blob), HttpStatusCode.Accepted, HttpStatusCode.OK);
        return true;
    }

    /// <summary>One page of blob names under a prefix, in the service's (lexicographic) order, and the next marker.</summary>
    public async Task<BlobList> ListAsync(string container, string prefix, string? marker, int maxResults, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxResults, 1);
        List<(string, string)> query = [("restype", "container"), ("comp", "list"), ("maxresults", Math.Min(maxResults, 5000).ToString(CultureInfo.InvariantCulture))];
        if (prefix.Length > 0)
        {
            query.Add(("prefix", prefix));
        }

        if (!string.IsNullOrEmpty(marker))
        {
            query.Add(("marker", marker));
        }

        var response = await SendAsync("list", HttpMethod.Get, container, null, query, null, cancellationToken).ConfigureAwait(false);
        if (response.Status == HttpStatusCode.NotFound && response.ErrorCode == "ContainerNotFound")
        {
            return new BlobList([], null);
        }

        response.EnsureSuccess(UrlOf(container), HttpStatusCode.OK);
        return ParseList(response.Body, UrlOf(container));
    }

    /// <summary>Creates a container; false when it already existed.</summary>
    public async Task<bool> CreateContainerAsync(string container, CancellationToken cancellationToken = default)
    {
        var response = await SendAsync("create container", HttpMethod.Put, container, null, [("restype", "container")],
            request => request.Content = new ByteArrayContent([]), cancellationToken).ConfigureAwait(false);
        if (response.Status == HttpStatusCode.Conflict && response.ErrorCode == "ContainerAlreadyExists")
        {
            return false;
        }

        response.EnsureSuccess(UrlOf(container), HttpStatusCode.Created);
        _log.LogInformation("Created Azure Blob container {Container}", UrlOf(container));
        return true;
    }

    /// <summary>Escapes each '/'-separated segment of a blob name for a URL path.</summary>
    public static string EscapePath(string blob) => string.Join('/', blob.Split('/').Select(Uri.EscapeDataString));

    /// <summary>A container name as Azure requires: 3–63 of a-z 0-9 '-', starting with a letter or digit, no "--".</summary>
    public static bool IsValidContainerName(string name) =>
        name.Length is >= 3 and <= 63 && char.IsAsciiLetterOrDigit(name[0]) && name[^1] != '-' && !name.Contains("--", StringComparison.Ordinal)
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');

    // ---- sending, signing, retrying ----

    private async Task<Response> SendAsync(string operation, HttpMethod method, string container, string? blob, List<(string Name, string Value)> query,
        Action<HttpRequestMessage>? configure, CancellationToken cancellationToken, Action? mayBeApplied = null)
    {
        var resource = UrlOf(container, blob);
        for (var attempt = 1; ; attempt++)
        {
            string problem;
            TimeSpan? retryAfter = null;
            try
            {
                using var tryTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                tryTimeout.CancelAfter(Retry.TryTimeout);
                using var request = Build(method, container, blob, query, configure);
                Interlocked.Increment(ref _requests);
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, tryTimeout.Token).ConfigureAwait(false);
                var body = method == HttpMethod.Head ? [] : await response.Content.ReadAsByteArrayAsync(tryTimeout.Token).ConfigureAwait(false);
                var result = new Response(response, body);
                if (!IsTransient(response.StatusCode))
                {
                    return result;
                }

                problem = $"{(int)response.StatusCode} {result.ErrorCode ?? response.ReasonPhrase}";
                retryAfter = response.Headers.RetryAfter?.Delta;
                if (response.StatusCode is HttpStatusCode.InternalServerError or HttpStatusCode.GatewayTimeout)
                {
                    mayBeApplied?.Invoke();
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                problem = $"no answer within {Retry.TryTimeout.TotalSeconds:0.#} s";
                mayBeApplied?.Invoke();
            }
            catch (HttpRequestException e)
            {
                problem = Describe(e);
                if (!IsRefused(e))
                {
                    mayBeApplied?.Invoke();
                }
            }
            catch (IOException e)
            {
                problem = e.Message;
                mayBeApplied?.Invoke();
            }

            if (attempt > Retry.MaxRetries)
            {
                throw new AzureBlobException(resource, null, null, $"{operation} failed after {attempt} tries: {problem}");
            }

            var delay = Backoff(attempt, retryAfter);
            Interlocked.Increment(ref _retries);
            _log.LogWarning("Azure Blob {Operation} {Resource}: {Problem}; retry {Attempt} of {MaxRetries} in {DelayMs} ms",
                operation, resource, problem, attempt, Retry.MaxRetries, (int)delay.TotalMilliseconds);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    private TimeSpan Backoff(int attempt, TimeSpan? retryAfter)
    {
        var exponential = Retry.InitialBackoff.TotalMilliseconds * Math.Pow(2, attempt - 1);
        var capped = Math.Min(exponential, Retry.MaxBackoff.TotalMilliseconds);
        // Full jitter in the upper half: writers that failed together do not retry together.
        var wait = TimeSpan.FromMilliseconds(capped * (0.5 + (Random.Shared.NextDouble() / 2)));
        return retryAfter is { } asked && asked > wait ? TimeSpan.FromMilliseconds(Math.Min(asked.TotalMilliseconds, Retry.MaxBackoff.TotalMilliseconds)) : wait;
    }

    private static bool IsTransient(HttpStatusCode status) => status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
        or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    // A refused connection never carried the request, so a write cannot have been applied.
    private static bool IsRefused(HttpRequestException e) =>
        e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused } || e.HttpRequestError == HttpRequestError.ConnectionError;

    private static string Describe(HttpRequestException e) =>
        e.InnerException is { } inner && inner.Message != e.Message ? $"{e.Message} ({inner.Message})" : e.Message;

    private HttpRequestMessage Build(HttpMethod method, string container, string? blob, List<(string Name, string Value)> query, Action<HttpRequestMessage>? configure)
    {
        var path = Account.BlobEndpoint.AbsolutePath + container + (blob is null ? "" : "/" + EscapePath(blob));
        var queryString = string.Join('&', query.Select(q => Uri.EscapeDataString(q.Name) + "=" + Uri.EscapeDataString(q.Value)));
        if (Account.SharedAccessSignature is { } sas)
        {
            queryString = queryString.Length == 0 ? sas : queryString + "&" + sas;
        }

        var builder = new UriBuilder(Account.BlobEndpoint) { Path = path, Query = queryString };
        var request = new HttpRequestMessage(method, builder.Uri);
        request.Headers.TryAddWithoutValidation("x-ms-version", ApiVersion);
        request.Headers.TryAddWithoutValidation("x-ms-date", DateTime.UtcNow.ToString("R", CultureInfo.InvariantCulture));
        configure?.Invoke(request);
        if (Account.AccountKey is { } key)
        {
            request.Headers.TryAddWithoutValidation("Authorization", $"SharedKey {Account.AccountName}:{Sign(request, path, query, key)}");
        }

        return request;
    }

    // https://learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key (version 2015-02-21 and later).
    private string Sign(HttpRequestMessage request, string path, List<(string Name, string Value)> query, byte[] key)
    {
        string Header(string name) =>
            request.Headers.TryGetValues(name, out var values) || request.Content?.Headers.TryGetValues(name, out values) == true
                ? string.Join(',', values!) : "";

        var contentLength = request.Content?.Headers.ContentLength is { } length and > 0 ? length.ToString(CultureInfo.InvariantCulture) : "";
        var text = new StringBuilder()
            .Append(request.Method.Method).Append('\n')
            .Append(Header("Content-Encoding")).Append('\n')
            .Append(Header("Content-Language")).Append('\n')
            .Append(contentLength).Append('\n')
            .Append(Header("Content-MD5")).Append('\n')
            .Append(Header("Content-Type")).Append('\n')
            .Append('\n') // Date: x-ms-date is sent instead
            .Append(Header("If-Modified-Since")).Append('\n')
            .Append(Header("If-Match")).Append('\n')
            .Append(Header("If-None-Match")).Append('\n')
            .Append(Header("If-Unmodified-Since")).Append('\n')
            .Append(Header("Range")).Append('\n');
        foreach (var header in request.Headers.Where(h => h.Key.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
            .Select(h => (Name: h.Key.ToLowerInvariant(), Value: string.Join(',', h.Value).Trim()))
            .OrderBy(h => h.Name, StringComparer.Ordinal))
        {
            text.Append(header.Name).Append(':').Append(header.Value).Append('\n');
        }

        text.Append('/').Append(Account.AccountName).Append(new Uri(Account.BlobEndpoint, path).AbsolutePath);
        foreach (var group in query.GroupBy(q => q.Name.ToLowerInvariant()).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            text.Append('\n').Append(group.Key).Append(':').Append(string.Join(',', group.Select(q => q.Value).Order(StringComparer.Ordinal)));
        }

        return Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static BlobList ParseList(byte[] body, string resource)
    {
        var names = new List<string>();
        string? next = null;
        try
        {
            using var reader = XmlReader.Create(new MemoryStream(body), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, IgnoreWhitespace = true });
            var inBlob = false;
            while (reader.Read())
            {
                if (reader.NodeType == XmlNodeType.Element)
                {
                    switch (reader.Name)
                    {
                        case "Blob":
                            inBlob = !reader.IsEmptyElement;
                            break;
                        case "Name" when inBlob && reader.Depth == 3:
                            var encoded = reader.GetAttribute("Encoded") == "true";
                            var name = reader.ReadElementContentAsString();
                            names.Add(encoded ? Uri.UnescapeDataString(name) : name);
                            continue;
                        case "NextMarker":
                            next = reader.IsEmptyElement ? null : reader.ReadElementContentAsString();
                            continue;
                    }
                }
                else if (reader.NodeType == XmlNodeType.EndElement && reader.Name == "Blob")
                {
                    inBlob = false;
                }
            }
        }
        catch (XmlException e)
        {
            throw new AzureBlobException(resource, null, null, $"unreadable listing: {e.Message}");
        }

        return new BlobList(names, string.IsNullOrEmpty(next) ? null : next);
    }

    /// <summary>A buffered response: status, headers and body.</summary>
    private sealed class Response
    {
        private readonly HttpResponseHeaders _headers;
        private readonly HttpContentHeaders _content;

        public Response(HttpResponseMessage response, byte[] body)
        {
            Status = response.StatusCode;
            _headers = response.Headers;
            _content = response.Content.Headers;
            Body = body;
            ErrorCode = response.Headers.TryGetValues("x-ms-error-code", out var codes) ? codes.FirstOrDefault() : null;
        }

        public HttpStatusCode Status { get; }

        public byte[] Body { get; }

        public string? ErrorCode { get; }

        public long? ContentLength => _content.ContentLength;

        public long? ContentRangeTotal() => _content.ContentRange?.Length;

        public string ETag() => _headers.ETag?.ToString() ?? (_headers.TryGetValues("ETag", out var values) ? values.First() : "");

        public BlobProperties Properties(long length)
        {
            var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, values) in _headers)
            {
                if (name.StartsWith("x-ms-meta-", StringComparison.OrdinalIgnoreCase))
                {
                    metadata[name["x-ms-meta-".Length..]] = string.Join(',', values);
                }
            }

            return new BlobProperties(length, ETag(), _content.LastModified, metadata);
        }

        public void EnsureSuccess(string resource, params HttpStatusCode[] expected)
        {
            if (!expected.Contains(Status))
            {
                var message = Encoding.UTF8.GetString(Body);
                var start = message.IndexOf("<Message>", StringComparison.Ordinal);
                var end = message.IndexOf("</Message>", StringComparison.Ordinal);
                var detail = start >= 0 && end > start ? message[(start + 9)..end].Split('\n')[0].Trim() : "";
                throw new AzureBlobException(resource, Status, ErrorCode,
                    $"{(int)Status} {ErrorCode ?? Status.ToString()}{(detail.Length > 0 ? ": " + detail : "")}");
            }
        }
    }
}

/// <summary>Retry settings of <see cref="AzureBlobClient"/>.</summary>
public sealed record AzureRetryOptions
{
    /// <summary>Retries after the first try (default 8: about a minute of waiting in all with the default backoff).</summary>
    public int MaxRetries { get; init; } = 8;

    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long one try may take, body included, before it is abandoned and retried.</summary>
    public TimeSpan TryTimeout { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>The condition of a put: none, "no blob may exist" or "the blob's etag is still this".</summary>
public sealed record BlobCondition(bool IfNoneMatchAny, string? IfMatch)
{
    public static readonly BlobCondition None = new(false, null);

    public static readonly BlobCondition IfAbsent = new(true, null);

    public static BlobCondition IfEtag(string etag) => new(false, etag ?? throw new ArgumentNullException(nameof(etag)));
}

/// <summary>A blob's length (-1 when unknown), etag, last-modified time and metadata (x-ms-meta-* without the prefix).</summary>
public sealed record BlobProperties(long Length, string ETag, DateTimeOffset? LastModified, IReadOnlyDictionary<string, string> Metadata);

/// <summary>Bytes read, the blob's properties and its total length (-1 when the service did not say).</summary>
public sealed record BlobRead(byte[] Data, BlobProperties Properties, long TotalLength);

/// <summary>
/// The result of a put: the new etag, or <see cref="ConditionFailed"/>; <see cref="Ambiguous"/> when an earlier try
/// of the same put may have been applied before this answer.
/// </summary>
public sealed record BlobWrite(string? ETag, bool ConditionFailed, bool Ambiguous);

/// <summary>Blob names of one listing page and the marker of the next (null at the end).</summary>
public sealed record BlobList(IReadOnlyList<string> Names, string? NextMarker);

/// <summary>A Blob service call failed; the message names the URL (never a signature).</summary>
public sealed class AzureBlobException(string resource, HttpStatusCode? status, string? errorCode, string message)
    : ObjectStoreException($"{resource}: {message}")
{
    public string Resource { get; } = resource;

    public HttpStatusCode? Status { get; } = status;

    public string? ErrorCode { get; } = errorCode;
}
