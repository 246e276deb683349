using Floe.Api.V1;
using Floe.Grains;
using Floe.Rpc;
using Floe.Server.Grains;
using Floe.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;

namespace Floe.Server.Tests;

public sealed class GrainAndIngestionTests : ApiTestBase
{
    [Fact]
    public async Task Many_concurrent_readers_of_one_shard_cause_one_shard_load()
    {
        await Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "alpha" });
        var chunks = Enumerable.Range(0, 64).Select(i => Decoded([i, i, i, i], i, 0)).ToArray();
        await CommitAsync(Admin, "alpha", "64 chunks",
            new Change { CreateArray = new CreateArray { Path = "/a", ZarrJson = ArrayJson([64, 4], [1, 4]) } },
            SetChunks("/a", chunks));
        var runtime = Server.Services.GetRequiredService<GrainRuntime>();
        var before = runtime.GetCounters<IManifestShardGrain>().CreatedActivations;

        var reads = await Task.WhenAll(Enumerable.Range(0, 64).Select(i =>
            Admin.Repositories.ReadChunkAsync(new ReadChunkRequest { Repository = "alpha", Path = "/a", Coords = { i, 0 } })));

        Assert.Equal(Enumerable.Range(0, 64).Select(i => Floats(i, i, i, i)), reads.Select(r => r.Data.ToByteArray()));
        Assert.Equal(1, runtime.GetCounters<IManifestShardGrain>().CreatedActivations - before);
        Assert.Equal(1, runtime.GetCounters<IManifestShardGrain>().LiveActivations);
    }

    [Fact]
    public async Task An_ingestion_job_runs_on_the_server_streams_progress_and_is_recorded()
    {
        var files = Era5Files(3);
        await Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "alpha" });
        var request = new StartIngestionRequest { Repository = "alpha", CommitEvery = "1" };
        request.Files.AddRange(files);

        var started = await Admin.Ingestion.StartIngestionAsync(request);
        var statuses = await ReadAllAsync(Admin.Ingestion.WatchIngestion(new IngestionRequest { JobId = started.JobId }));

        var final = statuses[^1];
        Assert.Equal(IngestionState.Succeeded, final.State);
        Assert.Equal((3L, 3), (final.FilesDone, final.Commits));
        Assert.True(statuses.Select(s => s.Version).SequenceEqual(statuses.Select(s => s.Version).Order()), "versions increase");
        var tp = await Admin.Repositories.GetArrayMetadataAsync(new ArrayRequest { Repository = "alpha", Path = "/tp" });
        Assert.Equal(72, tp.Shape[0]);
        Assert.Equal(final.LastSnapshotId, (await Admin.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "alpha" })).Refs.Single().SnapshotId);

        // The same request names the same job; running it again finds nothing left to do.
        Assert.Equal(started.JobId, IngestionGrain.JobId(request));
        var again = await Admin.Ingestion.StartIngestionAsync(request);
        var done = (await ReadAllAsync(Admin.Ingestion.WatchIngestion(new IngestionRequest { JobId = again.JobId })))[^1];
        Assert.Equal((IngestionState.Succeeded, 0), (done.State, done.Commits));
        Assert.Equal(72, (await Admin.Repositories.GetArrayMetadataAsync(new ArrayRequest { Repository = "alpha", Path = "/tp" })).Shape[0]);

        // The status is grain state in the store: another server on the same store answers for the job.
        await using var second = await RunningServer.StartAsync(storeDirectory: Server.StoreDirectory);
        using var client = second.Client();
        var recorded = await client.Ingestion.GetIngestionAsync(new IngestionRequest { JobId = started.JobId });
        Assert.Equal((IngestionState.Succeeded, "alpha"), (recorded.State, recorded.Repository));
    }

    [Fact]
    public async Task Ingestion_sources_outside_the_allowed_locations_are_refused()
    {
        await Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "alpha" });
        var request = new StartIngestionRequest { Repository = "alpha", Glob = "/etc/*.conf" };

        var error = await FailsAsync(() => Admin.Ingestion.StartIngestionAsync(request));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.StartsWith("glob:", error.Status.Detail, StringComparison.Ordinal);
        var none = await FailsAsync(() => Admin.Ingestion.StartIngestionAsync(new StartIngestionRequest { Repository = "alpha" }));
        Assert.Equal(StatusCode.InvalidArgument, none.StatusCode);
        var unknown = await FailsAsync(() => Admin.Ingestion.GetIngestionAsync(new IngestionRequest { JobId = "ingest-0123456789abcdef" }));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    private List<string> Era5Files(int days)
    {
        var script = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "era5.py"));
        var output = OraclePython.Run(script, Path.Combine(Server.SourceDirectory, "era5"), days.ToString(System.Globalization.CultureInfo.InvariantCulture), "--small");
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Path.GetFullPath)];
    }
}
