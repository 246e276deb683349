using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Floe.Rpc.Server;
using Floe.Rpc.Tests.Protos;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Floe.Rpc.Tests;

/// <summary>Kestrel on 127.0.0.1 and an ephemeral port, serving <see cref="TestEchoService"/>, with its log captured.</summary>
internal sealed class RpcTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RpcTestServer(WebApplication app, TestEchoService service, LogSink logs, Uri address)
    {
        _app = app;
        Service = service;
        Logs = logs;
        Address = address;
    }

    public Uri Address { get; }

    public TestEchoService Service { get; }

    public LogSink Logs { get; }

    public static async Task<RpcTestServer> StartAsync(Action<RpcServerOptions>? configure = null, X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.UseRpcProtocols();
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        }));
        var logs = new LogSink();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Services.AddRpcServer(configure);
        var app = builder.Build();
        var service = new TestEchoService();
        app.MapRpcService(Echo.BindService(service));
        app.MapGet("/health", () => "ok");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RpcTestServer(app, service, logs, new Uri(address));
    }

    public RpcChannel Channel(RpcChannelOptions? options = null) => new(Address, options);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Every log line, with its structured values.</summary>
    internal sealed class LogSink : ILoggerProvider
    {
        public ConcurrentQueue<(string Category, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Values)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        public IReadOnlyList<IReadOnlyDictionary<string, object?>> CallLines(string method) =>
            Entries.Where(e => e.Category == "Floe.Rpc.Server" && e.Values.TryGetValue("Method", out var m) && (string?)m == method && e.Values.ContainsKey("StatusCode"))
                .Select(e => e.Values).ToList();

        private sealed class Logger(LogSink sink, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                    ? pairs.ToDictionary(p => p.Key, p => p.Value)
                    : [];
                sink.Entries.Enqueue((category, logLevel, formatter(state, exception), values));
            }
        }
    }
}
