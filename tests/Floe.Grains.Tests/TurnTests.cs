namespace Floe.Grains.Tests;

public sealed class TurnTests
{
    [Fact]
    public async Task A_non_reentrant_grain_runs_requests_one_at_a_time_in_arrival_order()
    {
        await using var host = TestHost.Start(o => o.AddGrain<ITurnGrain, TurnGrain>());
        var grain = host.Grain<ITurnGrain>("t");

        // Sent in order from one thread without awaiting: arrival order is send order.
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => grain.Work($"w{i}", 4)).ToList());

        var expected = Enumerable.Range(0, 20).SelectMany(i => new[] { $"enter:w{i}", $"exit:w{i}" });
        Assert.Equal(expected, host.Probe.Log);
        Assert.Equal(0, host.Probe.Violations);
    }

    [Fact]
    public async Task A_request_waits_while_an_awaiting_request_holds_a_non_reentrant_grain_but_AlwaysInterleave_does_not()
    {
        await using var host = TestHost.Start(o => o.AddGrain<ITurnGrain, TurnGrain>());
        var grain = host.Grain<ITurnGrain>("t");

        var first = grain.WaitFor("gate");
        await host.Probe.WhenRecorded("enter:gate");
        var second = grain.Work("second", 2);

        // AlwaysInterleave runs while "first" is suspended at its await; "second" is still queued.
        Assert.Equal(1, await grain.RequestsInProgress());
        Assert.False(second.IsCompleted);
        Assert.Equal(0, host.Probe.Count("enter:second"));

        host.Probe.Open("gate");
        await Task.WhenAll(first, second);
        Assert.Equal(["enter:gate", "exit:gate", "enter:second", "exit:second"], host.Probe.Log);
        Assert.Equal(0, host.Probe.Violations);
    }

    [Fact]
    public async Task A_reentrant_grain_interleaves_requests_at_awaits()
    {
        await using var host = TestHost.Start(o => o.AddGrain<IReentrantTurnGrain, ReentrantTurnGrain>());
        var grain = host.Grain<IReentrantTurnGrain>("r");

        var waiting = grain.WaitFor("gate");
        await host.Probe.WhenRecorded("enter:gate");

        // On a non-reentrant grain this call would queue behind "waiting" forever.
        await grain.Open("gate");
        await waiting;
        Assert.Equal(0, host.Probe.Violations);
    }

    [Fact]
    public async Task A_reentrant_grain_still_runs_one_turn_at_a_time()
    {
        await using var host = TestHost.Start(o => o.AddGrain<IReentrantTurnGrain, ReentrantTurnGrain>());
        var grain = host.Grain<IReentrantTurnGrain>("r");

        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() => grain.Work($"w{i}", 6))));

        Assert.Equal(50, host.Probe.Log.Count(e => e.StartsWith("exit:", StringComparison.Ordinal)));
        Assert.Equal(0, host.Probe.Violations);
    }

    [Fact]
    public async Task Grains_call_other_grains_through_references()
    {
        await using var host = TestHost.Start(o => o
            .AddGrain<IChainGrain, ChainGrain>()
            .AddGrain<ICounterGrain, CounterGrain>());

        Assert.Equal(1, await host.Grain<IChainGrain>("a").IncrementCounter("c"));
        Assert.Equal(2, await host.Grain<IChainGrain>("b").IncrementCounter("c"));
        Assert.Equal("b -> x", await host.Grain<IChainGrain>("b").CallBack("x"));
        Assert.Equal(2, await host.Grain<ICounterGrain>("c").Get());
    }

    [Fact]
    public async Task A_non_reentrant_call_back_into_its_own_call_chain_fails_as_a_deadlock()
    {
        await using var host = TestHost.Start(o => o.AddGrain<IChainGrain, ChainGrain>());

        await Assert.ThrowsAsync<DeadlockException>(() => host.Grain<IChainGrain>("self").CallSelf());
        await Assert.ThrowsAsync<DeadlockException>(() => host.Grain<IChainGrain>("a").CallBackThrough("b"));

        // The grains are fine afterwards.
        Assert.Equal("a", await host.Grain<IChainGrain>("a").Name());
    }

    [Fact]
    public async Task A_reentrant_grain_may_call_back_into_its_own_call_chain()
    {
        await using var host = TestHost.Start(o => o.AddGrain<IReentrantChainGrain, ReentrantChainGrain>());

        Assert.Equal("self", await host.Grain<IReentrantChainGrain>("self").CallSelf());
        Assert.Equal("b -> a", await host.Grain<IReentrantChainGrain>("a").CallBackThrough("b"));
    }
}
