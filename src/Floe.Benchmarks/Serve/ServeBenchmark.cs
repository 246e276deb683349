using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Floe.Api.V1;
using Floe.Core;
using Floe.Server;
using Floe.Storage;
using Floe.Store;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using StoreRepository = Floe.Store.Repository;

namespace Floe.Benchmarks.Serve;

/// <summary>
/// `floe bench serve`: a Floe server in this process on 127.0.0.1 (port chosen by the system), read by FloeClient over
/// loopback HTTP/2 (h2c), one connection per client. The data is an IMERG-like float32 array in (1, 145, 1800)
/// chunks of 1,044,000 bytes, written through the WriteService twice: as virtual references into local source
/// files (one file per time step, chunks at known offsets after a header) and as decoded data the server stores
/// natively. Load is bounded: a fixed time per cell, loopback only, medians of repeated rounds. Cells:
/// ReadChunk with 1, 16 and 64 concurrent clients (reads/s, MB/s, p50/p99 latency) beside the peer, the same byte
/// ranges read straight from the files at the same concurrency (the source files for virtual chunks, the store's
/// chunk objects for native ones); ReadChunks streaming; ReadRegion decoded-region throughput beside a direct read
/// and assembly of the same region; and a breakdown (the store's own fetch path without RPC). Figures: Serve/RESULTS.md.
/// </summary>
/// <param name="chunks">Chunks per array (rounded up to whole time steps of 25 chunks).</param>
/// <param name="seconds">Length of each measured cell.</param>
/// <param name="rounds">Times every cell is measured; medians are quoted.</param>
public sealed class ServeBenchmark(TextWriter output, string workDirectory, int chunks = 400, double seconds = 3, int rounds = 3)
{
    public const string RepositoryName = "bench";
    public const string NativePath = "/Grid/precipitation_native";
    public const string VirtualPath = "/Grid/precipitation";
    public const int Rows = 3600;
    public const int Columns = 1800;
    public const int ChunkRows = 145;
    public const int ChunksPerStep = (Rows + ChunkRows - 1) / ChunkRows;
    public const int ChunkBytes = ChunkRows * Columns * sizeof(float);
    public const int HeaderBytes = 4096;
    public const double TargetRatio = 0.8;
    public static readonly int[] Clients = [1, 16, 64];
    public static readonly int[] RegionClients = [1, 4];
    public static readonly int[] BreakdownClients = [1, 64];
    public static readonly string[] Kinds = ["native", "virtual"];

    private const string Token = "floe_bench_serve_token";
    private const int ChunksPerWriteMessage = 8;
    private const int StreamBatch = ChunksPerStep;

    private readonly int _steps = Math.Max(1, (chunks + ChunksPerStep - 1) / ChunksPerStep);

