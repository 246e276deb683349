using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using Floe.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Floe.Grains;

/// <summary>Per-type settings (Orleans' per-type collection age and friends).</summary>
public sealed class GrainTypeOptions
{
    /// <summary>The grain type's name in storage keys and messages; defaults to the class name.</summary>
    public string? Name { get; set; }

    /// <summary>How long an activation may sit idle before it is collected; defaults to <see cref="GrainRuntimeOptions.DefaultIdleTimeout"/>.</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>Calls without a response after this long fail with <see cref="TimeoutException"/>; defaults to <see cref="GrainRuntimeOptions.DefaultResponseTimeout"/>.</summary>
    public TimeSpan? ResponseTimeout { get; set; }

    /// <summary>
    /// When set, the sum of <see cref="IGrainMemory.EstimatedBytes"/> over this type's activations is kept under this
    /// many bytes by deactivating the least recently used idle activations.
    /// </summary>
    public long? MemoryBudgetBytes { get; set; }
}

/// <summary>Runtime settings and the grain registrations.</summary>
public sealed class GrainRuntimeOptions
{
    internal List<(Type Interface, Type GrainClass)> Registrations { get; } = [];

    internal Dictionary<Type, GrainTypeOptions> TypeOptions { get; } = [];

    /// <summary>How often idle activations are looked for (Orleans' collection quantum).</summary>
    public TimeSpan CollectionQuantum { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Idle time after which an activation is collected, for types that do not set their own (Orleans' collection age).</summary>
    public TimeSpan DefaultIdleTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Response timeout for types that do not set their own; null waits forever.</summary>
    public TimeSpan? DefaultResponseTimeout { get; set; }

    /// <summary>How long disposing the runtime waits for activations to finish their work and deactivate.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How persistent state is serialized.</summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.General);

    /// <summary>
    /// Registers <typeparamref name="TGrain"/> as the implementation of <typeparamref name="TGrainInterface"/>.
    /// A class registered for several interfaces has one activation per key behind all of them; the per-type options
    /// belong to the class.
    /// </summary>
    public GrainRuntimeOptions AddGrain<TGrainInterface, TGrain>(Action<GrainTypeOptions>? configure = null)
        where TGrainInterface : IGrainWithStringKey
        where TGrain : Grain, TGrainInterface
    {
        Registrations.Add((typeof(TGrainInterface), typeof(TGrain)));
        if (!TypeOptions.TryGetValue(typeof(TGrain), out var options))
        {
            TypeOptions[typeof(TGrain)] = options = new GrainTypeOptions();
        }

        configure?.Invoke(options);
        return this;
    }
}

/// <summary>Counters of one grain type, for tests and diagnostics.</summary>
/// <param name="EstimatedBytes">The sum of <see cref="IGrainMemory.EstimatedBytes"/> over live activations.</param>
public sealed record GrainTypeCounters(
    string GrainType, int LiveActivations, long CreatedActivations, long Deactivations, long FailedActivations, long Calls,
    long EstimatedBytes);

/// <summary>One grain class: its settings, counters and the directory of its activations in this process.</summary>
internal sealed class GrainType
{
    private long _live;
    private long _created;
    private long _deactivated;
    private long _failed;
    private long _calls;

    public GrainType(Type grainClass, GrainTypeOptions options, GrainRuntimeOptions runtimeOptions)
    {
        GrainClass = grainClass;
        Name = options.Name ?? grainClass.Name;
        Reentrant = grainClass.IsDefined(typeof(ReentrantAttribute), true);
        IdleTimeout = options.IdleTimeout ?? runtimeOptions.DefaultIdleTimeout;
        ResponseTimeout = options.ResponseTimeout ?? runtimeOptions.DefaultResponseTimeout;
        MemoryBudgetBytes = options.MemoryBudgetBytes;
    }

    public Type GrainClass { get; }

    public string Name { get; }

    public bool Reentrant { get; }

    public TimeSpan IdleTimeout { get; }

    public TimeSpan? ResponseTimeout { get; }

    public long? MemoryBudgetBytes { get; }

    public ConcurrentDictionary<string, Activation> Activations { get; } = new(StringComparer.Ordinal);

    /// <summary>Serializes memory-budget passes, so two passes never evict for the same overshoot.</summary>
    public Lock BudgetLock { get; } = new();

    public void CountCall() => Interlocked.Increment(ref _calls);

    public void CountActivationStarted()
    {
        Interlocked.Increment(ref _created);
        Interlocked.Increment(ref _live);
    }

    public void CountActivationEnded(bool deactivated)
    {
        Interlocked.Decrement(ref _live);
        Interlocked.Increment(ref deactivated ? ref _deactivated : ref _failed);
    }

    public GrainTypeCounters Counters() => new(
        Name, (int)Interlocked.Read(ref _live), Interlocked.Read(ref _created), Interlocked.Read(ref _deactivated),
        Interlocked.Read(ref _failed), Interlocked.Read(ref _calls),
        Activations.Values.Select(a => a.Snapshot()).Where(s => s.Live).Sum(s => s.Bytes));
}

/// <summary>A grain interface mapped to its class, with its methods.</summary>
internal sealed class GrainInterface(Type grainInterface, GrainType grainType, IReadOnlyDictionary<MethodInfo, GrainMethod> methods)
{
    public Type Interface { get; } = grainInterface;

    public GrainType GrainType { get; } = grainType;

    public IReadOnlyDictionary<MethodInfo, GrainMethod> Methods { get; } = methods;
}

/// <summary>
/// The grain runtime of this process (the role of an Orleans silo, without the cluster): it owns the activations,
/// delivers calls to them, collects idle ones, keeps memory budgets, and deactivates everything when stopped or
/// disposed. Correctness across processes is not its job; grain state relies on the store's conditional writes.
/// </summary>
public sealed class GrainRuntime : IGrainFactory, IHostedService, IAsyncDisposable, IDisposable
{
    private readonly GrainRuntimeOptions _options;
    private readonly Dictionary<Type, GrainInterface> _interfaces = [];
    private readonly List<GrainType> _types = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationToken _stoppingToken;
    private readonly Task _collector;
    private readonly Lock _shutdownLock = new();
    private Task? _shutdown;

    public GrainRuntime(IServiceProvider services, GrainRuntimeOptions options, ILogger<GrainRuntime>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.CollectionQuantum, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ShutdownTimeout, TimeSpan.Zero);
        Services = services;
        _stoppingToken = _stopping.Token;
        _options = options;
        Logger = logger ?? NullLogger<GrainRuntime>.Instance;
        TimeProvider = timeProvider ?? TimeProvider.System;
        JsonSerializerOptions = options.JsonSerializerOptions;

        var types = new Dictionary<Type, GrainType>();
        foreach (var (grainInterface, grainClass) in options.Registrations)
        {
            if (grainClass.IsAbstract)
            {
                throw new ArgumentException($"Grain class {grainClass.Name} is abstract.", nameof(options));
            }

            if (!types.TryGetValue(grainClass, out var type))
            {
                types[grainClass] = type = new GrainType(grainClass, options.TypeOptions[grainClass], options);
                _types.Add(type);
            }

            var methods = new Dictionary<MethodInfo, GrainMethod>();
            foreach (var declaring in grainInterface.GetInterfaces().Append(grainInterface))
            {
                var map = grainClass.GetInterfaceMap(declaring);
                for (var i = 0; i < map.InterfaceMethods.Length; i++)
                {
                    methods[map.InterfaceMethods[i]] = new GrainMethod(map.InterfaceMethods[i], map.TargetMethods[i]);
                }
            }

            _interfaces[grainInterface] = new GrainInterface(grainInterface, type, methods);
        }

        _collector = Task.Run(CollectPeriodicallyAsync);
    }

    internal IServiceProvider Services { get; }

    internal ILogger Logger { get; }

    internal TimeProvider TimeProvider { get; }

    internal JsonSerializerOptions JsonSerializerOptions { get; }

    /// <summary>Cancelled when shutdown begins; handed to OnActivateAsync.</summary>
    internal CancellationToken StoppingToken => _stoppingToken;

    public TGrainInterface GetGrain<TGrainInterface>(string primaryKey) where TGrainInterface : IGrainWithStringKey
    {
        ArgumentNullException.ThrowIfNull(primaryKey);
        return (TGrainInterface)GrainReference.Create(this, Interface(typeof(TGrainInterface)), primaryKey);
    }

    /// <summary>Counters of the class registered for <typeparamref name="TGrainInterface"/>.</summary>
    public GrainTypeCounters GetCounters<TGrainInterface>() where TGrainInterface : IGrainWithStringKey =>
        Interface(typeof(TGrainInterface)).GrainType.Counters();

    /// <summary>Counters of every grain type.</summary>
    public IReadOnlyList<GrainTypeCounters> GetCounters() => [.. _types.Select(t => t.Counters())];

    /// <summary>True while the grain has an activation in this process that accepts calls.</summary>
    public bool IsActive<TGrainInterface>(string primaryKey) where TGrainInterface : IGrainWithStringKey =>
        Interface(typeof(TGrainInterface)).GrainType.Activations.TryGetValue(primaryKey, out var activation) && activation.IsLive;

    /// <summary>
    /// Deactivates every idle activation that has been idle for at least <paramref name="minimumIdle"/> (by default
    /// its type's idle timeout) and waits until they are gone; returns how many. The periodic collector does the
    /// same every <see cref="GrainRuntimeOptions.CollectionQuantum"/>.
    /// </summary>
    public async Task<int> CollectIdleActivationsAsync(TimeSpan? minimumIdle = null, CancellationToken cancellationToken = default)
    {
        var collected = CollectIdle(minimumIdle);
        await Task.WhenAll(collected.Select(a => a.Terminated)).WaitAsync(cancellationToken).ConfigureAwait(false);
        return collected.Count;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Stops accepting calls, lets accepted ones finish, and deactivates every activation.</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_shutdownLock)
        {
            _shutdown ??= ShutdownAsync(cancellationToken);
        }

        return _shutdown.WaitAsync(cancellationToken);
    }

