using Floe.Cli;
using Floe.Storage;
using Floe.Store;

namespace Floe.Cli.Tests;

public sealed class DemoTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "floe-cli-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Demo_leaves_a_repository_with_two_commits_a_tag_and_the_values_it_wrote()
    {
        var output = new StringWriter();
        await DemoCommand.RunAsync(_directory, output, CancellationToken.None);

        Assert.Contains("all equal what was written", output.ToString(), StringComparison.Ordinal);
        var repository = await Repository.OpenAsync(new FileSystemObjectStore(Path.Combine(_directory, "repo")));
        var log = new List<Snapshot>();
        await foreach (var snapshot in repository.LogAsync("main"))
        {
            log.Add(snapshot);
        }

        Assert.Equal(["Append 2 time steps; add virtual pressure", "Initial 4 time steps", "Repository created"], log.Select(s => s.Message));
        Assert.Equal(log[0].Id, await repository.ResolveTagAsync("v1"));
        var reader = await repository.ReadOnlyAsync("v1");
        Assert.Equal([6L, 6, 8], reader.GetArrayMetadata("/weather/temperature").Shape);
        var pressure = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(await reader.ReadRegionAsync("/weather/pressure", [0], [12]));
        Assert.Equal(Enumerable.Range(0, 12).Select(i => 1000.0 + i), pressure.ToArray());
    }

    [Fact]
    public async Task Demo_refuses_to_overwrite_an_existing_repository()
    {
        await DemoCommand.RunAsync(_directory, TextWriter.Null, CancellationToken.None);
        await Assert.ThrowsAsync<RepositoryException>(() => DemoCommand.RunAsync(_directory, TextWriter.Null, CancellationToken.None));
    }
}
