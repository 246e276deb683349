using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Floe.Api.V1;
using Floe.Rpc;
using Floe.Tests.Shared;
using Google.Protobuf;
using Xunit.Abstractions;

namespace Floe.Server.Tests;

/// <summary>Two <c>floe serve</c> processes over one store directory.</summary>
[Trait("Category", "MultiProcess")]
public sealed class MultiProcessCommitTests(ITestOutputHelper output) : MultiProcessCommitTestsBase(output)
{
    protected override (string Store, IReadOnlyDictionary<string, string?> Environment) PrepareStore(string root)
    {
        var store = Path.Combine(root, "store");
        Directory.CreateDirectory(store);
        return (store, new Dictionary<string, string?>());
    }
}

/// <summary>Two <c>floe serve</c> processes over one Azure Blob container (Azurite), each with its own grains and caches.</summary>
[Trait("Category", "MultiProcess")]
public sealed class AzureMultiProcessCommitTests(ITestOutputHelper output) : MultiProcessCommitTestsBase(output), IDisposable
{
    // On disk, so a restart finds the data again.
    private readonly AzuriteServer _azurite = AzuriteServer.Start(inMemory: false);
    private readonly ITestOutputHelper _output = output;

    public void Dispose() => _azurite.Dispose();

    protected override (string Store, IReadOnlyDictionary<string, string?> Environment) PrepareStore(string root) =>
        ("az://floe-multi/servers", new Dictionary<string, string?> { ["Floe__StoreConnectionString"] = _azurite.ConnectionString });

    [Fact]
    public async Task Azurite_stopped_in_the_middle_of_commits_and_restarted_loses_no_acknowledged_commit()
    {
        const int writers = 8;
        const int commitsEach = 12;
        using var guard = new CancellationTokenSource(CallGuard);
        var clients = Addresses.Select(a => new FloeClient(a, Token)).ToArray();
        try
        {
            var setup = await SetUpAsync(clients[0], [writers, commitsEach], guard.Token);
            var acknowledged = new ConcurrentDictionary<string, (int Writer, int Commit)>(StringComparer.Ordinal);
            var failed = new ConcurrentDictionary<(int Writer, int Commit), string>();
            var outage = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

            // Writers commit through both servers while the store goes away under them and comes back.
            var writing = Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < commitsEach; i++)
                {
                    try
                    {
                        var (id, _) = await CommitChunkAsync(clients[w % clients.Length], [w, i], Value(w, i), $"writer {w} commit {i}", guard.Token);
                        acknowledged[id] = (w, i);
                    }
                    catch (RpcException e)
                    {
                        failed[(w, i)] = $"{e.StatusCode}: {e.Status.Detail}";
                    }

                    if (acknowledged.Count >= writers * 2)
                    {
                        outage.TrySetResult();
                    }
                }
            })));
            await outage.Task.WaitAsync(guard.Token);
            _azurite.Stop(graceful: true);
            await Task.Delay(TimeSpan.FromSeconds(3), guard.Token);
            _azurite.Restart();
            await writing;

            _output.WriteLine($"{acknowledged.Count} commits acknowledged, {failed.Count} failed: {string.Join("; ", failed.Values.Take(5))}");
            Assert.Equal(writers * commitsEach, acknowledged.Count + failed.Count);
            // The servers' retries carried the commits through the outage, and said so in their logs.
            var retries = ServerOutputs.Sum(o => o.Split('\n').Count(l => l.Contains("Azure Blob", StringComparison.Ordinal) && l.Contains("retry", StringComparison.Ordinal)));
            _output.WriteLine($"{retries} retries logged");
            Assert.True(retries > 0, "no retry was logged during the outage");
            Assert.Empty(failed);

            foreach (var client in clients)
            {
                // One linear history: the acknowledged commits, each once, and every chunk with its value.
                var log = await LogAsync(client, guard.Token);
                Assert.Equal(setup, log[^2].Id);
                Assert.Equal(acknowledged.Keys.Order(StringComparer.Ordinal), log.SkipLast(2).Select(s => s.Id).Order(StringComparer.Ordinal));
                for (var n = 0; n + 1 < log.Count; n++)
                {
                    Assert.Equal(log[n + 1].Id, log[n].ParentId);
                }

                var values = await ReadAllAsync(client, [writers, commitsEach], guard.Token);
                foreach (var (w, i) in acknowledged.Values)
                {
                    Assert.Equal(Value(w, i), values[(w * commitsEach) + i]);
                }
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }
}

