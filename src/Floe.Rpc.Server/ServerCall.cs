using System.Diagnostics;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Floe.Rpc.Server;

/// <summary>
/// One call on the server: checks the request, runs the call filters and the handler, and ends the HTTP/2 response
/// with the status in trailers (or Trailers-Only when nothing was sent). Writes and the end of the call are
/// serialized by one lock so that the deadline can end the response while the handler is still running.
/// </summary>
internal sealed class ServerCall : IDisposable
{
    private readonly HttpContext _http;
    private readonly RpcServerOptions _options;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly CancellationTokenSource _cancel;
    private readonly string? _requestEncoding;
    private Timer? _deadlineTimer;
    private volatile bool _deadlineExceeded;
    private bool _responseStarted;
    private bool _completed;

    private ServerCall(HttpContext http, RpcServerOptions options, string method, DateTime deadline, string? requestEncoding)
    {
        _http = http;
        _options = options;
        _requestEncoding = requestEncoding;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        var headers = new Metadata();
        foreach (var (name, values) in http.Request.Headers)
        {
            foreach (var value in values)
            {
                if (value is not null && Metadata.Entry.FromWire(name, value) is { } entry)
                {
                    headers.Add(entry);
                }
            }
        }

        Context = new ServerCallContext(this, http, method, deadline, headers, _cancel.Token);
    }

    public ServerCallContext Context { get; }

    /// <summary>Serves one request for <paramref name="method"/>, or answers UNIMPLEMENTED when it is null.</summary>
    public static async Task RunAsync(HttpContext http, ServerMethod? method, RpcServerOptions options, ILogger logger)
    {
        var started = Stopwatch.GetTimestamp();
        var request = http.Request;
        if (!RpcWire.IsGrpcContentType(request.ContentType))
        {
            http.Response.StatusCode = method is null ? StatusCodes.Status404NotFound : StatusCodes.Status415UnsupportedMediaType;
            if (method is not null)
            {
                await http.Response.WriteAsync($"Content-Type \"{request.ContentType}\" is not supported; a gRPC call uses application/grpc.");
            }

            return;
        }

        if (!HttpProtocol.IsHttp2(request.Protocol))
        {
            http.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            http.Response.Headers.Upgrade = "h2c";
            await http.Response.WriteAsync("gRPC needs HTTP/2.");
            return;
        }

        http.Response.ContentType = RpcWire.ContentType;
        http.Response.Headers[RpcWire.AcceptEncodingHeader] = RpcWire.AcceptedEncodings;
        var fullName = method?.Method.FullName ?? request.Path.Value ?? "";
        var timeoutHeader = request.Headers[RpcWire.TimeoutHeader].ToString();
        var timeout = timeoutHeader.Length == 0 ? null : RpcWire.ParseTimeout(timeoutHeader);
        var deadline = timeout is { } t ? DateTime.UtcNow + t : DateTime.MaxValue;
        var encoding = request.Headers[RpcWire.EncodingHeader].ToString();
        using var call = new ServerCall(http, options, fullName, deadline, encoding.Length == 0 ? null : encoding);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            // Streams can carry any number of messages; each message is limited instead.
            bodySize.MaxRequestBodySize = null;
        }

        Status status;
        if (method is null)
        {
            status = new Status(StatusCode.Unimplemented, $"Method {fullName} is not implemented by this server.");
        }
        else if (timeoutHeader.Length != 0 && timeout is null)
        {
            status = new Status(StatusCode.Internal, $"Malformed grpc-timeout \"{timeoutHeader}\".");
        }
        else if (!RpcWire.IsSupportedEncoding(call._requestEncoding))
        {
            status = new Status(StatusCode.Unimplemented, $"Message encoding \"{call._requestEncoding}\" is not supported; supported: {RpcWire.AcceptedEncodings}.");
        }
        else
        {
            status = await call.InvokeAsync(method, timeout, logger);
        }

