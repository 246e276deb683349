using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Floe.Storage.Tests;

/// <summary>
/// A small HTTP/1.1 file server on 127.0.0.1 and an ephemeral port. It honours single "bytes=a-b" ranges and sends
/// ETag and Last-Modified, and can be told to misbehave the ways real servers do. One request per connection.
/// </summary>
internal sealed partial class TestHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly ConcurrentDictionary<string, ServedFile> _files = new(StringComparer.Ordinal);

    public TestHttpServer()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        BaseUrl = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _acceptLoop = AcceptAsync();
    }

    public string BaseUrl { get; }

    /// <summary>Every request received, in arrival order: method, path and Range header.</summary>
    public ConcurrentQueue<(string Method, string Path, string? Range)> Requests { get; } = new();

    /// <summary>Answer every GET with 200 and the whole file, as servers without range support do.</summary>
    public bool IgnoreRange { get; set; }

    /// <summary>
    /// Answers a GET for several ranges ("bytes=a-b,c-d") with 206 and the headers and body this returns for the
    /// file's content; unset, such a GET gets the whole file (200), as from S3.
    /// </summary>
    public Func<byte[], (List<string> Headers, byte[] Body)>? AnswerMultipleRanges { get; set; }

    /// <summary>Answer HEAD with 405 Method Not Allowed.</summary>
    public bool RefuseHead { get; set; }

    /// <summary>Send the headers promising the full body, then only this many body bytes, then close.</summary>
    public int? TruncateBodyAt { get; set; }

    /// <summary>Answer every request with this status and an empty body.</summary>
    public HttpStatusCode? FailWith { get; set; }

    public string Serve(string path, byte[] content, string etag, DateTimeOffset lastModified)
    {
        _files[path] = new ServedFile(content, etag, lastModified);
        return BaseUrl + path;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(socket));
        }
    }

    private async Task HandleAsync(Socket socket)
    {
        using var _ = socket;
        try
        {
            using var stream = new NetworkStream(socket, ownsSocket: false);
            var head = await ReadHeadAsync(stream);
            if (head is null)
            {
                return;
            }

            var lines = head.Split("\r\n");
            var requestLine = lines[0].Split(' ');
            var (method, path) = (requestLine[0], requestLine[1]);
            var range = lines.Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("Range", StringComparison.OrdinalIgnoreCase))
                .Select(p => p[1].Trim()).FirstOrDefault();
            Requests.Enqueue((method, path, range));
            await RespondAsync(stream, method, path, range);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            // The client hung up early, as it does after taking what it needs from a 200 it did not ask for.
        }
    }

    private async Task RespondAsync(NetworkStream stream, string method, string path, string? range)
    {
        if (FailWith is { } failure)
        {
            await WriteAsync(stream, (int)failure, failure.ToString(), [], [], null);
            return;
        }

        if (!_files.TryGetValue(path, out var file))
        {
            await WriteAsync(stream, 404, "Not Found", [], [], null);
            return;
        }

        var headers = new List<string>
        {
            $"ETag: {file.Etag}",
            $"Last-Modified: {file.LastModified.ToString("R", CultureInfo.InvariantCulture)}",
            "Accept-Ranges: bytes",
        };
        var content = file.Content;
        if (method == "HEAD")
        {
            if (RefuseHead)
            {
                await WriteAsync(stream, 405, "Method Not Allowed", [], [], null);
                return;
            }

            await WriteAsync(stream, 200, "OK", headers, [], content.Length);
            return;
        }

        if (range is not null && range.Contains(',', StringComparison.Ordinal) && AnswerMultipleRanges is { } answer)
        {
            var (extra, multipart) = answer(content);
            await WriteAsync(stream, 206, "Partial Content", [.. headers, .. extra], multipart, multipart.Length);
            return;
        }

        var match = range is null || IgnoreRange ? null : RangeHeader().Match(range);
        if (match is null || !match.Success)
        {
            await WriteAsync(stream, 200, "OK", headers, content, content.Length);
            return;
        }

        var from = long.Parse(match.Groups["from"].Value, CultureInfo.InvariantCulture);
        var to = match.Groups["to"].Success ? long.Parse(match.Groups["to"].Value, CultureInfo.InvariantCulture) : content.Length - 1;
        if (from >= content.Length)
        {
            headers.Add($"Content-Range: bytes */{content.Length}");
            await WriteAsync(stream, 416, "Range Not Satisfiable", headers, [], 0);
            return;
        }

        // Like real servers, clamp a range that runs past the end.
        to = Math.Min(to, content.Length - 1);
        headers.Add($"Content-Range: bytes {from}-{to}/{content.Length}");
        var body = content.AsSpan((int)from, (int)(to - from + 1)).ToArray();
        await WriteAsync(stream, 206, "Partial Content", headers, body, body.Length);
    }

    private async Task WriteAsync(NetworkStream stream, int status, string reason, List<string> headers, byte[] body, long? contentLength)
    {
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {reason}\r\n");
        foreach (var header in headers)
        {
            head.Append(header).Append("\r\n");
        }

        head.Append(CultureInfo.InvariantCulture, $"Content-Length: {contentLength ?? body.Length}\r\n");
        head.Append("Connection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        var sent = TruncateBodyAt is { } cut ? Math.Min(cut, body.Length) : body.Length;
        await stream.WriteAsync(body.AsMemory(0, sent));
    }

    private static async Task<string?> ReadHeadAsync(NetworkStream stream)
    {
        var buffer = new byte[16 * 1024];
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled));
            if (read == 0)
            {
                return null;
            }

            filled += read;
            var end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                return Encoding.ASCII.GetString(buffer, 0, end);
            }
        }

        return null;
    }

    [GeneratedRegex(@"^bytes=(?<from>\d+)-(?<to>\d+)?$")]
    private static partial Regex RangeHeader();

    private sealed record ServedFile(byte[] Content, string Etag, DateTimeOffset LastModified);
}
