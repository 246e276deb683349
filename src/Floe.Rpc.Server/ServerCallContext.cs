using Microsoft.AspNetCore.Http;

namespace Floe.Rpc.Server;

/// <summary>What a handler knows about its call, and how it adds response headers, trailers and a status.</summary>
public sealed class ServerCallContext
{
    private readonly ServerCall _call;

    internal ServerCallContext(ServerCall call, HttpContext httpContext, string method, DateTime deadline, Metadata requestHeaders, CancellationToken cancellationToken)
    {
        _call = call;
        HttpContext = httpContext;
        Method = method;
        Deadline = deadline;
        RequestHeaders = requestHeaders;
        CancellationToken = cancellationToken;
        var address = httpContext.Connection.RemoteIpAddress;
        if (address is { IsIPv4MappedToIPv6: true })
        {
            address = address.MapToIPv4();
        }

        var port = httpContext.Connection.RemotePort;
        Peer = address is null
            ? "unknown"
            : address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"ipv6:[{address}]:{port}" : $"ipv4:{address}:{port}";
    }

    /// <summary>The method's full name, <c>/{service}/{method}</c>.</summary>
    public string Method { get; }

    public string Host => HttpContext.Request.Host.Value ?? "";

    /// <summary>The client's address, e.g. <c>ipv4:127.0.0.1:50432</c>.</summary>
    public string Peer { get; }

    /// <summary>When the client stops waiting (UTC); <see cref="DateTime.MaxValue"/> when it sent no grpc-timeout.</summary>
    public DateTime Deadline { get; }

    /// <summary>The client's custom metadata (protocol headers such as grpc-timeout and te are not included).</summary>
    public Metadata RequestHeaders { get; }

    /// <summary>Trailers sent with the status when the call ends.</summary>
    public Metadata ResponseTrailers { get; } = new();

    /// <summary>The status sent when the handler returns normally; OK unless set. A thrown <see cref="RpcException"/> wins.</summary>
    public Status Status { get; set; } = Status.DefaultSuccess;

    /// <summary>Fires when the client goes away or resets the call, and at the deadline.</summary>
    public CancellationToken CancellationToken { get; }

    public HttpContext HttpContext { get; }

    /// <summary>Per-call state shared by call filters and the handler, e.g. the authenticated principal.</summary>
    public IDictionary<object, object?> Items => HttpContext.Items;

    /// <summary>Sends the response headers now; at most once, and before the first response message.</summary>
    public Task WriteResponseHeadersAsync(Metadata responseHeaders)
    {
        ArgumentNullException.ThrowIfNull(responseHeaders);
        return _call.WriteHeadersAsync(responseHeaders);
    }
}