        await call.CompleteAsync(status, endResponse: false);
        logger.LogInformation(
            "rpc {Method} {StatusCode} {ElapsedMs:0.0} ms peer {Peer}",
            fullName,
            call._deadlineExceeded ? StatusCode.DeadlineExceeded : status.StatusCode,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            call.Context.Peer);
    }

    /// <summary>Reads the next request message; null at the end of the request stream.</summary>
    public async Task<T?> ReadMessageAsync<T>(MessageParser<T> parser)
        where T : IMessage<T>
    {
        try
        {
            return await RpcWire.ReadMessageAsync(_http.Request.Body, parser, _options.MaxReceiveMessageSize, _requestEncoding, "request", _cancel.Token);
        }
        catch (Exception e) when (e is not RpcException && _cancel.IsCancellationRequested)
        {
            throw new OperationCanceledException("The call was cancelled while reading a request message.", e, _cancel.Token);
        }
    }

    /// <summary>Sends one response message, serialized straight into the response body.</summary>
    public async Task WriteMessageAsync(IMessage message)
    {
        var size = RpcWire.CheckedSize(message, _options.MaxSendMessageSize);
        await _lock.WaitAsync(_cancel.Token);
        try
        {
            ThrowIfCompleted();
            _responseStarted = true;
            await RpcWire.WriteMessageAsync(_http.Response.BodyWriter, message, size, _cancel.Token);
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task WriteHeadersAsync(Metadata headers)
    {
        await _lock.WaitAsync(_cancel.Token);
        try
        {
            ThrowIfCompleted();
            if (_responseStarted)
            {
                throw new InvalidOperationException("Response headers have already been sent.");
            }

            foreach (var entry in headers)
            {
                _http.Response.Headers.Append(entry.Key, entry.WireValue);
            }

            _responseStarted = true;
            await _http.Response.Body.FlushAsync(_cancel.Token);
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose()
    {
        _deadlineTimer?.Dispose();
        _cancel.Dispose();
        _lock.Dispose();
    }

    private async Task<Status> InvokeAsync(ServerMethod method, TimeSpan? timeout, ILogger logger)
    {
        if (timeout is { } t)
        {
            if (t <= TimeSpan.Zero)
            {
                return new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded");
            }

            var due = t.TotalMilliseconds >= uint.MaxValue - 1 ? Timeout.InfiniteTimeSpan : t;
            _deadlineTimer = new Timer(_ => _ = OnDeadlineAsync(), null, due, Timeout.InfiniteTimeSpan);
        }

        try
        {
            foreach (var filter in _options.CallFilters)
            {
                await filter(Context);
            }

            await method.InvokeAsync(this);
            // A handler may end normally after the client went away (writes to a reset stream can complete
            // without an error): the call still ended by the client's cancellation, not with the handler's status.
            return _http.RequestAborted.IsCancellationRequested && !_completed ? new Status(StatusCode.Cancelled, "The client cancelled the call.") : Context.Status;
        }
        catch (RpcException e)
        {
            foreach (var entry in e.Trailers)
            {
                Context.ResponseTrailers.Add(entry);
            }

            return e.Status;
        }
        catch (Exception) when (_deadlineExceeded)
        {
            return new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded");
        }
        catch (Exception) when (_http.RequestAborted.IsCancellationRequested)
        {
            return new Status(StatusCode.Cancelled, "The client cancelled the call.");
        }
        catch (Exception e)
        {
            logger.LogError(e, "rpc {Method} handler threw {ExceptionType}", Context.Method, e.GetType().Name);
            var detail = _options.IncludeExceptionDetails ? $"Exception was thrown by handler. {e.GetType().Name}: {e.Message}" : "Exception was thrown by handler.";
            return new Status(StatusCode.Unknown, detail);
        }
    }

    private async Task OnDeadlineAsync()
    {
        _deadlineExceeded = true;
        try
        {
            await _cancel.CancelAsync();
            await CompleteAsync(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"), endResponse: true);
        }
        catch (ObjectDisposedException)
        {
            // The call ended on its own just as the deadline fired.
        }
    }

    /// <summary>Sends the status once: in trailers, or Trailers-Only when nothing else was sent.</summary>
    private async Task CompleteAsync(Status status, bool endResponse)
    {
        await _lock.WaitAsync();
        try
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            if (_deadlineExceeded)
            {
                status = new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded");
            }

            if (_http.RequestAborted.IsCancellationRequested)
            {
                return;
            }

            var trailersOnly = !_responseStarted;
            void Set(string key, string value)
            {
                if (trailersOnly)
                {
                    _http.Response.Headers.Append(key, value);
                }
                else
                {
                    _http.Response.AppendTrailer(key, value);
                }
            }

            Set(RpcWire.StatusHeader, ((int)status.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (status.Detail.Length > 0)
            {
                Set(RpcWire.MessageHeader, RpcWire.EncodeMessage(status.Detail));
            }

            foreach (var entry in Context.ResponseTrailers)
            {
                Set(entry.Key, entry.WireValue);
            }

            if (endResponse)
            {
                await _http.Response.CompleteAsync();
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or OperationCanceledException)
        {
            // The client went away; there is no one to tell the status to.
        }
        finally
        {
            _lock.Release();
        }
    }

    private void ThrowIfCompleted()
    {
        if (_completed)
        {
            throw new RpcException(_deadlineExceeded
                ? new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded")
                : new Status(StatusCode.Cancelled, "The call has already ended."));
        }
    }
}
