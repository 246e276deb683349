using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;

namespace Floe.Rpc;

/// <summary>How a <see cref="RpcChannel"/> connects and what it allows.</summary>
public sealed class RpcChannelOptions
{
    /// <summary>Largest response message accepted, in bytes; null for no limit. Default 4 MiB.</summary>
    public int? MaxReceiveMessageSize { get; set; } = RpcWire.DefaultMaxReceiveMessageSize;

    /// <summary>Largest request message sent, in bytes; null (the default) for no limit.</summary>
    public int? MaxSendMessageSize { get; set; }

    /// <summary>Headers sent with every call before the call's own, e.g. <c>authorization: Bearer ...</c>.</summary>
    public Metadata DefaultHeaders { get; } = new();

    /// <summary>Sends requests through this handler instead of the channel's own (tests); the channel does not dispose it.</summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>For https:// addresses: accept exactly this server certificate (e.g. a self-signed one in tests).</summary>
    public X509Certificate2? TrustedServerCertificate { get; set; }

    /// <summary>For https:// addresses: a custom server certificate check, used instead of the system's.</summary>
    public RemoteCertificateValidationCallback? ServerCertificateValidation { get; set; }
}

/// <summary>
/// A connection to a gRPC server over HTTP/2: cleartext with prior knowledge (h2c) for http:// addresses, TLS with
/// ALPN for https://. Thread-safe; calls share its connections.
/// </summary>
public sealed class RpcChannel : IDisposable
{
    private readonly HttpMessageHandler? _ownedHandler;

    public RpcChannel(Uri address, RpcChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"Address {address} must be http:// (h2c) or https://.", nameof(address));
        }

        Address = address;
        Options = options ?? new RpcChannelOptions();
        HttpMessageHandler handler;
        if (Options.HttpHandler is { } given)
        {
            handler = given;
        }
        else
        {
            var sockets = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
                KeepAlivePingDelay = TimeSpan.FromSeconds(60),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
                // Chunk responses are about a megabyte: a 64 KiB starting window would cost round trips per message.
                InitialHttp2StreamWindowSize = 4 << 20,
            };
            sockets.SslOptions.ApplicationProtocols = [SslApplicationProtocol.Http2];
            if (Options.ServerCertificateValidation is { } validate)
            {
                sockets.SslOptions.RemoteCertificateValidationCallback = validate;
            }
            else if (Options.TrustedServerCertificate is { } trusted)
            {
                var expected = trusted.GetCertHash(HashAlgorithmName.SHA256);
                sockets.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                    errors == SslPolicyErrors.None
                    || (certificate is not null && certificate.GetCertHash(HashAlgorithmName.SHA256).AsSpan().SequenceEqual(expected));
            }

            handler = sockets;
            _ownedHandler = sockets;
        }

        Client = new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public Uri Address { get; }

    public RpcChannelOptions Options { get; }

    internal HttpClient Client { get; }

    /// <summary>Makes a unary call; a status other than OK throws <see cref="RpcException"/>.</summary>
    public async Task<TResponse> UnaryAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : IMessage<TRequest>, new()
        where TResponse : IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(request);
        using var call = new ClientCall<TRequest, TResponse>(this, method, options, request);
        return await call.ReadSingleResponseAsync();
    }

    /// <summary>Starts a call that sends one request and reads a stream of responses.</summary>
    public AsyncServerStreamingCall<TResponse> ServerStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : IMessage<TRequest>, new()
        where TResponse : IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(request);
        var call = new ClientCall<TRequest, TResponse>(this, method, options, request);
        return new AsyncServerStreamingCall<TResponse>(call, call.ResponseHeadersAsync(), call.GetStatus, call.GetTrailers, call.Dispose);
    }

    /// <summary>Starts a call that writes a stream of requests and gets one response.</summary>
    public AsyncClientStreamingCall<TRequest, TResponse> ClientStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default)
        where TRequest : IMessage<TRequest>, new()
        where TResponse : IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(method);
        var call = new ClientCall<TRequest, TResponse>(this, method, options, request: default);
        return new AsyncClientStreamingCall<TRequest, TResponse>(call, call.ReadSingleResponseAsync(), call.ResponseHeadersAsync(), call.GetStatus, call.GetTrailers, call.Dispose);
    }

    /// <summary>Starts a call where both sides stream, each at its own pace.</summary>
    public AsyncDuplexStreamingCall<TRequest, TResponse> DuplexStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default)
        where TRequest : IMessage<TRequest>, new()
        where TResponse : IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(method);
        var call = new ClientCall<TRequest, TResponse>(this, method, options, request: default);
        return new AsyncDuplexStreamingCall<TRequest, TResponse>(call, call, call.ResponseHeadersAsync(), call.GetStatus, call.GetTrailers, call.Dispose);
    }

    public void Dispose()
    {
        Client.Dispose();
        _ownedHandler?.Dispose();
    }

    internal static HttpRequestMessage NewRequest(Uri uri) => new(HttpMethod.Post, uri)
    {
        Version = HttpVersion.Version20,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };
}

