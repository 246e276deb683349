using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace Floe.Grains.Tests;

/// <summary>A service provider with the grain runtime, a shared <see cref="Probe"/> and memory grain storage.</summary>
internal sealed class TestHost : IAsyncDisposable
{
    private TestHost(ServiceProvider provider)
    {
        Provider = provider;
        Runtime = provider.GetRequiredService<GrainRuntime>();
        Probe = provider.GetRequiredService<Probe>();
    }

    public ServiceProvider Provider { get; }

    public GrainRuntime Runtime { get; }

    public Probe Probe { get; }

    /// <param name="services">Further registrations; when null, a memory grain storage is the default storage.</param>
    public static TestHost Start(Action<GrainRuntimeOptions> configure, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        collection.AddLogging();
        collection.AddSingleton(new Probe());
        if (services is null)
        {
            collection.AddMemoryGrainStorage();
        }
        else
        {
            services(collection);
        }

        collection.AddGrains(configure);
        return new TestHost(collection.BuildServiceProvider(validateScopes: true));
    }

    public T Grain<T>(string key) where T : IGrainWithStringKey => Runtime.GetGrain<T>(key);

    public ValueTask DisposeAsync() => Provider.DisposeAsync();
}

/// <summary>
/// What grains report to tests: an event log with counts, signals tests await, and gates grains await. Awaits are
/// bounded only as a guard against a hang; no test asserts on elapsed time.
/// </summary>
public sealed class Probe
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);
    private readonly ConcurrentQueue<string> _log = new();
    private readonly ConcurrentDictionary<string, int> _counts = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _signals = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _gates = new();
    private int _violations;

    public IReadOnlyList<string> Log => [.. _log];

    /// <summary>Times grain code saw something that must never happen (two turns at once, a turn off its scheduler).</summary>
    public int Violations => Volatile.Read(ref _violations);

    public void Record(string name)
    {
        _log.Enqueue(name);
        _counts.AddOrUpdate(name, 1, (_, count) => count + 1);
        Signal(name).TrySetResult();
    }

    public int Count(string name) => _counts.GetValueOrDefault(name);

    public Task WhenRecorded(string name) => Signal(name).Task.WaitAsync(HangGuard);

    public void Violation() => Interlocked.Increment(ref _violations);

    public Task Gate(string name) => GateSource(name).Task;

    public void Open(string name) => GateSource(name).TrySetResult();

    private TaskCompletionSource Signal(string name) =>
        _signals.GetOrAdd(name, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private TaskCompletionSource GateSource(string name) =>
        _gates.GetOrAdd(name, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>A clock for idle ages and LRU order that moves only when a test says so (timers still use real time).</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private long _ticks = TimeSpan.TicksPerDay;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>A fresh directory under the system temp directory, removed on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateDirectory(
        System.IO.Path.Join(System.IO.Path.GetTempPath(), "floe-grains-tests-" + Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory must not fail a test.
        }
    }
}
