using Google.Protobuf;

namespace Floe.Rpc.Server;

/// <summary>The server's side of a response stream.</summary>
public interface IServerStreamWriter<in T> : IAsyncStreamWriter<T>
{
}

public delegate Task<TResponse> UnaryServerMethod<TRequest, TResponse>(TRequest request, ServerCallContext context);

public delegate Task ServerStreamingServerMethod<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context);

public delegate Task<TResponse> ClientStreamingServerMethod<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context);

public delegate Task DuplexStreamingServerMethod<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context);

/// <summary>A service's methods bound to their handlers, ready for <c>MapRpcService</c>.</summary>
public sealed class RpcServiceDefinition
{
    private RpcServiceDefinition(IReadOnlyList<ServerMethod> methods) => Handlers = methods;

    /// <summary>The methods the service serves.</summary>
    public IEnumerable<IMethod> Methods => Handlers.Select(h => h.Method);

    internal IReadOnlyList<ServerMethod> Handlers { get; }

    public static Builder CreateBuilder() => new();

    public sealed class Builder
    {
        private readonly List<ServerMethod> _methods = [];
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);

        public Builder AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse> handler)
            where TRequest : IMessage<TRequest>, new()
            where TResponse : IMessage<TResponse>, new() => Add(method, MethodType.Unary, handler);

        public Builder AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse> handler)
            where TRequest : IMessage<TRequest>, new()
            where TResponse : IMessage<TResponse>, new() => Add(method, MethodType.ServerStreaming, handler);

        public Builder AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse> handler)
            where TRequest : IMessage<TRequest>, new()
            where TResponse : IMessage<TResponse>, new() => Add(method, MethodType.ClientStreaming, handler);

        public Builder AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse> handler)
            where TRequest : IMessage<TRequest>, new()
            where TResponse : IMessage<TResponse>, new() => Add(method, MethodType.DuplexStreaming, handler);

        public RpcServiceDefinition Build() => new(_methods.ToArray());

        private Builder Add<TRequest, TResponse>(Method<TRequest, TResponse> method, MethodType handlerType, Delegate handler)
            where TRequest : IMessage<TRequest>, new()
            where TResponse : IMessage<TResponse>, new()
        {
            ArgumentNullException.ThrowIfNull(method);
            ArgumentNullException.ThrowIfNull(handler);
            if (method.Type != handlerType)
            {
                throw new ArgumentException($"{method.FullName} is {method.Type} but its handler is {handlerType}.", nameof(handler));
            }

            if (!_names.Add(method.FullName))
            {
                throw new ArgumentException($"{method.FullName} is added twice.", nameof(method));
            }

            _methods.Add(new ServerMethod<TRequest, TResponse>(method, handler));
            return this;
        }
    }
}

/// <summary>A method and its handler, without the message types in the signature.</summary>
internal abstract class ServerMethod(IMethod method)
{
    public IMethod Method { get; } = method;

    public abstract Task InvokeAsync(ServerCall call);
}

internal sealed class ServerMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, Delegate handler) : ServerMethod(method)
    where TRequest : IMessage<TRequest>, new()
    where TResponse : IMessage<TResponse>, new()
{
    public override async Task InvokeAsync(ServerCall call)
    {
        var context = call.Context;
        switch (handler)
        {
            case UnaryServerMethod<TRequest, TResponse> unary:
                {
                    var response = await unary(await ReadSingleRequestAsync(call), context);
                    await WriteFinalResponseAsync(call, response);
                    break;
                }

            case ServerStreamingServerMethod<TRequest, TResponse> serverStreaming:
                await serverStreaming(await ReadSingleRequestAsync(call), new ResponseWriter(call), context);
                break;
            case ClientStreamingServerMethod<TRequest, TResponse> clientStreaming:
                {
                    var response = await clientStreaming(new RequestReader(call, method.RequestParser), context);
                    await WriteFinalResponseAsync(call, response);
                    break;
                }

            case DuplexStreamingServerMethod<TRequest, TResponse> duplex:
                await duplex(new RequestReader(call, method.RequestParser), new ResponseWriter(call), context);
                break;
            default:
                throw new InvalidOperationException($"No handler kind for {method.FullName}.");
        }
    }

    private static async Task WriteFinalResponseAsync(ServerCall call, TResponse response)
    {
        // A handler that set a failing status on the context answers with that status and no message.
        if (call.Context.Status.StatusCode == StatusCode.OK)
        {
            ArgumentNullException.ThrowIfNull(response);
            await call.WriteMessageAsync(response);
        }
    }

    private async Task<TRequest> ReadSingleRequestAsync(ServerCall call)
    {
        var request = await call.ReadMessageAsync(method.RequestParser)
            ?? throw new RpcException(new Status(StatusCode.Internal, "The request stream ended without a request message."));
        if (await call.ReadMessageAsync(method.RequestParser) is not null)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"{method.FullName} takes one request message; the client sent more."));
        }

        return request;
    }

    private sealed class RequestReader(ServerCall call, MessageParser<TRequest> parser) : IAsyncStreamReader<TRequest>
    {
        public TRequest Current { get; private set; } = default!;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var request = await call.ReadMessageAsync(parser);
            if (request is null)
            {
                return false;
            }

            Current = request;
            return true;
        }
    }

    private sealed class ResponseWriter(ServerCall call) : IServerStreamWriter<TResponse>
    {
        public Task WriteAsync(TResponse message)
        {
            ArgumentNullException.ThrowIfNull(message);
            return call.WriteMessageAsync(message);
        }
    }
}
