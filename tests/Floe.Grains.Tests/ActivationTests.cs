using Microsoft.Extensions.DependencyInjection;

namespace Floe.Grains.Tests;

public sealed class ActivationTests
{
    [Fact]
    public async Task A_thousand_concurrent_calls_from_many_threads_reach_one_activation_that_activated_once()
    {
        await using var host = TestHost.Start(o => o.AddGrain<ICounterGrain, CounterGrain>());

        var results = await Task.WhenAll(Enumerable.Range(0, 1000)
            .Select(_ => Task.Run(() => host.Grain<ICounterGrain>("one").Increment())));

        // Increment reads, awaits, then writes: any overlap between requests would lose updates.
        Assert.Equal(Enumerable.Range(1, 1000), results.Order());
        Assert.Equal(1000, await host.Grain<ICounterGrain>("one").Get());
        Assert.Equal(1, host.Probe.Count("activate:one"));
        var counters = host.Runtime.GetCounters<ICounterGrain>();
        Assert.Equal(1, counters.LiveActivations);
        Assert.Equal(1, counters.CreatedActivations);
        Assert.Equal(1001, counters.Calls);
    }

    [Fact]
    public async Task Each_key_has_its_own_activation()
    {
        await using var host = TestHost.Start(o => o.AddGrain<ICounterGrain, CounterGrain>());

        await Task.WhenAll(Enumerable.Range(0, 500).Select(i => Task.Run(() => host.Grain<ICounterGrain>($"k{i % 10}").Increment())));

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(50, await host.Grain<ICounterGrain>($"k{i}").Get());
            Assert.Equal(1, host.Probe.Count($"activate:k{i}"));
        }

        Assert.Equal(10, host.Runtime.GetCounters<ICounterGrain>().LiveActivations);
    }

    [Fact]
    public async Task A_failed_activation_fails_its_call_and_the_next_call_activates_afresh()
    {
        await using var host = TestHost.Start(o => o.AddGrain<IFlakyGrain, FlakyGrain>());
        var grain = host.Grain<IFlakyGrain>("f");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.Hello());
        Assert.Equal("first activation of f fails", error.Message);
        Assert.False(host.Runtime.IsActive<IFlakyGrain>("f"));

        Assert.Equal("hello from f", await grain.Hello());
        Assert.Equal(2, host.Probe.Count("attempt:f"));
        var counters = host.Runtime.GetCounters<IFlakyGrain>();
        Assert.Equal(1, counters.FailedActivations);
        Assert.Equal(2, counters.CreatedActivations);
        Assert.Equal(1, counters.LiveActivations);
    }

    [Fact]
    public async Task DeactivateOnIdle_sends_the_next_call_to_a_new_activation()
    {
        await using var host = TestHost.Start(o => o.AddGrain<ICounterGrain, CounterGrain>());
        var grain = host.Grain<ICounterGrain>("d");
        await grain.Increment();
        await grain.Increment();

        await grain.Deactivate();
        Assert.Equal(0, await grain.Get());

        Assert.Equal(1, host.Probe.Count("deactivate:d:ApplicationRequested"));
        Assert.Equal(2, host.Probe.Count("activate:d"));
        Assert.Equal(1, host.Runtime.GetCounters<ICounterGrain>().Deactivations);
    }

    [Fact]
    public async Task Calls_arriving_while_an_activation_deactivates_wait_and_go_to_the_next_activation()
    {
        await using var host = TestHost.Start(o => o.AddGrain<ICounterGrain, CounterGrain>());
        var grain = host.Grain<ICounterGrain>("hold");
        await grain.Increment();
        await grain.Deactivate();
        await host.Probe.WhenRecorded("deactivating:hold");

        // OnDeactivateAsync is waiting on a gate: these calls must wait for it, not reach the old activation.
        var later = Enumerable.Range(0, 5).Select(_ => grain.Increment()).ToList();
        Assert.False(host.Runtime.IsActive<ICounterGrain>("hold"));
        Assert.All(later, call => Assert.False(call.IsCompleted));

        host.Probe.Open("release:hold");
        Assert.Equal([1, 2, 3, 4, 5], (await Task.WhenAll(later)).Order());
        Assert.Equal(2, host.Probe.Count("activate:hold"));
        Assert.Equal(1, host.Probe.Count("deactivate:hold:ApplicationRequested"));
    }

    [Fact]
    public async Task Calls_queued_before_DeactivateOnIdle_still_run_on_the_old_activation()
    {
        await using var host = TestHost.Start(o => o.AddGrain<ICounterGrain, CounterGrain>());
        var grain = host.Grain<ICounterGrain>("q");

        var queued = Enumerable.Range(0, 5).Select(_ => grain.Increment()).ToList();
        await grain.Deactivate();

        Assert.Equal([1, 2, 3, 4, 5], (await Task.WhenAll(queued)).Order());
        Assert.Equal(0, await grain.Get());
        Assert.Equal(2, host.Probe.Count("activate:q"));
    }

    [Fact]
    public async Task Grains_are_built_by_dependency_injection_and_know_their_key()
    {
        await using var host = TestHost.Start(o => o.AddGrain<IChainGrain, ChainGrain>());

        Assert.Equal("some key/with slash", await host.Grain<IChainGrain>("some key/with slash").Name());
    }

    [Fact]
    public void References_to_the_same_grain_are_equal_and_name_it()
    {
        var services = new ServiceCollection().AddSingleton(new Probe())
            .AddGrains(o => o.AddGrain<ICounterGrain, CounterGrain>()).BuildServiceProvider();
        var factory = services.GetRequiredService<IGrainFactory>();

        Assert.Equal(factory.GetGrain<ICounterGrain>("a"), factory.GetGrain<ICounterGrain>("a"));
        Assert.NotEqual(factory.GetGrain<ICounterGrain>("a"), factory.GetGrain<ICounterGrain>("b"));
        Assert.Equal("CounterGrain/a", factory.GetGrain<ICounterGrain>("a").ToString());
        Assert.Equal(0, services.GetRequiredService<GrainRuntime>().GetCounters<ICounterGrain>().CreatedActivations);
    }

    [Fact]
    public void Unregistered_interfaces_and_non_async_methods_are_rejected()
    {
        var services = new ServiceCollection().AddSingleton(new Probe())
            .AddGrains(o => o.AddGrain<ICounterGrain, CounterGrain>()).BuildServiceProvider();
        Assert.Throws<ArgumentException>(() => services.GetRequiredService<IGrainFactory>().GetGrain<IFlakyGrain>("x"));

        var bad = new ServiceCollection().AddGrains(o => o.AddGrain<IBadGrain, BadGrain>()).BuildServiceProvider();
        var error = Assert.Throws<NotSupportedException>(() => bad.GetRequiredService<GrainRuntime>());
        Assert.Contains("NotAsync", error.Message);
    }

    [Fact]
    public void A_grain_made_without_the_runtime_says_so()
    {
        var grain = new ChainGrain();

        Assert.Throws<InvalidOperationException>(() => grain.GetPrimaryKeyString());
    }
}