/// <summary>A call reading a stream of responses. Dispose cancels it if it has not finished.</summary>
public sealed class AsyncServerStreamingCall<TResponse>(
    IAsyncStreamReader<TResponse> responseStream,
    Task<Metadata> responseHeadersAsync,
    Func<Status> getStatus,
    Func<Metadata> getTrailers,
    Action dispose) : IDisposable
{
    public IAsyncStreamReader<TResponse> ResponseStream { get; } = responseStream;

    /// <summary>The server's response headers (custom metadata only).</summary>
    public Task<Metadata> ResponseHeadersAsync { get; } = responseHeadersAsync;

    /// <summary>The final status; throws <see cref="InvalidOperationException"/> before the call has finished.</summary>
    public Status GetStatus() => getStatus();

    /// <summary>The trailers; throws <see cref="InvalidOperationException"/> before the call has finished.</summary>
    public Metadata GetTrailers() => getTrailers();

    public void Dispose() => dispose();
}

/// <summary>A call writing a stream of requests and getting one response. Dispose cancels it if it has not finished.</summary>
public sealed class AsyncClientStreamingCall<TRequest, TResponse>(
    IClientStreamWriter<TRequest> requestStream,
    Task<TResponse> responseAsync,
    Task<Metadata> responseHeadersAsync,
    Func<Status> getStatus,
    Func<Metadata> getTrailers,
    Action dispose) : IDisposable
{
    public IClientStreamWriter<TRequest> RequestStream { get; } = requestStream;

    public Task<TResponse> ResponseAsync { get; } = responseAsync;

    public Task<Metadata> ResponseHeadersAsync { get; } = responseHeadersAsync;

    public Status GetStatus() => getStatus();

    public Metadata GetTrailers() => getTrailers();

    public System.Runtime.CompilerServices.TaskAwaiter<TResponse> GetAwaiter() => ResponseAsync.GetAwaiter();

    public void Dispose() => dispose();
}

/// <summary>A call where both sides stream. Dispose cancels it if it has not finished.</summary>
public sealed class AsyncDuplexStreamingCall<TRequest, TResponse>(
    IClientStreamWriter<TRequest> requestStream,
    IAsyncStreamReader<TResponse> responseStream,
    Task<Metadata> responseHeadersAsync,
    Func<Status> getStatus,
    Func<Metadata> getTrailers,
    Action dispose) : IDisposable
{
    public IClientStreamWriter<TRequest> RequestStream { get; } = requestStream;

    public IAsyncStreamReader<TResponse> ResponseStream { get; } = responseStream;

    public Task<Metadata> ResponseHeadersAsync { get; } = responseHeadersAsync;

    public Status GetStatus() => getStatus();

    public Metadata GetTrailers() => getTrailers();

    public void Dispose() => dispose();
}
