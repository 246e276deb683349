namespace Floe.Grains.Tests;

public sealed class CallTests
{
    [Fact]
    public async Task Exceptions_from_grain_code_reach_the_caller_unchanged()
    {
        await using var host = TestHost.Start(o => o.AddGrain<IFailingGrain, FailingGrain>());
        var grain = host.Grain<IFailingGrain>("f");

        var asynchronous = await Assert.ThrowsAsync<GrainTestException>(() => grain.ThrowAsync("async"));
        Assert.Same(FailingGrain.LastThrown, asynchronous);
        Assert.Equal("async", asynchronous.Message);

        var synchronous = await Assert.ThrowsAsync<GrainTestException>(() => grain.ThrowSynchronously("sync"));
        Assert.Same(FailingGrain.LastThrown, synchronous);

        var valueTask = await Assert.ThrowsAsync<GrainTestException>(async () => await grain.ThrowFromValueTask("value"));
        Assert.Equal("value", valueTask.Message);

        // A failed call does not deactivate the grain.
        Assert.Equal(42, await grain.Ok());
        Assert.Equal(1, host.Runtime.GetCounters<IFailingGrain>().CreatedActivations);
    }

    [Fact]
    public async Task A_call_without_a_response_within_the_types_timeout_fails_with_TimeoutException()
    {
        // Long enough that an activated grain starts a call well within it, even on a loaded machine.
        await using var host = TestHost.Start(o => o.AddGrain<ITurnGrain, TurnGrain>(t => t.ResponseTimeout = TimeSpan.FromSeconds(1)));
        var grain = host.Grain<ITurnGrain>("slow");
        await grain.Work("warm", 1);

        var slow = await Assert.ThrowsAsync<TimeoutException>(() => grain.WaitFor("gate"));
        Assert.Contains("WaitFor", slow.Message);
        Assert.Equal(1, host.Probe.Count("enter:gate"));

        // A call that timed out while queued is dropped, not run later.
        await Assert.ThrowsAsync<TimeoutException>(() => grain.Work("late", 1));
        host.Probe.Open("gate");
        await grain.Work("after", 1);

        Assert.Equal(0, host.Probe.Count("enter:late"));
        Assert.Equal(1, host.Probe.Count("exit:gate"));
    }

    [Fact]
    public async Task The_callers_cancellation_token_is_passed_to_the_grain()
    {
        await using var host = TestHost.Start(o => o.AddGrain<ITurnGrain, TurnGrain>());
        var grain = host.Grain<ITurnGrain>("c");
        using var cancellation = new CancellationTokenSource();

        var call = grain.WaitForCancellation("w", cancellation.Token);
        await host.Probe.WhenRecorded("enter:w");
        Assert.False(call.IsCompleted);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(1, host.Probe.Count("exit:w"));
    }

    [Fact]
    public async Task A_queued_call_whose_token_is_cancelled_fails_at_once_and_never_runs()
    {
        await using var host = TestHost.Start(o => o.AddGrain<ITurnGrain, TurnGrain>());
        var grain = host.Grain<ITurnGrain>("c");
        using var cancellation = new CancellationTokenSource();

        var holder = grain.WaitFor("gate");
        await host.Probe.WhenRecorded("enter:gate");
        var queued = grain.WaitForCancellation("queued", cancellation.Token);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        Assert.False(holder.IsCompleted);
        host.Probe.Open("gate");
        await holder;
        await grain.Work("after", 1);
        Assert.Equal(0, host.Probe.Count("enter:queued"));
    }
}
