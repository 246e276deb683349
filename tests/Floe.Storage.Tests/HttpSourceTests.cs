using System.Net;

namespace Floe.Storage.Tests;

public sealed class HttpSourceTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Modified = new(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);

    private readonly TestHttpServer _server = new();
    private readonly HttpClient _http = new();
    private readonly HttpSource _source;
    private readonly byte[] _content = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
    private readonly string _url;

    public HttpSourceTests()
    {
        _source = new HttpSource(_http);
        _url = _server.Serve("/archive/data.nc", _content, "\"v1\"", Modified);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Reads_a_middle_range_with_one_ranged_GET()
    {
        var read = await _source.ReadAsync(_url, 100, 50);

        Assert.Equal(_content.AsSpan(100, 50).ToArray(), read.Data.ToArray());
        Assert.Equal(new SourceInfo(1000, "\"v1\"", Modified), read.Info);
        Assert.Equal(("GET", "/archive/data.nc", "bytes=100-149"), Assert.Single(_server.Requests));
        Assert.Equal(1, _source.RequestCount);
        Assert.Equal(50, _source.BytesReceived);
    }

    [Fact]
    public async Task Stat_uses_HEAD_for_length_etag_and_last_modified()
    {
        var info = await _source.StatAsync(_url);

        Assert.Equal(new SourceInfo(1000, "\"v1\"", Modified), info);
        Assert.Equal(("HEAD", "/archive/data.nc", (string?)null), Assert.Single(_server.Requests));
        Assert.Equal(0, _source.BytesReceived);
    }

    [Fact]
    public async Task Stat_falls_back_to_a_one_byte_GET_when_HEAD_is_refused()
    {
        _server.RefuseHead = true;

        var info = await _source.StatAsync(_url);

        Assert.Equal(new SourceInfo(1000, "\"v1\"", Modified), info);
        Assert.Equal(["HEAD", "GET bytes=0-0"], _server.Requests.Select(r => r.Range is null ? r.Method : $"{r.Method} {r.Range}"));
        Assert.Equal(2, _source.RequestCount);
    }

    [Fact]
    public async Task A_missing_file_throws_not_found()
    {
        var missing = _server.BaseUrl + "/archive/missing.nc";

        var read = await Assert.ThrowsAsync<SourceNotFoundException>(() => _source.ReadAsync(missing, 0, 10).AsTask());
        var stat = await Assert.ThrowsAsync<SourceNotFoundException>(() => _source.StatAsync(missing).AsTask());

        Assert.Equal(missing, read.Location);
        Assert.Equal(missing, stat.Location);
    }

    [Fact]
    public async Task A_server_error_throws_with_the_status_code()
    {
        _server.FailWith = HttpStatusCode.ServiceUnavailable;

        var ex = await Assert.ThrowsAsync<SourceReadException>(() => _source.ReadAsync(_url, 0, 10).AsTask());

        Assert.IsNotType<SourceNotFoundException>(ex);
        Assert.Contains("HTTP 503", ex.Message, StringComparison.Ordinal);
        Assert.StartsWith(_url, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(990, 20)]
    [InlineData(1000, 1)]
    [InlineData(5000, 10)]
    public async Task A_range_past_the_end_throws_with_the_file_size(long offset, int length)
    {
        var ex = await Assert.ThrowsAsync<SourceReadException>(() => _source.ReadAsync(_url, offset, length).AsTask());

        Assert.Contains($"range {offset}+{length} is past the end of the file (1000 bytes)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_ignoring_Range_is_sliced_reading_only_up_to_the_range_end()
    {
        _server.IgnoreRange = true;

        var read = await _source.ReadAsync(_url, 300, 25);

        Assert.Equal(_content.AsSpan(300, 25).ToArray(), read.Data.ToArray());
        Assert.Equal(new SourceInfo(1000, "\"v1\"", Modified), read.Info);
        Assert.Equal(325, _source.BytesReceived);
    }

    [Fact]
    public async Task A_server_ignoring_Range_is_refused_beyond_the_configured_limit()
    {
        _server.IgnoreRange = true;
        var limited = new HttpSource(_http) { MaxIgnoredRangeBytes = 100 };

        var ex = await Assert.ThrowsAsync<SourceReadException>(() => limited.ReadAsync(_url, 300, 25).AsTask());

        Assert.Contains("ignored Range", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, limited.BytesReceived);
    }

    [Fact]
    public async Task A_whole_file_range_answered_with_200_is_accepted()
    {
        _server.IgnoreRange = true;

        var read = await _source.ReadAsync(_url, 0, 1000);

        Assert.Equal(_content, read.Data.ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_shorter_than_promised_throws(bool ignoreRange)
    {
        _server.TruncateBodyAt = 10;
        _server.IgnoreRange = ignoreRange;

        var ex = await Assert.ThrowsAsync<SourceReadException>(() => _source.ReadAsync(_url, 0, 40).AsTask());

        Assert.Contains("offset 0", ex.Message, StringComparison.Ordinal);
        Assert.StartsWith(_url, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Counters_add_up_across_parallel_reads_and_reset()
    {
        var reads = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => _source.ReadAsync(_url, i * 100, 100).AsTask()));

        Assert.All(reads, r => Assert.Equal(100, r.Data.Length));
        Assert.Equal(8, _source.RequestCount);
        Assert.Equal(800, _source.BytesReceived);

        _source.ResetCounters();
        Assert.Equal(0, _source.RequestCount);
        Assert.Equal(0, _source.BytesReceived);
    }

    [Fact]
    public async Task An_empty_read_checks_the_size_without_a_range()
    {
        var read = await _source.ReadAsync(_url, 1000, 0);

        Assert.Equal(0, read.Data.Length);
        Assert.Equal(1000, read.Info.Length);
        await Assert.ThrowsAsync<SourceReadException>(() => _source.ReadAsync(_url, 1001, 0).AsTask());
    }

    [Fact]
    public async Task An_unreachable_server_throws_a_read_error()
    {
        string url;
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            url = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/x";
        }

        var ex = await Assert.ThrowsAsync<SourceReadException>(() => _source.ReadAsync(url, 0, 1).AsTask());

        Assert.Contains("GET failed", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://host/x", true)]
    [InlineData("HTTPS://host/x", true)]
    [InlineData("/local/path", false)]
    [InlineData("ftp://host/x", false)]
    public void CanRead_accepts_http_and_https_urls(string location, bool expected) =>
        Assert.Equal(expected, _source.CanRead(location));
}