/// <summary>
/// Two real <c>floe serve</c> processes over one store: many clients commit through both at once, and the store's
/// conditional write of the branch decides who goes first, so no acknowledged commit is lost.
/// </summary>
public abstract partial class MultiProcessCommitTestsBase(ITestOutputHelper output) : IAsyncLifetime
{
    protected const string Token = "floe_multi_process_test_token";
    private const string Repository = "multi";
    private const int WritersPerServer = 8;
    private const int CommitsPerWriter = 10;

    // Only guards against a hung process or call; nothing is asserted about how fast anything runs.
    private static readonly TimeSpan StartGuard = TimeSpan.FromMinutes(3);
    protected static readonly TimeSpan CallGuard = TimeSpan.FromMinutes(5);

    private readonly string _root = Directory.CreateTempSubdirectory("floe-multi-process-").FullName;
    private readonly List<ServerProcess> _servers = [];

    /// <summary>The gRPC addresses of the two servers.</summary>
    protected IReadOnlyList<Uri> Addresses => [.. _servers.Select(s => s.Address)];

    /// <summary>What each server printed so far.</summary>
    protected IReadOnlyList<string> ServerOutputs => [.. _servers.Select(s => s.Output)];

    public async Task InitializeAsync()
    {
        var config = Path.Combine(_root, "floe.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Floe = new { Auth = new { Tokens = new[] { new { Name = "writer", Sha256 = AccessPolicy.Hash(Token), Write = new[] { "*" } } } } },
        }));
        var (store, environment) = PrepareStore(_root);
        // Started together: each takes a while to come up, and they need not wait for each other.
        var starting = new[] { ServerProcess.StartAsync(store, environment, config, Path.Combine(_root, "a")), ServerProcess.StartAsync(store, environment, config, Path.Combine(_root, "b")) };
        try
        {
            await Task.WhenAll(starting);
        }
        catch (Exception)
        {
            // Each start either returned a running server or killed its process; kill the ones that started.
            foreach (var started in starting.Where(s => s.IsCompletedSuccessfully))
            {
                started.Result.Dispose();
            }

            DeleteRoot();
            throw;
        }

        _servers.AddRange(starting.Select(s => s.Result));
    }

    /// <summary>The --store value both servers get and the environment that goes with it.</summary>
    protected abstract (string Store, IReadOnlyDictionary<string, string?> Environment) PrepareStore(string root);

    public Task DisposeAsync()
    {
        foreach (var (server, name) in _servers.Zip(["a", "b"]))
        {
            server.Dispose();
            // The servers' logs (one line per call), for a failed run; the tail is enough.
            var log = server.Output;
            output.WriteLine($"--- floe serve {name} ({server.Address}), last lines:\n{log[Math.Max(0, log.Length - 20_000)..]}");
        }

        DeleteRoot();
        return Task.CompletedTask;
    }

    private void DeleteRoot()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Writers_of_distinct_chunks_through_two_processes_all_commit_and_nothing_is_lost()
    {
        using var guard = new CancellationTokenSource(CallGuard);
        var clients = _servers.Select(s => new FloeClient(s.Address, Token)).ToArray();
        try
        {
            var writers = _servers.Count * WritersPerServer;
            var setup = await SetUpAsync(clients[0], [writers, CommitsPerWriter], guard.Token);

            // Writer w (through server w % 2) commits chunk [w, i] holding Value(w, i), ten times, each in its own session.
            var committed = new ConcurrentDictionary<(int Writer, int Commit), string>();
            var rebased = 0;
            await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                var client = clients[w % clients.Length];
                for (var i = 0; i < CommitsPerWriter; i++)
                {
                    var (id, landedOnAnother) = await CommitChunkAsync(client, [w, i], Value(w, i), $"writer {w} commit {i}", guard.Token);
                    Assert.True(committed.TryAdd((w, i), id));
                    if (landedOnAnother)
                    {
                        Interlocked.Increment(ref rebased);
                    }
                }
            })));

            // How much the writers raced: commits that landed on a snapshot other than their session's base.
            output.WriteLine($"{rebased} of {committed.Count} commits were rebased onto a concurrent commit");
            Assert.Equal(writers * CommitsPerWriter, committed.Count);
            Assert.All(committed.Values, id => Assert.Matches("^[0-9A-Z]{20}$", id));
            Assert.Equal(committed.Count, committed.Values.Distinct().Count());

            foreach (var client in clients)
            {
                // One line of history: the repository's first snapshot, the setup, then every acknowledged commit.
                var log = await LogAsync(client, guard.Token);
                Assert.Equal(2 + (writers * CommitsPerWriter), log.Count);
                Assert.Equal(log.Count, log.Select(s => s.Id).Distinct().Count());
                Assert.Equal(setup, log[^2].Id);
                Assert.Equal("", log[^1].ParentId);
                for (var n = 0; n + 1 < log.Count; n++)
                {
                    Assert.Equal(log[n + 1].Id, log[n].ParentId);
                }

                var logged = log.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
                Assert.All(committed.Values, id => Assert.Contains(id, logged));
                // Each snapshot carries the message its writer gave it.
                var messages = log.ToDictionary(s => s.Id, s => s.Message, StringComparer.Ordinal);
                Assert.All(committed, c => Assert.Equal($"writer {c.Key.Writer} commit {c.Key.Commit}", messages[c.Value]));

                // Every chunk reads back with its own value, through either process.
                var values = await ReadAllAsync(client, [writers, CommitsPerWriter], guard.Token);
                for (var w = 0; w < writers; w++)
                {
                    for (var i = 0; i < CommitsPerWriter; i++)
                    {
                        Assert.Equal(Value(w, i), values[(w * CommitsPerWriter) + i]);
                    }
                }

                var info = await client.Repositories.GetArrayMetadataAsync(new ArrayRequest { Repository = Repository, Path = "/v" }, Options(guard.Token));
                Assert.Equal(writers * CommitsPerWriter, info.ChunkRefs);
                Assert.Equal(log[0].Id, info.SnapshotId);
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    [Fact]
    public async Task Writers_of_one_chunk_through_two_processes_commit_or_abort_and_no_acknowledged_commit_is_lost()
    {
        const int writersPerServer = 4;
        const int attempts = 6;
        using var guard = new CancellationTokenSource(CallGuard);
        var clients = _servers.Select(s => new FloeClient(s.Address, Token)).ToArray();
        try
        {
            var writers = _servers.Count * writersPerServer;
            var setup = await SetUpAsync(clients[0], [1, 1], guard.Token);

            // Everyone writes chunk [0, 0], each attempt with a value of its own; a commit either lands or is ABORTED.
            var acknowledged = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
            var aborted = 0;
            await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                var client = clients[w % clients.Length];
                for (var i = 0; i < attempts; i++)
                {
                    try
                    {
                        var (id, _) = await CommitChunkAsync(client, [0, 0], Value(w, i), $"writer {w} attempt {i}", guard.Token);
                        Assert.True(acknowledged.TryAdd(id, Value(w, i)));
                    }
                    catch (RpcException e) when (e.StatusCode == StatusCode.Aborted)
                    {
                        Interlocked.Increment(ref aborted);
                        Assert.Contains("/v", e.Status.Detail, StringComparison.Ordinal);
                    }
                }
            })));

            output.WriteLine($"{acknowledged.Count} commits acknowledged, {aborted} aborted");
            Assert.Equal(writers * attempts, acknowledged.Count + aborted);
            Assert.NotEmpty(acknowledged);
            foreach (var client in clients)
            {
                // The history holds exactly the acknowledged commits on top of the setup: none lost, no stray ones.
                var log = await LogAsync(client, guard.Token);
                Assert.Equal(setup, log[^2].Id);
                Assert.Equal(
                    acknowledged.Keys.Order(StringComparer.Ordinal),
                    log.SkipLast(2).Select(s => s.Id).Order(StringComparer.Ordinal));
                for (var n = 0; n + 1 < log.Count; n++)
                {
                    Assert.Equal(log[n + 1].Id, log[n].ParentId);
                }

                // The chunk holds what the newest commit wrote; each older snapshot holds what its own commit wrote.
                Assert.Equal(acknowledged[log[0].Id], (await ReadAllAsync(client, [1, 1], guard.Token, log[0].Id))[0]);
                Assert.Equal(acknowledged[log[0].Id], (await ReadAllAsync(client, [1, 1], guard.Token))[0]);
                foreach (var snapshot in log.SkipLast(2))
                {
                    Assert.Equal(acknowledged[snapshot.Id], (await ReadAllAsync(client, [1, 1], guard.Token, snapshot.Id))[0]);
                }
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    protected static int Value(int writer, int commit) => ((writer + 1) * 1000) + commit;

    protected static CallOptions Options(CancellationToken cancellationToken) => new(CancellationToken: cancellationToken);

    /// <summary>Creates the repository and an int32 array /v of one-element chunks; returns the setup commit.</summary>
    protected static async Task<string> SetUpAsync(FloeClient client, long[] shape, CancellationToken cancellationToken)
    {
        await client.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = Repository }, Options(cancellationToken));
        var zarr = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["zarr_format"] = 3,
            ["node_type"] = "array",
            ["shape"] = shape,
            ["data_type"] = "int32",
            ["chunk_grid"] = new { name = "regular", configuration = new { chunk_shape = new[] { 1, 1 } } },
            ["chunk_key_encoding"] = new { name = "default", configuration = new { separator = "/" } },
            ["fill_value"] = 0,
            ["codecs"] = new[] { new { name = "bytes", configuration = new { endian = "little" } } },
            ["attributes"] = new { },
        });
        var session = await client.Writes.OpenSessionAsync(new OpenSessionRequest { Repository = Repository }, Options(cancellationToken));
        using (var call = client.Writes.WriteChanges(Options(cancellationToken)))
        {
            await call.RequestStream.WriteAsync(new WriteChangesRequest
            {
                SessionId = session.SessionId,
                Changes = { new Change { CreateArray = new CreateArray { Path = "/v", ZarrJson = zarr } } },
            });
            await call.RequestStream.CompleteAsync();
            await call.ResponseAsync;
        }

        return (await client.Writes.CommitAsync(new CommitRequest { SessionId = session.SessionId, Message = "setup" }, Options(cancellationToken))).SnapshotId;
    }

    /// <summary>
    /// One session on main that writes one chunk and commits; returns the snapshot id and whether it landed on another
    /// snapshot than the session's base (a rebase). An ABORTED session is abandoned.
    /// </summary>
    protected static async Task<(string Id, bool Rebased)> CommitChunkAsync(FloeClient client, long[] coords, int value, string message, CancellationToken cancellationToken)
    {
        var session = await client.Writes.OpenSessionAsync(new OpenSessionRequest { Repository = Repository, Branch = "main" }, Options(cancellationToken));
        using (var call = client.Writes.WriteChanges(Options(cancellationToken)))
        {
            await call.RequestStream.WriteAsync(new WriteChangesRequest
            {
                SessionId = session.SessionId,
                Changes =
                {
                    new Change
                    {
                        SetChunks = new SetChunks
                        {
                            Path = "/v",
                            Chunks = { new ChunkRefEntry { Coords = { coords }, Decoded = ByteString.CopyFrom(BitConverter.GetBytes(value)) } },
                        },
                    },
                },
            });
            await call.RequestStream.CompleteAsync();
            var written = await call.ResponseAsync;
            Assert.Equal(1, written.PendingChunkChanges);
        }

        try
        {
            var committed = await client.Writes.CommitAsync(new CommitRequest { SessionId = session.SessionId, Message = message }, Options(cancellationToken));
            Assert.Equal("main", committed.Branch);
            return (committed.SnapshotId, committed.ParentId != session.BaseSnapshotId);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Aborted)
        {
            await client.Writes.AbandonSessionAsync(new AbandonSessionRequest { SessionId = session.SessionId }, Options(cancellationToken));
            throw;
        }
    }

    protected static async Task<List<SnapshotInfo>> LogAsync(FloeClient client, CancellationToken cancellationToken)
    {
        var log = new List<SnapshotInfo>();
        using var call = client.Repositories.Log(new LogRequest { Repository = Repository }, Options(cancellationToken));
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
            log.Add(call.ResponseStream.Current);
        }

        return log;
    }

    /// <summary>The whole of /v, C order, through ReadRegion.</summary>
    protected static async Task<int[]> ReadAllAsync(FloeClient client, long[] shape, CancellationToken cancellationToken, string reference = "")
    {
        var values = new int[shape[0] * shape[1]];
        var seen = 0;
        var request = new ReadRegionRequest { Repository = Repository, Reference = reference, Path = "/v", Start = { 0, 0 }, Count = { shape } };
        using var call = client.Repositories.ReadRegion(request, Options(cancellationToken));
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
            var piece = call.ResponseStream.Current;
            var offset = (int)((piece.Start[0] * shape[1]) + piece.Start[1]);
            Assert.Equal(shape[1], piece.Count[1]);
            piece.Values.Int32.Values.CopyTo(values, offset);
            seen += piece.Values.Int32.Values.Count;
        }

        Assert.Equal(values.Length, seen);
        return values;
    }

    [GeneratedRegex(@"Floe server: gRPC on (?<grpc>\S+?), HTTP on ")]
    private static partial Regex StartedLine();

    /// <summary>A <c>floe serve</c> process; its output is collected as it runs, and disposing kills it.</summary>
    private sealed class ServerProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly TaskCompletionSource<Uri> _address = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private ServerProcess(Process process)
        {
            _process = process;
        }

        /// <summary>The gRPC address the process printed when it started.</summary>
        public Uri Address => _address.Task.Result;

        /// <summary>Everything the process printed so far (for failure messages).</summary>
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

        /// <summary>Starts floe serve and waits for its "Floe server: gRPC on ..." line; kills it and throws when it does not come.</summary>
        public static async Task<ServerProcess> StartAsync(string store, IReadOnlyDictionary<string, string?> environment, string config, string workingDirectory)
        {
            Directory.CreateDirectory(workingDirectory);
            var start = new ProcessStartInfo(DotnetHost.Path())
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = workingDirectory,
            };
            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }

            foreach (var argument in new[] { FloeDll(), "serve", "--store", store, "--listen", "http://127.0.0.1:0", "--http-listen", "", "--config", config })
            {
                start.ArgumentList.Add(argument);
            }

            ServerProcess server;
            try
            {
                server = new ServerProcess(Process.Start(start)!);
            }
            catch (Win32Exception e)
            {
                throw new InvalidOperationException($"could not start {start.FileName}: {e.Message}", e);
            }

            server._process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
            server._process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
            server._process.BeginOutputReadLine();
            server._process.BeginErrorReadLine();
            var exited = server._process.WaitForExitAsync();
            var first = await Task.WhenAny(server._address.Task, exited, Task.Delay(StartGuard));
            if (first == server._address.Task)
            {
                return server;
            }

            server.Dispose();
            throw new InvalidOperationException(first == exited
                ? $"floe serve exited before it listened:\n{server.Output}"
                : $"floe serve did not print its address within {StartGuard}:\n{server.Output}");
        }

        private void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line);
            }

            if (StartedLine().Match(line) is { Success: true } match)
            {
                _address.TrySetResult(new Uri(match.Groups["grpc"].Value));
            }
        }

        public void Dispose()
        {
            Kill(_process);
            _process.Dispose();
        }

        private static void Kill(Process process)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit();
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }

        /// <summary>floe.dll of the Floe.Cli build in the configuration this test assembly was built in.</summary>
        private static string FloeDll()
        {
            var root = Interop.PythonStubs.FindRepositoryRoot();
            // AppContext.BaseDirectory is .../bin/{Configuration}/{TargetFramework}/.
            var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var configuration = framework.Parent?.Name ?? "Release";
            var candidates = new[] { configuration, "Release", "Debug" }.Distinct()
                .Select(c => Path.Combine(root, "src", "Floe.Cli", "bin", c, framework.Name, "floe.dll")).ToList();
            return candidates.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException($"floe.dll was not built; looked at {string.Join(", ", candidates)}");
        }
    }
}
