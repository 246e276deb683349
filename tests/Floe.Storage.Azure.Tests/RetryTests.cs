using System.Net;
using System.Text;

namespace Floe.Storage.Azure.Tests;

/// <summary>Faults injected between the client and Azurite: transient answers, dropped connections, lost answers, hangs.</summary>
[Collection("azurite")]
public sealed class RetryTests(AzuriteFixture azurite)
{
    private static readonly AzureRetryOptions Fast = new()
    {
        MaxRetries = 4,
        InitialBackoff = TimeSpan.FromMilliseconds(10),
        MaxBackoff = TimeSpan.FromMilliseconds(50),
        TryTimeout = TimeSpan.FromSeconds(20),
    };

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.GatewayTimeout)]
    [InlineData(HttpStatusCode.RequestTimeout)]
    public async Task Transient_answers_are_retried_with_a_logged_warning_and_the_call_succeeds(HttpStatusCode status)
    {
        var faults = new FaultHandler { Answer = status, Remaining = 2 };
        var log = new ListLogger();
        var (store, client) = Create(faults, log);

        var etag = await store.PutAsync("k", Encoding.UTF8.GetBytes("v"));

        Assert.Equal(etag, (await store.GetAsync("k"))!.Etag);
        Assert.Equal(2, client.RetryCount);
        var warnings = log.Lines.Where(l => l.StartsWith("Warning", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.All(warnings, w => Assert.Contains($"{(int)status}", w, StringComparison.Ordinal));
        Assert.Contains("retry 1 of 4", warnings[0], StringComparison.Ordinal);
        Assert.Contains("/k", warnings[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retry_after_is_honoured_up_to_the_longest_backoff()
    {
        var faults = new FaultHandler { Answer = HttpStatusCode.ServiceUnavailable, Remaining = 1, RetryAfter = TimeSpan.FromSeconds(30) };
        var log = new ListLogger();
        var (store, _) = Create(faults, log);

        await store.PutAsync("k", new byte[] { 1 });

        Assert.Contains(log.Lines, l => l.Contains("in 50 ms", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_connection_error_before_sending_is_retried_and_a_read_succeeds()
    {
        var faults = new FaultHandler { Throw = true, Remaining = 3 };
        var (store, client) = Create(faults, new ListLogger());
        await new AzureBlobObjectStore(new AzureBlobClient(azurite.Account), store.Container).PutAsync("k", new byte[] { 9 });

        Assert.Equal([9], (await store.GetAsync("k"))!.Data.ToArray());
        Assert.Equal(3, client.RetryCount);
    }

    [Fact]
    public async Task A_try_that_hangs_is_abandoned_after_the_try_timeout_and_retried()
    {
        var faults = new FaultHandler { Hang = true, Remaining = 1 };
        var log = new ListLogger();
        var (store, client) = Create(faults, log, Fast with { TryTimeout = TimeSpan.FromMilliseconds(300) });

        await store.PutAsync("k", new byte[] { 1 });

        Assert.Equal(1, client.RetryCount);
        Assert.Contains(log.Lines, l => l.Contains("no answer within 0.3 s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task When_every_try_fails_the_error_names_the_blob_the_tries_and_the_last_cause()
    {
        var faults = new FaultHandler { Answer = HttpStatusCode.ServiceUnavailable, Remaining = int.MaxValue };
        var (store, client) = Create(faults, new ListLogger());

        var error = await Assert.ThrowsAsync<AzureBlobException>(() => store.PutAsync("refs/main", new byte[] { 1 }).AsTask());

        Assert.Contains($"{store.Container}/refs/main", error.Message, StringComparison.Ordinal);
        Assert.Contains("after 5 tries", error.Message, StringComparison.Ordinal);
        Assert.Contains("503", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, client.RetryCount);
    }

    [Fact]
    public async Task A_conditional_write_whose_answer_was_lost_is_recognised_as_its_own_on_the_retry()
    {
        var faults = new FaultHandler();
        var (store, client) = Create(faults, new ListLogger());
        var etag = await store.PutIfAbsentAsync("refs/main", Encoding.UTF8.GetBytes("v1"));

        // The service applies each write, then the connection drops before the answer arrives.
        faults.LoseAnswers = 1;
        var created = await store.PutIfAbsentAsync("snapshots/1", Encoding.UTF8.GetBytes("s"));
        faults.LoseAnswers = 1;
        var moved = await store.PutIfMatchAsync("refs/main", Encoding.UTF8.GetBytes("v2"), etag!);

        Assert.NotNull(created);
        Assert.Equal(created, (await store.GetAsync("snapshots/1"))!.Etag);
        Assert.NotNull(moved);
        var current = await store.GetAsync("refs/main");
        Assert.Equal("v2", Encoding.UTF8.GetString(current!.Data.Span));
        Assert.Equal(moved, current.Etag);
        Assert.Equal(2, client.RetryCount);
    }

    [Fact]
    public async Task A_lost_answer_followed_by_another_writer_reports_the_conflict()
    {
        var faults = new FaultHandler();
        var (store, _) = Create(faults, new ListLogger());
        var other = new AzureBlobObjectStore(new AzureBlobClient(azurite.Account), store.Container);
        var etag = await store.PutIfAbsentAsync("refs/main", Encoding.UTF8.GetBytes("v1"));

        // Our write lands, its answer is lost, and another writer moves the branch before our retry.
        faults.LoseAnswers = 1;
        faults.AfterLostAnswer = async () =>
        {
            var seen = await other.GetAsync("refs/main");
            Assert.NotNull(await other.PutIfMatchAsync("refs/main", Encoding.UTF8.GetBytes("theirs"), seen!.Etag));
        };
        var moved = await store.PutIfMatchAsync("refs/main", Encoding.UTF8.GetBytes("ours"), etag!);

        Assert.Null(moved);
        Assert.Equal("theirs", Encoding.UTF8.GetString((await store.GetAsync("refs/main"))!.Data.Span));

        // A put-if-absent that never reached the service, retried into someone else's object, is a conflict too.
        await other.PutAsync("lock", Encoding.UTF8.GetBytes("theirs"));
        faults.Throw = true;
        faults.Remaining = 1;
        Assert.Null(await store.PutIfAbsentAsync("lock", Encoding.UTF8.GetBytes("ours")));
    }

    private (AzureBlobObjectStore Store, AzureBlobClient Client) Create(FaultHandler faults, ListLogger log, AzureRetryOptions? retry = null)
    {
        faults.InnerHandler = new SocketsHttpHandler();
        var client = new AzureBlobClient(azurite.Account, new HttpClient(faults) { Timeout = Timeout.InfiniteTimeSpan }, retry ?? Fast, log);
        return (new AzureBlobObjectStore(client, azurite.NewContainer()), client);
    }

    /// <summary>Injects faults into the next requests (all of them, or only writes for lost answers).</summary>
    private sealed class FaultHandler : DelegatingHandler
    {
        public int Remaining { get; set; }

        public HttpStatusCode? Answer { get; set; }

        public TimeSpan? RetryAfter { get; set; }

        public bool Throw { get; set; }

        public bool Hang { get; set; }

        public int LoseAnswers { get; set; }

        public Func<Task>? AfterLostAnswer { get; set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (LoseAnswers > 0 && request.Method == HttpMethod.Put)
            {
                LoseAnswers--;
                using var applied = await base.SendAsync(request, cancellationToken);
                Assert.Equal(HttpStatusCode.Created, applied.StatusCode);
                if (AfterLostAnswer is { } after)
                {
                    AfterLostAnswer = null;
                    await after();
                }

                throw new HttpRequestException(HttpRequestError.ResponseEnded, "The response ended prematurely (injected).");
            }

            if (Remaining > 0)
            {
                Remaining--;
                if (Hang)
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }

                if (Throw)
                {
                    throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (injected).");
                }

                if (Answer is { } status)
                {
                    var response = new HttpResponseMessage(status) { Content = new ByteArrayContent([]), RequestMessage = request };
                    if (RetryAfter is { } delay)
                    {
                        response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(delay);
                    }

                    return response;
                }
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}