    public async Task<Dictionary<string, object>> RunAsync(CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(seconds);
        var total = _steps * ChunksPerStep;
        var storeDirectory = Fresh(Path.Combine(workDirectory, "store"));
        var sourceDirectory = Fresh(Path.Combine(workDirectory, "sources"));
        output.WriteLine($"floe bench serve: {total:N0} chunks per array ({_steps} time steps of {ChunksPerStep} chunks of (1, {ChunkRows}, {Columns}) float32, " +
            $"{ChunkBytes:N0} B each), {Report.Mb((long)total * ChunkBytes)} per array; {seconds:0.##} s per cell, {rounds} round(s), " +
            $"{Environment.ProcessorCount} cores, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC, in {workDirectory}");

        var sources = WriteSources(sourceDirectory, cancellationToken);
        var app = FloeServer.Build([], c => c.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Floe:Store"] = storeDirectory,
            ["Floe:Server:Listen"] = "http://127.0.0.1:0",
            ["Floe:Server:HttpListen"] = "",
            ["Floe:Sources:Allowed:0"] = sourceDirectory + "/",
            ["Floe:Auth:Tokens:0:Name"] = "bench",
            ["Floe:Auth:Tokens:0:Sha256"] = AccessPolicy.Hash(Token),
            ["Floe:Auth:Tokens:0:Write:0"] = "*",
            // `floe serve` logs one line per call at Information; here that would be thousands of lines a second.
            ["Logging:LogLevel:Default"] = "Warning",
        }));
        await app.StartAsync(cancellationToken);
        var clients = new List<FloeClient>();
        try
        {
            var options = (FloeOptions?)app.Services.GetService(typeof(FloeOptions)) ?? throw new InvalidOperationException("the server has no options");
            var address = new Uri(FloeServer.ListeningOn(app, options.Server).Split(',')[0].Trim());
            output.WriteLine($"server on {address} (in this process), store {storeDirectory}");
            // One client, one connection: as many separate clients (processes, machines) would be.
            clients.AddRange(Enumerable.Range(0, Clients.Max()).Select(_ => new FloeClient(address, Token)));

            var write = await WriteArraysAsync(clients[0], sources, cancellationToken);
            var layout = await LayoutAsync(storeDirectory, sources, cancellationToken);
            return await MeasureAsync(clients, layout, write, cancellationToken);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }

            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    // ---- data ----

    /// <summary>One source file per time step: a header, then the step's chunks back to back.</summary>
    private List<string> WriteSources(string directory, CancellationToken cancellationToken)
    {
        var files = new List<string>();
        var header = new byte[HeaderBytes];
        Encoding.ASCII.GetBytes("FLOE-BENCH-SERVE source file: chunks follow at 4096 + k * 1044000").CopyTo(header, 0);
        for (var t = 0; t < _steps; t++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = Path.Combine(directory, $"imerg-{t:D4}.bin");
            using (var file = new FileStream(path, FileMode.Create, FileAccess.Write))
            {
                file.Write(header);
                for (var k = 0; k < ChunksPerStep; k++)
                {
                    file.Write(ChunkValues(1, t, k));
                }
            }

            files.Add(path);
        }

        return files;
    }

    /// <summary>
    /// Precipitation-like values: most cells dry (0), the rest a skewed rain rate in mm/h; deterministic per chunk.
    /// </summary>
    private static byte[] ChunkValues(int array, int step, int row)
    {
        var random = new Random((array * 1_000_003) + (step * 1_009) + row);
        var values = new float[ChunkRows * Columns];
        for (var i = 0; i < values.Length; i++)
        {
            var u = random.NextDouble();
            values[i] = u < 0.7 ? 0f : (float)(-Math.Log(1 - ((u - 0.7) / 0.3)) * 1.5);
        }

        return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }

    private sealed record WriteFigures(double VirtualSeconds, double NativeSeconds, double CommitSeconds, long NativeBytes, int Refs, string SnapshotId);

    /// <summary>Creates the repository and both arrays through the WriteService: one session, one commit.</summary>
    private async Task<WriteFigures> WriteArraysAsync(FloeClient client, List<string> sources, CancellationToken cancellationToken)
    {
        await client.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = RepositoryName }, new Rpc.CallOptions(CancellationToken: cancellationToken));
        var session = await client.Writes.OpenSessionAsync(new OpenSessionRequest { Repository = RepositoryName }, new Rpc.CallOptions(CancellationToken: cancellationToken));
        var metadata = ArrayMetadata.Create([_steps, Rows, Columns], DataType.Float32, [1, ChunkRows, Columns]);
        var zarrJson = Encoding.UTF8.GetString(metadata.ToJsonBytes());

        var watch = Stopwatch.StartNew();
        var setVirtual = new SetChunks { Path = VirtualPath };
        for (var t = 0; t < _steps; t++)
        {
            for (var k = 0; k < ChunksPerStep; k++)
            {
                var entry = new ChunkRefEntry { Virtual = new VirtualRef { Location = sources[t], Offset = HeaderBytes + ((long)k * ChunkBytes), Length = ChunkBytes } };
                entry.Coords.AddRange([t, k, 0]);
                setVirtual.Chunks.Add(entry);
            }
        }

        await WriteAsync(client, session.SessionId, cancellationToken,
            new Change { CreateGroup = new CreateGroup { Path = "/Grid", AttributesJson = "{\"title\":\"floe bench serve\"}" } },
            new Change { CreateArray = new CreateArray { Path = VirtualPath, ZarrJson = zarrJson } },
            new Change { CreateArray = new CreateArray { Path = NativePath, ZarrJson = zarrJson } },
            new Change { SetChunks = setVirtual });
        var virtualSeconds = watch.Elapsed.TotalSeconds;

        // Decoded chunks the server encodes and stores natively, a few per message (messages stay under 16 MiB).
        watch.Restart();
        using (var call = client.Writes.WriteChanges(new Rpc.CallOptions(CancellationToken: cancellationToken)))
        {
            var set = new SetChunks { Path = NativePath };
            for (var i = 0; i < _steps * ChunksPerStep; i++)
            {
                var (t, k) = (i / ChunksPerStep, i % ChunksPerStep);
                var entry = new ChunkRefEntry { Decoded = UnsafeByteOperations.UnsafeWrap(ChunkValues(2, t, k)) };
                entry.Coords.AddRange([t, k, 0]);
                set.Chunks.Add(entry);
                if (set.Chunks.Count == ChunksPerWriteMessage || i == (_steps * ChunksPerStep) - 1)
                {
                    var request = new WriteChangesRequest { SessionId = session.SessionId };
                    request.Changes.Add(new Change { SetChunks = set });
                    await call.RequestStream.WriteAsync(request);
                    set = new SetChunks { Path = NativePath };
                }
            }

            await call.RequestStream.CompleteAsync();
            await call.ResponseAsync;
        }

        var nativeSeconds = watch.Elapsed.TotalSeconds;
        watch.Restart();
        var commit = await client.Writes.CommitAsync(new CommitRequest { SessionId = session.SessionId, Message = "bench serve data" }, new Rpc.CallOptions(CancellationToken: cancellationToken));
        var commitSeconds = watch.Elapsed.TotalSeconds;
        var figures = new WriteFigures(virtualSeconds, nativeSeconds, commitSeconds, (long)_steps * ChunksPerStep * ChunkBytes, _steps * ChunksPerStep, commit.SnapshotId);
        output.WriteLine($"written through WriteService: {figures.Refs:N0} virtual refs in {virtualSeconds * 1000:0} ms, {Report.Mb(figures.NativeBytes)} of decoded chunks " +
            $"stored natively in {nativeSeconds:0.00} s ({figures.NativeBytes / 1048576.0 / nativeSeconds:0} MB/s), commit {commitSeconds * 1000:0} ms");
        return figures;
    }

    private static async Task WriteAsync(FloeClient client, string sessionId, CancellationToken cancellationToken, params Change[] changes)
    {
        using var call = client.Writes.WriteChanges(new Rpc.CallOptions(CancellationToken: cancellationToken));
        var request = new WriteChangesRequest { SessionId = sessionId };
        request.Changes.AddRange(changes);
        await call.RequestStream.WriteAsync(request);
        await call.RequestStream.CompleteAsync();
        await call.ResponseAsync;
    }

    /// <summary>Where each chunk's bytes are: a file, an offset, a length; plus the store's references for the breakdown.</summary>
    private sealed record Chunk(long[] Coords, string File, long Offset, int Length, ChunkRef Ref);

    private sealed record Layout(Dictionary<string, Chunk[]> Chunks, StoreRepository Repository);

    /// <summary>
    /// The files behind every chunk, read from the repository the server wrote (native chunks are objects under the
    /// store directory, chunks/ID), and the order in which the clients walk them (shuffled, the same for every cell).
    /// </summary>
    private async Task<Layout> LayoutAsync(string storeDirectory, List<string> sources, CancellationToken cancellationToken)
    {
        var repoDirectory = Path.Combine(storeDirectory, "repos", RepositoryName);
        var repository = await StoreRepository.OpenAsync(new FileSystemObjectStore(repoDirectory), cancellationToken: cancellationToken);
        var reader = await repository.ReadOnlyAsync(StoreRepository.MainBranch, cancellationToken);
        var order = Enumerable.Range(0, _steps * ChunksPerStep).ToArray();
        new Random(7).Shuffle(order);
        var result = new Dictionary<string, Chunk[]>();
        foreach (var kind in Kinds)
        {
            var list = new Chunk[order.Length];
            for (var n = 0; n < order.Length; n++)
            {
                long[] coords = [order[n] / ChunksPerStep, order[n] % ChunksPerStep, 0];
                var chunkRef = await reader.GetChunkRefAsync(kind == "native" ? NativePath : VirtualPath, coords, cancellationToken);
                list[n] = chunkRef switch
                {
                    NativeChunkRef native => new Chunk(coords, Path.Combine(repoDirectory, StoreRepository.ChunkKey(native.Id)), 0, checked((int)native.Length), native),
                    VirtualChunkRef v when kind == "virtual" && v.Location == sources[(int)coords[0]] => new Chunk(coords, v.Location, v.Offset, checked((int)v.Length), v),
                    _ => throw new InvalidOperationException($"{kind} chunk [{string.Join(", ", coords)}] is {chunkRef?.GetType().Name ?? "missing"}"),
                };
                if (new FileInfo(list[n].File).Length < list[n].Offset + list[n].Length)
                {
                    throw new InvalidOperationException($"{list[n].File} is shorter than chunk [{string.Join(", ", coords)}]");
                }
            }

            result[kind] = list;
        }

        return new Layout(result, repository);
    }

    // ---- measuring ----

    /// <summary>One measured cell: what was read in how long, with per-request latencies and the process's CPU time.</summary>
    private sealed record Cell(long Requests, long Reads, long Bytes, double Seconds, double P50Ms, double P99Ms, double CpuSeconds, int Gen2Collections)
    {
        public double ReadsPerSecond => Reads / Seconds;

        public double MbPerSecond => Bytes / 1048576.0 / Seconds;

        public double CpuMsPerMb => Bytes == 0 ? double.NaN : CpuSeconds * 1000 / (Bytes / 1048576.0);
    }

    /// <summary>
    /// Runs <paramref name="clients"/> concurrent loops of <paramref name="operation"/> (given the client's number and a
    /// ticket from a shared counter) for the cell's time; each operation returns the chunks and bytes it read.
    /// </summary>
    private async Task<Cell> RunCellAsync(int clients, Func<int, long, long, Task<(int Reads, long Bytes)>> operation, CancellationToken cancellationToken)
    {
        await SettleAsync(cancellationToken);
        var ticket = -1L;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var gen2 = GC.CollectionCount(2);
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(seconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            var latencies = new List<double>();
            long reads = 0, bytes = 0;
            while (Stopwatch.GetTimestamp() < deadline && !cancellationToken.IsCancellationRequested)
            {
                var begin = Stopwatch.GetTimestamp();
                var (r, b) = await operation(client, Interlocked.Increment(ref ticket), deadline);
                latencies.Add(Stopwatch.GetElapsedTime(begin).TotalMilliseconds);
                reads += r;
                bytes += b;
            }

            return (latencies, reads, bytes);
        }, cancellationToken)).ToArray();
        var results = await Task.WhenAll(workers);
        cancellationToken.ThrowIfCancellationRequested();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        var all = results.SelectMany(r => r.latencies).Order().ToArray();
        return new Cell(all.Length, results.Sum(r => r.reads), results.Sum(r => r.bytes), elapsed, Percentile(all, 0.50), Percentile(all, 0.99), cpuSeconds,
            GC.CollectionCount(2) - gen2);
    }

    /// <summary>
    /// Lets the work of the previous cell drain before the next begins: the server finishes fetches it started for
    /// streams the clients cancelled at the deadline, and a full blocking collection (compacting the large object heap)
    /// leaves every cell the same heap, instead of a background collection of the previous cell's garbage that
    /// throttles this cell's large allocations.
    /// </summary>
    private static async Task SettleAsync(CancellationToken cancellationToken)
    {
        var process = Process.GetCurrentProcess();
        for (var i = 0; i < 50; i++)
        {
            process.Refresh();
            var before = process.TotalProcessorTime;
            await Task.Delay(100, cancellationToken);
            process.Refresh();
            if ((process.TotalProcessorTime - before).TotalMilliseconds < 10)
            {
                break;
            }
        }

        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static async Task<byte[]> ReadDirectAsync(Chunk chunk, CancellationToken cancellationToken)
    {
        using var handle = File.OpenHandle(chunk.File, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        // Not zeroed first, as the server's own reads do not zero theirs.
        var data = GC.AllocateUninitializedArray<byte>(chunk.Length);
        var done = 0;
        while (done < data.Length)
        {
            var n = await RandomAccess.ReadAsync(handle, data.AsMemory(done), chunk.Offset + done, cancellationToken);
            done += n > 0 ? n : throw new IOException($"{chunk.File} ended early");
        }

        return data;
    }

    private static ReadChunkRequest ChunkRequest(string path, long[] coords, string reference = "")
    {
        var request = new ReadChunkRequest { Repository = RepositoryName, Path = path, Reference = reference };
        request.Coords.AddRange(coords);
        return request;
    }

    private static string PathOf(string kind) => kind == "native" ? NativePath : VirtualPath;

    /// <summary>
    /// Reads every chunk once through the server (warming the snapshot and manifest shard grains and all connections)
    /// and checks it against the bytes read straight from the file; then checks one decoded region against the files.
    /// </summary>
    private async Task WarmUpAsync(List<FloeClient> clients, Layout layout, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        foreach (var kind in Kinds)
        {
            var list = layout.Chunks[kind];
            var next = -1;
            await Task.WhenAll(clients.Select(client => Task.Run(async () =>
            {
                int n;
                while ((n = Interlocked.Increment(ref next)) < list.Length)
                {
                    var chunk = list[n];
                    var served = await client.Repositories.ReadChunkAsync(ChunkRequest(PathOf(kind), chunk.Coords), new Rpc.CallOptions(CancellationToken: cancellationToken));
                    var expected = await ReadDirectAsync(chunk, cancellationToken);
                    var kindOk = served.Kind == (kind == "native" ? ChunkKind.Native : ChunkKind.Virtual);
                    if (!kindOk || !served.Data.Span.SequenceEqual(expected))
                    {
                        throw new InvalidOperationException($"the server's {kind} chunk [{string.Join(", ", chunk.Coords)}] differs from the file's bytes");
                    }
                }
            }, cancellationToken)));
        }

        foreach (var kind in Kinds)
        {
            var served = await ReadRegionAsync(clients[0], kind, 0, cancellationToken);
            var direct = await AssembleRegionAsync(layout, kind, 0, cancellationToken);
            if (!served.AsSpan().SequenceEqual(direct))
            {
                throw new InvalidOperationException($"the server's decoded {kind} region differs from the files");
            }
        }

        output.WriteLine($"warm-up: every chunk of both arrays read once through the server and checked against the files, one region each checked ({watch.Elapsed.TotalSeconds:0.0} s)");
    }

    /// <summary>Time step <paramref name="step"/>'s whole (1, 3600, 1800) field, decoded by the server, as floats.</summary>
    private static async Task<float[]> ReadRegionAsync(FloeClient client, string kind, int step, CancellationToken cancellationToken)
    {
        var request = new ReadRegionRequest { Repository = RepositoryName, Path = PathOf(kind) };
        request.Start.AddRange([step, 0, 0]);
        request.Count.AddRange([1, Rows, Columns]);
        var result = new float[Rows * Columns];
        using var call = client.Repositories.ReadRegion(request, new Rpc.CallOptions(CancellationToken: cancellationToken));
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
            var piece = call.ResponseStream.Current;
            var offset = checked((int)(piece.Start[1] * Columns));
            piece.Values.Float32.Values.CopyTo(result, offset);
        }

        return result;
    }

    /// <summary>The peer of a region read: the step's chunks read straight from their files and copied into place.</summary>
    private async Task<float[]> AssembleRegionAsync(Layout layout, string kind, int step, CancellationToken cancellationToken)
    {
        var result = new float[Rows * Columns];
        foreach (var chunk in layout.Chunks[kind].Where(c => c.Coords[0] == step))
        {
            var data = await ReadDirectAsync(chunk, cancellationToken);
            var firstRow = (int)chunk.Coords[1] * ChunkRows;
            var rows = Math.Min(ChunkRows, Rows - firstRow);
            Buffer.BlockCopy(data, 0, result, firstRow * Columns * sizeof(float), rows * Columns * sizeof(float));
        }

        return result;
    }

    private async Task<Dictionary<string, object>> MeasureAsync(List<FloeClient> clients, Layout layout, WriteFigures write, CancellationToken cancellationToken)
    {
        await WarmUpAsync(clients, layout, cancellationToken);
        Chunk[] all = [.. layout.Chunks["native"], .. layout.Chunks["virtual"]];
        await using var tcp = new LoopbackByteServer((n, ct) => ReadDirectAsync(all[n], ct));
        var tcpClients = new List<LoopbackByteServer.Connection>();
        for (var i = 0; i < BreakdownClients.Max(); i++)
        {
            tcpClients.Add(await tcp.ConnectAsync(cancellationToken));
        }

        try
        {
            return await MeasureCellsAsync(clients, tcpClients, layout, write, cancellationToken);
        }
        finally
        {
            foreach (var connection in tcpClients)
            {
                connection.Dispose();
            }
        }
    }

    private async Task<Dictionary<string, object>> MeasureCellsAsync(
        List<FloeClient> clients, List<LoopbackByteServer.Connection> tcpClients, Layout layout, WriteFigures write, CancellationToken cancellationToken)
    {
        var cells = new Dictionary<string, List<Cell>>();
        void Add(string key, Cell cell)
        {
            if (!cells.TryGetValue(key, out var list))
            {
                cells[key] = list = [];
            }

            list.Add(cell);
            output.WriteLine($"  {key}: {cell.Seconds:0.00} s, {cell.Requests:N0} calls, {cell.Reads:N0} chunks, {cell.MbPerSecond:0} MB/s, CPU {cell.CpuSeconds:0.00} s, {cell.Gen2Collections} gen2 GCs");
        }

        for (var round = 1; round <= rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            foreach (var kind in Kinds)
            {
                var list = layout.Chunks[kind];
                var path = PathOf(kind);
                foreach (var c in Clients)
                {
                    // The peer and the server alternate inside a round so that drift of the machine hits both alike.
                    Add($"{kind}/direct/{c}", await RunCellAsync(c, async (_, ticket, _) =>
                    {
                        var data = await ReadDirectAsync(list[ticket % list.Length], cancellationToken);
                        return (1, data.Length);
                    }, cancellationToken));
                    Add($"{kind}/server/{c}", await RunCellAsync(c, async (client, ticket, _) =>
                    {
                        var chunk = list[ticket % list.Length];
                        var data = await clients[client].Repositories.ReadChunkAsync(ChunkRequest(path, chunk.Coords), new Rpc.CallOptions(CancellationToken: cancellationToken));
                        return (1, data.Data.Length);
                    }, cancellationToken));
                    Add($"{kind}/stream/{c}", await RunCellAsync(c, async (client, ticket, deadline) =>
                    {
                        var request = new ReadChunksRequest { Repository = RepositoryName, Path = path };
                        for (var i = 0; i < StreamBatch; i++)
                        {
                            var coords = new ChunkCoords();
                            coords.Values.AddRange(list[((ticket * StreamBatch) + i) % list.Length].Coords);
                            request.Chunks.Add(coords);
                        }

                        int reads = 0;
                        long bytes = 0;
                        using var call = clients[client].Repositories.ReadChunks(request, new Rpc.CallOptions(CancellationToken: cancellationToken));
                        while (await call.ResponseStream.MoveNext(cancellationToken))
                        {
                            reads++;
                            bytes += call.ResponseStream.Current.Data.Length;
                            if (Stopwatch.GetTimestamp() >= deadline)
                            {
                                // The cell's time is up: disposing the call cancels the rest of the stream.
                                break;
                            }
                        }

                        return (reads, bytes);
                    }, cancellationToken));
                }

                foreach (var c in BreakdownClients)
                {
                    // ReadChunk naming the snapshot ("snapshot:ID") instead of branch main: no branch object is read.
                    Add($"{kind}/server-snapshot/{c}", await RunCellAsync(c, async (client, ticket, _) =>
                    {
                        var chunk = list[ticket % list.Length];
                        var request = ChunkRequest(path, chunk.Coords, "snapshot:" + write.SnapshotId);
                        var data = await clients[client].Repositories.ReadChunkAsync(request, new Rpc.CallOptions(CancellationToken: cancellationToken));
                        return (1, data.Data.Length);
                    }, cancellationToken));

                    // The server's own fetch path (store object get, or local source read with its checks) without RPC or grains.
                    Add($"{kind}/store/{c}", await RunCellAsync(c, async (_, ticket, _) =>
                    {
                        var chunk = list[ticket % list.Length];
                        var data = await layout.Repository.FetchChunkAsync(path, chunk.Ref, cancellationToken);
                        return (1, data.Length);
                    }, cancellationToken));

                    // The same bytes over plain loopback TCP: what any server here pays for the socket alone.
                    var offset = kind == "native" ? 0 : layout.Chunks["native"].Length;
                    Add($"{kind}/tcp/{c}", await RunCellAsync(c, async (client, ticket, _) =>
                    {
                        var data = await tcpClients[client].ReadAsync(offset + (int)(ticket % list.Length), cancellationToken);
                        return (1, data.Length);
                    }, cancellationToken));
                }

                foreach (var c in RegionClients)
                {
                    Add($"{kind}/region-direct/{c}", await RunCellAsync(c, async (_, ticket, _) =>
                    {
                        var values = await AssembleRegionAsync(layout, kind, (int)(ticket % _steps), cancellationToken);
                        return (ChunksPerStep, (long)values.Length * sizeof(float));
                    }, cancellationToken));
                    Add($"{kind}/region/{c}", await RunCellAsync(c, async (client, ticket, _) =>
                    {
                        var values = await ReadRegionAsync(clients[client], kind, (int)(ticket % _steps), cancellationToken);
                        return (ChunksPerStep, (long)values.Length * sizeof(float));
                    }, cancellationToken));
                }
            }

            output.WriteLine($"round {round}/{rounds}: {cells.Count} cells in {watch.Elapsed.TotalSeconds:0.0} s");
        }

        return Summarize(cells, layout, write, MessageCost());
    }

    /// <summary>
    /// The message handling one ReadChunk response costs besides the transport, on one thread, in ms per MB: the
    /// server serializing ChunkData into a reused buffer (as it does into the response body) and the client parsing
    /// it from that buffer (the bytes field copied into a new ByteString).
    /// </summary>
    private static double MessageCost()
    {
        var message = new ChunkData { Kind = ChunkKind.Native, CodecsJson = "[{\"name\":\"bytes\"}]", Data = UnsafeByteOperations.UnsafeWrap(new byte[ChunkBytes]) };
        message.Coords.AddRange([0, 0, 0]);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(ChunkBytes + 64);
        const int Iterations = 200;
        var watch = new Stopwatch();
        for (var pass = 0; pass < 2; pass++)
        {
            watch.Restart();
            for (var i = 0; i < Iterations; i++)
            {
                buffer.ResetWrittenCount();
                message.WriteTo(buffer);
                var parsed = ChunkData.Parser.ParseFrom(buffer.WrittenSpan);
                GC.KeepAlive(parsed);
            }
        }

        return watch.Elapsed.TotalMilliseconds / (Iterations * (ChunkBytes / 1048576.0));
    }

    private Dictionary<string, object> Summarize(Dictionary<string, List<Cell>> cells, Layout layout, WriteFigures write, double messageMsPerMb)
    {
        double Med(string key, Func<Cell, double> figure) => Report.Median(cells[key].Select(figure));
        var report = new Report(output);
        var figures = new Dictionary<string, object>
        {
            ["benchmark"] = "serve",
            ["chunks_per_array"] = layout.Chunks["native"].Length,
            ["chunk_bytes"] = ChunkBytes,
            ["chunk_shape"] = new[] { 1, ChunkRows, Columns },
            ["time_steps"] = _steps,
            ["seconds_per_cell"] = seconds,
            ["rounds"] = rounds,
            ["cores"] = Environment.ProcessorCount,
            ["server_gc"] = System.Runtime.GCSettings.IsServerGC,
            ["clients"] = Clients,
            ["target_ratio"] = TargetRatio,
            ["write_virtual_refs_per_s"] = Math.Round(write.Refs / write.VirtualSeconds, 0),
            ["write_native_mb_per_s"] = Math.Round(write.NativeBytes / 1048576.0 / write.NativeSeconds, 1),
            ["write_commit_ms"] = Math.Round(write.CommitSeconds * 1000, 1),
        };

        report.Row("chunks", "clients", "path", "reads/s", "MB/s", "p50", "p99", "server ÷ direct", "CPU ms/MB", "gen2 GCs/s");
        foreach (var kind in Kinds)
        {
            foreach (var c in Clients)
            {
                var direct = $"{kind}/direct/{c}";
                var server = $"{kind}/server/{c}";
                var stream = $"{kind}/stream/{c}";
                var ratio = Med(server, x => x.MbPerSecond) / Med(direct, x => x.MbPerSecond);
                var streamRatio = Med(stream, x => x.MbPerSecond) / Med(direct, x => x.MbPerSecond);
                Row(report, kind, c, "direct from the files", cells[direct], "");
                Row(report, kind, c, "server ReadChunk", cells[server], Report.F(ratio));
                Row(report, kind, c, $"server ReadChunks ({StreamBatch} per call)", cells[stream], Report.F(streamRatio), latency: false);
                var prefix = $"{kind}_c{c}_";
                Figures(figures, prefix + "direct_", cells[direct]);
                Figures(figures, prefix + "server_", cells[server]);
                figures[prefix + "ratio"] = Math.Round(ratio, 3);
                Figures(figures, prefix + "stream_", cells[stream], latency: false);
                figures[prefix + "stream_ratio"] = Math.Round(streamRatio, 3);
            }
        }

        report.PrintTable($"Chunk reads of (1, {ChunkRows}, {Columns}) float32 chunks ({ChunkBytes:N0} B), medians of {rounds} round(s) of {seconds:0.##} s " +
            "(MB = MiB; latency per call; CPU: the whole process, server and clients, per MB read)");

        report.Row("chunks", "clients", "path", "reads/s", "MB/s", "p50", "p99", "÷ direct", "CPU ms/MB", "gen2 GCs/s");
        foreach (var kind in Kinds)
        {
            foreach (var c in BreakdownClients)
            {
                var snapshot = $"{kind}/server-snapshot/{c}";
                var snapshotRatio = Med(snapshot, x => x.MbPerSecond) / Med($"{kind}/direct/{c}", x => x.MbPerSecond);
                Row(report, kind, c, "server ReadChunk of snapshot:ID (no branch read)", cells[snapshot], Report.F(snapshotRatio));
                Figures(figures, $"{kind}_c{c}_snapshot_", cells[snapshot]);
                figures[$"{kind}_c{c}_snapshot_ratio"] = Math.Round(snapshotRatio, 3);
                var store = $"{kind}/store/{c}";
                var ratio = Med(store, x => x.MbPerSecond) / Med($"{kind}/direct/{c}", x => x.MbPerSecond);
                Row(report, kind, c, kind == "native" ? "Repository.FetchChunkAsync (object get)" : "Repository.FetchChunkAsync (source read)", cells[store], Report.F(ratio));
                Figures(figures, $"{kind}_c{c}_store_", cells[store]);
                figures[$"{kind}_c{c}_store_ratio"] = Math.Round(ratio, 3);
                var tcp = $"{kind}/tcp/{c}";
                var tcpRatio = Med(tcp, x => x.MbPerSecond) / Med($"{kind}/direct/{c}", x => x.MbPerSecond);
                Row(report, kind, c, "plain TCP: file read, 4-byte length + bytes, no protocol", cells[tcp], Report.F(tcpRatio));
                Figures(figures, $"{kind}_c{c}_tcp_", cells[tcp]);
                figures[$"{kind}_c{c}_tcp_ratio"] = Math.Round(tcpRatio, 3);
                figures[$"{kind}_c{c}_server_vs_tcp"] = Math.Round(Med($"{kind}/server/{c}", x => x.MbPerSecond) / Med(tcp, x => x.MbPerSecond), 3);
            }
        }

        report.Row("message", "1", "serialize into a buffer + client ParseFrom (one thread)", "", "", "", "", "", Report.F(messageMsPerMb, "0.00"), "");
        figures["message_ms_per_mb"] = Math.Round(messageMsPerMb, 3);
        report.PrintTable("Breakdown: ReadChunk by snapshot id; the server's fetch path in this process without RPC, grains or clients; " +
            "and plain TCP, the ceiling of any network server here (÷ direct; server ÷ TCP in the JSON)");

        report.Row("chunks", "clients", "path", "regions/s", "decoded MB/s", "p50", "p99", "server ÷ direct", "CPU ms/MB", "gen2 GCs/s");
        foreach (var kind in Kinds)
        {
            foreach (var c in RegionClients)
            {
                var direct = $"{kind}/region-direct/{c}";
                var server = $"{kind}/region/{c}";
                var ratio = Med(server, x => x.MbPerSecond) / Med(direct, x => x.MbPerSecond);
                Row(report, kind, c, "direct: read 25 chunks, assemble", cells[direct], "", perRequest: ChunksPerStep);
                Row(report, kind, c, "server ReadRegion (float32 values)", cells[server], Report.F(ratio), perRequest: ChunksPerStep);
                var prefix = $"{kind}_region_c{c}_";
                figures[prefix + "direct_regions_per_s"] = Math.Round(Med(direct, x => x.Requests / x.Seconds), 2);
                figures[prefix + "direct_mb_per_s"] = Math.Round(Med(direct, x => x.MbPerSecond), 1);
                figures[prefix + "server_regions_per_s"] = Math.Round(Med(server, x => x.Requests / x.Seconds), 2);
                figures[prefix + "server_mb_per_s"] = Math.Round(Med(server, x => x.MbPerSecond), 1);
                figures[prefix + "server_p50_ms"] = Math.Round(Med(server, x => x.P50Ms), 2);
                figures[prefix + "server_p99_ms"] = Math.Round(Med(server, x => x.P99Ms), 2);
                figures[prefix + "ratio"] = Math.Round(ratio, 3);
            }
        }

        report.PrintTable($"Decoded regions: one time step's whole (1, {Rows}, {Columns}) field, {Report.Mb((long)Rows * Columns * sizeof(float))} of float32 values per request");

        var top = Clients.Max();
        foreach (var kind in Kinds)
        {
            figures[$"{kind}_target_met"] = (double)figures[$"{kind}_c{top}_ratio"] >= TargetRatio;
        }

        report.Row("target", "native", "virtual");
        report.Row($"server ReadChunk MB/s ≥ {TargetRatio:0.0} × direct at {top} clients",
            $"{Report.F((double)figures[$"native_c{top}_ratio"], "0.000")} {Met((bool)figures["native_target_met"])}",
            $"{Report.F((double)figures[$"virtual_c{top}_ratio"], "0.000")} {Met((bool)figures["virtual_target_met"])}");
        report.PrintTable("The issue's target");
        output.WriteLine();
        report.PrintJson(figures);
        return figures;

        void Row(Report r, string kind, int c, string path, List<Cell> list, string ratio, bool latency = true, int perRequest = 1) => r.Row(kind,
            c.ToString(CultureInfo.InvariantCulture), path, Report.F(Report.Median(list.Select(x => x.ReadsPerSecond / perRequest)), "0.0"),
            Report.F(Report.Median(list.Select(x => x.MbPerSecond)), "0"), latency ? Report.Ms(Report.Median(list.Select(x => x.P50Ms))) : "",
            latency ? Report.Ms(Report.Median(list.Select(x => x.P99Ms))) : "", ratio, Report.F(Report.Median(list.Select(x => x.CpuMsPerMb)), "0.00"),
            Report.F(Report.Median(list.Select(x => x.Gen2Collections / x.Seconds)), "0.0"));
    }

    private static void Figures(Dictionary<string, object> figures, string prefix, List<Cell> list, bool latency = true)
    {
        figures[prefix + "reads_per_s"] = Math.Round(Report.Median(list.Select(x => x.ReadsPerSecond)), 1);
        figures[prefix + "mb_per_s"] = Math.Round(Report.Median(list.Select(x => x.MbPerSecond)), 1);
        if (latency)
        {
            figures[prefix + "p50_ms"] = Math.Round(Report.Median(list.Select(x => x.P50Ms)), 3);
            figures[prefix + "p99_ms"] = Math.Round(Report.Median(list.Select(x => x.P99Ms)), 3);
        }

        figures[prefix + "cpu_ms_per_mb"] = Math.Round(Report.Median(list.Select(x => x.CpuMsPerMb)), 3);
    }

    private static string Met(bool met) => met ? "met" : "NOT met";

    private static string Fresh(string directory)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
        return Path.GetFullPath(directory);
    }
}
