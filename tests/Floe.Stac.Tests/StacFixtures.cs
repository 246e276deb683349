using Floe.Ingest;
using Floe.Ingest.Sources;
using Floe.Storage;
using Floe.Store;
using Floe.Tests.Shared;

namespace Floe.Stac.Tests;

/// <summary>Three ERA5-layout days (19 × 36 grid of 10° cells, 24 steps a day from 2021-02-27) written by netCDF4-python and ingested.</summary>
public sealed class StacFixtures : IAsyncLifetime
{
    private string _directory = "";

    public Repository Repository { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _directory = Directory.CreateTempSubdirectory("floe-stac-tests-").FullName;
        var script = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "era5.py"));
        var files = OraclePython.Run(script, Path.Combine(_directory, "era5"), "3", "--start", "2021-02-27", "--small")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Repository = await Repository.CreateAsync(new FileSystemObjectStore(Path.Combine(_directory, "repo")));
        await new Ingestor(Repository, new IngestOptions()).RunAsync(new ListSource(files));
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>A new, not yet existing directory inside the fixture's.</summary>
    public string NewDirectory(string name) => Path.Combine(_directory, name + "-" + Guid.NewGuid().ToString("N")[..8]);
}
