using System.Buffers.Binary;
using System.Text.Json;
using Floe.Api.V1;
using Floe.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;

namespace Floe.Server.Tests.Interop;

/// <summary>
/// Python's grpcio, a gRPC implementation not written here, calling the Floe server through stubs generated from
/// protos/floe/v1 at test time (Interop/floe_client.py). Every case runs against a fresh in-process server; the
/// script checks decoded values against numpy arrays of its own and prints what the assertions here need.
/// </summary>
[Trait("Category", "Interop")]
public sealed class PythonClientTests(PythonStubs python) : IClassFixture<PythonStubs>, IAsyncLifetime
{
    private RunningServer? _server;

    private RunningServer Server => _server ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => _server = await RunningServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is { } server)
        {
            var root = Path.GetFullPath(Path.Combine(server.StoreDirectory, ".."));
            await server.DisposeAsync();
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [Fact]
    public async Task Unary_calls_create_and_list_repositories_and_branches()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-5).ToUnixTimeMilliseconds();
        var result = await python.RunAsync(Server, "unary");
        var after = DateTimeOffset.UtcNow.AddSeconds(5).ToUnixTimeMilliseconds();

        var alpha = result.GetProperty("alpha");
        Assert.Equal("alpha", alpha.GetProperty("name").GetString());
        Assert.Equal(1000, alpha.GetProperty("refs_per_shard").GetInt64());
        Assert.InRange(alpha.GetProperty("created_at_ms").GetInt64(), before, after);
        var beta = result.GetProperty("beta");
        Assert.Equal("beta", beta.GetProperty("name").GetString());
        Assert.Equal(65_536, beta.GetProperty("refs_per_shard").GetInt64());
        AssertStatus(result.GetProperty("again"), "ALREADY_EXISTS", "alpha");

        // ListRepositories lists what the caller may read, and nothing to anonymous callers.
        var list = result.GetProperty("list");
        Assert.Equal(["alpha", "beta"], Strings(list.GetProperty("admin")));
        Assert.Equal(["alpha"], Strings(list.GetProperty("reader")));
        Assert.Equal(["beta"], Strings(list.GetProperty("other")));
        Assert.Empty(Strings(list.GetProperty("anonymous")));

        // A new repository has main at its first snapshot; dev branches from it.
        var branchesBefore = Pairs(result.GetProperty("branches_before"));
        var main = Assert.Single(branchesBefore);
        Assert.Equal("main", main.Name);
        Assert.Matches("^[0-9A-Z]{20}$", main.Snapshot);
        var created = result.GetProperty("created_branch");
        Assert.Equal(["dev", main.Snapshot], Strings(created));
        AssertStatus(result.GetProperty("branch_again"), "ALREADY_EXISTS", "dev");
        Assert.Equal([("dev", main.Snapshot), ("main", main.Snapshot)], Pairs(result.GetProperty("branches_after")));
        var log = result.GetProperty("log_dev").EnumerateArray().ToList();
        Assert.Equal(main.Snapshot, Assert.Single(log).GetProperty("id").GetString());
        Assert.Equal("", log[0].GetProperty("parent").GetString());

        // The C# client and the store on disk see the same thing as the Python client.
        using var client = Server.Client();
        var refs = await client.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "alpha" });
        Assert.Equal([("dev", main.Snapshot), ("main", main.Snapshot)], refs.Refs.Select(r => (r.Name, r.SnapshotId)).Order().ToList());
        Assert.True(Directory.Exists(Path.Combine(Server.StoreDirectory, "repos", "alpha")));
        Assert.True(Directory.Exists(Path.Combine(Server.StoreDirectory, "repos", "beta")));
    }

    [Fact]
    public async Task Streamed_writes_appends_and_reads_round_trip_values()
    {
        // The virtual chunks' source: a 13-byte header, then chunks (2,0) and (2,1), then the appended chunk (5,1).
        var source = new MemoryStream();
        source.Write("HEADER-BYTES!"u8);
        long[] offsets = [source.Position, source.Position + 24, source.Position + 48];
        foreach (var (cy, cx) in new[] { (2, 0), (2, 1), (5, 1) })
        {
            source.Write(ChunkBytes(cy, cx));
        }

        var sourcePath = Server.WriteSource("t.bin", source.ToArray());
        var result = await python.RunAsync(Server, "write", new Dictionary<string, object?> { ["source"] = sourcePath, ["offsets"] = offsets });

        // WriteChanges: 2 + 1 + 3 changes in three messages, 4 + 2 + 3 chunk changes pending.
        Assert.Equal([6, 9], Longs(result.GetProperty("applied")));
        var commit = result.GetProperty("commit");
        var commitId = commit.GetProperty("id").GetString()!;
        Assert.Matches("^[0-9A-Z]{20}$", commitId);
        Assert.Equal(result.GetProperty("session").GetProperty("base").GetString(), commit.GetProperty("parent").GetString());
        Assert.Equal("main", commit.GetProperty("branch").GetString());
        AssertStatus(result.GetProperty("commit_again"), "NOT_FOUND", "session_id");

        // GetArrayMetadata (with and without the leading slash).
        var meta = result.GetProperty("meta_t");
        Assert.Equal(commitId, meta.GetProperty("snapshot").GetString());
        Assert.Equal("/grid/t", meta.GetProperty("path").GetString());
        Assert.Equal("float32", meta.GetProperty("data_type").GetString());
        Assert.Equal([8, 6], Longs(meta.GetProperty("shape")));
        Assert.Equal([2, 3], Longs(meta.GetProperty("chunk_shape")));
        Assert.Equal(["y", "x"], Strings(meta.GetProperty("dims")));
        Assert.Equal(6, meta.GetProperty("refs").GetInt64());
        Assert.Equal("K", meta.GetProperty("zarr").GetProperty("attributes").GetProperty("units").GetString());
        Assert.Equal(-9999.0, meta.GetProperty("zarr").GetProperty("fill_value").GetDouble());
        Assert.Equal([5], Longs(result.GetProperty("meta_n").GetProperty("shape")));
        Assert.Equal("int16", result.GetProperty("meta_n").GetProperty("data_type").GetString());
        Assert.Equal(3, result.GetProperty("meta_n").GetProperty("refs").GetInt64());

        // ReadRegion: values equal numpy's, every element in exactly one piece, pieces cut at piece_bytes (16 bytes =
        // 4 float32 values, so pieces cross the chunk boundary at column 3), all from the commit's snapshot.
        var full = result.GetProperty("region_full");
        Assert.True(full.GetProperty("equal").GetBoolean(), full.ToString());
        Assert.True(full.GetProperty("tiled").GetBoolean());
        var pieces = full.GetProperty("pieces").EnumerateArray().ToList();
        Assert.Equal(16, pieces.Count);
        Assert.All(pieces, p =>
        {
            Assert.InRange(p.GetProperty("n").GetInt32(), 1, 4);
            Assert.Equal(commitId, p.GetProperty("snapshot").GetString());
            Assert.Equal("float32", p.GetProperty("data_type").GetString());
            Assert.Equal("float32", p.GetProperty("kind").GetString());
        });
        Assert.Equal([0, 0], Longs(pieces[0].GetProperty("start")));
        Assert.Equal([1, 4], Longs(pieces[0].GetProperty("count")));
        Assert.Equal([0, 4], Longs(pieces[1].GetProperty("start")));
        Assert.Equal([1, 2], Longs(pieces[1].GetProperty("count")));
        var offset = result.GetProperty("region_offset");
        Assert.True(offset.GetProperty("equal").GetBoolean(), offset.ToString());
        Assert.True(offset.GetProperty("tiled").GetBoolean());
        Assert.Equal(2, offset.GetProperty("pieces").GetArrayLength());
        var ints = result.GetProperty("region_ints");
        Assert.Equal([-32768, -1, 0, 1, 32767], Longs(ints.GetProperty("values")));
        Assert.Equal("int32", Assert.Single(ints.GetProperty("pieces").EnumerateArray()).GetProperty("kind").GetString());

        // ReadChunks: in the order asked; a virtual chunk's stored bytes are the source file's bytes at its offset.
        var chunks = result.GetProperty("chunks").EnumerateArray().ToList();
        Assert.Equal(["CHUNK_KIND_VIRTUAL", "CHUNK_KIND_VIRTUAL", "CHUNK_KIND_MISSING"], chunks.Take(3).Select(c => c.GetProperty("kind").GetString()!).ToArray());
        // Decoded data is stored by the server: natively, or inside the manifest when it encodes this small (24 bytes).
        Assert.Contains(chunks[3].GetProperty("kind").GetString(), new[] { "CHUNK_KIND_NATIVE", "CHUNK_KIND_INLINE" });
        Assert.Equal([[2, 0], [2, 1], [3, 1], [0, 1]], chunks.Select(c => Longs(c.GetProperty("coords"))).ToArray());
        var fileBytes = await File.ReadAllBytesAsync(sourcePath);
        Assert.Equal(Convert.ToHexStringLower(fileBytes.AsSpan((int)offsets[0], 24)), chunks[0].GetProperty("hex").GetString());
        Assert.Equal(Convert.ToHexStringLower(fileBytes.AsSpan((int)offsets[1], 24)), chunks[1].GetProperty("hex").GetString());
        Assert.Equal("", chunks[2].GetProperty("hex").GetString());
        Assert.Equal(Convert.ToHexStringLower(ChunkBytes(0, 1)), chunks[3].GetProperty("hex").GetString());
        Assert.Equal("bytes", chunks[0].GetProperty("codecs")[0].GetProperty("name").GetString());
        var check = result.GetProperty("chunks_check");
        Assert.Equal([true, true], check.GetProperty("virtual_equals_source").EnumerateArray().Select(b => b.GetBoolean()).ToArray());
        Assert.Equal([true, true], check.GetProperty("virtual_equals_numpy").EnumerateArray().Select(b => b.GetBoolean()).ToArray());
        Assert.True(check.GetProperty("native_equals_numpy").GetBoolean());

        // Append: one commit on top of the write that grows y from 8 to 12 with two chunk rows (one chunk virtual).
        var append = result.GetProperty("append");
        var appendId = append.GetProperty("id").GetString()!;
        Assert.Equal(commitId, append.GetProperty("parent").GetString());
        Assert.Equal("main", append.GetProperty("branch").GetString());
        var appended = result.GetProperty("meta_t_appended");
        Assert.Equal([12, 6], Longs(appended.GetProperty("shape")));
        Assert.Equal(10, appended.GetProperty("refs").GetInt64());
        Assert.Equal(appendId, appended.GetProperty("snapshot").GetString());
        var region = result.GetProperty("region_appended");
        Assert.True(region.GetProperty("equal").GetBoolean(), region.ToString());
        Assert.True(region.GetProperty("tiled").GetBoolean());
        Assert.All(region.GetProperty("pieces").EnumerateArray(), p => Assert.Equal(appendId, p.GetProperty("snapshot").GetString()));
        Assert.True(result.GetProperty("region_before_append").GetProperty("equal").GetBoolean());

        // Log: newest first, linked by parent ids, with messages and metadata; limit and a snapshot id as reference.
        var log = result.GetProperty("log").EnumerateArray().ToList();
        Assert.Equal(3, log.Count);
        Assert.Equal([appendId, commitId], log.Take(2).Select(s => s.GetProperty("id").GetString()!).ToArray());
        Assert.Equal(commitId, log[0].GetProperty("parent").GetString());
        Assert.Equal(log[2].GetProperty("id").GetString(), log[1].GetProperty("parent").GetString());
        Assert.Equal("", log[2].GetProperty("parent").GetString());
        Assert.Equal("append rows", log[0].GetProperty("message").GetString());
        Assert.Equal("8-11", log[0].GetProperty("metadata").GetProperty("rows").GetString());
        Assert.Equal("python write", log[1].GetProperty("message").GetString());
        Assert.Equal("grpcio", log[1].GetProperty("metadata").GetProperty("client").GetString());
        Assert.True(log[0].GetProperty("ms").GetInt64() >= log[1].GetProperty("ms").GetInt64());
        Assert.Equal(appendId, Assert.Single(result.GetProperty("log_limit1").EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal([commitId, log[2].GetProperty("id").GetString()!], result.GetProperty("log_from_commit").EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToArray());

        // The C# client agrees: main is at the append, and the appended virtual chunk holds the file's bytes.
        using var client = Server.Client(RunningServer.ReaderToken);
        var branches = await client.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "alpha" });
        Assert.Equal(appendId, Assert.Single(branches.Refs).SnapshotId);
        var chunk = await client.Repositories.ReadChunkAsync(new ReadChunkRequest { Repository = "alpha", Path = "/grid/t", Coords = { 5, 1 } });
        Assert.Equal(ChunkKind.Virtual, chunk.Kind);
        Assert.Equal(fileBytes.AsSpan((int)offsets[2], 24).ToArray(), chunk.Data.ToByteArray());
    }

    [Fact]
    public async Task A_call_past_its_deadline_ends_with_DEADLINE_EXCEEDED_in_python()
    {
        using (var client = Server.Client())
        {
            await client.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "alpha" });
        }

        // An ingestion whose only file is a FIFO: the job blocks opening it, so WatchIngestion never ends by itself.
        var fifo = Path.GetFullPath(Path.Combine(Server.SourceDirectory, "blocked.nc"));
        JsonElement result;
        try
        {
            result = await python.RunAsync(Server, "deadline", new Dictionary<string, object?> { ["fifo"] = fifo });
        }
        finally
        {
            await UnblockAsync(fifo);
        }

        Assert.Equal("INGESTION_STATE_RUNNING", result.GetProperty("started").GetProperty("state").GetString());
        Assert.StartsWith("ingest-", result.GetProperty("started").GetProperty("job").GetString(), StringComparison.Ordinal);
        var watch = result.GetProperty("watch");
        Assert.Equal("DEADLINE_EXCEEDED", watch.GetProperty("code").GetString());
        // Whatever arrived before the deadline said the job was running.
        Assert.All(result.GetProperty("watch_received").EnumerateArray(), s => Assert.Equal("INGESTION_STATE_RUNNING", s.GetString()));
        Assert.Equal("INGESTION_STATE_RUNNING", result.GetProperty("after_deadline").GetString());
        Assert.True(result.GetProperty("unblocked").GetBoolean(), result.ToString());
        var final = result.GetProperty("final");
        // Cancelled while blocked in open(): once the FIFO opens, the job ends without committing anything. (It ends
        // FAILED rather than CANCELLED when reading the FIFO fails before the job sees its cancellation.)
        Assert.Contains(final.GetProperty("state").GetString(), new[] { "INGESTION_STATE_CANCELLED", "INGESTION_STATE_FAILED" });
        Assert.Equal(0, final.GetProperty("commits").GetInt32());

        using var reader = Server.Client();
        var log = new List<SnapshotInfo>();
        using var call = reader.Repositories.Log(new LogRequest { Repository = "alpha" });
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            log.Add(call.ResponseStream.Current);
        }

        Assert.Single(log);
    }

    [Fact]
    public async Task Errors_arrive_in_python_with_the_documented_status_codes()
    {
        var result = await python.RunAsync(Server, "errors");

        AssertStatus(result.GetProperty("unknown_repository"), "NOT_FOUND", "nosuch");
        AssertStatus(result.GetProperty("unknown_repository_log"), "NOT_FOUND", "nosuch");
        AssertStatus(result.GetProperty("unknown_array"), "NOT_FOUND", "missing");
        AssertStatus(result.GetProperty("unknown_branch"), "NOT_FOUND", "nosuch");

        AssertStatus(result.GetProperty("bad_name"), "INVALID_ARGUMENT", "repository: ");
        AssertStatus(result.GetProperty("region_rank"), "INVALID_ARGUMENT", "start: ");
        AssertStatus(result.GetProperty("bad_zarr"), "INVALID_ARGUMENT", "changes[1].create_array.zarr_json: ");

        AssertStatus(result.GetProperty("no_token_create"), "UNAUTHENTICATED");
        AssertStatus(result.GetProperty("no_token_session"), "UNAUTHENTICATED");
        AssertStatus(result.GetProperty("unknown_token"), "UNAUTHENTICATED");
        // The token never appears in what the server answers.
        Assert.DoesNotContain("floe_not_a_token", result.GetProperty("unknown_token").GetProperty("details").GetString(), StringComparison.Ordinal);
        AssertStatus(result.GetProperty("reader_session"), "PERMISSION_DENIED", "reader");
        AssertStatus(result.GetProperty("reader_branch"), "PERMISSION_DENIED");
        AssertStatus(result.GetProperty("reader_tag"), "PERMISSION_DENIED");
        AssertStatus(result.GetProperty("reader_append"), "PERMISSION_DENIED");
        AssertStatus(result.GetProperty("other_reset"), "PERMISSION_DENIED", "other");
        AssertStatus(result.GetProperty("reader_write_changes"), "PERMISSION_DENIED");
        AssertStatus(result.GetProperty("reader_commit"), "PERMISSION_DENIED");
        AssertStatus(result.GetProperty("reader_read"), "OK");
        AssertStatus(result.GetProperty("reader_may_not_read_beta"), "PERMISSION_DENIED");
        // The reader's refused write left nothing in the admin's session either.
        AssertStatus(result.GetProperty("admin_session_commit_empty"), "FAILED_PRECONDITION");
        // Refused writes changed nothing: the same branches, tags, history and shape.
        Assert.True(result.GetProperty("unchanged").GetBoolean(), $"{result.GetProperty("before")} != {result.GetProperty("after")}");
        var before = result.GetProperty("before");
        Assert.Equal(2, before.GetProperty("log").GetArrayLength());
        Assert.Equal(result.GetProperty("setup").GetString(), before.GetProperty("log")[0].GetString());
        Assert.Equal([4, 4], Longs(before.GetProperty("shape")));
        Assert.Equal(0, before.GetProperty("tags").GetArrayLength());

        AssertStatus(result.GetProperty("write_outside_grid"), "OUT_OF_RANGE", "changes[0].set_chunks.chunks[1]");
        AssertStatus(result.GetProperty("read_outside_grid"), "OUT_OF_RANGE");
        AssertStatus(result.GetProperty("region_outside"), "OUT_OF_RANGE");
        Assert.Equal(1, result.GetProperty("kept_before_bad").GetInt64());
        AssertStatus(result.GetProperty("abandoned_commit"), "NOT_FOUND", "session_id");

        // Two sessions wrote chunk [1, 0]: the first commit won, the second got ABORTED naming the array and chunk.
        var aborted = result.GetProperty("second_commit");
        AssertStatus(aborted, "ABORTED", "/a");
        var conflicts = aborted.GetProperty("trailing").EnumerateArray()
            .Where(p => p[0].GetString() == Errors.ConflictsTrailer).Select(p => p[1].GetString()!).ToList();
        var conflict = Assert.Single(conflicts);
        Assert.StartsWith("/a: ", conflict, StringComparison.Ordinal);
        Assert.Contains("[1, 0]", conflict, StringComparison.Ordinal);
        AssertStatus(result.GetProperty("second_abandon"), "OK");
        var values = result.GetProperty("after_conflict").EnumerateArray().Select(Longs).ToArray();
        Assert.Equal([[0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0]], values);
        var messages = Strings(result.GetProperty("log_after_conflict"));
        Assert.Equal(3, messages.Length);
        Assert.Equal(["first", "setup"], messages[..2]);
    }

    [Fact]
    public async Task An_export_job_started_and_followed_from_python_writes_the_files_its_manifest_lists()
    {
        var script = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "era5.py"));
        var files = OraclePython.Run(script, Path.Combine(Server.SourceDirectory, "era5"), "2", "--small")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Path.GetFullPath).ToArray();
        var root = Server.Services.GetRequiredService<Grains.ExportOutputs>().Root;

        var result = await python.RunAsync(Server, "export", new Dictionary<string, object?> { ["files"] = files, ["root"] = root });

        Assert.Equal("INGESTION_STATE_SUCCEEDED", result.GetProperty("ingested").GetString());
        Assert.True(result.GetProperty("has_resolution").GetBoolean());
        var started = result.GetProperty("started");
        Assert.Matches("^export-[0-9a-f]{16}$", started.GetProperty("job").GetString());
        Assert.Equal("EXPORT_STATE_RUNNING", started.GetProperty("state").GetString());
        var statuses = result.GetProperty("statuses").EnumerateArray().ToList();
        var final = statuses[^1];
        Assert.True(final.GetProperty("state").GetString() == "EXPORT_STATE_SUCCEEDED", final.ToString());
        Assert.All(statuses[..^1], s => Assert.Equal("EXPORT_STATE_RUNNING", s.GetProperty("state").GetString()));
        var versions = statuses.Select(s => s.GetProperty("version").GetInt64()).ToList();
        Assert.Equal(versions.Order().ToList(), versions);
        Assert.Equal(("alpha", "main", "py/era5"), (final.GetProperty("repository").GetString(), final.GetProperty("reference").GetString(), final.GetProperty("output").GetString()));
        Assert.Equal(["/tp"], Strings(final.GetProperty("arrays")));
        Assert.Equal((2L, 2L, 0L), (final.GetProperty("files_done").GetInt64(), final.GetProperty("files_total").GetInt64(), final.GetProperty("files_skipped").GetInt64()));
        Assert.Equal(2L * 24 * 19 * 36, final.GetProperty("rows").GetInt64());
        Assert.Equal(result.GetProperty("main").GetString(), final.GetProperty("snapshot").GetString());
        // resolution 0, set explicitly, is not the default (1 for this 10° grid).
        Assert.Equal((0, 0), (final.GetProperty("h3_resolution").GetInt32(), result.GetProperty("manifest_resolution").GetInt32()));
        Assert.True(result.GetProperty("get_equals_final").GetBoolean());

        var written = result.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(["date=2020-01-01/tp-20200101T000000Z.parquet", "date=2020-01-02/tp-20200102T000000Z.parquet"], written.Select(f => f.GetProperty("path").GetString()!));
        Assert.All(written, f =>
        {
            Assert.Equal(24 * 19 * 36, f.GetProperty("rows").GetInt64());
            Assert.True(f.GetProperty("size_matches").GetBoolean());
            Assert.True(f.GetProperty("magic").GetBoolean());
        });
        // value_type FLOAT64 made the int16-packed tp a DOUBLE column.
        Assert.Equal("double", result.GetProperty("columns").GetProperty("tp").GetString());

        var again = result.GetProperty("again");
        Assert.Equal(("EXPORT_STATE_SUCCEEDED", started.GetProperty("job").GetString()), (again.GetProperty("state").GetString(), again.GetProperty("job").GetString()));
        Assert.Equal((2L, 0L), (again.GetProperty("files_skipped").GetInt64(), again.GetProperty("rows").GetInt64()));

        AssertStatus(result.GetProperty("dotdot"), "INVALID_ARGUMENT", "output: ");
        AssertStatus(result.GetProperty("absolute"), "INVALID_ARGUMENT", "output: ");
        AssertStatus(result.GetProperty("resolution16"), "INVALID_ARGUMENT", "resolution: ");
        AssertStatus(result.GetProperty("reversed"), "INVALID_ARGUMENT", "end: ");
        AssertStatus(result.GetProperty("reader_start"), "PERMISSION_DENIED");
        AssertStatus(result.GetProperty("reader_cancel"), "PERMISSION_DENIED");
        AssertStatus(result.GetProperty("other_get"), "PERMISSION_DENIED");
        AssertStatus(result.GetProperty("unknown_job"), "NOT_FOUND", "job_id");
    }

    /// <summary>Chunk (cy, cx) of the write case's float32 array, value(r, c) = 10 r + c / 4 - 7, C order, little-endian.</summary>
    private static byte[] ChunkBytes(int cy, int cx)
    {
        var bytes = new byte[2 * 3 * 4];
        for (var r = 0; r < 2; r++)
        {
            for (var c = 0; c < 3; c++)
            {
                var value = (float)((10.0 * ((cy * 2) + r)) + (0.25 * ((cx * 3) + c)) - 7.0);
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(((r * 3) + c) * 4), value);
            }
        }

        return bytes;
    }

    private static void AssertStatus(JsonElement status, string code, string? detail = null)
    {
        Assert.True(status.GetProperty("code").GetString() == code, $"expected {code}, got {status}");
        if (detail is not null)
        {
            Assert.Contains(detail, status.GetProperty("details").GetString(), StringComparison.Ordinal);
        }
    }

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    private static long[] Longs(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt64())];

    private static List<(string Name, string Snapshot)> Pairs(JsonElement array) =>
        [.. array.EnumerateArray().Select(p => (p[0].GetString()!, p[1].GetString()!))];

    /// <summary>
    /// If the server still waits in open() on the FIFO, opens it for writing (non-blocking, so nothing waits when no
    /// reader is left) so that the job can end and the server stop; then removes it.
    /// </summary>
    private static async Task UnblockAsync(string fifo)
    {
        if (!File.Exists(fifo))
        {
            return;
        }

        await Task.Run(() => OraclePython.Run(
            """
            import os, sys
            try:
                fd = os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)
                os.close(fd)
            except OSError:
                pass
            """,
            fifo));
        File.Delete(fifo);
    }
}
