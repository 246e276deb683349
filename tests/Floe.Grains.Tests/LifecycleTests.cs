using Microsoft.Extensions.DependencyInjection;

namespace Floe.Grains.Tests;

public sealed class LifecycleTests
{
    [Fact]
    public async Task Idle_activations_are_collected_after_their_types_idle_timeout_and_keep_only_persistent_state()
    {
        var clock = new ManualTimeProvider();
        await using var host = TestHost.Start(
            o => o.AddGrain<IPersistedCounterGrain, PersistedCounterGrain>(t => t.IdleTimeout = TimeSpan.FromMinutes(5)),
            s => s.AddMemoryGrainStorage().AddSingleton<TimeProvider>(clock));
        var grain = host.Grain<IPersistedCounterGrain>("idle");
        for (var i = 0; i < 3; i++)
        {
            await grain.Increment();
        }

        clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(0, await host.Runtime.CollectIdleActivationsAsync());
        Assert.True(host.Runtime.IsActive<IPersistedCounterGrain>("idle"));

        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, await host.Runtime.CollectIdleActivationsAsync());
        Assert.False(host.Runtime.IsActive<IPersistedCounterGrain>("idle"));
        Assert.Equal(1, host.Probe.Count("deactivate:idle:ActivationIdle"));

        // The field starts over in the new activation; the persistent state does not.
        Assert.Equal(new CounterSnapshot(1, 4), await grain.Increment());
        Assert.Equal(1, host.Probe.Count("activated-with:idle:3"));
        var counters = host.Runtime.GetCounters<IPersistedCounterGrain>();
        Assert.Equal((2, 1, 1), (counters.CreatedActivations, counters.Deactivations, counters.LiveActivations));
    }

    [Fact]
    public async Task The_periodic_collector_deactivates_idle_activations_by_itself()
    {
        await using var host = TestHost.Start(o =>
        {
            o.CollectionQuantum = TimeSpan.FromMilliseconds(10);
            o.AddGrain<ICounterGrain, CounterGrain>(t => t.IdleTimeout = TimeSpan.FromMilliseconds(1));
        });

        await host.Grain<ICounterGrain>("p").Increment();

        await host.Probe.WhenRecorded("deactivate:p:ActivationIdle");
        Assert.Equal(0, await host.Grain<ICounterGrain>("p").Get());
    }

    [Fact]
    public async Task Collection_never_takes_an_activation_with_a_call_in_progress()
    {
        await using var host = TestHost.Start(o => o.AddGrain<ITurnGrain, TurnGrain>());
        var grain = host.Grain<ITurnGrain>("busy");
        var call = grain.WaitFor("gate");
        await host.Probe.WhenRecorded("enter:gate");

        Assert.Equal(0, await host.Runtime.CollectIdleActivationsAsync(TimeSpan.Zero));

        host.Probe.Open("gate");
        await call;
        Assert.Equal(1, await host.Runtime.CollectIdleActivationsAsync(TimeSpan.Zero));
    }

    [Fact]
    public async Task Over_its_memory_budget_a_type_deactivates_its_least_recently_used_idle_activations()
    {
        var clock = new ManualTimeProvider();
        await using var host = TestHost.Start(
            o => o.AddGrain<IMemoryGrain, MemoryGrain>(t => t.MemoryBudgetBytes = 350),
            s => s.AddMemoryGrainStorage().AddSingleton<TimeProvider>(clock));
        foreach (var key in new[] { "a", "b", "c", "a" })
        {
            await host.Grain<IMemoryGrain>(key).Touch();
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        // A fourth 100-byte activation goes over 350: "b" is the least recently used.
        await host.Grain<IMemoryGrain>("d").Touch();

        await host.Probe.WhenRecorded("deactivate:b:HighMemoryPressure");
        Assert.Equal(["a", "c", "d"], new[] { "a", "b", "c", "d" }.Where(k => host.Runtime.IsActive<IMemoryGrain>(k)));
        var counters = host.Runtime.GetCounters<IMemoryGrain>();
        Assert.Equal((3, 300), (counters.LiveActivations, counters.EstimatedBytes));
    }

    [Fact]
    public async Task The_memory_budget_never_evicts_a_busy_activation_even_when_it_is_least_recently_used()
    {
        var clock = new ManualTimeProvider();
        await using var host = TestHost.Start(
            o => o.AddGrain<IMemoryGrain, MemoryGrain>(t => t.MemoryBudgetBytes = 250),
            s => s.AddMemoryGrainStorage().AddSingleton<TimeProvider>(clock));
        var holding = host.Grain<IMemoryGrain>("a").Hold("gate");
        await host.Probe.WhenRecorded("hold:a");
        clock.Advance(TimeSpan.FromSeconds(1));
        await host.Grain<IMemoryGrain>("b").Touch();
        clock.Advance(TimeSpan.FromSeconds(1));

        await host.Grain<IMemoryGrain>("c").Touch();

        await host.Probe.WhenRecorded("deactivate:b:HighMemoryPressure");
        Assert.True(host.Runtime.IsActive<IMemoryGrain>("a"));
        Assert.True(host.Runtime.IsActive<IMemoryGrain>("c"));
        Assert.Equal(0, host.Probe.Count("deactivate:a:HighMemoryPressure"));
        host.Probe.Open("gate");
        await holding;
    }

    [Fact]
    public async Task Timer_ticks_run_as_turns_and_stop_with_their_activation()
    {
        var host = TestHost.Start(o => o.AddGrain<ITimerGrain, TimerGrain>());
        await host.Grain<ITimerGrain>("t").Start(ticksBeforeWaiting: 3);

        await host.Probe.WhenRecorded("tick:3");
        // The third tick waits on its token; shutdown must cancel it rather than wait for it forever.
        await host.DisposeAsync();

        Assert.Equal(1, host.Probe.Count("tick-cancelled"));
        Assert.Equal(0, host.Probe.Count("tick:4"));
        Assert.Equal(0, host.Probe.Violations);
    }

    [Fact]
    public async Task Shutdown_lets_running_calls_finish_then_deactivates_every_activation()
    {
        var host = TestHost.Start(o => o
            .AddGrain<ICounterGrain, CounterGrain>()
            .AddGrain<ITurnGrain, TurnGrain>());
        await host.Grain<ICounterGrain>("x").Increment();
        await host.Grain<ICounterGrain>("y").Increment();
        var running = host.Grain<ITurnGrain>("t").WaitFor("gate");
        await host.Probe.WhenRecorded("enter:gate");
        var runtime = host.Runtime;

        var shutdown = host.DisposeAsync().AsTask();
        Assert.False(running.IsCompleted);
        host.Probe.Open("gate");
        await running;
        await shutdown;

        Assert.Equal(1, host.Probe.Count("deactivate:x:ShuttingDown"));
        Assert.Equal(1, host.Probe.Count("deactivate:y:ShuttingDown"));
        Assert.All(runtime.GetCounters(), c => Assert.Equal(0, c.LiveActivations));
        Assert.Equal(2, runtime.GetCounters<ICounterGrain>().Deactivations);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => runtime.GetGrain<ICounterGrain>("x").Increment());
    }

    [Fact]
    public async Task A_hosted_runtime_deactivates_its_grains_when_the_host_stops()
    {
        var probe = new Probe();
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(probe).AddMemoryGrainStorage()
            .AddGrains(o => o.AddGrain<ICounterGrain, CounterGrain>());
        using var app = builder.Build();
        await app.StartAsync();
        await app.Services.GetRequiredService<IGrainFactory>().GetGrain<ICounterGrain>("h").Increment();

        await app.StopAsync();

        Assert.Equal(1, probe.Count("deactivate:h:ShuttingDown"));
    }
}
