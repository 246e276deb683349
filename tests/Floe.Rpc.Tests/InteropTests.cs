using System.Text.Json;
using Floe.Rpc.Tests.Protos;
using Floe.Tests.Shared;

namespace Floe.Rpc.Tests;

/// <summary>Python's grpcio (not written here) calling Floe.Rpc.Server on Kestrel.</summary>
[Trait("Category", "Interop")]
public class PythonClientTests
{
    private const string ClientScript =
        """
        import sys, json
        sys.path.insert(0, sys.argv[2])
        import grpc, echo_pb2, echo_pb2_grpc

        def md(pairs):
            return [[k, list(v) if isinstance(v, bytes) else v] for k, v in (pairs or ())]

        def payload(size, seed):
            return bytes(((i * 31 + seed) & 0xFF) for i in range(size))

        def failure(call):
            try:
                call()
                return {"code": "OK"}
            except grpc.RpcError as e:
                return {"code": e.code().name, "details": e.details(), "trailing": md(e.trailing_metadata())}

        channel = grpc.insecure_channel(sys.argv[1])
        stub = echo_pb2_grpc.EchoStub(channel)
        case = sys.argv[3]
        out = {}
        if case == "unary":
            reply, call = stub.Say.with_call(
                echo_pb2.EchoRequest(text="héllo ✓", payload=b"\x00\x01\x02", payload_size=10),
                metadata=(("echo-text", "plain value"), ("echo-data-bin", b"\x00\xff\x10")), timeout=30)
            out = {"text": reply.text, "received": reply.received, "payload_ok": reply.payload == payload(10, 0),
                   "initial": md(call.initial_metadata()), "trailing": md(call.trailing_metadata()), "code": call.code().name}
        elif case == "stream":
            replies = list(stub.Repeat(echo_pb2.EchoRequest(text="r", count=500, payload_size=1000), timeout=60))
            big = list(stub.Repeat(echo_pb2.EchoRequest(count=2, payload_size=4 * 1024 * 1024 - 16), timeout=60))
            out = {"count": len(replies), "indexes_ok": [r.index for r in replies] == list(range(500)),
                   "payloads_ok": all(r.payload == payload(1000, r.index) for r in replies),
                   "big_count": len(big), "big_ok": all(r.payload == payload(4 * 1024 * 1024 - 16, r.index) for r in big)}
        elif case == "collect":
            requests = [echo_pb2.EchoRequest(text=str(i), payload=payload(300, i)) for i in range(100)]
            plain = stub.Collect(iter(requests), timeout=30)
            zipped = stub.Collect(iter(requests), timeout=30, compression=grpc.Compression.Gzip)
            out = {"plain": [plain.text, plain.received, plain.index], "gzip": [zipped.text, zipped.received, zipped.index]}
        elif case == "chat":
            out = {"texts": [r.text for r in stub.Chat(iter([echo_pb2.EchoRequest(text=t) for t in ("a", "b", "c")]), timeout=30)]}
        elif case == "deadline":
            out = failure(lambda: stub.Wait(echo_pb2.EchoRequest(text="w"), timeout=0.5))
        elif case == "error":
            out = failure(lambda: stub.Say(echo_pb2.EchoRequest(fail_code=5, fail_message="no such array: température ✓ 100%"), timeout=30))
        elif case == "unimplemented":
            out = failure(lambda: channel.unary_unary("/floe.test.v1.Echo/Nope")(b"", timeout=30))
        print(json.dumps(out, separators=(",", ":")))
        """;

    private static async Task<JsonElement> RunClientAsync(RpcTestServer server, string testCase) =>
        await Task.Run(() => OraclePython.RunJson(ClientScript, $"127.0.0.1:{server.Address.Port}", PythonGrpc.StubDirectory, testCase));

