using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Floe.Tests.Shared;

/// <summary>
/// Debian's nginx serving a directory on 127.0.0.1: an independent HTTP file server with single- and multi-range
/// (multipart/byteranges) support, to check our HTTP client against.
/// </summary>
internal sealed class NginxServer : IDisposable
{
    public const string Binary = "/usr/sbin/nginx";
    private const string Hint = "The HTTP tests need nginx: apt-get install -y nginx-light";

    private readonly Process _process;
    private readonly string _prefix;

    private NginxServer(Process process, string prefix, int port)
    {
        _process = process;
        _prefix = prefix;
        BaseUrl = $"http://127.0.0.1:{port}";
    }

    public string BaseUrl { get; }

    public string UrlOf(string fileName) => $"{BaseUrl}/{Uri.EscapeDataString(fileName)}";

    public static NginxServer Start(string directory)
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} not found. {Hint}");
        }

        var prefix = Directory.CreateTempSubdirectory("floe-nginx-").FullName;
        var port = FreePort();
        // Running as root, nginx's workers would otherwise switch to "nobody", which cannot read test temp folders.
        var user = Environment.UserName == "root" ? "user root root;" : "";
        File.WriteAllText(Path.Combine(prefix, "nginx.conf"), $$"""
            {{user}}
            daemon off;
            worker_processes 1;
            pid {{prefix}}/nginx.pid;
            error_log {{prefix}}/error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path {{prefix}}/body;
                proxy_temp_path {{prefix}}/proxy;
                fastcgi_temp_path {{prefix}}/fastcgi;
                uwsgi_temp_path {{prefix}}/uwsgi;
                scgi_temp_path {{prefix}}/scgi;
                server {
                    listen 127.0.0.1:{{port}};
                    root {{Path.GetFullPath(directory)}};
                }
            }
            """);
        var process = Process.Start(new ProcessStartInfo(Binary, ["-p", prefix, "-c", Path.Combine(prefix, "nginx.conf")])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        }) ?? throw new InvalidOperationException($"could not start {Binary}");
        var server = new NginxServer(process, prefix, port);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                var log = File.Exists(Path.Combine(prefix, "error.log")) ? File.ReadAllText(Path.Combine(prefix, "error.log")) : "";
                throw new InvalidOperationException($"nginx exited ({process.ExitCode}): {process.StandardError.ReadToEnd()} {log}");
            }

            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return server;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(20))
            {
                Thread.Sleep(50);
            }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        finally
        {
            _process.Dispose();
            Directory.Delete(_prefix, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
