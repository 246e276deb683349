using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Floe.Tests.Shared;

/// <summary>Serves a directory's files on 127.0.0.1 with Range support (Kestrel), as object storage serves source files.</summary>
/// <remarks>Shared by the tests and `floe bench`, which link this file.</remarks>
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

    public static async Task<RangeServer> StartAsync(string directory, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/{name}", (string name) =>
        {
            var path = Path.Combine(directory, Path.GetFileName(name));
            if (!File.Exists(path))
            {
                return Results.NotFound();
            }

            var info = new FileInfo(path);
            var etag = new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{info.Length:x}-{info.LastWriteTimeUtc.Ticks:x}\"");
            return Results.File(path, "application/octet-stream", lastModified: info.LastWriteTimeUtc, entityTag: etag, enableRangeProcessing: true);
        });
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RangeServer(app, address.TrimEnd('/'));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
