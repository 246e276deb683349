namespace Floe.Storage.Tests;

public sealed class ByteRangeSourcesTests : IAsyncDisposable
{
    private readonly TestHttpServer _server = new();
    private readonly HttpClient _http = new();
    private readonly TempDirectory _dir = new();

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        _dir.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task The_default_registry_reads_local_paths_and_http_urls()
    {
        var sources = ByteRangeSources.CreateDefault(_http);
        var path = _dir.Combine("local.bin");
        await File.WriteAllBytesAsync(path, [1, 2, 3, 4]);
        var url = _server.Serve("/remote.bin", [5, 6, 7, 8], "\"r\"", DateTimeOffset.UnixEpoch);

        Assert.Equal(new byte[] { 2, 3 }, (await sources.ReadAsync(path, 1, 2)).Data.ToArray());
        Assert.Equal(new byte[] { 6, 7 }, (await sources.ReadAsync(url, 1, 2)).Data.ToArray());
        Assert.Equal(4, (await sources.StatAsync("file://" + path)).Length);
        Assert.Collection(sources.Sources, s => Assert.IsType<LocalFileSource>(s), s => Assert.IsType<HttpSource>(s));
    }

    [Theory]
    [InlineData("s3://bucket/key", "scheme \"s3\"")]
    [InlineData("relative/file.nc", "scheme none")]
    public async Task An_unknown_scheme_throws_naming_it(string location, string expected)
    {
        var sources = ByteRangeSources.CreateDefault(_http);

        var ex = await Assert.ThrowsAsync<SourceReadException>(() => sources.ReadAsync(location, 0, 1).AsTask());

        Assert.Contains("no source can read this location", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Equal(location, ex.Location);
        Assert.False(sources.CanRead(location));
    }

    [Fact]
    public async Task An_added_source_serves_its_scheme_and_earlier_sources_win()
    {
        var sources = ByteRangeSources.CreateDefault(_http);
        sources.Add(new FixedSource("mem://", [9, 9, 9]));
        sources.Add(new FixedSource("mem://", [1, 1, 1]));

        var read = await sources.ReadAsync("mem://x", 0, 3);

        Assert.Equal(new byte[] { 9, 9, 9 }, read.Data.ToArray());
        Assert.Equal(4, sources.Sources.Count);
    }

    [Fact]
    public async Task A_default_registry_without_a_client_still_reads_local_files()
    {
        var path = _dir.Combine("f");
        await File.WriteAllBytesAsync(path, [42]);

        var read = await ByteRangeSources.CreateDefault().ReadAsync(path, 0, 1);

        Assert.Equal(42, read.Data.Span[0]);
    }

    private sealed class FixedSource(string scheme, byte[] content) : IByteRangeSource
    {
        public bool CanRead(string location) => location.StartsWith(scheme, StringComparison.Ordinal);

        public ValueTask<SourceInfo> StatAsync(string location, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(new SourceInfo(content.Length, null, null));

        public ValueTask<SourceRead> ReadAsync(string location, long offset, int length, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(new SourceRead(content.AsMemory((int)offset, length), new SourceInfo(content.Length, null, null)));

        public ValueTask<SourceRead> ReadUpToAsync(string location, long offset, int maxLength, CancellationToken cancellationToken = default) =>
            ReadAsync(location, offset, (int)Math.Min(maxLength, content.Length - offset), cancellationToken);
    }
}