    /// <summary>Stops like <see cref="StopAsync"/>, bounded by <see cref="GrainRuntimeOptions.ShutdownTimeout"/>; never throws for that.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Logged by the shutdown: some activations did not finish in time.
        }
    }

    /// <summary>Blocks until <see cref="DisposeAsync"/> finishes; never call it from grain code.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    // The proxy's entry point: counts the call, arms its timeout and delivers it.
    internal object Send(GrainType type, string key, GrainMethod method, object?[] args)
    {
        var call = method.CreateCall(args);
        type.CountCall();
        if (type.ResponseTimeout is { } timeout)
        {
            call.ArmTimeout(timeout, TimeProvider, $"{type.Name}/{key}");
        }

        Dispatch(type, key, call);
        return call.ReturnValue;
    }

    internal void OnActivationStarted(GrainType type) => type.CountActivationStarted();

    internal void OnActivationRemoved(Activation activation, bool wasLive, bool deactivated)
    {
        activation.Type.Activations.TryRemove(new KeyValuePair<string, Activation>(activation.Key, activation));
        if (wasLive)
        {
            activation.Type.CountActivationEnded(deactivated);
        }
    }

    /// <summary>
    /// Keeps a type under its memory budget: when its live activations' estimates add up to more, the least recently
    /// used idle ones are deactivated until the rest fit. Busy activations (running or queued work) are never chosen.
    /// </summary>
    internal void EnforceMemoryBudget(GrainType type)
    {
        if (type.MemoryBudgetBytes is not { } budget)
        {
            return;
        }

        lock (type.BudgetLock)
        {
            long total = 0;
            var idle = new List<(Activation Activation, long Bytes, long LastActive)>();
            foreach (var activation in type.Activations.Values)
            {
                var (live, bytes, isIdle, lastActive) = activation.Snapshot();
                if (live)
                {
                    total += bytes;
                    if (isIdle)
                    {
                        idle.Add((activation, bytes, lastActive));
                    }
                }
            }

            if (total <= budget)
            {
                return;
            }

            idle.Sort((a, b) => a.LastActive.CompareTo(b.LastActive));
            var reason = new DeactivationReason(DeactivationReasonCode.HighMemoryPressure,
                $"{type.Name} activations hold about {total} bytes, over the budget of {budget}");
            foreach (var (activation, bytes, _) in idle)
            {
                if (total <= budget)
                {
                    break;
                }

                if (activation.TryDeactivateIfIdle(reason, TimeSpan.Zero))
                {
                    total -= bytes;
                }
            }
        }
    }

    private GrainInterface Interface(Type grainInterface) =>
        _interfaces.TryGetValue(grainInterface, out var found)
            ? found
            : throw new ArgumentException($"No grain class is registered for {grainInterface.Name} (AddGrains(o => o.AddGrain<...>())).");

    private void Dispatch(GrainType type, string key, WorkItem item)
    {
        if (_stopping.IsCancellationRequested)
        {
            item.Fail(new ObjectDisposedException(nameof(GrainRuntime), "The grain runtime is shutting down."));
            return;
        }

        var activation = type.Activations.GetOrAdd(key, static (k, s) => new Activation(s.Runtime, s.Type, k), (Runtime: this, Type: type));
        if (!activation.Submit(item))
        {
            // The activation is deactivating: wait until it is gone, then go to a fresh one.
            _ = DispatchAfterAsync(activation, type, key, item);
        }
    }

    private async Task DispatchAfterAsync(Activation previous, GrainType type, string key, WorkItem item)
    {
        // Runtime code, not a grain turn: no need to come back to the caller's scheduler.
        await previous.Terminated.ConfigureAwait(false);
        Dispatch(type, key, item);
    }

    private List<Activation> CollectIdle(TimeSpan? minimumIdle)
    {
        var collected = new List<Activation>();
        foreach (var type in _types)
        {
            var age = minimumIdle ?? type.IdleTimeout;
            var reason = new DeactivationReason(DeactivationReasonCode.ActivationIdle, $"idle for at least {age}");
            foreach (var activation in type.Activations.Values)
            {
                if (activation.TryDeactivateIfIdle(reason, age))
                {
                    collected.Add(activation);
                }
            }
        }

        return collected;
    }

    private async Task CollectPeriodicallyAsync()
    {
        using var timer = new PeriodicTimer(_options.CollectionQuantum, TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(_stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    CollectIdle(null);
                    foreach (var type in _types)
                    {
                        EnforceMemoryBudget(type);
                    }
                }
                catch (Exception exception)
                {
                    Logger.LogError(exception, "Grain activation collection failed");
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Shutdown.
        }
    }

    private async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _collector.ConfigureAwait(false);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(_options.ShutdownTimeout);
        var reason = new DeactivationReason(DeactivationReasonCode.ShuttingDown, "the grain runtime is stopping");

        // Repeat until empty: a call that passed the stopping check just before it was set may add an activation.
        while (_types.SelectMany(t => t.Activations.Values).ToList() is { Count: > 0 } activations)
        {
            foreach (var activation in activations)
            {
                activation.RequestDeactivation(reason, bounded.Token);
            }

            try
            {
                await Task.WhenAll(activations.Select(a => a.Terminated)).WaitAsync(bounded.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Logger.LogWarning("{Count} grain activations did not deactivate before the shutdown deadline",
                    activations.Count(a => !a.Terminated.IsCompleted));
                throw;
            }
        }
    }
}

