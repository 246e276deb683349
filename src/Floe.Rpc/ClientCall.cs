using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace Floe.Rpc;

/// <summary>
/// One call on the client: the HTTP/2 request, the response stream and the final status. Every failure becomes an
/// <see cref="RpcException"/>; the first status decided (by the server, the deadline, cancellation or a local
/// check) is the call's status, and deciding it resets the HTTP/2 stream if it is still open.
/// </summary>
internal sealed class ClientCall<TRequest, TResponse> : IAsyncStreamReader<TResponse>, IClientStreamWriter<TRequest>, IDisposable
    where TRequest : IMessage<TRequest>, new()
    where TResponse : IMessage<TResponse>, new()
{
    private readonly RpcChannel _channel;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CancellationTokenSource _cancel = new();
    private readonly CancellationTokenRegistration _userCancellation;
    private readonly Timer? _deadlineTimer;
    private readonly RequestStreamContent? _requestStream;
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task<HttpResponseMessage?> _response;
    private readonly HttpRequestMessage _request;
    private readonly Lock _lock = new();
    private HttpResponseMessage? _httpResponse;
    private Stream? _responseBody;
    private string? _responseEncoding;
    private Status? _status;
    private Metadata _trailers = new();
    private bool _requestCompleted;

    public ClientCall(RpcChannel channel, Method<TRequest, TResponse> method, CallOptions options, TRequest? request)
    {
        _channel = channel;
        _method = method;
        var http = _request = RpcChannel.NewRequest(new Uri(channel.Address, method.FullName));
        http.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        http.Headers.TryAddWithoutValidation(RpcWire.AcceptEncodingHeader, RpcWire.AcceptedEncodings);
        http.Headers.TryAddWithoutValidation("user-agent", "floe-rpc/1.0");
        foreach (var entry in channel.Options.DefaultHeaders.Concat(options.Headers ?? []))
        {
            http.Headers.TryAddWithoutValidation(entry.Key, entry.WireValue);
        }

        if (options.Deadline is { } deadline)
        {
            var remaining = deadline.ToUniversalTime() - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                Finish(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded (it had passed before the call started)"), null);
            }
            else
            {
                http.Headers.TryAddWithoutValidation(RpcWire.TimeoutHeader, RpcWire.EncodeTimeout(remaining));
                var due = remaining.TotalMilliseconds >= uint.MaxValue - 1 ? Timeout.InfiniteTimeSpan : remaining;
                _deadlineTimer = new Timer(_ => Finish(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"), null), null, due, Timeout.InfiniteTimeSpan);
            }
        }

        if (request is not null)
        {
            http.Content = new ByteArrayContent(Framed(request));
            http.Content.Headers.ContentType = new MediaTypeHeaderValue(RpcWire.ContentType);
        }
        else
        {
            _requestStream = new RequestStreamContent();
            http.Content = _requestStream;
        }

        _userCancellation = options.CancellationToken.Register(() => Finish(new Status(StatusCode.Cancelled, "Call cancelled by the client."), null));
        _response = _status is null ? SendAsync(http) : Task.FromResult<HttpResponseMessage?>(null);
    }

    public TResponse Current { get; private set; } = default!;

    public Task<Metadata> ResponseHeadersAsync() => ReadHeadersAsync();

    public Status GetStatus() => _status ?? throw new InvalidOperationException("The call has not finished yet.");

    public Metadata GetTrailers() => _status is null ? throw new InvalidOperationException("The call has not finished yet.") : _trailers;

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        using var registration = cancellationToken.Register(() => Finish(new Status(StatusCode.Cancelled, "Call cancelled by the client."), null));
        var response = await _response;
        if (_status is { } decided)
        {
            return decided.StatusCode == StatusCode.OK ? false : throw Failure();
        }

        TResponse? message;
        try
        {
            message = await RpcWire.ReadMessageAsync(_responseBody!, _method.ResponseParser, _channel.Options.MaxReceiveMessageSize, _responseEncoding, "response", _cancel.Token);
        }
        catch (RpcException e)
        {
            Finish(e.Status, null);
            throw Failure();
        }
        catch (Exception e)
        {
            Finish(StatusFor(e), null);
            throw Failure();
        }

        if (message is null)
        {
            FinishFromTrailers(response!);
            return _status!.Value.StatusCode == StatusCode.OK ? false : throw Failure();
        }

        Current = message;
        return true;
    }

    /// <summary>Reads exactly one response message and the end of the stream (unary and client-streaming calls).</summary>
    public async Task<TResponse> ReadSingleResponseAsync()
    {
        if (!await MoveNext(CancellationToken.None))
        {
            Finish(new Status(StatusCode.Internal, "The server ended the call with OK but sent no response message."), null);
            throw Failure();
        }

        var response = Current;
        if (await MoveNext(CancellationToken.None))
        {
            Finish(new Status(StatusCode.Internal, "The server sent more than one response message to a call that takes one."), null);
            throw Failure();
        }

        return response;
    }

    public async Task WriteAsync(TRequest message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_requestStream is null || _requestCompleted)
        {
            throw new InvalidOperationException("The request stream is already complete.");
        }

        if (_status is not null)
        {
            throw Failure();
        }

        var size = message.CalculateSize();
        CheckSendSize(size);
        var ready = await Task.WhenAny(_requestStream.Stream, _ended.Task);
        if (ready != _requestStream.Stream)
        {
            throw Failure();
        }

        try
        {
            await RpcWire.WriteMessageAsync(await _requestStream.Stream, message, size, _cancel.Token);
        }
        catch (Exception e)
        {
            Finish(StatusFor(e), null);
            throw Failure();
        }
    }

    public Task CompleteAsync()
    {
        _requestCompleted = true;
        _requestStream?.Complete();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        Finish(new Status(StatusCode.Cancelled, "Call disposed before it finished."), null);
        _deadlineTimer?.Dispose();
        _userCancellation.Dispose();
        _httpResponse?.Dispose();
        _request.Dispose();
    }

    private async Task<HttpResponseMessage?> SendAsync(HttpRequestMessage request)
    {
        HttpResponseMessage response;
        try
        {
            response = await _channel.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _cancel.Token);
        }
        catch (Exception e)
        {
            Finish(StatusFor(e), null);
            return null;
        }

        lock (_lock)
        {
            _httpResponse = response;
        }

        if (_status is not null)
        {
            response.Dispose();
            return response;
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            var code = RpcWire.FromHttpStatus(response.StatusCode);
            Finish(new Status(code, $"The server answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}, not a gRPC response."), null);
            return response;
        }

        if (Header(response.Headers, RpcWire.StatusHeader) is not null)
        {
            // Trailers-Only: the status came in the only HEADERS frame.
            FinishFromHeaders(response.Headers, "response headers");
            return response;
        }

        var contentType = response.Content.Headers.ContentType?.ToString();
        if (!RpcWire.IsGrpcContentType(contentType))
        {
            Finish(new Status(StatusCode.Unknown, $"The server answered with content-type \"{contentType}\", not application/grpc."), null);
            return response;
        }

        _responseEncoding = Header(response.Headers, RpcWire.EncodingHeader);
        try
        {
            _responseBody = await response.Content.ReadAsStreamAsync(_cancel.Token);
        }
        catch (Exception e)
        {
            Finish(StatusFor(e), null);
        }

        return response;
    }

    private async Task<Metadata> ReadHeadersAsync()
    {
        var response = await _response;
        if (response is null)
        {
            throw Failure();
        }

        return ToMetadata(response.Headers);
    }

    private void FinishFromTrailers(HttpResponseMessage response)
    {
        if (Header(response.TrailingHeaders, RpcWire.StatusHeader) is not null)
        {
            FinishFromHeaders(response.TrailingHeaders, "trailers");
        }
        else
        {
            Finish(new Status(StatusCode.Internal, "The response ended without a grpc-status trailer (is the server a gRPC server?)."), ToMetadata(response.TrailingHeaders));
        }
    }

    private void FinishFromHeaders(HttpHeaders headers, string where)
    {
        var value = Header(headers, RpcWire.StatusHeader);
        var status = RpcWire.ParseStatus(value) is { } code
            ? new Status(code, RpcWire.DecodeMessage(Header(headers, RpcWire.MessageHeader)))
            : new Status(StatusCode.Internal, $"The server sent an invalid grpc-status \"{value}\" in its {where}.");
        Finish(status, ToMetadata(headers));
    }

    /// <summary>Decides the call's status if it is not decided yet; a non-OK status resets the stream.</summary>
    private void Finish(Status status, Metadata? trailers)
    {
        HttpResponseMessage? toReset;
        lock (_lock)
        {
            if (_status is not null)
            {
                return;
            }

            _status = status;
            _trailers = trailers ?? new Metadata();
            toReset = status.StatusCode == StatusCode.OK ? null : _httpResponse;
        }

        _ended.TrySetResult();
        _deadlineTimer?.Dispose();
        _requestStream?.Complete();
        if (status.StatusCode != StatusCode.OK)
        {
            _cancel.Cancel();
            toReset?.Dispose();
        }
    }

    private RpcException Failure()
    {
        var status = _status ?? new Status(StatusCode.Internal, "The call failed without a status.");
        return new RpcException(status, _trailers);
    }

    private byte[] Framed(TRequest request)
    {
        var size = request.CalculateSize();
        CheckSendSize(size);
        return RpcWire.Frame(request, size);
    }

    private void CheckSendSize(int length)
    {
        if (_channel.Options.MaxSendMessageSize is { } limit && length > limit)
        {
            var error = RpcWire.TooLarge(length, limit, "Sending");
            Finish(error.Status, null);
            throw error;
        }
    }

    private static Status StatusFor(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpProtocolException protocol)
            {
                // HTTP/2 error codes to gRPC codes, as PROTOCOL-HTTP2.md maps them.
                var code = protocol.ErrorCode switch
                {
                    0x7 => StatusCode.Unavailable,
                    0x8 => StatusCode.Cancelled,
                    0xb => StatusCode.ResourceExhausted,
                    0xc => StatusCode.PermissionDenied,
                    _ => StatusCode.Internal,
                };
                return new Status(code, $"The HTTP/2 stream was reset (error code {protocol.ErrorCode}): {protocol.Message}");
            }
        }

        return e switch
        {
            HttpRequestException or IOException => new Status(StatusCode.Unavailable, $"Error talking to the server: {e.Message}"),
            OperationCanceledException => new Status(StatusCode.Cancelled, "Call cancelled."),
            _ => new Status(StatusCode.Internal, $"Client error: {e.GetType().Name}: {e.Message}"),
        };
    }

    private static string? Header(HttpHeaders headers, string name) =>
        headers.NonValidated.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    private static Metadata ToMetadata(HttpHeaders headers)
    {
        var metadata = new Metadata();
        foreach (var (name, values) in headers.NonValidated)
        {
            foreach (var value in values)
            {
                if (Metadata.Entry.FromWire(name, value) is { } entry)
                {
                    metadata.Add(entry);
                }
            }
        }

        return metadata;
    }

    /// <summary>A request body that stays open while the caller writes messages, until <see cref="Complete"/>.</summary>
    private sealed class RequestStreamContent : HttpContent
    {
        private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public RequestStreamContent() => Headers.ContentType = new MediaTypeHeaderValue(RpcWire.ContentType);

        public Task<Stream> Stream => _stream.Task;

        public void Complete() => _done.TrySetResult();

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            _stream.TrySetResult(stream);
            await _done.Task;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
