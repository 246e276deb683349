using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Floe.Tests.Shared;

/// <summary>Serves a directory's files on 127.0.0.1 with Range support (Kestrel), as object storage serves source files.</summary>
/// <remarks>
/// Shared by the tests and `floe bench`, which link this file. By default a request for several ranges gets the whole
/// file (200), as from S3 or Azure Blob; with multipleRanges it gets a multipart/byteranges answer, as from nginx.
/// </remarks>
internal sealed class RangeServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RangeServer(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public string UrlOf(string fileName) => $"{BaseUrl}/{Uri.EscapeDataString(fileName)}";

    public static async Task<RangeServer> StartAsync(string directory, CancellationToken cancellationToken, bool multipleRanges = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/{name}", (string name, HttpRequest request) =>
        {
            var path = Path.Combine(directory, Path.GetFileName(name));
            if (!File.Exists(path))
            {
                return Results.NotFound();
            }

            var info = new FileInfo(path);
            if (multipleRanges && MultipartAnswer(request, path, info.Length) is { } multipart)
            {
                return multipart;
            }

            var etag = new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{info.Length:x}-{info.LastWriteTimeUtc.Ticks:x}\"");
            return Results.File(path, "application/octet-stream", lastModified: info.LastWriteTimeUtc, entityTag: etag, enableRangeProcessing: true);
        });
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RangeServer(app, address.TrimEnd('/'));
    }

    // Several satisfiable ranges get a multipart/byteranges body (RFC 9110 section 14.6); anything else is left to Results.File.
    private static IResult? MultipartAnswer(HttpRequest request, string path, long length)
    {
        var header = request.Headers.Range.ToString();
        if (!header.StartsWith("bytes=", StringComparison.Ordinal) || !header.Contains(',', StringComparison.Ordinal))
        {
            return null;
        }

        var ranges = new List<(long From, long To)>();
        foreach (var item in header["bytes=".Length..].Split(',', StringSplitOptions.TrimEntries))
        {
            var dash = item.IndexOf('-', StringComparison.Ordinal);
            if (dash <= 0 || !long.TryParse(item[..dash], out var from) || !long.TryParse(item[(dash + 1)..], out var to) || to < from || from >= length)
            {
                return null;
            }

            ranges.Add((from, Math.Min(to, length - 1)));
        }

        var boundary = "floe" + Guid.NewGuid().ToString("N");
        using var file = File.OpenRead(path);
        using var body = new MemoryStream();
        foreach (var (from, to) in ranges)
        {
            body.Write(System.Text.Encoding.ASCII.GetBytes(
                $"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes {from}-{to}/{length}\r\n\r\n"));
            var data = new byte[to - from + 1];
            file.Position = from;
            file.ReadExactly(data);
            body.Write(data);
        }

        body.Write(System.Text.Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n"));
        return new PartialContent(body.ToArray(), $"multipart/byteranges; boundary={boundary}");
    }

    private sealed class PartialContent(byte[] body, string contentType) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status206PartialContent;
            httpContext.Response.ContentType = contentType;
            httpContext.Response.ContentLength = body.Length;
            return httpContext.Response.Body.WriteAsync(body).AsTask();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
