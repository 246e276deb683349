using System.Text.Json;
using Floe.Tests.Shared;

namespace Floe.Server.Tests.Interop;

/// <summary>
/// Python stubs for protos/floe/v1/*.proto, generated at test time by Debian's grpc_tools.protoc into a temporary
/// directory (deleted with the fixture), and the grpcio client script (Interop/floe_client.py) that uses them.
/// </summary>
public sealed class PythonStubs : IDisposable
{
    public PythonStubs()
    {
        RepositoryRoot = FindRepositoryRoot();
        var protos = Path.Combine(RepositoryRoot, "protos");
        var files = Directory.GetFiles(Path.Combine(protos, "floe", "v1"), "*.proto").Order(StringComparer.Ordinal).ToArray();
        Assert.NotEmpty(files);
        StubDirectory = Directory.CreateTempSubdirectory("floe-interop-py-").FullName;
        OraclePython.Run(
            """
            import sys
            from grpc_tools import protoc
            root, out = sys.argv[1], sys.argv[2]
            sys.exit(protoc.main(["protoc", "-I" + root, "--python_out=" + out, "--grpc_python_out=" + out] + sys.argv[3:]))
            """,
            [protos, StubDirectory, .. files]);
        foreach (var name in new[] { "common_pb2.py", "repository_pb2_grpc.py", "write_pb2_grpc.py", "ingestion_pb2_grpc.py", "export_pb2_grpc.py" })
        {
            Assert.True(File.Exists(Path.Combine(StubDirectory, "floe", "v1", name)),
                $"grpc_tools.protoc wrote no floe/v1/{name}; apt-get install -y python3-grpcio python3-grpc-tools");
        }

        Script = File.ReadAllText(Path.Combine(RepositoryRoot, "tests", "Floe.Server.Tests", "Interop", "floe_client.py"));
    }

    /// <summary>The folder holding Orleans.sln, found by walking up from the test assembly.</summary>
    public string RepositoryRoot { get; }

    /// <summary>Where the generated floe/v1/*_pb2.py and *_pb2_grpc.py live.</summary>
    public string StubDirectory { get; }

    public string Script { get; }

    /// <summary>Runs one case of floe_client.py against <paramref name="server"/> and parses the JSON it prints.</summary>
    public Task<JsonElement> RunAsync(RunningServer server, string testCase, IDictionary<string, object?>? arguments = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        var all = new Dictionary<string, object?>
        {
            ["admin"] = RunningServer.AdminToken,
            ["reader"] = RunningServer.ReaderToken,
            ["other"] = RunningServer.OtherToken,
        };
        foreach (var (key, value) in arguments ?? new Dictionary<string, object?>())
        {
            all[key] = value;
        }

        var target = $"{server.Address.Host}:{server.Address.Port}";
        // A thread of its own: the script calls the server that runs in this process.
        return Task.Run(() => OraclePython.RunJson(Script, StubDirectory, target, testCase, JsonSerializer.Serialize(all)));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(StubDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Orleans.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no Orleans.sln above {AppContext.BaseDirectory}");
    }
}
