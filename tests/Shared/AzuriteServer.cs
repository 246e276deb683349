using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Floe.Tests.Shared;

/// <summary>
/// Azurite's Blob service (Microsoft's storage emulator, npm "azurite" in tests/node) on 127.0.0.1, as an independent
/// implementation of the Blob REST API to test against. It can be stopped and started again on the same port and data.
/// </summary>
internal sealed partial class AzuriteServer : IDisposable
{
    private const string Hint = "The Azure tests need Azurite: cd tests/node && npm install";
    private readonly bool _inMemory;
    private readonly bool _ownsLocation;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private readonly string _nodeDirectory;

    private AzuriteServer(string location, bool ownsLocation, bool inMemory, int port, string nodeDirectory)
    {
        _nodeDirectory = nodeDirectory;
        Location = location;
        _ownsLocation = ownsLocation;
        _inMemory = inMemory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Where Azurite keeps its data (unused when in memory).</summary>
    public string Location { get; }

    public string BlobEndpoint => $"http://127.0.0.1:{Port}/devstoreaccount1";

    /// <summary>A SharedKey connection string for the emulator's well-known account.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint={BlobEndpoint};";

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>
    /// Starts Azurite on a free port, keeping its data in memory or in a directory (created when null). Azurite comes
    /// from <paramref name="nodeDirectory"/>/node_modules (default: tests/node above the working directory or program).
    /// </summary>
    public static AzuriteServer Start(bool inMemory = true, string? location = null, string? nodeDirectory = null)
    {
        var owns = location is null;
        location ??= Directory.CreateTempSubdirectory("floe-azurite-").FullName;
        var server = new AzuriteServer(location, owns, inMemory, FreePort(), nodeDirectory ?? NodePackages.Directory("azurite", Hint));
        server.Restart();
        return server;
    }

    /// <summary>(Re)starts the process on the same port and data and waits until it answers.</summary>
    public void Restart()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException("Azurite is already running");
        }

        var main = Path.Combine(_nodeDirectory, "node_modules", "azurite", "dist", "src", "blob", "main.js");
        if (!File.Exists(main))
        {
            throw new InvalidOperationException($"{main} not found. {Hint}");
        }

        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _nodeDirectory,
        };
        foreach (var argument in new[] { main, "--blobHost", "127.0.0.1", "--blobPort", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--skipApiVersionCheck", "--disableTelemetry", "--silent" })
        {
            start.ArgumentList.Add(argument);
        }

        if (_inMemory)
        {
            start.ArgumentList.Add("--inMemoryPersistence");
        }
        else
        {
            start.ArgumentList.Add("--location");
            start.ArgumentList.Add(Location);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited ({process.ExitCode}): {Output}");
            }

            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (waited.Elapsed < TimeSpan.FromSeconds(60))
            {
                Thread.Sleep(50);
            }
        }
    }

    /// <summary>
    /// Stops the process: with SIGTERM Azurite closes its listener and saves its metadata; with SIGKILL it dies at
    /// once and loses what it acknowledged since its last autosave (every 5 s): the emulator is not durable.
    /// </summary>
    public void Stop(bool graceful)
    {
        if (_process is not { } process)
        {
            return;
        }

        if (!process.HasExited)
        {
            if (graceful)
            {
                _ = SendSignal(process.Id, 15);
            }
            else
            {
                process.Kill(entireProcessTree: true);
            }

            if (!process.WaitForExit(30_000))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5_000);
            }
        }

        process.Dispose();
        _process = null;
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public void Dispose()
    {
        Stop(graceful: false);
        if (_ownsLocation)
        {
            try
            {
                Directory.Delete(Location, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int SendSignal(int pid, int signal);
}

/// <summary>Finds tests/node, where the npm packages the tests and benchmarks run are installed.</summary>
internal static class NodePackages
{
    /// <summary>tests/node holding <paramref name="package"/> in its node_modules, above the working directory or the program.</summary>
    public static string Directory(string package, string hint)
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "tests", "node");
                if (System.IO.Directory.Exists(Path.Combine(candidate, "node_modules", package)))
                {
                    return candidate;
                }
            }
        }

        throw new InvalidOperationException($"tests/node/node_modules/{package} not found above {Environment.CurrentDirectory}. {hint}");
    }
}
