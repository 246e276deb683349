using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Floe.Benchmarks.Serve;

/// <summary>
/// The least any network server must do to deliver a chunk: a plain TCP server on loopback that, per request (a
/// 4-byte chunk number), reads the chunk from its file into a new array and writes a 4-byte length and the bytes;
/// the client reads them into a new array. No protocol, no framing beyond the length, no parsing. It bounds what
/// any server on this machine can reach against reading the files directly, whatever its protocol.
/// </summary>
internal sealed class LoopbackByteServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<int, CancellationToken, Task<byte[]>> _read;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly Task _accepting;

    public LoopbackByteServer(Func<int, CancellationToken, Task<byte[]>> read)
    {
        _read = read;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Opens one connection (one client), with Nagle off as a request/response protocol wants.</summary>
    public async Task<Connection> ConnectAsync(CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync((IPEndPoint)_listener.LocalEndpoint, cancellationToken);
        return new Connection(client);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopping the listener ends the accept loop with one of these.
        }

        await Task.WhenAll(_connections);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptTcpClientAsync(_stop.Token);
            socket.NoDelay = true;
            lock (_connections)
            {
                _connections.Add(ServeAsync(socket));
            }
        }
    }

    private async Task ServeAsync(TcpClient socket)
    {
        using var _ = socket;
        var stream = socket.GetStream();
        var request = new byte[4];
        var length = new byte[4];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await stream.ReadExactlyAsync(request, _stop.Token);
                var data = await _read(BinaryPrimitives.ReadInt32LittleEndian(request), _stop.Token);
                BinaryPrimitives.WriteInt32LittleEndian(length, data.Length);
                await stream.WriteAsync(length, _stop.Token);
                await stream.WriteAsync(data, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or EndOfStreamException or ObjectDisposedException)
        {
            // The client closed its connection, or the benchmark is stopping.
        }
    }

    /// <summary>One client's connection: one request at a time.</summary>
    public sealed class Connection(TcpClient client) : IDisposable
    {
        private readonly NetworkStream _stream = client.GetStream();
        private readonly byte[] _request = new byte[4];
        private readonly byte[] _length = new byte[4];

        public async Task<byte[]> ReadAsync(int chunk, CancellationToken cancellationToken)
        {
            BinaryPrimitives.WriteInt32LittleEndian(_request, chunk);
            await _stream.WriteAsync(_request, cancellationToken);
            await _stream.ReadExactlyAsync(_length, cancellationToken);
            var data = GC.AllocateUninitializedArray<byte>(BinaryPrimitives.ReadInt32LittleEndian(_length));
            await _stream.ReadExactlyAsync(data, cancellationToken);
            return data;
        }

        public void Dispose() => client.Dispose();
    }
}
