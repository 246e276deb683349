namespace Floe.Server.Tests;

public class ReadAheadTests
{
    [Fact]
    public async Task Results_come_in_the_order_asked_even_when_fetches_finish_out_of_order()
    {
        var readAhead = new ReadAhead(budgetBytes: 1000);
        var gates = Enumerable.Range(0, 8).Select(_ => new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var results = new List<int>();
        var reading = Task.Run(async () =>
        {
            await foreach (var value in readAhead.RunAsync(Enumerable.Range(0, 8), i => gates[i].Task, bytesEach: 10))
            {
                results.Add(value);
            }
        });

        // Finish the fetches last to first.
        for (var i = gates.Length - 1; i >= 0; i--)
        {
            gates[i].SetResult(i * 100);
        }

        await reading;
        Assert.Equal(Enumerable.Range(0, 8).Select(i => i * 100), results);
        Assert.Equal(1000, readAhead.Available);
    }

    [Fact]
    public async Task Streams_together_run_one_fetch_each_plus_what_the_budget_allows()
    {
        // A budget of three items shared by four streams of ten items each.
        var readAhead = new ReadAhead(budgetBytes: 30);
        var fetches = new GatedFetches();
        var streams = Enumerable.Range(0, 4).Select(_ => readAhead.RunAsync(Enumerable.Range(0, 10), fetches.FetchAsync, bytesEach: 10).GetAsyncEnumerator()).ToArray();
        var first = streams.Select(s => s.MoveNextAsync().AsTask()).ToArray();
        await WaitUntilAsync(() => fetches.Started == 7);
        Assert.Equal(0, readAhead.Available);
        Assert.All(first, t => Assert.False(t.IsCompleted));

        fetches.Open();
        foreach (var (stream, firstMove) in streams.Zip(first))
        {
            var values = new List<int>();
            for (var more = await firstMove; more; more = await stream.MoveNextAsync())
            {
                values.Add(stream.Current);
            }

            Assert.Equal(Enumerable.Range(0, 10), values);
            await stream.DisposeAsync();
        }

        Assert.Equal(40, fetches.Started);
        Assert.Equal(30, readAhead.Available);
    }

    [Fact]
    public async Task A_failed_fetch_fails_the_stream_and_the_fetches_still_running_give_their_budget_back()
    {
        var readAhead = new ReadAhead(budgetBytes: 100);
        var slow = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int> FetchAsync(int i) => i switch
        {
            0 => Task.FromException<int>(new InvalidDataException("chunk 0 is corrupt")),
            1 => slow.Task,
            _ => Task.FromResult(i),
        };

        var error = await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            await foreach (var _ in readAhead.RunAsync(Enumerable.Range(0, 5), FetchAsync, bytesEach: 10))
            {
            }
        });
        Assert.Equal("chunk 0 is corrupt", error.Message);
        // Fetches 2 to 4 have ended; fetch 1 still holds its share.
        await WaitUntilAsync(() => readAhead.Available == 90);

        slow.SetResult(1);
        await WaitUntilAsync(() => readAhead.Available == 100);
    }

    [Fact]
    public async Task A_stream_never_runs_more_than_its_window_ahead_however_large_the_budget()
    {
        var readAhead = new ReadAhead(budgetBytes: 1 << 30, maxAheadPerStream: 3);
        var fetches = new GatedFetches();
        await using var stream = readAhead.RunAsync(Enumerable.Range(0, 100), fetches.FetchAsync, bytesEach: 1).GetAsyncEnumerator();
        var moving = stream.MoveNextAsync().AsTask();
        await WaitUntilAsync(() => fetches.Started == 3);
        Assert.Equal((1 << 30) - 2, readAhead.Available);
        fetches.Open();
        Assert.True(await moving);
        Assert.Equal(0, stream.Current);
    }

    /// <summary>Fetches that count themselves and wait until the test opens the gate; each returns its item.</summary>
    private sealed class GatedFetches
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _started;

        public int Started => Volatile.Read(ref _started);

        public async Task<int> FetchAsync(int item)
        {
            Interlocked.Increment(ref _started);
            await _gate.Task;
            return item;
        }

        public void Open() => _gate.SetResult();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "the condition did not become true within 30 s");
            await Task.Delay(5);
        }
    }
}