/// <summary>Registration of the grain runtime and grain storage in a service collection.</summary>
public static class GrainServiceCollectionExtensions
{
    /// <summary>The storage name <see cref="Grain.GetPersistentState{T}"/> uses unless told otherwise.</summary>
    public const string DefaultStorageName = "Default";

    /// <summary>
    /// Adds the grain runtime (as <see cref="GrainRuntime"/>, <see cref="IGrainFactory"/> and a hosted service that
    /// deactivates everything on shutdown) and applies <paramref name="configure"/>; may be called more than once.
    /// </summary>
    public static IServiceCollection AddGrains(this IServiceCollection services, Action<GrainRuntimeOptions> configure)
    {
        services.Configure(configure);
        services.TryAddSingleton(sp => new GrainRuntime(
            sp, sp.GetRequiredService<IOptions<GrainRuntimeOptions>>().Value, sp.GetService<ILogger<GrainRuntime>>(), sp.GetService<TimeProvider>()));
        services.TryAddSingleton<IGrainFactory>(sp => sp.GetRequiredService<GrainRuntime>());
        services.AddHostedService(sp => sp.GetRequiredService<GrainRuntime>());
        return services;
    }

    /// <summary>Adds a <see cref="MemoryGrainStorage"/> under <paramref name="name"/>.</summary>
    public static IServiceCollection AddMemoryGrainStorage(this IServiceCollection services, string name = DefaultStorageName) =>
        services.AddKeyedSingleton<IGrainStorage>(name, (_, _) => new MemoryGrainStorage());

    /// <summary>Adds an <see cref="ObjectStoreGrainStorage"/> under <paramref name="name"/> over the store <paramref name="store"/> returns.</summary>
    public static IServiceCollection AddObjectStoreGrainStorage(
        this IServiceCollection services, string name, Func<IServiceProvider, IObjectStore> store, string prefix = "grains")
    {
        ArgumentNullException.ThrowIfNull(store);
        return services.AddKeyedSingleton<IGrainStorage>(name, (sp, _) => new ObjectStoreGrainStorage(store(sp), prefix));
    }
}