    [Fact]
    public async Task Unary_call_with_metadata_both_ways()
    {
        await using var server = await RpcTestServer.StartAsync();

        var result = await RunClientAsync(server, "unary");

        Assert.Equal("OK", result.GetProperty("code").GetString());
        Assert.Equal("héllo ✓", result.GetProperty("text").GetString());
        Assert.Equal(3, result.GetProperty("received").GetInt32());
        Assert.True(result.GetProperty("payload_ok").GetBoolean());
        var initial = result.GetProperty("initial").ToString();
        Assert.Contains("[\"echo-text\",\"plain value\"]", initial, StringComparison.Ordinal);
        Assert.Contains("[\"echo-data-bin\",[0,255,16]]", initial, StringComparison.Ordinal);
        var trailing = result.GetProperty("trailing").ToString();
        Assert.Contains("[\"trailer-echo-text\",\"plain value\"]", trailing, StringComparison.Ordinal);
        Assert.Contains("[\"trailer-echo-data-bin\",[0,255,16]]", trailing, StringComparison.Ordinal);
        Assert.Equal(new byte[] { 0, 255, 16 }, server.Service.LastRequestHeaders!.GetValueBytes("echo-data-bin"));
    }

    [Fact]
    public async Task Server_streaming_of_many_and_of_large_messages()
    {
        await using var server = await RpcTestServer.StartAsync();

        var result = await RunClientAsync(server, "stream");

        Assert.Equal(500, result.GetProperty("count").GetInt32());
        Assert.True(result.GetProperty("indexes_ok").GetBoolean());
        Assert.True(result.GetProperty("payloads_ok").GetBoolean());
        Assert.Equal(2, result.GetProperty("big_count").GetInt32());
        Assert.True(result.GetProperty("big_ok").GetBoolean());
    }

    [Fact]
    public async Task Client_streaming_plain_and_gzip_compressed()
    {
        await using var server = await RpcTestServer.StartAsync();

        var result = await RunClientAsync(server, "collect");

        var expected = $"[\"{string.Join(",", Enumerable.Range(0, 100))}\",100,30000]";
        Assert.Equal(expected, result.GetProperty("plain").ToString());
        Assert.Equal(expected, result.GetProperty("gzip").ToString());
    }

    [Fact]
    public async Task Duplex_streaming()
    {
        await using var server = await RpcTestServer.StartAsync();

        var result = await RunClientAsync(server, "chat");

        Assert.Equal("[\"A\",\"B\",\"C\"]", result.GetProperty("texts").ToString());
    }

    [Fact]
    public async Task Deadline_is_DEADLINE_EXCEEDED_and_the_handler_is_cancelled()
    {
        await using var server = await RpcTestServer.StartAsync();

        var result = await RunClientAsync(server, "deadline");

        Assert.Equal("DEADLINE_EXCEEDED", result.GetProperty("code").GetString());
        var serverDeadline = await server.Service.WaitCancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(DateTime.MaxValue, serverDeadline);
    }

