using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Floe.Api.V1;
using Floe.Rpc;
using Floe.Server.Grains;
using Floe.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;

namespace Floe.Server.Tests;

/// <summary>ExportService: Parquet export jobs over a small ERA5-layout repository (19 × 36 grid, 24 steps a day).</summary>
public sealed class ExportServiceTests : ApiTestBase
{
    private const long RowsPerDay = 24 * 19 * 36;

    private string ExportRoot => Server.Services.GetRequiredService<ExportOutputs>().Root;

    [Fact]
    public async Task The_hand_written_export_methods_match_the_proto_service()
    {
        Assert.Empty(RpcDescriptorCheck.Mismatches(ExportReflection.Descriptor.Services[0], ExportServiceMethods.All));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task An_export_job_writes_parquet_under_the_export_root_streams_progress_and_is_recorded()
    {
        await IngestEra5Async("alpha", 3);
        var main = (await Admin.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "alpha" })).Refs.Single().SnapshotId;
        var request = Request("alpha", "era5/all");

        var started = await Admin.Exports.StartExportAsync(request);
        var statuses = await ReadAllAsync(Admin.Exports.WatchExport(new ExportRequest { JobId = started.JobId }));

        var final = statuses[^1];
        Assert.True(final.State == ExportState.Succeeded, final.ToString());
        Assert.Equal(ExportGrain.JobId(request), started.JobId);
        Assert.Matches("^export-[0-9a-f]{16}$", started.JobId);
        Assert.Equal(("alpha", "main", "era5/all"), (final.Repository, final.Reference, final.Output));
        Assert.Equal(["/tp"], final.Arrays);
        Assert.Equal((3L, 3L, 0L), (final.FilesDone, final.FilesTotal, final.FilesSkipped));
        Assert.Equal(3 * RowsPerDay, final.Rows);
        Assert.Equal(main, final.SnapshotId);
        // 10° grid cells (about 1.2 million km²) get the coarsest resolution with smaller cells: 1 (610,000 km²).
        Assert.Equal(1, final.H3Resolution);
        Assert.Equal("", final.Error);
        Assert.True(statuses.Select(s => s.Version).SequenceEqual(statuses.Select(s => s.Version).Order()), "versions increase");
        Assert.All(statuses[..^1], s => Assert.Equal(ExportState.Running, s.State));
        Assert.All(statuses, s => Assert.True(s.FilesDone <= s.FilesTotal, s.ToString()));
        // The server's directories never appear in what it answers.
        Assert.All(statuses, s => Assert.DoesNotContain(ExportRoot, s.ToString(), StringComparison.Ordinal));

