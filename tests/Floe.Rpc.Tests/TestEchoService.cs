using Floe.Rpc.Server;
using Floe.Rpc.Tests.Protos;
using Google.Protobuf;

namespace Floe.Rpc.Tests;

/// <summary>The Echo service the tests serve, recording what its handlers saw.</summary>
internal sealed class TestEchoService : Echo.EchoBase
{
    /// <summary>Completes when a Wait handler's cancellation token fires, with the call's deadline.</summary>
    public TaskCompletionSource<DateTime> WaitCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a Wait handler has started.</summary>
    public TaskCompletionSource WaitStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The request headers of the last call, as the handler saw them.</summary>
    public Metadata? LastRequestHeaders { get; private set; }

    public int CallsHandled;

    public static ByteString Payload(int size, int seed)
    {
        var bytes = new byte[size];
        for (var i = 0; i < size; i++)
        {
            bytes[i] = (byte)(i * 31 + seed);
        }

        return ByteString.CopyFrom(bytes);
    }

    public override async Task<EchoReply> Say(EchoRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref CallsHandled);
        LastRequestHeaders = context.RequestHeaders;
        var echoed = new Metadata();
        foreach (var entry in context.RequestHeaders.Where(e => e.Key.StartsWith("echo-", StringComparison.Ordinal)))
        {
            echoed.Add(entry);
            context.ResponseTrailers.Add(entry.IsBinary ? new Metadata.Entry("trailer-" + entry.Key, entry.ValueBytes) : new Metadata.Entry("trailer-" + entry.Key, entry.Value));
        }

        if (echoed.Count > 0)
        {
            await context.WriteResponseHeadersAsync(echoed);
        }

        ThrowIfAsked(request);
        return new EchoReply { Text = request.Text, Received = request.Payload.Length, Payload = Payload(request.PayloadSize, 0) };
    }

    public override async Task Repeat(EchoRequest request, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        Interlocked.Increment(ref CallsHandled);
        for (var i = 0; i < request.Count; i++)
        {
            await responseStream.WriteAsync(new EchoReply { Text = request.Text, Index = i, Payload = Payload(request.PayloadSize, i) });
        }

        ThrowIfAsked(request);
    }

    public override async Task<EchoReply> Collect(IAsyncStreamReader<EchoRequest> requestStream, ServerCallContext context)
    {
        Interlocked.Increment(ref CallsHandled);
        var texts = new List<string>();
        long bytes = 0;
        await foreach (var request in requestStream.ReadAllAsync())
        {
            ThrowIfAsked(request);
            texts.Add(request.Text);
            bytes += request.Payload.Length;
        }

        return new EchoReply { Text = string.Join(",", texts), Received = texts.Count, Index = (int)bytes };
    }

    public override async Task Chat(IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        Interlocked.Increment(ref CallsHandled);
        var index = 0;
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            await responseStream.WriteAsync(new EchoReply { Text = requestStream.Current.Text.ToUpperInvariant(), Index = index++ });
        }
    }

    public override async Task<EchoReply> Wait(EchoRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref CallsHandled);
        WaitStarted.TrySetResult();
        try
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }
        catch (OperationCanceledException)
        {
            WaitCancelled.TrySetResult(context.Deadline);
            throw;
        }

        throw new InvalidOperationException("unreachable");
    }

    private static void ThrowIfAsked(EchoRequest request)
    {
        if (request.FailCode == -1)
        {
            throw new InvalidOperationException("secret internal detail");
        }

        if (request.FailCode != 0)
        {
            var trailers = new Metadata().Add("error-detail", "from the handler").Add("error-bin", [0, 1, 2, 255]);
            throw new RpcException(new Status((StatusCode)request.FailCode, request.FailMessage), trailers);
        }
    }
}