    [Fact]
    public async Task Error_status_with_message_and_trailers()
    {
        await using var server = await RpcTestServer.StartAsync();

        var result = await RunClientAsync(server, "error");

        Assert.Equal("NOT_FOUND", result.GetProperty("code").GetString());
        Assert.Equal("no such array: température ✓ 100%", result.GetProperty("details").GetString());
        var trailing = result.GetProperty("trailing").ToString();
        Assert.Contains("[\"error-detail\",\"from the handler\"]", trailing, StringComparison.Ordinal);
        Assert.Contains("[\"error-bin\",[0,1,2,255]]", trailing, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_method_is_UNIMPLEMENTED()
    {
        await using var server = await RpcTestServer.StartAsync();

        var result = await RunClientAsync(server, "unimplemented");

        Assert.Equal("UNIMPLEMENTED", result.GetProperty("code").GetString());
    }
}

/// <summary>RpcChannel calling Python's <c>grpc.server</c> (grpcio, not written here).</summary>
[Trait("Category", "Interop")]
public class PythonServerTests
{
    [Fact]
    public async Task Unary_call_with_metadata_both_ways()
    {
        await using var server = await PythonGrpc.StartServerAsync();
        using var channel = new RpcChannel(server.Address);
        var sayAsStream = new Method<EchoRequest, EchoReply>(MethodType.ServerStreaming, Echo.ServiceName, "Say");
        var headers = new Metadata().Add("echo-text", "plain value").Add("echo-data-bin", [0, 255, 16]);

        var reply = await new Echo.EchoClient(channel).SayAsync(new EchoRequest { Text = "héllo ✓", Payload = Google.Protobuf.ByteString.CopyFrom(1, 2), PayloadSize = 10 });
        using var call = channel.ServerStreaming(sayAsStream, new EchoRequest(), new CallOptions(headers));
        var responseHeaders = await call.ResponseHeadersAsync;
        Assert.True(await call.ResponseStream.MoveNext(default));
        Assert.False(await call.ResponseStream.MoveNext(default));

        Assert.Equal("héllo ✓", reply.Text);
        Assert.Equal(2, reply.Received);
        Assert.Equal(TestEchoService.Payload(10, 0), reply.Payload);
        Assert.Equal("plain value", responseHeaders.GetValue("echo-text"));
        Assert.Equal(new byte[] { 0, 255, 16 }, responseHeaders.GetValueBytes("echo-data-bin"));
        Assert.Equal("plain value", call.GetTrailers().GetValue("trailer-echo-text"));
        Assert.Equal(new byte[] { 0, 255, 16 }, call.GetTrailers().GetValueBytes("trailer-echo-data-bin"));
    }

    [Fact]
    public async Task Server_streaming_of_many_and_of_large_gzip_compressed_messages()
    {
        await using var server = await PythonGrpc.StartServerAsync();
        using var recorder = new EncodingRecorder();
        using var channel = new RpcChannel(server.Address, new RpcChannelOptions { HttpHandler = recorder });
        var client = new Echo.EchoClient(channel);

        using var many = client.Repeat(new EchoRequest { Text = "r", Count = 500, PayloadSize = 1000 });
        var replies = new List<EchoReply>();
        await foreach (var reply in many.ResponseStream.ReadAllAsync())
        {
            replies.Add(reply);
        }

        using var large = client.Repeat(new EchoRequest { Count = 2, PayloadSize = (4 * 1024 * 1024) - 16 });
        var largeCount = 0;
        await foreach (var reply in large.ResponseStream.ReadAllAsync())
        {
            Assert.Equal(TestEchoService.Payload((4 * 1024 * 1024) - 16, largeCount++), reply.Payload);
        }

        Assert.Equal(Enumerable.Range(0, 500), replies.Select(r => r.Index));
        Assert.All(replies, r => Assert.Equal(TestEchoService.Payload(1000, r.Index), r.Payload));
        Assert.Equal(2, largeCount);
        Assert.Contains("gzip", recorder.ResponseEncodings);
    }

    [Fact]
    public async Task Client_and_duplex_streaming()
    {
        await using var server = await PythonGrpc.StartServerAsync();
        using var channel = new RpcChannel(server.Address);
        var client = new Echo.EchoClient(channel);

        using var collect = client.Collect();
        for (var i = 0; i < 100; i++)
        {
            await collect.RequestStream.WriteAsync(new EchoRequest { Text = $"{i}", Payload = TestEchoService.Payload(300, i) });
        }

        await collect.RequestStream.CompleteAsync();
        var collected = await collect;

        using var chat = client.Chat();
        var answers = new List<string>();
        foreach (var word in new[] { "a", "b", "c" })
        {
            await chat.RequestStream.WriteAsync(new EchoRequest { Text = word });
            Assert.True(await chat.ResponseStream.MoveNext(default));
            answers.Add(chat.ResponseStream.Current.Text);
        }

        await chat.RequestStream.CompleteAsync();
        Assert.False(await chat.ResponseStream.MoveNext(default));

        Assert.Equal(string.Join(",", Enumerable.Range(0, 100)), collected.Text);
        Assert.Equal(100, collected.Received);
        Assert.Equal(30_000, collected.Index);
        Assert.Equal(["A", "B", "C"], answers);
    }

    [Fact]
    public async Task Deadline_and_cancellation_end_the_call_and_reach_the_server()
    {
        await using var server = await PythonGrpc.StartServerAsync();
        using var channel = new RpcChannel(server.Address);
        var client = new Echo.EchoClient(channel);

        var deadline = await Assert.ThrowsAsync<RpcException>(() =>
            client.WaitAsync(new EchoRequest { Text = "deadline" }, new CallOptions(Deadline: DateTime.UtcNow.AddSeconds(2))));
        await server.WaitForLineAsync("WAIT_ENDED deadline");

        using var cancel = new CancellationTokenSource();
        var cancelled = client.WaitAsync(new EchoRequest { Text = "cancel" }, new CallOptions(CancellationToken: cancel.Token));
        await server.WaitForLineAsync("WAIT_STARTED cancel");
        await cancel.CancelAsync();
        var cancelledError = await Assert.ThrowsAsync<RpcException>(() => cancelled);
        await server.WaitForLineAsync("WAIT_ENDED cancel");

        Assert.Equal(StatusCode.DeadlineExceeded, deadline.StatusCode);
        Assert.Equal(StatusCode.Cancelled, cancelledError.StatusCode);
    }

    [Fact]
    public async Task Error_status_with_message_and_trailers()
    {
        await using var server = await PythonGrpc.StartServerAsync();
        using var channel = new RpcChannel(server.Address);
        var client = new Echo.EchoClient(channel);

        var unary = await Assert.ThrowsAsync<RpcException>(() =>
            client.SayAsync(new EchoRequest { FailCode = (int)StatusCode.NotFound, FailMessage = "no such array: température ✓ 100%" }));
        using var stream = client.Repeat(new EchoRequest { Count = 2, FailCode = (int)StatusCode.Aborted, FailMessage = "conflict" });
        Assert.True(await stream.ResponseStream.MoveNext(default));
        Assert.True(await stream.ResponseStream.MoveNext(default));
        var streamed = await Assert.ThrowsAsync<RpcException>(() => stream.ResponseStream.MoveNext(default));

        Assert.Equal(StatusCode.NotFound, unary.StatusCode);
        Assert.Equal("no such array: température ✓ 100%", unary.Status.Detail);
        Assert.Equal("from the handler", unary.Trailers.GetValue("error-detail"));
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, unary.Trailers.GetValueBytes("error-bin"));
        Assert.Equal(new Status(StatusCode.Aborted, "conflict"), streamed.Status);
    }

    [Fact]
    public async Task Unknown_method_and_oversized_response_are_refused()
    {
        await using var server = await PythonGrpc.StartServerAsync();
        using var channel = new RpcChannel(server.Address, new RpcChannelOptions { MaxReceiveMessageSize = 1024 });

        var unknown = await Assert.ThrowsAsync<RpcException>(() =>
            channel.UnaryAsync(new Method<EchoRequest, EchoReply>(MethodType.Unary, Echo.ServiceName, "Nope"), new EchoRequest()));
        var oversized = await Assert.ThrowsAsync<RpcException>(() => new Echo.EchoClient(channel).SayAsync(new EchoRequest { PayloadSize = 2000 }));

        Assert.Equal(StatusCode.Unimplemented, unknown.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, oversized.StatusCode);
        Assert.Contains("1024", oversized.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>Records each response's grpc-encoding, to show the server really compressed.</summary>
    private sealed class EncodingRecorder() : DelegatingHandler(new SocketsHttpHandler())
    {
        public List<string> ResponseEncodings { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.Headers.TryGetValues("grpc-encoding", out var values))
            {
                lock (ResponseEncodings)
                {
                    ResponseEncodings.AddRange(values);
                }
            }

            return response;
        }
    }
}