        // The files are under the repository's folder of the export root, listed by the manifest with their rows.
        var directory = Path.Combine(ExportRoot, "alpha", "era5", "all");
        var manifest = Manifest(directory);
        var files = manifest["files"]!.AsArray().Select(f => f!.AsObject()).ToList();
        Assert.Equal(
            ["date=2020-01-01/tp-20200101T000000Z.parquet", "date=2020-01-02/tp-20200102T000000Z.parquet", "date=2020-01-03/tp-20200103T000000Z.parquet"],
            files.Select(f => f["path"]!.GetValue<string>()));
        Assert.All(files, f => Assert.Equal(RowsPerDay, f["rows"]!.GetValue<long>()));
        Assert.All(files, f => Assert.Equal(main, f["snapshot"]!.GetValue<string>()));
        Assert.Equal(final.Bytes, files.Sum(f => f["bytes"]!.GetValue<long>()));
        Assert.Equal("alpha", manifest["repository"]!.GetValue<string>());
        foreach (var file in files)
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(directory, file["path"]!.GetValue<string>()));
            Assert.Equal(file["bytes"]!.GetValue<long>(), bytes.Length);
            Assert.Equal("PAR1"u8.ToArray(), bytes[..4]);
            Assert.Equal("PAR1"u8.ToArray(), bytes[^4..]);
        }

        // GetExport after the end answers the final status.
        Assert.Equal(final, await Admin.Exports.GetExportAsync(new ExportRequest { JobId = started.JobId }));

        // The same request names the same job; running it again skips the files exported from the same snapshot.
        var written = files.ToDictionary(f => f["path"]!.GetValue<string>(), f => File.GetLastWriteTimeUtc(Path.Combine(directory, f["path"]!.GetValue<string>())));
        var again = await Admin.Exports.StartExportAsync(request);
        Assert.Equal(started.JobId, again.JobId);
        var rerun = (await ReadAllAsync(Admin.Exports.WatchExport(new ExportRequest { JobId = again.JobId })))[^1];
        Assert.True(rerun.State == ExportState.Succeeded, rerun.ToString());
        Assert.Equal((3L, 3L, 3L, 0L), (rerun.FilesDone, rerun.FilesTotal, rerun.FilesSkipped, rerun.Rows));
        Assert.True(rerun.Version > final.Version);
        Assert.All(written, w => Assert.Equal(w.Value, File.GetLastWriteTimeUtc(Path.Combine(directory, w.Key))));

        // The status is grain state in the store: another server on the same store answers for the job.
        await using var second = await RunningServer.StartAsync(storeDirectory: Server.StoreDirectory);
        using var client = second.Client();
        var recorded = await client.Exports.GetExportAsync(new ExportRequest { JobId = started.JobId });
        Assert.Equal((ExportState.Succeeded, "alpha", "era5/all", 3L), (recorded.State, recorded.Repository, recorded.Output, recorded.FilesSkipped));
    }

    [Fact]
    public async Task Time_range_bbox_and_resolution_select_the_rows_exported()
    {
        await IngestEra5Async("alpha", 3);
        var request = Request("alpha", "era5/box");
        request.Start = "2020-01-02";
        request.End = "2020-01-03T00:00:00Z";
        request.Bbox.AddRange([0, 0, 90, 40]);
        request.Resolution = 3;
        request.Compression = "snappy";

        var final = await RunAsync(request);

        Assert.True(final.State == ExportState.Succeeded, final.ToString());
        // Latitudes 0, 10, 20, 30, 40 and longitudes 0, 10, ..., 90 (edges included), 24 hours of one day.
        Assert.Equal((1L, 24L * 5 * 10, 3), (final.FilesTotal, final.Rows, final.H3Resolution));
        var manifest = Manifest(Path.Combine(ExportRoot, "alpha", "era5", "box"));
        var file = Assert.Single(manifest["files"]!.AsArray())!;
        Assert.Equal(("date=2020-01-02/tp-20200102T000000Z.parquet", 1200L), (file["path"]!.GetValue<string>(), file["rows"]!.GetValue<long>()));
        Assert.Equal(3, manifest["h3_resolution"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_running_export_is_returned_on_a_second_start_holds_its_output_and_is_cancelled()
    {
        await IngestEra5Async("alpha", 2);
        // The job blocks reading its output's manifest, a FIFO nobody writes yet, so it stays running until released.
        var directory = Path.Combine(ExportRoot, "alpha", "era5", "held");
        Directory.CreateDirectory(directory);
        var fifo = Path.Combine(directory, "_floe_export.json");
        OraclePython.Run("import os, sys; os.mkfifo(sys.argv[1])", fifo);
        var request = Request("alpha", "era5/held");
        Task? release = null;
        try
        {
            var started = await Admin.Exports.StartExportAsync(request);
            Assert.Equal(ExportState.Running, started.State);

            var again = await Admin.Exports.StartExportAsync(request);
            Assert.Equal((started.JobId, ExportState.Running), (again.JobId, again.State));

            // Another job may not write the same output, nor a directory inside or around it, while this one runs.
            var other = Request("alpha", "era5/held");
            other.Overwrite = true;
            foreach (var conflicting in new[] { other, Request("alpha", "era5/held/inner"), Request("alpha", "era5") })
            {
                var error = await FailsAsync(() => Admin.Exports.StartExportAsync(conflicting));
                Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
                Assert.StartsWith("output: ", error.Status.Detail, StringComparison.Ordinal);
                Assert.Contains(started.JobId, error.Status.Detail, StringComparison.Ordinal);
            }

            // Other repositories have folders of their own: beta's era5/held is another directory.
            await IngestEra5Async("beta", 1);
            var beta = await RunAsync(Request("beta", "era5/held"));
            Assert.True(beta.State == ExportState.Succeeded, beta.ToString());
            Assert.True(File.Exists(Path.Combine(ExportRoot, "beta", "era5", "held", "_floe_export.json")));

            var cancelled = await Admin.Exports.CancelExportAsync(new ExportRequest { JobId = started.JobId });
            Assert.Equal(started.JobId, cancelled.JobId);
            // Release the blocked read: the writer's open returns once the job opens the FIFO, and closing it ends the read.
            release = Task.Run(() => File.OpenHandle(fifo, FileMode.Open, FileAccess.Write, FileShare.ReadWrite).Dispose());
            var final = (await ReadAllAsync(Admin.Exports.WatchExport(new ExportRequest { JobId = started.JobId })))[^1];
            await release;
            Assert.True(final.State == ExportState.Cancelled, final.ToString());
            Assert.Equal(0L, final.FilesDone);

            // The output is free again: the same job starts afresh and completes.
            File.Delete(fifo);
            var rerun = await RunAsync(request);
            Assert.True(rerun.State == ExportState.Succeeded, rerun.ToString());
            Assert.Equal(started.JobId, rerun.JobId);
            Assert.Equal((2L, 2 * RowsPerDay), (rerun.FilesDone, rerun.Rows));
        }
        finally
        {
            if (release is not { IsCompleted: true } && File.Exists(fifo))
            {
                // A test that failed before the release: open the FIFO for reading so a waiting writer returns.
                OraclePython.Run("import os, sys; os.close(os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK))", fifo);
            }
        }
    }

    [Fact]
    public async Task Malformed_requests_are_invalid_arguments_naming_the_field()
    {
        await IngestEra5Async("alpha", 1);
        var cases = new (string Field, Action<StartExportRequest> Change)[]
        {
            ("output", r => r.Output = ""),
            ("output", r => r.Output = "../outside"),
            ("output", r => r.Output = "era5/../../outside"),
            ("output", r => r.Output = "/tmp/outside"),
            ("output", r => r.Output = Path.Combine(ExportRoot, "alpha", "x")),
            ("arrays", r => r.Arrays.Clear()),
            ("start", r => r.Start = "yesterday"),
            ("end", r => (r.Start, r.End) = ("2020-01-02", "2020-01-01")),
            ("end", r => (r.Start, r.End) = ("2020-01-02", "2020-01-02")),
            ("bbox", r => r.Bbox.AddRange([0, 0, 10])),
            ("bbox", r => r.Bbox.AddRange([0, 40, 10, 0])),
            ("bbox", r => r.Bbox.AddRange([0, -100, 10, 0])),
            ("resolution", r => r.Resolution = 16),
            ("resolution", r => r.Resolution = -1),
            ("row_group_rows", r => r.RowGroupRows = -5),
            ("compression", r => r.Compression = "lz4"),
            ("level", r => r.Level = 99),
        };
        foreach (var (field, change) in cases)
        {
            var request = Request("alpha", "era5/bad");
            change(request);
            var error = await FailsAsync(() => Admin.Exports.StartExportAsync(request));
            Assert.True(error.StatusCode == StatusCode.InvalidArgument && error.Status.Detail.StartsWith(field + ": ", StringComparison.Ordinal),
                $"{request}: expected INVALID_ARGUMENT naming {field}, got {error.StatusCode}: {error.Status.Detail}");
            if (!Path.IsPathRooted(request.Output))
            {
                Assert.DoesNotContain(ExportRoot, error.Status.Detail, StringComparison.Ordinal);
            }
        }

        Assert.False(Directory.Exists(Path.Combine(ExportRoot, "alpha", "era5", "bad")));
        Assert.False(Directory.Exists(Path.Combine(ExportRoot, "outside")));

        var noRepository = await FailsAsync(() => Admin.Exports.StartExportAsync(Request("nosuch", "x")));
        Assert.Equal(StatusCode.NotFound, noRepository.StatusCode);
        var badReference = Request("alpha", "x");
        badReference.Reference = "nosuch";
        var noReference = await FailsAsync(() => Admin.Exports.StartExportAsync(badReference));
        Assert.Equal(StatusCode.NotFound, noReference.StatusCode);
        Assert.Contains("nosuch", noReference.Status.Detail, StringComparison.Ordinal);
        var badJob = await FailsAsync(() => Admin.Exports.GetExportAsync(new ExportRequest { JobId = "ingest-0123456789abcdef" }));
        Assert.Equal(StatusCode.InvalidArgument, badJob.StatusCode);
        var unknownJob = await FailsAsync(() => Admin.Exports.GetExportAsync(new ExportRequest { JobId = "export-0123456789abcdef" }));
        Assert.Equal(StatusCode.NotFound, unknownJob.StatusCode);
    }

    [Fact]
    public async Task What_the_exporter_finds_in_the_repository_fails_the_job_with_its_message()
    {
        await IngestEra5Async("alpha", 1);

        var unknownArray = Request("alpha", "era5/missing");
        unknownArray.Arrays[0] = "/nosuch";
        var missing = await RunAsync(unknownArray);
        var outside = Request("alpha", "era5/later");
        outside.Start = "2030-01-01";
        var later = await RunAsync(outside);

        Assert.Equal(ExportState.Failed, missing.State);
        Assert.Equal("arrays /nosuch: no such array in the snapshot", missing.Error);
        Assert.Equal(ExportState.Failed, later.State);
        Assert.Contains("2030-01-01", later.Error, StringComparison.Ordinal);
        Assert.Contains("2020-01-01", later.Error, StringComparison.Ordinal);

        // A directory holding an export made with other options is refused, naming the output and not the server's path.
        Assert.Equal(ExportState.Succeeded, (await RunAsync(Request("alpha", "era5/one"))).State);
        var other = Request("alpha", "era5/one");
        other.Resolution = 2;
        var refused = await RunAsync(other);
        Assert.Equal(ExportState.Failed, refused.State);
        Assert.StartsWith("era5/one holds an export made with other options", refused.Error, StringComparison.Ordinal);
        Assert.Contains("overwrite", refused.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(ExportRoot, refused.Error, StringComparison.Ordinal);
        other.Overwrite = true;
        var replaced = await RunAsync(other);
        Assert.True(replaced.State == ExportState.Succeeded, replaced.ToString());
        Assert.Equal(2, replaced.H3Resolution);
    }

    [Fact]
    public async Task Starting_and_cancelling_need_write_permission_and_reading_a_job_needs_read()
    {
        await IngestEra5Async("alpha", 1);
        using var reader = Server.Client(RunningServer.ReaderToken);
        using var other = Server.Client(RunningServer.OtherToken);
        using var anonymous = Server.Client(token: null);

        var denied = await FailsAsync(() => reader.Exports.StartExportAsync(Request("alpha", "era5")));
        var unauthenticated = await FailsAsync(() => anonymous.Exports.StartExportAsync(Request("alpha", "era5")));
        Assert.Equal((StatusCode.PermissionDenied, StatusCode.Unauthenticated), (denied.StatusCode, unauthenticated.StatusCode));
        Assert.False(Directory.Exists(Path.Combine(ExportRoot, "alpha", "era5")));

        var done = await RunAsync(Request("alpha", "era5"));
        Assert.Equal(ExportState.Succeeded, done.State);
        var job = new ExportRequest { JobId = done.JobId };
        Assert.Equal(done, await reader.Exports.GetExportAsync(job));
        Assert.Equal(done, (await ReadAllAsync(reader.Exports.WatchExport(job)))[^1]);
        Assert.Equal(StatusCode.PermissionDenied, (await FailsAsync(() => reader.Exports.CancelExportAsync(job))).StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, (await FailsAsync(() => other.Exports.GetExportAsync(job))).StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, (await FailsAsync(() => anonymous.Exports.GetExportAsync(job))).StatusCode);
        // Cancelling a finished job changes nothing.
        Assert.Equal(done, await Admin.Exports.CancelExportAsync(job));
    }

    [Fact]
    public async Task Floe_remote_export_starts_a_job_and_prints_its_progress_to_the_end()
    {
        await IngestEra5Async("alpha", 1);

        var (code, output, error) = await FloeAsync("remote", "export", "alpha", "--array", "/tp", "--out", "cli/era5", "--bbox", "0,0,40,20", "--server", Server.Address.ToString());

        Assert.True(code == 0, $"exit {code}: {error}\n{output}");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Matches("^job export-[0-9a-f]{16}: exporting /tp at main to cli/era5$", lines[0]);
        Assert.All(lines[1..^1], l => Assert.StartsWith("running: ", l, StringComparison.Ordinal));
        // Latitudes 0, 10, 20 and longitudes 0..40: 15 grid points, 24 hours.
        Assert.StartsWith("succeeded: 1/1 files, 360 rows, ", lines[^1], StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(ExportRoot, "alpha", "cli", "era5", "_floe_export.json")));

        var (refused, _, message) = await FloeAsync("remote", "export", "alpha", "--array", "/tp", "--out", "../x", "--server", Server.Address.ToString());
        Assert.Equal(1, refused);
        Assert.StartsWith("floe: error: InvalidArgument: output: ", message, StringComparison.Ordinal);
    }

    private static StartExportRequest Request(string repository, string output) => new() { Repository = repository, Output = output, Arrays = { "/tp" } };

    /// <summary>Starts an export and follows it to its end.</summary>
    private async Task<ExportStatus> RunAsync(StartExportRequest request)
    {
        var started = await Admin.Exports.StartExportAsync(request);
        return (await ReadAllAsync(Admin.Exports.WatchExport(new ExportRequest { JobId = started.JobId })))[^1];
    }

    private static JsonObject Manifest(string directory) =>
        JsonNode.Parse(File.ReadAllBytes(Path.Combine(directory, "_floe_export.json")))!.AsObject();

    /// <summary>Runs the floe CLI (the Floe.Cli build beside this test assembly's configuration) with the admin token.</summary>
    private static async Task<(int Code, string Output, string Error)> FloeAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(DotnetHost.Path()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(FloeDll());
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["FLOE_TOKEN"] = RunningServer.AdminToken;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }

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

    /// <summary>Creates a repository and ingests ERA5-layout days (19 × 36, from 2020-01-01) into /tp through the server.</summary>
    private async Task IngestEra5Async(string repository, int days)
    {
        var script = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "era5.py"));
        var output = OraclePython.Run(script, Path.Combine(Server.SourceDirectory, repository), days.ToString(CultureInfo.InvariantCulture), "--small");
        await Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = repository });
        var request = new StartIngestionRequest { Repository = repository };
        request.Files.AddRange(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Path.GetFullPath));
        var started = await Admin.Ingestion.StartIngestionAsync(request);
        var final = (await ReadAllAsync(Admin.Ingestion.WatchIngestion(new IngestionRequest { JobId = started.JobId })))[^1];
        Assert.True(final.State == IngestionState.Succeeded, final.ToString());
    }
}
