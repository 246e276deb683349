using System.Text;
using Floe.Tests.Shared;

namespace Floe.Storage.Tests;

/// <summary>
/// <see cref="HttpSource.ReadManyAsync"/>: several ranges in one GET against nginx (an independent server with
/// multipart/byteranges support), and the fallbacks for servers that ignore, merge or mangle multi-range requests.
/// </summary>
public sealed class HttpMultiRangeTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Modified = new(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);
    private static readonly (long, int)[] FarApart = [(10, 100), (1_500_000, 4096), (2_999_000, 1000)];

    private readonly TempDirectory _directory = new();
    private readonly byte[] _content = new byte[3_000_000];
    private readonly TestHttpServer _server = new();
    private readonly HttpClient _http = new();
    private readonly string _url;

    public HttpMultiRangeTests()
    {
        new Random(42).NextBytes(_content);
        File.WriteAllBytes(_directory.Combine("data.h5"), _content);
        _url = _server.Serve("/data.h5", _content, "\"v1\"", Modified);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task Nginx_answers_far_apart_ranges_in_one_request()
    {
        using var nginx = NginxServer.Start(_directory.Path);
        var source = new HttpSource(_http);

        var read = await source.ReadManyAsync(nginx.UrlOf("data.h5"), FarApart);

        AssertSlices(FarApart, read);
        Assert.Equal(1, read.Requests);
        Assert.Equal(1, source.RequestCount);
        Assert.Equal(_content.Length, read.Info.Length);
        Assert.NotNull(read.Info.Etag);
    }

    [Fact]
    public async Task Nginx_answers_unordered_overlapping_and_many_ranges()
    {
        using var nginx = NginxServer.Start(_directory.Path);
        var source = new HttpSource(_http) { MaxRangesPerRequest = 50 };
        var random = new Random(7);
        (long, int)[] ranges = [(2_000_000, 500), (100, 50), (120, 1000), .. Enumerable.Range(0, 120).Select(_ => ((long)random.Next(0, 2_990_000), random.Next(1, 9000)))];

        var read = await source.ReadManyAsync(nginx.UrlOf("data.h5"), ranges);

        AssertSlices(ranges, read);
        Assert.Equal(3, read.Requests);
    }

    [Fact]
    public async Task Our_test_range_server_answers_like_nginx()
    {
        await using var server = await RangeServer.StartAsync(_directory.Path, CancellationToken.None, multipleRanges: true);
        var source = new HttpSource(_http);

        var read = await source.ReadManyAsync(server.UrlOf("data.h5"), FarApart);

        AssertSlices(FarApart, read);
        Assert.Equal(1, read.Requests);
    }

    [Fact]
    public async Task A_server_that_sends_the_whole_file_instead_is_remembered_and_read_one_range_per_GET()
    {
        var source = new HttpSource(_http);

        var first = await source.ReadManyAsync(_url, FarApart);
        var second = await source.ReadManyAsync(_url, FarApart);

        AssertSlices(FarApart, first);
        AssertSlices(FarApart, second);
        // The first call asks once for all three, gets 200 (dropped unread) and reads each range; later calls skip the ask.
        Assert.Equal(4, first.Requests);
        Assert.Equal(3, second.Requests);
        Assert.Equal(7, source.RequestCount);
        Assert.True(source.BytesReceived < 100_000, $"{source.BytesReceived} bytes received: the whole-file body must not be read");
        Assert.Equal(1, _server.Requests.Count(r => r.Range!.Contains(',', StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_server_that_merges_the_ranges_into_one_part_is_sliced()
    {
        _server.AnswerMultipleRanges = content =>
            ([$"Content-Range: bytes 0-{content.Length - 1}/{content.Length}", "Content-Type: application/octet-stream"], content);
        var source = new HttpSource(_http);

        var read = await source.ReadManyAsync(_url, FarApart);

        AssertSlices(FarApart, read);
        Assert.Equal(1, read.Requests);
    }

    [Fact]
    public async Task Ranges_a_multipart_answer_leaves_out_are_read_separately()
    {
        _server.AnswerMultipleRanges = content => Multipart(content, "b0undary", [(10, 109)]);
        var source = new HttpSource(_http);

        var read = await source.ReadManyAsync(_url, FarApart);

        AssertSlices(FarApart, read);
        Assert.Equal(3, read.Requests);
    }

    [Fact]
    public async Task A_cut_short_multipart_answer_is_an_error_naming_the_file()
    {
        _server.AnswerMultipleRanges = content =>
        {
            var (headers, body) = Multipart(content, "xyz", [(10, 109), (1_500_000, 1_504_095)]);
            return (headers, body.AsSpan(0, body.Length - 3000).ToArray());
        };
        var source = new HttpSource(_http);

        var error = await Assert.ThrowsAsync<SourceReadException>(async () => await source.ReadManyAsync(_url, FarApart));

        Assert.Contains(_url, error.Message, StringComparison.Ordinal);
        Assert.Contains("cut short", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_multipart_answer_without_a_boundary_is_an_error()
    {
        _server.AnswerMultipleRanges = content => (["Content-Type: multipart/byteranges"], content.AsSpan(0, 100).ToArray());
        var source = new HttpSource(_http);

        var error = await Assert.ThrowsAsync<SourceReadException>(async () => await source.ReadManyAsync(_url, FarApart));

        Assert.Contains("no boundary", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_caching_reader_fetches_far_apart_misses_in_one_round_trip()
    {
        using var nginx = NginxServer.Start(_directory.Path);
        var reader = new CachingRangeReader(new HttpSource(_http), nginx.UrlOf("data.h5"));

        await reader.PrefetchAsync(FarApart);
        foreach (var (offset, length) in FarApart)
        {
            Assert.Equal(_content.AsSpan((int)offset, length).ToArray(), (await reader.ReadAsync(offset, length)).ToArray());
        }

        // The head, then one multi-range GET for the two ranges beyond it.
        Assert.Equal(2, reader.RequestCount);
        Assert.Equal(2, reader.RoundTrips);
    }

    [Fact]
    public async Task Without_multi_range_support_the_caching_reader_still_waits_once_for_all_misses()
    {
        var reader = new CachingRangeReader(new HttpSource(_http) { UseMultipleRanges = false }, _url);

        await reader.PrefetchAsync(FarApart);

        Assert.Equal(3, reader.RequestCount);
        Assert.Equal(2, reader.RoundTrips);
        Assert.Equal(_content.AsSpan(2_999_000, 1000).ToArray(), (await reader.ReadAsync(2_999_000, 1000)).ToArray());
        Assert.Equal(3, reader.RequestCount);
    }

    private void AssertSlices(IReadOnlyList<(long Offset, int Length)> ranges, SourceMultiRead read)
    {
        Assert.Equal(ranges.Count, read.Data.Count);
        for (var i = 0; i < ranges.Count; i++)
        {
            var (offset, length) = ranges[i];
            Assert.True(_content.AsSpan((int)offset, length).SequenceEqual(read.Data[i].Span), $"range {i} ({offset}+{length}) differs");
        }
    }

    private static (List<string> Headers, byte[] Body) Multipart(byte[] content, string boundary, (long From, long To)[] parts)
    {
        var body = new MemoryStream();
        foreach (var (from, to) in parts)
        {
            body.Write(Encoding.ASCII.GetBytes($"\r\n--{boundary}\r\nContent-Range: bytes {from}-{to}/{content.Length}\r\n\r\n"));
            body.Write(content, (int)from, (int)(to - from + 1));
        }

        body.Write(Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n"));
        return ([$"Content-Type: multipart/byteranges; boundary=\"{boundary}\""], body.ToArray());
    }
}
