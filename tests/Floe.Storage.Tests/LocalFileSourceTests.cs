namespace Floe.Storage.Tests;

public sealed class LocalFileSourceTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly LocalFileSource _source = new();

    public void Dispose() => _dir.Dispose();

    private string WriteFile(string name, byte[] content)
    {
        var path = _dir.Combine(name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private static byte[] Sequence(int length) => Enumerable.Range(0, length).Select(i => (byte)i).ToArray();

    [Fact]
    public async Task Reads_the_requested_range_of_an_absolute_path()
    {
        var path = WriteFile("data.nc", Sequence(256));

        var read = await _source.ReadAsync(path, 100, 20);

        Assert.Equal(Sequence(256).AsSpan(100, 20).ToArray(), read.Data.ToArray());
        Assert.Equal(256, read.Info.Length);
        Assert.Null(read.Info.Etag);
    }

    [Fact]
    public async Task Reads_a_file_url_with_escaped_characters()
    {
        var path = WriteFile("with space.h5", Sequence(64));
        var url = new Uri(path).AbsoluteUri;
        Assert.Contains("%20", url, StringComparison.Ordinal);

        var read = await _source.ReadAsync(url, 60, 4);

        Assert.Equal(new byte[] { 60, 61, 62, 63 }, read.Data.ToArray());
        Assert.True(_source.CanRead(url));
    }

    [Fact]
    public async Task Stat_reports_length_and_the_utc_modification_time()
    {
        var path = WriteFile("f", Sequence(10));
        var modified = new DateTime(2021, 3, 4, 5, 6, 7, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, modified);

        var info = await _source.StatAsync(path);
        var read = await _source.ReadAsync(path, 0, 1);

        Assert.Equal(new SourceInfo(10, null, new DateTimeOffset(modified)), info);
        Assert.Equal(info, read.Info);
        Assert.Equal(TimeSpan.Zero, info.LastModified!.Value.Offset);
    }

    [Fact]
    public async Task A_range_past_the_end_throws_naming_location_offset_and_length()
    {
        var path = WriteFile("short", Sequence(50));

        var ex = await Assert.ThrowsAsync<SourceReadException>(() => _source.ReadAsync(path, 40, 20).AsTask());

        Assert.IsNotType<SourceNotFoundException>(ex);
        Assert.Equal(path, ex.Location);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("40+20", ex.Message, StringComparison.Ordinal);
        Assert.Contains("50 bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_file_throws_not_found()
    {
        var path = _dir.Combine("nope/missing.nc");

        var read = await Assert.ThrowsAsync<SourceNotFoundException>(() => _source.ReadAsync(path, 0, 1).AsTask());
        var stat = await Assert.ThrowsAsync<SourceNotFoundException>(() => _source.StatAsync("file://" + path).AsTask());

        Assert.Equal(path, read.Location);
        Assert.Equal("file://" + path, stat.Location);
    }

    [Fact]
    public async Task Parallel_reads_of_one_file_each_get_their_own_range()
    {
        var content = Sequence(4096);
        var path = WriteFile("shared", content);

        var reads = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(async () => (i, await _source.ReadAsync(path, i * 64, 64)))));

        foreach (var (i, read) in reads)
        {
            Assert.Equal(content.AsSpan(i * 64, 64).ToArray(), read.Data.ToArray());
        }
    }

    [Theory]
    [InlineData("/abs/path", true)]
    [InlineData("file:///abs/path", true)]
    [InlineData("FILE:///abs/path", true)]
    [InlineData("relative/path", false)]
    [InlineData("http://host/x", false)]
    [InlineData("s3://bucket/x", false)]
    public void CanRead_accepts_absolute_paths_and_file_urls(string location, bool expected) =>
        Assert.Equal(expected, _source.CanRead(location));

    [Fact]
    public async Task A_file_url_of_a_remote_host_is_refused()
    {
        var ex = await Assert.ThrowsAsync<SourceReadException>(() => _source.ReadAsync("file://fileserver/share/x", 0, 1).AsTask());
        Assert.Contains("fileserver", ex.Message, StringComparison.Ordinal);
    }
}
