using Microsoft.Extensions.Logging;

namespace Floe.Grains.Tests;

// Grains the tests drive. They report what they see to the shared Probe.

public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> Increment();

    ValueTask<int> Get();

    Task Deactivate();
}

/// <summary>Counts in a field with an await between read and write: interleaved requests would lose updates.</summary>
public sealed class CounterGrain(Probe probe, ILogger<CounterGrain> logger) : Grain, ICounterGrain
{
    private int _count;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        logger.LogDebug("Counter {Key} activated", GetPrimaryKeyString());
        probe.Record($"activate:{GetPrimaryKeyString()}");
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        var key = GetPrimaryKeyString();
        probe.Record($"deactivating:{key}");
        if (key.StartsWith("hold", StringComparison.Ordinal))
        {
            await probe.Gate($"release:{key}");
        }

        probe.Record($"deactivate:{key}:{reason.ReasonCode}");
    }

    public async Task<int> Increment()
    {
        var read = _count;
        await Task.Yield();
        _count = read + 1;
        return _count;
    }

    public ValueTask<int> Get() => ValueTask.FromResult(_count);

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

public interface ITurnGrain : IGrainWithStringKey
{
    /// <summary>Records enter/exit around several awaits, checking in every turn that no other turn runs.</summary>
    Task Work(string name, int steps);

    /// <summary>Records enter, waits for the probe's gate, records exit.</summary>
    Task WaitFor(string gate);

    Task Open(string gate);

    [AlwaysInterleave]
    Task<int> RequestsInProgress();

    /// <summary>Records enter, then waits until the token is cancelled.</summary>
    Task WaitForCancellation(string name, CancellationToken cancellationToken);
}

/// <summary>Shared body of the non-reentrant and reentrant turn grains.</summary>
public abstract class TurnGrainBase(Probe probe) : Grain, ITurnGrain
{
    private int _inTurn;
    private int _inProgress;
    private TaskScheduler? _scheduler;

    public async Task Work(string name, int steps)
    {
        Enter(name);
        for (var i = 0; i < steps; i++)
        {
            CheckTurn();
            // Alternate a yield and a timer-thread completion: both must resume on the activation.
            if (i % 2 == 0)
            {
                await Task.Yield();
            }
            else
            {
                await Task.Delay(1);
            }
        }

        Exit(name);
    }

    public async Task WaitFor(string gate)
    {
        Enter(gate);
        await probe.Gate(gate);
        CheckTurn();
        Exit(gate);
    }

    public Task Open(string gate)
    {
        CheckTurn();
        probe.Open(gate);
        return Task.CompletedTask;
    }

    public Task<int> RequestsInProgress() => Task.FromResult(_inProgress);

    public async Task WaitForCancellation(string name, CancellationToken cancellationToken)
    {
        Enter(name);
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
        }
        finally
        {
            CheckTurn();
            Exit(name);
        }
    }

    private void Enter(string name)
    {
        CheckTurn();
        _inProgress++;
        probe.Record($"enter:{name}");
    }

    private void Exit(string name)
    {
        _inProgress--;
        probe.Record($"exit:{name}");
    }

    // Grain code must run on its activation's scheduler, and never in two turns at once.
    private void CheckTurn()
    {
        _scheduler ??= TaskScheduler.Current;
        if (TaskScheduler.Current == TaskScheduler.Default || TaskScheduler.Current != _scheduler)
        {
            probe.Violation();
        }

        if (Interlocked.Increment(ref _inTurn) != 1)
        {
            probe.Violation();
        }

        Thread.SpinWait(2_000);
        Interlocked.Decrement(ref _inTurn);
    }
}

public sealed class TurnGrain(Probe probe) : TurnGrainBase(probe);

[Reentrant]
public sealed class ReentrantTurnGrain(Probe probe) : TurnGrainBase(probe), IReentrantTurnGrain;

public interface IReentrantTurnGrain : ITurnGrain;

public interface IFlakyGrain : IGrainWithStringKey
{
    Task<string> Hello();
}

/// <summary>The first activation of every key fails in OnActivateAsync.</summary>
public sealed class FlakyGrain(Probe probe) : Grain, IFlakyGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var attempt = $"attempt:{GetPrimaryKeyString()}";
        probe.Record(attempt);
        return probe.Count(attempt) == 1
            ? throw new InvalidOperationException($"first activation of {GetPrimaryKeyString()} fails")
            : Task.CompletedTask;
    }

    public Task<string> Hello() => Task.FromResult($"hello from {GetPrimaryKeyString()}");
}

public sealed class GrainTestException(string message) : Exception(message);

public interface IFailingGrain : IGrainWithStringKey
{
    Task ThrowAsync(string message);

    Task<int> ThrowSynchronously(string message);

    ValueTask<int> ThrowFromValueTask(string message);

    Task<int> Ok();
}

public sealed class FailingGrain(Probe probe) : Grain, IFailingGrain
{
    public static GrainTestException? LastThrown { get; private set; }

    public async Task ThrowAsync(string message)
    {
        await Task.Yield();
        throw Remember(message);
    }

    public Task<int> ThrowSynchronously(string message) => throw Remember(message);

    public async ValueTask<int> ThrowFromValueTask(string message)
    {
        await Task.Yield();
        throw Remember(message);
    }

