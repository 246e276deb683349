using Floe.Rpc.Server;

namespace Floe.Rpc.Tests.Protos;

/// <summary>
/// Hand-written stubs for echo.proto's Echo service, in the shape Grpc.Tools would generate: the method
/// descriptions, a base class for the server and a typed client. Real services copy this pattern.
/// </summary>
public static class Echo
{
    public const string ServiceName = "floe.test.v1.Echo";

    public static readonly Method<EchoRequest, EchoReply> SayMethod = new(MethodType.Unary, ServiceName, "Say");
    public static readonly Method<EchoRequest, EchoReply> RepeatMethod = new(MethodType.ServerStreaming, ServiceName, "Repeat");
    public static readonly Method<EchoRequest, EchoReply> CollectMethod = new(MethodType.ClientStreaming, ServiceName, "Collect");
    public static readonly Method<EchoRequest, EchoReply> ChatMethod = new(MethodType.DuplexStreaming, ServiceName, "Chat");
    public static readonly Method<EchoRequest, EchoReply> WaitMethod = new(MethodType.Unary, ServiceName, "Wait");

    public static IReadOnlyList<IMethod> Methods { get; } = [SayMethod, RepeatMethod, CollectMethod, ChatMethod, WaitMethod];

    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor => EchoReflection.Descriptor.Services[0];

    /// <summary>The server side: override the methods the service implements; the others answer UNIMPLEMENTED.</summary>
    public abstract class EchoBase
    {
        public virtual Task<EchoReply> Say(EchoRequest request, ServerCallContext context) => throw Unimplemented(SayMethod);

        public virtual Task Repeat(EchoRequest request, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context) => throw Unimplemented(RepeatMethod);

        public virtual Task<EchoReply> Collect(IAsyncStreamReader<EchoRequest> requestStream, ServerCallContext context) => throw Unimplemented(CollectMethod);

        public virtual Task Chat(IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context) => throw Unimplemented(ChatMethod);

        public virtual Task<EchoReply> Wait(EchoRequest request, ServerCallContext context) => throw Unimplemented(WaitMethod);

        private static RpcException Unimplemented(IMethod method) => new(new Status(StatusCode.Unimplemented, $"{method.FullName} is not implemented."));
    }

    public static RpcServiceDefinition BindService(EchoBase implementation)
    {
        ArgumentNullException.ThrowIfNull(implementation);
        return RpcServiceDefinition.CreateBuilder()
            .AddMethod(SayMethod, implementation.Say)
            .AddMethod(RepeatMethod, implementation.Repeat)
            .AddMethod(CollectMethod, implementation.Collect)
            .AddMethod(ChatMethod, implementation.Chat)
            .AddMethod(WaitMethod, implementation.Wait)
            .Build();
    }

    /// <summary>The client side: one typed method per RPC.</summary>
    public sealed class EchoClient(RpcChannel channel)
    {
        public Task<EchoReply> SayAsync(EchoRequest request, CallOptions options = default) => channel.UnaryAsync(SayMethod, request, options);

        public AsyncServerStreamingCall<EchoReply> Repeat(EchoRequest request, CallOptions options = default) => channel.ServerStreaming(RepeatMethod, request, options);

        public AsyncClientStreamingCall<EchoRequest, EchoReply> Collect(CallOptions options = default) => channel.ClientStreaming(CollectMethod, options);

        public AsyncDuplexStreamingCall<EchoRequest, EchoReply> Chat(CallOptions options = default) => channel.DuplexStreaming(ChatMethod, options);

        public Task<EchoReply> WaitAsync(EchoRequest request, CallOptions options = default) => channel.UnaryAsync(WaitMethod, request, options);
    }
}
