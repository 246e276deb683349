using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Floe.Rpc.Server;

/// <summary>Server-wide settings for gRPC calls (<c>services.AddRpcServer(o => ...)</c>).</summary>
public sealed class RpcServerOptions
{
    /// <summary>Largest request message accepted, in bytes; null for no limit. Default 4 MiB.</summary>
    public int? MaxReceiveMessageSize { get; set; } = RpcWire.DefaultMaxReceiveMessageSize;

    /// <summary>Largest response message sent, in bytes; null (the default) for no limit.</summary>
    public int? MaxSendMessageSize { get; set; }

    /// <summary>
    /// Run in order before every handler, with the method name and request headers in the context; one may throw
    /// <see cref="RpcException"/> to refuse the call (e.g. UNAUTHENTICATED for a bad bearer token).
    /// </summary>
    public IList<Func<ServerCallContext, ValueTask>> CallFilters { get; } = [];

    /// <summary>Put a handler's exception type and message in grpc-message; off by default, as messages reach clients.</summary>
    public bool IncludeExceptionDetails { get; set; }
}

public static class RpcServerExtensions
{
    private static readonly ConditionalWeakTable<IEndpointRouteBuilder, object> FallbackMapped = [];

    public static IServiceCollection AddRpcServer(this IServiceCollection services, Action<RpcServerOptions>? configure = null)
    {
        var builder = services.AddOptions<RpcServerOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        return services;
    }

    /// <summary>
    /// Maps POST /{service}/{method} for each method of the service, and (once) an answer of UNIMPLEMENTED for gRPC
    /// requests to any other /{service}/{method} path. Kestrel must speak HTTP/2; see <see cref="UseRpcProtocols"/>.
    /// </summary>
    public static IEndpointConventionBuilder MapRpcService(this IEndpointRouteBuilder endpoints, RpcServiceDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(definition);
        var options = endpoints.ServiceProvider.GetService<IOptions<RpcServerOptions>>()?.Value ?? new RpcServerOptions();
        var logger = endpoints.ServiceProvider.GetService<ILoggerFactory>()?.CreateLogger("Floe.Rpc.Server") ?? NullLogger.Instance;
        var builders = new List<IEndpointConventionBuilder>();
        foreach (var handler in definition.Handlers)
        {
            builders.Add(endpoints
                .MapPost(handler.Method.FullName, http => ServerCall.RunAsync(http, handler, options, logger))
                .WithDisplayName($"gRPC {handler.Method.FullName}"));
        }

        if (!FallbackMapped.TryGetValue(endpoints, out _))
        {
            FallbackMapped.Add(endpoints, new object());
            endpoints
                .MapPost("/{service}/{method}", http => ServerCall.RunAsync(http, null, options, logger))
                .WithDisplayName("gRPC unimplemented")
                .Add(b => ((RouteEndpointBuilder)b).Order = int.MaxValue);
        }

        return new Conventions(builders);
    }

    /// <summary>
    /// Makes an endpoint speak HTTP/2 only, which cleartext gRPC needs (clients use prior knowledge, with no
    /// HTTP/1.1 upgrade): <c>kestrel.Listen(IPAddress.Any, 5000, l => l.UseRpcProtocols())</c>.
    /// </summary>
    public static ListenOptions UseRpcProtocols(this ListenOptions listenOptions)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        listenOptions.Protocols = HttpProtocols.Http2;
        return listenOptions;
    }

    private sealed class Conventions(List<IEndpointConventionBuilder> builders) : IEndpointConventionBuilder
    {
        public void Add(Action<EndpointBuilder> convention)
        {
            foreach (var builder in builders)
            {
                builder.Add(convention);
            }
        }

        public void Finally(Action<EndpointBuilder> finallyConvention)
        {
            foreach (var builder in builders)
            {
                builder.Finally(finallyConvention);
            }
        }
    }
}
