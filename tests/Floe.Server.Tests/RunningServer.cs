using Floe.Api.V1;
using Floe.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace Floe.Server.Tests;

/// <summary>
/// A Floe server in this process on 127.0.0.1 with a port the system picks, over a fresh store directory, with
/// three tokens: "admin" (write everything), "reader" (read "alpha") and "other" (write "beta").
/// </summary>
public sealed class RunningServer : IAsyncDisposable
{
    public const string AdminToken = "floe_test_admin_token";
    public const string ReaderToken = "floe_test_reader_token";
    public const string OtherToken = "floe_test_other_token";

    private readonly WebApplication _app;

    private readonly string _root;

    private RunningServer(WebApplication app, string root, string storeDirectory, Uri address)
    {
        _app = app;
        _root = root;
        StoreDirectory = storeDirectory;
        Address = address;
    }

    public string StoreDirectory { get; }

    /// <summary>A directory under the allowed source prefix, for files that virtual references point at.</summary>
    public string SourceDirectory => Path.Combine(_root, "sources");

    public Uri Address { get; }

    public IServiceProvider Services => _app.Services;

    /// <param name="settings">Extra configuration keys, e.g. "Floe:Auth:AnonymousRead:0" = "alpha".</param>
    public static async Task<RunningServer> StartAsync(IDictionary<string, string?>? settings = null, string? storeDirectory = null)
    {
        var root = Directory.CreateTempSubdirectory("floe-server-test-").FullName;
        storeDirectory ??= Path.Combine(root, "store");
        Directory.CreateDirectory(Path.Combine(root, "sources"));
        var config = new Dictionary<string, string?>
        {
            ["Floe:Store"] = storeDirectory,
            ["Floe:Server:Listen"] = "http://127.0.0.1:0",
            ["Floe:Server:HttpListen"] = "",
            ["Floe:Sources:Allowed:0"] = Path.Combine(root, "sources") + "/",
            ["Floe:Auth:Tokens:0:Name"] = "admin",
            ["Floe:Auth:Tokens:0:Sha256"] = AccessPolicy.Hash(AdminToken),
            ["Floe:Auth:Tokens:0:Write:0"] = "*",
            ["Floe:Auth:Tokens:1:Name"] = "reader",
            ["Floe:Auth:Tokens:1:Sha256"] = AccessPolicy.Hash(ReaderToken),
            ["Floe:Auth:Tokens:1:Read:0"] = "alpha",
            ["Floe:Auth:Tokens:2:Name"] = "other",
            ["Floe:Auth:Tokens:2:Sha256"] = AccessPolicy.Hash(OtherToken),
            ["Floe:Auth:Tokens:2:Write:0"] = "beta",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        var app = FloeServer.Build([], c => c.AddInMemoryCollection(config));
        await app.StartAsync();
        var options = app.Services.GetService(typeof(FloeOptions)) as FloeOptions ?? throw new InvalidOperationException("no options");
        var address = new Uri(FloeServer.ListeningOn(app, options.Server).Split(',')[0].Trim());
        return new RunningServer(app, root, storeDirectory, address);
    }

    public FloeClient Client(string? token = AdminToken) => new(Address, token);

    /// <summary>Writes a file under the allowed source directory and returns its absolute path.</summary>
    public string WriteSource(string name, byte[] data)
    {
        var path = Path.GetFullPath(Path.Combine(SourceDirectory, name));
        File.WriteAllBytes(path, data);
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A store shared with another server (storeDirectory) may still be in use; the temp folder goes later.
        }
    }
}
