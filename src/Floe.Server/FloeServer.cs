using System.Net;
using System.Security.Cryptography.X509Certificates;
using Floe.Grains;
using Floe.Rpc;
using Floe.Rpc.Server;
using Floe.Server.Grains;
using Floe.Server.Services;
using Floe.Server.Stac;
using Floe.Storage;
using Floe.Storage.Azure;
using Floe.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Floe.Server;

/// <summary>
/// Builds the Floe server: configuration from appsettings.json, environment variables and the command line; the
/// object store, the repository catalog and the grains; the gRPC services on Kestrel; health endpoints.
/// </summary>
public static class FloeServer
{
    /// <summary>
    /// A configured server, not yet started. <paramref name="configure"/> may override settings (tests use it to
    /// pick a store directory and port 0).
    /// </summary>
    public static WebApplication Build(string[] args, Action<IConfigurationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = Directory.GetCurrentDirectory() });
        if (args.SkipWhile(a => a != "--config").Skip(1).FirstOrDefault() is { } configFile)
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false);
            builder.Configuration.AddEnvironmentVariables();
            builder.Configuration.AddCommandLine(args);
        }

        configure?.Invoke(builder.Configuration);
        var options = builder.Configuration.GetSection("Floe").Get<FloeOptions>() ?? new FloeOptions();
        var access = new AccessPolicy(options.Auth);

        builder.Logging.ClearProviders();
        if (builder.Configuration["Floe:LogFormat"] == "json")
        {
            builder.Logging.AddJsonConsole(o => o.IncludeScopes = false);
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        }

        // One line per call comes from the RPC layer; ASP.NET's own per-request lines would triple it.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        ConfigureKestrel(builder, options.Server);

        // A directory, or an Azure Blob container (az://CONTAINER/PREFIX) with Floe:StoreConnectionString or
        // $AZURE_STORAGE_CONNECTION_STRING; several servers may share one container.
        builder.Services.AddSingleton(sp => ObjectStoreLocation.Open(options.Store, options.StoreConnectionString, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Floe.Storage.Azure")));
        builder.Services.AddSingleton(sp => new AzureBlobSource(
            // From the configuration and from the file $FLOE_SOURCE_CREDENTIALS names (a mounted Secret).
            [.. options.Sources.Credentials.Select(c => new SourceCredential(c.Prefix, c.ConnectionString)), .. SourceCredentials.FromEnvironment()],
            Environment.GetEnvironmentVariable(ObjectStoreLocation.ConnectionStringVariable),
            logger: sp.GetRequiredService<ILoggerFactory>().CreateLogger("Floe.Storage.Azure")));
        builder.Services.AddSingleton(sp => new RepositoryCatalog(sp.GetRequiredService<IObjectStore>(), new RepositoryOptions
        {
            // The grains cache snapshots and shards for reads; the repositories' own caches serve commits only.
            SnapshotCacheBytes = 16L << 20,
            ShardCacheBytes = 64L << 20,
            Sources = sp.GetRequiredService<AzureBlobSource>().WithDefaults(),
        }));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(access);
        builder.Services.AddSingleton(new SourcePolicy(options.Sources.Allowed));
        var exports = new ExportOutputs(string.IsNullOrEmpty(options.Server.ExportRoot)
            ? ObjectStoreLocation.IsAzure(options.Store) ? Path.GetFullPath("floe-exports") : ExportOutputs.DefaultRoot(options.Store)
            : options.Server.ExportRoot);
        builder.Services.AddSingleton(exports);
        builder.Services.AddSingleton(sp => new StacCatalog(sp.GetRequiredService<RepositoryCatalog>(), exports.Root, () => PublicGrpcUrl(sp, options.Server), sp.GetRequiredService<ILogger<StacCatalog>>()));
        builder.Services.AddSingleton<StacHttp>();
        builder.Services.AddHostedService<StacRefresher>();
        builder.Services.AddObjectStoreGrainStorage(GrainServiceCollectionExtensions.DefaultStorageName, sp => sp.GetRequiredService<IObjectStore>());
        AddGrains(builder.Services, options.Server);
        builder.Services.AddRpcServer(o =>
        {
            o.MaxReceiveMessageSize = options.Server.MaxReceiveMessageBytes;
            o.MaxSendMessageSize = options.Server.MaxSendMessageBytes;
            o.CallFilters.Add(context =>
            {
                var caller = access.Authenticate(context.RequestHeaders.GetValue("authorization"));
                context.Items[AccessPolicy.CallerItem] = caller;
                // The token's name, never the token.
                context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Floe.Server.Access")
                    .LogDebug("{Method} called by {Caller}", context.Method, caller.Name ?? "anonymous");
                return ValueTask.CompletedTask;
            });
        });

        var app = builder.Build();
        var store = app.Services.GetRequiredService<IObjectStore>();
        var catalog = app.Services.GetRequiredService<RepositoryCatalog>();
        var grains = app.Services.GetRequiredService<IGrainFactory>();
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();
        app.MapRpcService(new RepositoryService(catalog, grains, loggers.CreateLogger<RepositoryService>(), options.Server.MaxSendMessageBytes, new ReadAhead(options.Server.ReadAheadBytes),
            app.Services.GetRequiredService<StacCatalog>()).Bind());
        app.MapRpcService(new WriteService(catalog, grains, app.Services.GetRequiredService<SourcePolicy>(), loggers.CreateLogger<WriteService>()).Bind());
        app.MapRpcService(new IngestionService(catalog, grains, loggers.CreateLogger<IngestionService>()).Bind());
        app.MapRpcService(new ExportService(catalog, grains, loggers.CreateLogger<ExportService>()).Bind());
        var zarr = new ZarrHttp(new SnapshotReads(catalog, grains), access, loggers.CreateLogger<ZarrHttp>());
        app.Map(ZarrHttp.Route, (RequestDelegate)zarr.HandleAsync);
        app.Services.GetRequiredService<StacHttp>().Map(app);
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", async (CancellationToken cancellationToken) =>
        {
            // Not ready while the store does not answer within the probe's patience (a remote store retries for longer).
            using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            patience.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                await store.ListAsync("catalog/", null, 1, patience.Token);
                return Results.Text("ready\n");
            }
            catch (Exception e) when (e is ObjectStoreException or IOException)
            {
                return Results.Text($"store unavailable: {e.Message}\n", statusCode: StatusCodes.Status503ServiceUnavailable);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return Results.Text($"store unavailable: {store.Description} did not answer within 5 s\n", statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        });

        var log = loggers.CreateLogger("Floe.Server");
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            log.LogInformation("Floe server: gRPC on {Grpc}, HTTP on {Http}, store {Store}, exports {Exports}, {Tokens} token(s), anonymous read: {Anonymous}, allowed sources: {Sources}",
                ListeningOn(app, options.Server), string.IsNullOrEmpty(options.Server.HttpListen) ? "none" : options.Server.HttpListen, store.Description, exports.Root, access.TokenCount,
                options.Auth.AnonymousRead.Count == 0 ? "none" : string.Join(",", options.Auth.AnonymousRead),
                options.Sources.Allowed.Count == 0 ? "none" : string.Join(",", options.Sources.Allowed));
            if (access.TokenCount == 0 && options.Auth.AnonymousRead.Count == 0)
            {
                log.LogWarning("No tokens and no anonymous reads are configured, so every call will be refused; make a token with: floe token create --name NAME --write '*'");
            }
        });
        return app;
    }

    /// <summary>The gRPC addresses actually bound (port 0 becomes the port the system chose).</summary>
    public static string ListeningOn(WebApplication app, ServerSection server)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(server);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var http = string.IsNullOrEmpty(server.HttpListen) ? null : new Uri(server.HttpListen);
        var grpc = bound.Where(a => http is null || http.Port == 0 || new Uri(a).Port != http.Port).ToList();
        return grpc.Count > 0 ? string.Join(", ", grpc) : server.Listen;
    }

    // Resolved when the catalog is first used, after the server has bound its ports (port 0 becomes a real port).
    private static string PublicGrpcUrl(IServiceProvider services, ServerSection server)
    {
        if (server.PublicGrpcUrl is { Length: > 0 } url)
        {
            return url;
        }

        var bound = services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var http = string.IsNullOrEmpty(server.HttpListen) ? null : new Uri(server.HttpListen);
        return bound.FirstOrDefault(a => http is null || http.Port == 0 || new Uri(a).Port != http.Port)
            ?? server.Listen.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0];
    }

    private static void ConfigureKestrel(WebApplicationBuilder builder, ServerSection server)
    {
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null;
            foreach (var address in server.Listen.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var (ip, port) = Endpoint(address, "Floe:Server:Listen");
                kestrel.Listen(ip, port, listen =>
                {
                    if (server.Certificate is { } certificate)
                    {
                        // With TLS, ALPN picks HTTP/2 for gRPC clients and HTTP/1.1 for health probes on one port.
                        listen.Protocols = HttpProtocols.Http1AndHttp2;
                        listen.UseHttps(X509Certificate2.CreateFromPemFile(certificate, server.CertificateKey));
                    }
                    else
                    {
                        listen.UseRpcProtocols();
                    }
                });
            }

            if (server.HttpListen is { Length: > 0 } http)
            {
                var (ip, port) = Endpoint(http, "Floe:Server:HttpListen");
                kestrel.Listen(ip, port, listen => listen.Protocols = HttpProtocols.Http1);
            }
        });
    }

    /// <summary>The address and port of an http(s):// listen URL ("localhost", "*" and "0.0.0.0" allowed as hosts).</summary>
    private static (IPAddress Address, int Port) Endpoint(string address, string key)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"{key}: \"{address}\" is not an http:// or https:// address");
        }

        var ip = uri.Host switch
        {
            "localhost" => IPAddress.Loopback,
            "*" or "0.0.0.0" => IPAddress.Any,
            _ when IPAddress.TryParse(uri.Host, out var parsed) => parsed,
            _ => throw new ArgumentException($"{key}: \"{address}\": the host must be an IP address, localhost or 0.0.0.0"),
        };
        return (ip, uri.Port);
    }

    private static void AddGrains(IServiceCollection services, ServerSection server)
    {
        services.AddGrains(grains =>
        {
            grains.AddGrain<IRepositoryGrain, RepositoryGrain>();
            grains.AddGrain<ISnapshotGrain, SnapshotGrain>(o => o.MemoryBudgetBytes = 256L << 20);
            grains.AddGrain<IManifestShardGrain, ManifestShardGrain>(o =>
            {
                o.MemoryBudgetBytes = server.ShardCacheBytes;
                o.IdleTimeout = TimeSpan.FromMinutes(server.ShardIdleMinutes);
            });
            grains.AddGrain<IWriteSessionGrain, WriteSessionGrain>(o => o.IdleTimeout = TimeSpan.FromMinutes(server.SessionIdleMinutes));
            // A job reports progress as it goes, but one long batch may be quiet for a while: keep jobs a day.
            grains.AddGrain<IIngestionGrain, IngestionGrain>(o => o.IdleTimeout = TimeSpan.FromDays(1));
            // An export reports after every file, but a day's file of a large grid may take a while: the same.
            grains.AddGrain<IExportGrain, ExportGrain>(o => o.IdleTimeout = TimeSpan.FromDays(1));
        });
    }
}
