using System.Diagnostics;
using System.Threading.Channels;
using Floe.Tests.Shared;

namespace Floe.Rpc.Tests;

/// <summary>
/// grpcio on Debian's python3, a gRPC implementation not written here: Python stubs for echo.proto generated at
/// test time with grpc_tools.protoc, and the same Echo service served by <c>grpc.server</c>.
/// </summary>
internal static class PythonGrpc
{
    private static readonly Lazy<string> Stubs = new(GenerateStubs);

    /// <summary>A directory holding echo_pb2.py and echo_pb2_grpc.py.</summary>
    public static string StubDirectory => Stubs.Value;

    private static string GenerateStubs()
    {
        var protoDirectory = Path.Combine(AppContext.BaseDirectory, "Protos");
        var output = Path.Combine(Path.GetTempPath(), $"floe-rpc-py-{Guid.NewGuid():N}");
        Directory.CreateDirectory(output);
        OraclePython.Run(
            """
            import sys
            from grpc_tools import protoc
            code = protoc.main(["protoc", "-I" + sys.argv[1], "--python_out=" + sys.argv[2], "--grpc_python_out=" + sys.argv[2], sys.argv[1] + "/echo.proto"])
            sys.exit(code)
            """,
            protoDirectory,
            output);
        Assert.True(File.Exists(Path.Combine(output, "echo_pb2_grpc.py")), "grpc_tools.protoc wrote no echo_pb2_grpc.py; apt-get install -y python3-grpcio python3-grpc-tools");
        return output;
    }

    /// <summary>The Python Echo server: same behaviour as TestEchoService; prints WAIT_STARTED {text} and WAIT_ENDED {text} as a Wait call starts and ends.</summary>
    public const string ServerScript =
        """
        import sys, time
        from concurrent import futures
        sys.path.insert(0, sys.argv[1])
        import grpc, echo_pb2, echo_pb2_grpc

        CODES = {c.value[0]: c for c in grpc.StatusCode}

        def payload(size, seed):
            return bytes(((i * 31 + seed) & 0xFF) for i in range(size))

        def fail_if_asked(request, context):
            if request.fail_code != 0:
                context.set_trailing_metadata((("error-detail", "from the handler"), ("error-bin", bytes([0, 1, 2, 255]))))
                context.abort(CODES[request.fail_code], request.fail_message)

        class Echo(echo_pb2_grpc.EchoServicer):
            def Say(self, request, context):
                echoed = [(k, v) for k, v in context.invocation_metadata() if k.startswith("echo-")]
                if echoed:
                    context.send_initial_metadata(echoed)
                    context.set_trailing_metadata([("trailer-" + k, v) for k, v in echoed])
                fail_if_asked(request, context)
                return echo_pb2.EchoReply(text=request.text, received=len(request.payload), payload=payload(request.payload_size, 0))

            def Repeat(self, request, context):
                context.set_compression(grpc.Compression.Gzip)
                for i in range(request.count):
                    yield echo_pb2.EchoReply(text=request.text, index=i, payload=payload(request.payload_size, i))
                fail_if_asked(request, context)

            def Collect(self, request_iterator, context):
                texts, size = [], 0
                for request in request_iterator:
                    fail_if_asked(request, context)
                    texts.append(request.text)
                    size += len(request.payload)
                return echo_pb2.EchoReply(text=",".join(texts), received=len(texts), index=size)

            def Chat(self, request_iterator, context):
                for i, request in enumerate(request_iterator):
                    yield echo_pb2.EchoReply(text=request.text.upper(), index=i)

            def Wait(self, request, context):
                print("WAIT_STARTED " + request.text, flush=True)
                while context.is_active():
                    time.sleep(0.01)
                print("WAIT_ENDED " + request.text, flush=True)
                return echo_pb2.EchoReply()

        server = grpc.server(futures.ThreadPoolExecutor(max_workers=16),
                             options=[("grpc.max_receive_message_length", 8 * 1024 * 1024), ("grpc.max_send_message_length", 8 * 1024 * 1024)])
        echo_pb2_grpc.add_EchoServicer_to_server(Echo(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        print("PORT %d" % port, flush=True)
        sys.stdin.read()
        server.stop(0)
        """;

    /// <summary>Starts the Python Echo server; dispose closes its stdin, which stops it.</summary>
    public static async Task<PythonServer> StartServerAsync()
    {
        var process = OraclePython.Start(ServerScript, redirectInput: true, StubDirectory);
        var lines = Channel.CreateUnbounded<string>();
        var stderr = process.StandardError.ReadToEndAsync();
        _ = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                await lines.Writer.WriteAsync(line);
            }

            lines.Writer.Complete();
        });

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            var first = await lines.Reader.ReadAsync(timeout.Token);
            Assert.StartsWith("PORT ", first, StringComparison.Ordinal);
            return new PythonServer(process, lines.Reader, new Uri($"http://127.0.0.1:{first[5..]}"));
        }
        catch (Exception e) when (e is ChannelClosedException or OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"The Python gRPC server did not start: {await stderr}");
            throw;
        }
    }

    internal sealed class PythonServer(Process process, ChannelReader<string> lines, Uri address) : IAsyncDisposable
    {
        public Uri Address { get; } = address;

        /// <summary>Waits for the server to print this line (bounded only to keep a broken run from hanging).</summary>
        public async Task WaitForLineAsync(string expected)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (await lines.ReadAsync(timeout.Token) is var line && line != expected)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }

            process.Dispose();
        }
    }
}
