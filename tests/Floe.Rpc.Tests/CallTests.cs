using System.Net;
using System.Net.Http.Headers;
using Floe.Rpc.Tests.Protos;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Floe.Rpc.Tests;

/// <summary>RpcChannel calling Floe.Rpc.Server on Kestrel, in process, over h2c.</summary>
[Trait("Category", "Server")]
public class CallTests
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public async Task Unary_call_round_trips_a_message()
    {
        await using var server = await RpcTestServer.StartAsync();
        using var channel = server.Channel();
        var client = new Echo.EchoClient(channel);

        var reply = await client.SayAsync(new EchoRequest { Text = "héllo", Payload = ByteString.CopyFrom(1, 2, 3), PayloadSize = 5 });

        Assert.Equal("héllo", reply.Text);
        Assert.Equal(3, reply.Received);
        Assert.Equal(TestEchoService.Payload(5, 0), reply.Payload);
        var line = Assert.Single(server.Logs.CallLines("/floe.test.v1.Echo/Say"));
        Assert.Equal(StatusCode.OK, line["StatusCode"]);
        Assert.StartsWith("ipv4:127.0.0.1:", (string)line["Peer"]!, StringComparison.Ordinal);
        Assert.IsType<double>(line["ElapsedMs"]);
    }

    [Fact]
    public async Task Server_streaming_delivers_many_messages_in_order()
    {
        await using var server = await RpcTestServer.StartAsync();
        using var channel = server.Channel();
        using var call = new Echo.EchoClient(channel).Repeat(new EchoRequest { Text = "r", Count = 2000, PayloadSize = 100 });

        var replies = new List<EchoReply>();
        await foreach (var reply in call.ResponseStream.ReadAllAsync())
        {
            replies.Add(reply);
        }

        Assert.Equal(Enumerable.Range(0, 2000), replies.Select(r => r.Index));
        Assert.All(replies, r => Assert.Equal(TestEchoService.Payload(100, r.Index), r.Payload));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Server_streaming_delivers_messages_up_to_the_receive_limit()
    {
        await using var server = await RpcTestServer.StartAsync();
        using var channel = server.Channel();
        // Payload plus field tags and lengths: a message of just under 4 MiB.
        using var call = new Echo.EchoClient(channel).Repeat(new EchoRequest { Count = 3, PayloadSize = (4 * MiB) - 16 });

        var count = 0;
        await foreach (var reply in call.ResponseStream.ReadAllAsync())
        {
            Assert.True(reply.CalculateSize() <= 4 * MiB);
            Assert.Equal(TestEchoService.Payload((4 * MiB) - 16, count), reply.Payload);
            count++;
        }

        Assert.Equal(3, count);
    }

    [Fact]
    public async Task Client_streaming_collects_every_message()
    {
        await using var server = await RpcTestServer.StartAsync();
        using var channel = server.Channel();
        using var call = new Echo.EchoClient(channel).Collect();

        for (var i = 0; i < 200; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Text = i.ToString(System.Globalization.CultureInfo.InvariantCulture), Payload = TestEchoService.Payload(1000, i) });
        }

        await call.RequestStream.CompleteAsync();
        var reply = await call;

        Assert.Equal(200, reply.Received);
        Assert.Equal(200 * 1000, reply.Index);
        Assert.Equal(string.Join(",", Enumerable.Range(0, 200)), reply.Text);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Duplex_streaming_answers_each_message_before_the_next_is_sent()
    {
        await using var server = await RpcTestServer.StartAsync();
        using var channel = server.Channel();
        using var call = new Echo.EchoClient(channel).Chat();

        foreach (var word in new[] { "one", "two", "three" })
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Text = word });
            Assert.True(await call.ResponseStream.MoveNext(default));
            Assert.Equal(word.ToUpperInvariant(), call.ResponseStream.Current.Text);
        }

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(default));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Metadata_travels_both_ways_including_binary_values()
    {
        await using var server = await RpcTestServer.StartAsync();
        var options = new RpcChannelOptions();
        options.DefaultHeaders.Add("authorization", "Bearer secret-token-123");
        using var channel = server.Channel(options);
        var headers = new Metadata().Add("echo-text", "plain value").Add("echo-data-bin", [0, 1, 2, 250, 255]).Add("x-other", "o");

        // A unary method read through a streaming call object, to see its headers and trailers (the wire is the same).
        var sayAsStream = new Method<EchoRequest, EchoReply>(MethodType.ServerStreaming, Echo.ServiceName, "Say");
        using var call = channel.ServerStreaming(sayAsStream, new EchoRequest { Text = "m" }, new CallOptions(headers));
        var responseHeaders = await call.ResponseHeadersAsync;
        Assert.True(await call.ResponseStream.MoveNext(default));
        Assert.False(await call.ResponseStream.MoveNext(default));

        Assert.Equal("plain value", responseHeaders.GetValue("echo-text"));
        Assert.Equal(new byte[] { 0, 1, 2, 250, 255 }, responseHeaders.GetValueBytes("echo-data-bin"));
        var trailers = call.GetTrailers();
        Assert.Equal("plain value", trailers.GetValue("trailer-echo-text"));
        Assert.Equal(new byte[] { 0, 1, 2, 250, 255 }, trailers.GetValueBytes("trailer-echo-data-bin"));

        var seen = server.Service.LastRequestHeaders!;
        Assert.Equal("Bearer secret-token-123", seen.GetValue("authorization"));
        Assert.Equal("o", seen.GetValue("x-other"));
        Assert.DoesNotContain(seen, e => e.Key is "te" or "content-type" || e.Key.StartsWith("grpc-", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Logs.Entries, e => e.Message.Contains("secret-token-123", StringComparison.Ordinal)
            || e.Values.Values.Any(v => v?.ToString()?.Contains("secret-token-123", StringComparison.Ordinal) == true));
    }

    [Fact]
    public async Task Deadline_cancels_the_server_handler_and_the_client_gets_DEADLINE_EXCEEDED()
    {
        await using var server = await RpcTestServer.StartAsync();
        using var channel = server.Channel();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            new Echo.EchoClient(channel).WaitAsync(new EchoRequest(), new CallOptions(Deadline: DateTime.UtcNow.AddMilliseconds(300))));

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        var serverDeadline = await server.Service.WaitCancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(DateTime.MaxValue, serverDeadline);
    }

    [Fact]
    public async Task Server_enforces_grpc_timeout_on_its_own_and_answers_DEADLINE_EXCEEDED()
    {
        await using var server = await RpcTestServer.StartAsync();
        using var http = new HttpClient();

        // A raw request whose client side never gives up: only the server's deadline can end it.
        using var response = await RawCallAsync(http, server.Address, "/floe.test.v1.Echo/Wait", Frame(new EchoRequest()), ("grpc-timeout", "200m"));
        await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var status = response.TrailingHeaders.TryGetValues("grpc-status", out var t) ? t.Single() : response.Headers.GetValues("grpc-status").Single();
        Assert.Equal("4", status);
        await server.Service.WaitCancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await WaitForAsync(() => server.Logs.CallLines("/floe.test.v1.Echo/Wait").Count == 1);
        Assert.Equal(StatusCode.DeadlineExceeded, server.Logs.CallLines("/floe.test.v1.Echo/Wait")[0]["StatusCode"]);
    }

    [Fact]
    public async Task A_deadline_already_passed_fails_without_calling_the_server()
    {
        await using var server = await RpcTestServer.StartAsync();
        using var channel = server.Channel();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            new Echo.EchoClient(channel).SayAsync(new EchoRequest(), new CallOptions(Deadline: DateTime.UtcNow.AddSeconds(-1))));

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal(0, server.Service.CallsHandled);
    }

    [Fact]
    public async Task Client_cancellation_reaches_the_server_handler_token()
    {
        await using var server = await RpcTestServer.StartAsync();
        using var channel = server.Channel();
        using var cancel = new CancellationTokenSource();

        var call = new Echo.EchoClient(channel).WaitAsync(new EchoRequest(), new CallOptions(CancellationToken: cancel.Token));
        await server.Service.WaitStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await cancel.CancelAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        var deadline = await server.Service.WaitCancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(DateTime.MaxValue, deadline);
    }

    [Fact]
    public async Task Disposing_a_streaming_call_cancels_it()
    {
        await using var server = await RpcTestServer.StartAsync();
        using var channel = server.Channel();
        var call = new Echo.EchoClient(channel).Repeat(new EchoRequest { Count = 1_000_000, PayloadSize = 1000 });

        Assert.True(await call.ResponseStream.MoveNext(default));
        call.Dispose();

        Assert.Equal(StatusCode.Cancelled, call.GetStatus().StatusCode);
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(default));
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        await WaitForAsync(() => server.Logs.CallLines("/floe.test.v1.Echo/Repeat").Count == 1);
        Assert.Equal(StatusCode.Cancelled, server.Logs.CallLines("/floe.test.v1.Echo/Repeat")[0]["StatusCode"]);
    }

    [Fact]
    public async Task An_RpcException_reaches_the_client_with_its_status_message_and_trailers()
    {
        await using var server = await RpcTestServer.StartAsync();
        using var channel = server.Channel();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            new Echo.EchoClient(channel).SayAsync(new EchoRequest { FailCode = (int)StatusCode.NotFound, FailMessage = "no such array: température ✓ 100%" }));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("no such array: température ✓ 100%", error.Status.Detail);
        Assert.Equal("from the handler", error.Trailers.GetValue("error-detail"));
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, error.Trailers.GetValueBytes("error-bin"));
    }

    [Fact]
    public async Task An_error_after_streamed_messages_arrives_in_trailers()
    {
        await using var server = await RpcTestServer.StartAsync();
        using var channel = server.Channel();
        using var call = new Echo.EchoClient(channel).Repeat(new EchoRequest { Count = 3, FailCode = (int)StatusCode.Aborted, FailMessage = "conflict" });

        for (var i = 0; i < 3; i++)
        {
            Assert.True(await call.ResponseStream.MoveNext(default));
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(default));
        Assert.Equal(StatusCode.Aborted, error.StatusCode);
        Assert.Equal("conflict", call.GetStatus().Detail);
        Assert.Equal("from the handler", call.GetTrailers().GetValue("error-detail"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Other_exceptions_answer_UNKNOWN_and_are_logged(bool includeDetails)
    {
        await using var server = await RpcTestServer.StartAsync(o => o.IncludeExceptionDetails = includeDetails);
        using var channel = server.Channel();

        // Fail code -1 makes the handler throw InvalidOperationException("secret internal detail").
        var error = await Assert.ThrowsAsync<RpcException>(() => new Echo.EchoClient(channel).SayAsync(new EchoRequest { FailCode = -1 }));

        Assert.Equal(StatusCode.Unknown, error.StatusCode);
        Assert.Equal(includeDetails, error.Status.Detail.Contains("secret internal detail", StringComparison.Ordinal));
        Assert.Contains(server.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("InvalidOperationException", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unknown_methods_answer_UNIMPLEMENTED()
    {
        await using var server = await RpcTestServer.StartAsync();
        using var channel = server.Channel();

        var unknownMethod = await Assert.ThrowsAsync<RpcException>(() =>
            channel.UnaryAsync(new Method<EchoRequest, EchoReply>(MethodType.Unary, Echo.ServiceName, "Nope"), new EchoRequest()));
        var unknownService = await Assert.ThrowsAsync<RpcException>(() =>
            channel.UnaryAsync(new Method<EchoRequest, EchoReply>(MethodType.Unary, "other.v1.Service", "Call"), new EchoRequest()));

        Assert.Equal(StatusCode.Unimplemented, unknownMethod.StatusCode);
        Assert.Contains("/floe.test.v1.Echo/Nope", unknownMethod.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.Unimplemented, unknownService.StatusCode);
    }

    [Fact]
    public async Task An_oversized_response_is_refused_by_the_client_naming_the_limit()
    {
        await using var server = await RpcTestServer.StartAsync();
        using var channel = server.Channel(new RpcChannelOptions { MaxReceiveMessageSize = 1024 });

        var error = await Assert.ThrowsAsync<RpcException>(() => new Echo.EchoClient(channel).SayAsync(new EchoRequest { PayloadSize = 2000 }));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("1024", error.Status.Detail, StringComparison.Ordinal);
        // The channel still works afterwards.
        Assert.Equal("ok", (await new Echo.EchoClient(channel).SayAsync(new EchoRequest { Text = "ok" })).Text);
    }

    [Fact]
    public async Task An_oversized_request_is_refused_by_the_server_naming_the_limit()
    {
        await using var server = await RpcTestServer.StartAsync(o => o.MaxReceiveMessageSize = 1024);
        using var channel = server.Channel();

        var unary = await Assert.ThrowsAsync<RpcException>(() =>
            new Echo.EchoClient(channel).SayAsync(new EchoRequest { Payload = TestEchoService.Payload(2000, 0) }));
        using var stream = new Echo.EchoClient(channel).Collect();
        await stream.RequestStream.WriteAsync(new EchoRequest { Text = "small" });
        var streamed = await Assert.ThrowsAnyAsync<RpcException>(async () =>
        {
            await stream.RequestStream.WriteAsync(new EchoRequest { Payload = TestEchoService.Payload(5000, 0) });
            await stream.RequestStream.CompleteAsync();
            await stream.ResponseAsync;
        });

        Assert.Equal(StatusCode.ResourceExhausted, unary.StatusCode);
        Assert.Contains("1024", unary.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.ResourceExhausted, streamed.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, stream.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Send_limits_refuse_oversized_messages_on_both_sides()
    {
        await using var server = await RpcTestServer.StartAsync(o => o.MaxSendMessageSize = 1024);
        using var channel = server.Channel(new RpcChannelOptions { MaxSendMessageSize = 1024 });
        var client = new Echo.EchoClient(channel);

        var local = await Assert.ThrowsAsync<RpcException>(() => client.SayAsync(new EchoRequest { Payload = TestEchoService.Payload(2000, 0) }));
        var remote = await Assert.ThrowsAsync<RpcException>(() => client.SayAsync(new EchoRequest { PayloadSize = 2000 }));

        Assert.Equal(StatusCode.ResourceExhausted, local.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, remote.StatusCode);
        Assert.Equal(1, server.Service.CallsHandled);
    }

    [Fact]
    public async Task Call_filters_see_method_and_headers_and_can_refuse_the_call()
    {
        var seen = new List<string>();
        await using var server = await RpcTestServer.StartAsync(o => o.CallFilters.Add(context =>
        {
            lock (seen)
            {
                seen.Add(context.Method);
            }

            if (context.RequestHeaders.GetValue("authorization") != "Bearer good")
            {
                throw new RpcException(new Status(StatusCode.Unauthenticated, "bad or missing bearer token"));
            }

            context.Items["principal"] = "alice";
            return ValueTask.CompletedTask;
        }));
        using var anonymous = server.Channel();
        var options = new RpcChannelOptions();
        options.DefaultHeaders.Add("authorization", "Bearer good");
        using var authenticated = server.Channel(options);

        var refused = await Assert.ThrowsAsync<RpcException>(() => new Echo.EchoClient(anonymous).SayAsync(new EchoRequest()));
        var reply = await new Echo.EchoClient(authenticated).SayAsync(new EchoRequest { Text = "in" });

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal("bad or missing bearer token", refused.Status.Detail);
        Assert.Equal("in", reply.Text);
        Assert.Equal(1, server.Service.CallsHandled);
        Assert.Equal(["/floe.test.v1.Echo/Say", "/floe.test.v1.Echo/Say"], seen);
    }

    [Fact]
    public async Task A_request_that_is_not_grpc_gets_HTTP_415()
    {
        await using var server = await RpcTestServer.StartAsync();
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.Address, "/floe.test.v1.Echo/Say"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json"),
        };

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal(0, server.Service.CallsHandled);
    }

    [Fact]
    public async Task Gzip_compressed_requests_are_accepted_and_unknown_encodings_are_UNIMPLEMENTED()
    {
        await using var server = await RpcTestServer.StartAsync();
        using var http = new HttpClient();
        var message = new EchoRequest { Text = "zipped", Payload = TestEchoService.Payload(5000, 0) }.ToByteArray();
        using var compressed = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(message);
        }

        var frame = new byte[5 + compressed.Length];
        frame[0] = 1;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)compressed.Length);
        compressed.ToArray().CopyTo(frame, 5);

        using var ok = await RawCallAsync(http, server.Address, "/floe.test.v1.Echo/Say", frame, ("grpc-encoding", "gzip"));
        var body = await ok.Content.ReadAsByteArrayAsync();
        using var unsupported = await RawCallAsync(http, server.Address, "/floe.test.v1.Echo/Say", frame, ("grpc-encoding", "snappy"));
        await unsupported.Content.ReadAsByteArrayAsync();

        Assert.Equal("0", ok.TrailingHeaders.GetValues("grpc-status").Single());
        var reply = EchoReply.Parser.ParseFrom(body.AsSpan(5).ToArray());
        Assert.Equal("zipped", reply.Text);
        Assert.Equal(5000, reply.Received);
        Assert.Equal("12", unsupported.Headers.GetValues("grpc-status").Single());
    }

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable, StatusCode.Unavailable)]
    [InlineData(HttpStatusCode.Unauthorized, StatusCode.Unauthenticated)]
    [InlineData(HttpStatusCode.NotFound, StatusCode.Unimplemented)]
    public async Task A_non_200_http_status_maps_to_its_grpc_code(HttpStatusCode http, StatusCode expected)
    {
        using var handler = new CannedHandler(() => new HttpResponseMessage(http) { Content = new StringContent("proxy says no") });
        using var channel = new RpcChannel(new Uri("http://example.invalid"), new RpcChannelOptions { HttpHandler = handler });

        var error = await Assert.ThrowsAsync<RpcException>(() => new Echo.EchoClient(channel).SayAsync(new EchoRequest()));

        Assert.Equal(expected, error.StatusCode);
        Assert.Contains(((int)http).ToString(System.Globalization.CultureInfo.InvariantCulture), error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("trailers", handler.LastRequest!.Headers.TE.Single().Value);
        Assert.Equal("application/grpc", handler.LastRequest.Content!.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task A_response_without_grpc_status_is_INTERNAL_with_a_clear_message()
    {
        using var handler = new CannedHandler(() =>
        {
            var content = new ByteArrayContent(Frame(new EchoReply { Text = "x" }));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
        });
        using var channel = new RpcChannel(new Uri("http://example.invalid"), new RpcChannelOptions { HttpHandler = handler });

        var error = await Assert.ThrowsAsync<RpcException>(() => new Echo.EchoClient(channel).SayAsync(new EchoRequest()));

        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Contains("grpc-status", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Grpc_timeout_and_user_metadata_are_sent_on_the_wire()
    {
        using var handler = new CannedHandler(() =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([]) };
            response.Headers.Add("grpc-status", "5");
            response.Headers.Add("grpc-message", "not%20here");
            return response;
        });
        using var channel = new RpcChannel(new Uri("http://example.invalid"), new RpcChannelOptions { HttpHandler = handler });

        var error = await Assert.ThrowsAsync<RpcException>(() => new Echo.EchoClient(channel).SayAsync(
            new EchoRequest(), new CallOptions(new Metadata().Add("x-id", "7").Add("x-bin", [1]), DateTime.UtcNow.AddMinutes(10))));

        Assert.Equal(new Status(StatusCode.NotFound, "not here"), error.Status);
        var request = handler.LastRequest!;
        var timeout = RpcWire.ParseTimeout(request.Headers.GetValues("grpc-timeout").Single());
        Assert.InRange(timeout!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
        Assert.Equal("7", request.Headers.GetValues("x-id").Single());
        Assert.Equal("AQ", request.Headers.GetValues("x-bin").Single());
        Assert.Equal(HttpVersion.Version20, request.Version);
        Assert.Equal(HttpVersionPolicy.RequestVersionExact, request.VersionPolicy);
    }

    [Fact]
    public async Task Tls_channel_calls_a_server_whose_certificate_it_was_told_to_trust()
    {
        using var certificate = TestCertificates.SelfSigned();
        await using var server = await RpcTestServer.StartAsync(certificate: certificate);
        var address = new Uri($"https://localhost:{server.Address.Port}");
        using var trusting = new RpcChannel(address, new RpcChannelOptions { TrustedServerCertificate = certificate });
        using var untrusting = new RpcChannel(address);

        var reply = await new Echo.EchoClient(trusting).SayAsync(new EchoRequest { Text = "secure" });
        var refused = await Assert.ThrowsAsync<RpcException>(() => new Echo.EchoClient(untrusting).SayAsync(new EchoRequest()));

        Assert.Equal("secure", reply.Text);
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
    }

    internal static byte[] Frame(IMessage message)
    {
        var payload = message.ToByteArray();
        var frame = new byte[5 + payload.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    private static async Task<HttpResponseMessage> RawCallAsync(HttpClient http, Uri server, string path, byte[] body, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server, path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 600 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition());
    }

    private sealed class CannedHandler(Func<HttpResponseMessage> answer) : HttpMessageHandler
    {
        public HttpRequestMessage? LastRequest { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            LastRequest = request;
            return Task.FromResult(answer());
        }
    }
}
