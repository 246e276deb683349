namespace Floe.Storage.Tests;

public sealed class CachingRangeReaderTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Modified = new(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);

    private readonly TestHttpServer _server = new();
    private readonly HttpClient _http = new();
    private readonly HttpSource _source;
    private readonly byte[] _content = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 13)).ToArray();
    private readonly string _url;

    public CachingRangeReaderTests()
    {
        // Single-range GETs only, so each fetch is visible as one request (HttpMultiRangeTests covers the rest).
        _source = new HttpSource(_http) { UseMultipleRanges = false };
        _url = _server.Serve("/f.h5", _content, "\"e1\"", Modified);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private static CachingRangeReaderOptions Small => new() { HeadBytes = 1000, BlockBytes = 500, MergeGapBytes = 600 };

    [Fact]
    public async Task The_first_read_fetches_the_head_and_reads_inside_it_cost_nothing()
    {
        var reader = new CachingRangeReader(_source, _url, Small);

        var a = await reader.ReadAsync(10, 20);
        var b = await reader.ReadAsync(900, 100);

        Assert.Equal(_content.AsSpan(10, 20).ToArray(), a.ToArray());
        Assert.Equal(_content.AsSpan(900, 100).ToArray(), b.ToArray());
        Assert.Equal("GET /f.h5 bytes=0-999", string.Join(",", _server.Requests.Select(r => $"{r.Method} {r.Path} {r.Range}")));
        Assert.Equal(1, reader.RequestCount);
        Assert.Equal(1000, reader.BytesFetched);
        Assert.Equal(new SourceInfo(10_000, "\"e1\"", Modified), reader.Info);
    }

    [Fact]
    public async Task A_miss_fetches_an_aligned_block_and_a_read_across_spans_is_served_whole()
    {
        var reader = new CachingRangeReader(_source, _url, Small);
        await reader.ReadAsync(0, 1);

        var far = await reader.ReadAsync(5_210, 10);
        var across = await reader.ReadAsync(990, 20);

        Assert.Equal(_content.AsSpan(5_210, 10).ToArray(), far.ToArray());
        Assert.Equal(_content.AsSpan(990, 20).ToArray(), across.ToArray());
        Assert.Equal("bytes=0-999,bytes=5000-5499,bytes=1000-1499", string.Join(",", _server.Requests.Select(r => r.Range)));
    }

    [Fact]
    public async Task Prefetch_merges_ranges_closer_than_the_gap_into_one_request()
    {
        var reader = new CachingRangeReader(_source, _url, Small);
        await reader.ReadAsync(0, 1);

        await reader.PrefetchAsync([(3_000, 100), (3_700, 50), (4_100, 20), (9_000, 10), (50, 10)]);
        var before = reader.RequestCount;
        var values = new[] { await reader.ReadAsync(3_050, 30), await reader.ReadAsync(4_110, 10), await reader.ReadAsync(9_005, 5) };

        Assert.Equal(3, before);
        Assert.Equal(before, reader.RequestCount);
        // The two merged ranges go out together, in either order.
        Assert.Equal("bytes=0-999,bytes=3000-4499,bytes=9000-9499", string.Join(",", _server.Requests.Select(r => r.Range).Order(StringComparer.Ordinal)));
        Assert.Equal(2, reader.RoundTrips);
        Assert.Equal(_content.AsSpan(4_110, 10).ToArray(), values[1].ToArray());
    }

    [Fact]
    public async Task A_file_smaller_than_the_head_is_read_whole_and_reads_past_its_end_fail_naming_it()
    {
        var url = _server.Serve("/tiny.h5", [1, 2, 3], "\"t\"", Modified);
        var reader = new CachingRangeReader(_source, url, Small);

        Assert.Equal(3, await reader.GetLengthAsync());
        Assert.Equal(new byte[] { 2, 3 }, (await reader.ReadAsync(1, 2)).ToArray());
        var ex = await Assert.ThrowsAsync<SourceReadException>(() => reader.ReadAsync(2, 5).AsTask());

        Assert.Contains("/tiny.h5", ex.Message, StringComparison.Ordinal);
        Assert.Contains("past the end", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, reader.RequestCount);
    }

    [Fact]
    public async Task Local_files_behave_the_same()
    {
        var path = Path.Combine(Path.GetTempPath(), $"floe-crr-{Guid.NewGuid():N}");
        await File.WriteAllBytesAsync(path, _content);
        try
        {
            var reader = new CachingRangeReader(new LocalFileSource(), path, Small);
            var data = await reader.ReadAsync(7_777, 100);

            Assert.Equal(_content.AsSpan(7_777, 100).ToArray(), data.ToArray());
            Assert.Equal(2, reader.RequestCount);
            Assert.Equal(10_000, reader.Info!.Length);
            await Assert.ThrowsAsync<SourceReadException>(() => reader.ReadAsync(9_990, 11).AsTask());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Read_up_to_clamps_at_the_end_of_the_file_over_http()
    {
        var tail = await _source.ReadUpToAsync(_url, 9_990, 100);
        var atEnd = await _source.ReadUpToAsync(_url, 10_000, 100);

        Assert.Equal(_content.AsSpan(9_990).ToArray(), tail.Data.ToArray());
        Assert.Equal(10_000, tail.Info.Length);
        Assert.Equal(0, atEnd.Data.Length);
        await Assert.ThrowsAsync<SourceReadException>(() => _source.ReadUpToAsync(_url, 10_001, 5).AsTask());
    }

    [Fact]
    public async Task Read_up_to_slices_a_server_that_ignores_range()
    {
        _server.IgnoreRange = true;

        var tail = await _source.ReadUpToAsync(_url, 9_000, 5_000);

        Assert.Equal(_content.AsSpan(9_000).ToArray(), tail.Data.ToArray());
    }
}