    public Task<int> Ok()
    {
        probe.Record("ok");
        return Task.FromResult(42);
    }

    private static GrainTestException Remember(string message) => LastThrown = new GrainTestException(message);
}

public interface IMemoryGrain : IGrainWithStringKey
{
    Task Touch();

    Task Hold(string gate);
}

/// <summary>Reports 100 bytes towards its type's memory budget.</summary>
public sealed class MemoryGrain(Probe probe) : Grain, IMemoryGrain, IGrainMemory
{
    public long EstimatedBytes => 100;

    public Task Touch() => Task.CompletedTask;

    public async Task Hold(string gate)
    {
        probe.Record($"hold:{GetPrimaryKeyString()}");
        await probe.Gate(gate);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        probe.Record($"deactivate:{GetPrimaryKeyString()}:{reason.ReasonCode}");
        return Task.CompletedTask;
    }
}

public interface IChainGrain : IGrainWithStringKey
{
    /// <summary>Calls the counter grain <paramref name="counterKey"/> and returns its new value.</summary>
    Task<int> IncrementCounter(string counterKey);

    /// <summary>Calls chain grain <paramref name="via"/>, which calls this grain back.</summary>
    Task<string> CallBackThrough(string via);

    Task<string> CallBack(string target);

    Task<string> Name();

    Task<string> CallSelf();
}

public class ChainGrain : Grain, IChainGrain
{
    public Task<int> IncrementCounter(string counterKey) => GrainFactory.GetGrain<ICounterGrain>(counterKey).Increment();

    public Task<string> CallBackThrough(string via) => Chain(via).CallBack(GetPrimaryKeyString());

    public async Task<string> CallBack(string target) => $"{GetPrimaryKeyString()} -> {await Chain(target).Name()}";

    public Task<string> Name() => Task.FromResult(GetPrimaryKeyString());

    public Task<string> CallSelf() => Chain(GetPrimaryKeyString()).Name();

    protected virtual IChainGrain Chain(string key) => GrainFactory.GetGrain<IChainGrain>(key);
}

public interface IReentrantChainGrain : IChainGrain;

[Reentrant]
public sealed class ReentrantChainGrain : ChainGrain, IReentrantChainGrain
{
    protected override IChainGrain Chain(string key) => GrainFactory.GetGrain<IReentrantChainGrain>(key);
}

public sealed class CounterState
{
    public int Value { get; set; }
}

public sealed record CounterSnapshot(int InMemory, int Persisted);

public interface IPersistedCounterGrain : IGrainWithStringKey
{
    Task<CounterSnapshot> Increment();

    Task<CounterSnapshot> Get();

    Task Reload();

    Task Clear();

    Task<(string? Etag, bool RecordExists)> StateInfo();
}

/// <summary>Counts both in a field (lost on deactivation) and in persistent state (kept).</summary>
public sealed class PersistedCounterGrain : Grain, IPersistedCounterGrain
{
    private readonly Probe _probe;
    private readonly IPersistentState<CounterState> _state;
    private int _inMemory;

    public PersistedCounterGrain(Probe probe)
    {
        _probe = probe;
        _state = GetPersistentState<CounterState>("counter");
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Persistent state must already be read here.
        _probe.Record($"activated-with:{GetPrimaryKeyString()}:{_state.State.Value}");
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _probe.Record($"deactivate:{GetPrimaryKeyString()}:{reason.ReasonCode}");
        return Task.CompletedTask;
    }

    public async Task<CounterSnapshot> Increment()
    {
        _inMemory++;
        _state.State.Value++;
        await _state.WriteStateAsync();
        return new CounterSnapshot(_inMemory, _state.State.Value);
    }

    public Task<CounterSnapshot> Get() => Task.FromResult(new CounterSnapshot(_inMemory, _state.State.Value));

    public Task Reload() => _state.ReadStateAsync();

    public Task Clear() => _state.ClearStateAsync();

    public Task<(string? Etag, bool RecordExists)> StateInfo() => Task.FromResult((_state.Etag, _state.RecordExists));
}

public interface ITimerGrain : IGrainWithStringKey
{
    Task Start(int ticksBeforeWaiting);
}

/// <summary>
/// Ticks every millisecond; after some ticks, one tick waits on the timer's token, which deactivation cancels.
/// </summary>
public sealed class TimerGrain(Probe probe) : Grain, ITimerGrain
{
    private int _ticks;
    private int _inTurn;

    public Task Start(int ticksBeforeWaiting)
    {
        RegisterGrainTimer(async cancellationToken =>
        {
            if (TaskScheduler.Current == TaskScheduler.Default || Interlocked.Increment(ref _inTurn) != 1)
            {
                probe.Violation();
            }

            _ticks++;
            Interlocked.Decrement(ref _inTurn);
            probe.Record($"tick:{_ticks}");
            if (_ticks == ticksBeforeWaiting)
            {
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    probe.Record("tick-cancelled");
                    throw;
                }
            }
        }, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1));
        return Task.CompletedTask;
    }
}

public interface IBadGrain : IGrainWithStringKey
{
    int NotAsync();
}

public sealed class BadGrain : Grain, IBadGrain
{
    public int NotAsync() => 1;
}
