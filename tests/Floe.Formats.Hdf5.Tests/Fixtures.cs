using System.Text.Json;
using Floe.Storage;
using Floe.Tests.Shared;

namespace Floe.Formats.Hdf5.Tests;

/// <summary>
/// Writes the HDF5 fixtures with h5py once per test run (Fixtures/make_fixtures.py) and loads what h5py reads back
/// from them (expected.json): the independent oracle every test compares against.
/// </summary>
public sealed class FixtureSet : IDisposable
{
    public static readonly string[] Files =
        ["earliest.h5", "latest.h5", "small_latest.h5", "v108.h5", "superblock1.h5", "sizes4_earliest.h5", "sizes4_latest.h5", "userblock.h5", "sohm.h5", "imerg.nc"];

    public FixtureSet()
    {
        Directory = Path.Combine(Path.GetTempPath(), "floe-hdf5-tests-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        var script = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "make_fixtures.py"));
        OraclePython.Run(script, TimeSpan.FromMinutes(5), Directory);
        using var document = JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(Directory, "expected.json")));
        Expected = document.RootElement.Clone();
    }

    public string Directory { get; }

    /// <summary>Per file: superblock, userblock, objects (by path) and links (by group path), as h5py reads them.</summary>
    public JsonElement Expected { get; }

    public string PathOf(string name) => System.IO.Path.Combine(Directory, name);

    public Task<Hdf5File> OpenAsync(string name, CachingRangeReaderOptions? options = null) =>
        Hdf5File.OpenAsync(new LocalFileSource(), PathOf(name), options);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition("hdf5 fixtures")]
public sealed class FixtureCollection : ICollectionFixture<FixtureSet>;

/// <summary>An in-memory byte-range source, for mutated files.</summary>
internal sealed class MemorySource(byte[] content) : IByteRangeSource
{
    private static SourceInfo Info(long length) => new(length, "mem", null);

    public bool CanRead(string location) => true;

    public ValueTask<SourceInfo> StatAsync(string location, CancellationToken cancellationToken = default) => ValueTask.FromResult(Info(content.Length));

    public ValueTask<SourceRead> ReadAsync(string location, long offset, int length, CancellationToken cancellationToken = default)
    {
        if (offset < 0 || offset > content.Length - (long)length)
        {
            throw new SourceReadException(location, $"range {offset}+{length} is past the end ({content.Length} bytes)");
        }

        return ValueTask.FromResult(new SourceRead(content.AsMemory((int)offset, length), Info(content.Length)));
    }

    public ValueTask<SourceRead> ReadUpToAsync(string location, long offset, int maxLength, CancellationToken cancellationToken = default)
    {
        if (offset < 0 || offset > content.Length)
        {
            throw new SourceReadException(location, $"offset {offset} is past the end ({content.Length} bytes)");
        }

        var length = (int)Math.Min(maxLength, content.Length - offset);
        return ValueTask.FromResult(new SourceRead(content.AsMemory((int)offset, length), Info(content.Length)));
    }
}
