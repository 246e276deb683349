using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Floe.Grains;

/// <summary>
/// Something an activation runs as one or more turns: a grain call or a timer tick.
/// </summary>
internal abstract class WorkItem
{
    /// <summary>May run alongside other requests, and never blocks them.</summary>
    public bool Interleave { get; init; }

    /// <summary>Counts as activity for idle collection.</summary>
    public bool KeepAlive { get; init; } = true;

    /// <summary>The requests the caller was running inside of, for deadlock detection.</summary>
    public CallChain? CallerChain { get; init; }

    /// <summary>The caller's execution context (logging scopes, activities), or null to run in a clean one.</summary>
    public ExecutionContext? Context { get; init; }

    /// <summary>Where the item waits while it cannot start; set and cleared under the activation's lock.</summary>
    public LinkedListNode<WorkItem>? QueueNode { get; set; }

    /// <summary>The caller no longer waits (timed out or cancelled while queued): drop it instead of running it.</summary>
    public abstract bool IsAbandoned { get; }

    /// <summary>Names the item in messages.</summary>
    public abstract string Description { get; }

    /// <summary>Runs the grain code and records its outcome; never throws.</summary>
    public abstract Task InvokeAsync(Grain grain);

    /// <summary>Hands the recorded outcome to the caller (after the activation has done its bookkeeping).</summary>
    public abstract void Complete();

    /// <summary>Fails the item without running it.</summary>
    public abstract void Fail(Exception exception);

    /// <summary>Called under the activation's lock when the item starts waiting in its queue.</summary>
    public virtual void OnQueued(Activation activation)
    {
    }

    /// <summary>Called under the activation's lock when the item starts running.</summary>
    public virtual void OnStarting()
    {
    }
}

/// <summary>
/// The chain of requests the current code runs inside of (grain A's request → grain B's request → ...), flowing with
/// the async context. A call that would have to wait for a request in its own chain can never run: a deadlock.
/// </summary>
internal sealed class CallChain(WorkItem item, CallChain? parent)
{
    private static readonly AsyncLocal<CallChain?> CurrentChain = new();

    private WorkItem Item { get; } = item;

    private CallChain? Parent { get; } = parent;

    public static CallChain? Current
    {
        get => CurrentChain.Value;
        set => CurrentChain.Value = value;
    }

    public static bool Contains(CallChain? chain, Func<WorkItem, bool> predicate)
    {
        for (var link = chain; link is not null; link = link.Parent)
        {
            if (predicate(link.Item))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// The single activation of one grain in this process. All grain code runs on the activation's exclusive task
/// scheduler, so turns never overlap and awaits resume there. Which requests may start is decided here, under a
/// lock: a non-reentrant grain runs one non-interleaving request at a time in arrival order; reentrant grains and
/// [AlwaysInterleave] calls start at once and interleave at await points.
/// </summary>
internal sealed class Activation
{
    [ThreadStatic]
    private static Activation? _constructing;

    private enum Status
    {
        Created,
        Activating,
        Valid,
        Deactivating,
        Invalid,
    }

    private readonly Lock _lock = new();
    private readonly LinkedList<WorkItem> _queue = new();
    private readonly HashSet<WorkItem> _running = [];
    private readonly List<GrainTimer> _timers = [];
    private readonly List<Func<CancellationToken, Task>> _stateLoaders = [];
    private readonly TaskScheduler _scheduler;
    private readonly TaskCompletionSource _terminated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Status _status;
    private WorkItem? _blocking;
    private DeactivationReason? _pendingDeactivation;
    private CancellationToken _deactivationToken;
    private Grain? _grain;
    private long _lastActive;
    private long _estimatedBytes;

    public Activation(GrainRuntime runtime, GrainType type, string key)
    {
        Runtime = runtime;
        Type = type;
        Key = key;
        // A bounded batch per thread-pool work item, so a busy activation does not hold a pool thread forever.
        _scheduler = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, 1, 64).ExclusiveScheduler;
    }

    /// <summary>The activation whose grain is being constructed on this thread (read by Grain's constructor).</summary>
    public static Activation? Constructing => _constructing;

    public GrainRuntime Runtime { get; }

    public GrainType Type { get; }

    public string Key { get; }

    /// <summary>Completes once the activation is gone from the directory (deactivated, or its activation failed).</summary>
    public Task Terminated => _terminated.Task;

    private string Name => $"{Type.Name}/{Key}";

    /// <summary>
    /// Accepts an item (it runs now, waits in the queue, or has failed as a deadlock) or returns false when the
    /// activation is deactivating: the caller waits for <see cref="Terminated"/> and goes to a fresh activation.
    /// </summary>
    public bool Submit(WorkItem item)
    {
        var activate = false;
        var start = false;
        Exception? failure = null;
        lock (_lock)
        {
            if (_status is Status.Deactivating or Status.Invalid || _pendingDeactivation is not null)
            {
                if (!CallChain.Contains(item.CallerChain, _running.Contains))
                {
                    return false;
                }

                failure = Deadlock(item, "that is deactivating");
            }
            else
            {
                if (_status == Status.Created)
                {
                    _status = Status.Activating;
                    activate = true;
                }

                if (_status == Status.Valid && CanStartLocked(item) && (item.Interleave || Type.Reentrant || _queue.Count == 0))
                {
                    StartLocked(item);
                    start = true;
                }
                else if (!Type.Reentrant && !item.Interleave && _blocking is { } blocking
                    && CallChain.Contains(item.CallerChain, running => running == blocking))
                {
                    failure = Deadlock(item, "whose current request is waiting for this call");
                }
                else
                {
                    item.QueueNode = _queue.AddLast(item);
                    item.OnQueued(this);
                }
            }
        }

        if (failure is not null)
        {
            item.Fail(failure);
        }

        if (activate)
        {
            Runtime.OnActivationStarted(Type);
            RunTurn(ActivateAsync, null);
        }

        if (start)
        {
            RunTurn(() => RunItemAsync(item), item.Context);
        }

        return true;
    }

    /// <summary>Drops an abandoned item from the queue if it is still there.</summary>
    public void RemoveIfQueued(WorkItem item)
    {
        bool deactivate;
        lock (_lock)
        {
            if (item.QueueNode?.List != _queue)
            {
                return;
            }

            _queue.Remove(item.QueueNode);
            item.QueueNode = null;
            deactivate = TryBeginPendingDeactivationLocked();
        }

        if (deactivate)
        {
            RunTurn(DeactivateAsync, null);
        }
    }

    /// <summary>Deactivates once running and queued work is done; new calls meanwhile go to a fresh activation.</summary>
    public void RequestDeactivation(DeactivationReason reason, CancellationToken cancellationToken)
    {
        var begin = false;
        var neverActivated = false;
        lock (_lock)
        {
            if (_status is Status.Deactivating or Status.Invalid || _pendingDeactivation is not null)
            {
                return;
            }

            if (_status == Status.Created)
            {
                // Never activated: nothing to run, just leave the directory.
                _status = Status.Invalid;
                neverActivated = true;
            }
            else
            {
                _pendingDeactivation = reason;
                _deactivationToken = cancellationToken;
                begin = TryBeginPendingDeactivationLocked();
            }
        }

        if (neverActivated)
        {
            Runtime.OnActivationRemoved(this, wasLive: false, deactivated: false);
            _terminated.TrySetResult();
            return;
        }

        // Timers stop now, not when the work drains: a tick waiting on its token would otherwise hold deactivation up.
        DisposeTimers();
        if (begin)
        {
            RunTurn(DeactivateAsync, null);
        }
    }

    /// <summary>
    /// Deactivates the activation if it is idle (activated, nothing running or queued) and has been for at least
    /// <paramref name="minimumIdle"/>; returns whether it started deactivating. Never touches a busy activation.
    /// </summary>
    public bool TryDeactivateIfIdle(DeactivationReason reason, TimeSpan minimumIdle)
    {
        lock (_lock)
        {
            if (!IsIdleLocked || Runtime.TimeProvider.GetElapsedTime(_lastActive) < minimumIdle)
            {
                return false;
            }

            _pendingDeactivation = reason;
            _deactivationToken = CancellationToken.None;
            TryBeginPendingDeactivationLocked();
        }

        RunTurn(DeactivateAsync, null);
        return true;
    }

    /// <summary>What the memory budget needs: whether it counts, its bytes, whether it is idle, and since when.</summary>
    public (bool Live, long Bytes, bool Idle, long LastActive) Snapshot()
    {
        lock (_lock)
        {
            var live = _status is Status.Activating or Status.Valid && _pendingDeactivation is null;
            return (live, _estimatedBytes, IsIdleLocked, _lastActive);
        }
    }

    /// <summary>True while the activation accepts calls (not deactivating or gone).</summary>
    public bool IsLive
    {
        get
        {
            lock (_lock)
            {
                return _status is Status.Activating or Status.Valid && _pendingDeactivation is null;
            }
        }
    }

    public IPersistentState<T> CreatePersistentState<T>(string stateName, string storageName)
        where T : new()
    {
        ArgumentException.ThrowIfNullOrEmpty(stateName);
        ArgumentNullException.ThrowIfNull(storageName);
        if (_constructing != this)
        {
            throw new InvalidOperationException($"{Name}: persistent state must be obtained in the grain's constructor, so it is read before activation.");
        }

        var storage = Runtime.Services.GetKeyedService<IGrainStorage>(storageName)
            ?? throw new InvalidOperationException(
                $"{Name}: no grain storage named \"{storageName}\" is registered (AddMemoryGrainStorage or AddObjectStoreGrainStorage).");
        var state = new PersistentState<T>(storage, new GrainStateId(Type.Name, Key, stateName), Runtime.JsonSerializerOptions);
        _stateLoaders.Add(state.ReadStateAsync);
        return state;
    }

    public IGrainTimer RegisterTimer(Func<CancellationToken, Task> callback, GrainTimerCreationOptions options)
    {
        var timer = new GrainTimer(this, callback, options);
        lock (_lock)
        {
            if (_status is Status.Deactivating or Status.Invalid)
            {
                timer.Dispose();
                return timer;
            }

            _timers.Add(timer);
        }

        timer.Change(options.DueTime, options.Period);
        return timer;
    }

    public void RemoveTimer(GrainTimer timer)
    {
        lock (_lock)
        {
            _timers.Remove(timer);
        }
    }

    private bool IsIdleLocked =>
        _status == Status.Valid && _pendingDeactivation is null && _running.Count == 0 && _queue.Count == 0;

    private bool CanStartLocked(WorkItem item) => Type.Reentrant || item.Interleave || _blocking is null;

    private void StartLocked(WorkItem item)
    {
        if (item.QueueNode is not null)
        {
            _queue.Remove(item.QueueNode);
            item.QueueNode = null;
        }

        _running.Add(item);
        if (!Type.Reentrant && !item.Interleave)
        {
            _blocking = item;
        }

        if (item.KeepAlive)
        {
            _lastActive = Runtime.TimeProvider.GetTimestamp();
        }

        item.OnStarting();
    }

    // Starts, in arrival order, every queued item that may start now; drops abandoned ones.
    private List<WorkItem>? PumpLocked()
    {
        if (_status != Status.Valid)
        {
            return null;
        }

        List<WorkItem>? started = null;
        for (var node = _queue.First; node is not null;)
        {
            var next = node.Next;
            var item = node.Value;
            if (item.IsAbandoned)
            {
                _queue.Remove(node);
                item.QueueNode = null;
            }
            else if (CanStartLocked(item))
            {
                StartLocked(item);
                (started ??= []).Add(item);
            }

            node = next;
        }

        return started;
    }

    private bool TryBeginPendingDeactivationLocked()
    {
        if (_pendingDeactivation is null || _status != Status.Valid || _running.Count > 0 || _queue.Count > 0)
        {
            return false;
        }

        _status = Status.Deactivating;
        return true;
    }

    private void StartAll(List<WorkItem>? items)
    {
        if (items is not null)
        {
            foreach (var item in items)
            {
                RunTurn(() => RunItemAsync(item), item.Context);
            }
        }
    }

    // Queues an asynchronous operation as turns of this activation, in the given execution context (or a clean one).
    private void RunTurn(Func<Task> turn, ExecutionContext? context)
    {
        if (ExecutionContext.IsFlowSuppressed())
        {
            Queue();
        }
        else
        {
            using (ExecutionContext.SuppressFlow())
            {
                Queue();
            }
        }

        void Queue() => Task.Factory.StartNew(
            static state =>
            {
                var (turn, context) = ((Func<Task>, ExecutionContext?))state!;
                if (context is null)
                {
                    _ = turn();
                }
                else
                {
                    ExecutionContext.Run(context, static t => _ = ((Func<Task>)t!)(), turn);
                }
            },
            (turn, context), CancellationToken.None, TaskCreationOptions.DenyChildAttach, _scheduler);
    }

    private async Task ActivateAsync()
    {
        Grain? grain = null;
        try
        {
            _constructing = this;
            try
            {
                grain = (Grain)ActivatorUtilities.CreateInstance(Runtime.Services, Type.GrainClass);
            }
            finally
            {
                _constructing = null;
            }

            foreach (var load in _stateLoaders)
            {
                await load(Runtime.StoppingToken);
            }

            await grain.OnActivateAsync(Runtime.StoppingToken);
        }
        catch (Exception exception)
        {
            await FailActivationAsync(grain, exception is TargetInvocationException { InnerException: { } inner } ? inner : exception);
            return;
        }

        var bytes = EstimateBytes(grain);
        List<WorkItem>? started;
        bool deactivate;
        lock (_lock)
        {
            _grain = grain;
            _status = Status.Valid;
            _lastActive = Runtime.TimeProvider.GetTimestamp();
            _estimatedBytes = bytes;
            started = PumpLocked();
            deactivate = TryBeginPendingDeactivationLocked();
        }

        StartAll(started);
        if (deactivate)
        {
            RunTurn(DeactivateAsync, null);
        }

        Runtime.EnforceMemoryBudget(Type);
    }

    private async Task FailActivationAsync(Grain? grain, Exception exception)
    {
        Runtime.Logger.LogWarning(exception, "Activation of grain {Grain} failed", Name);
        DisposeTimers();
        await DisposeGrainAsync(grain);
        List<WorkItem> waiting;
        lock (_lock)
        {
            _status = Status.Invalid;
            waiting = [.. _queue];
            foreach (var item in waiting)
            {
                item.QueueNode = null;
            }

            _queue.Clear();
        }

        // Leave the directory first, so the next call tries a fresh activation.
        Runtime.OnActivationRemoved(this, wasLive: true, deactivated: false);
        foreach (var item in waiting)
        {
            item.Fail(exception);
        }

        _terminated.TrySetResult();
    }

    private async Task RunItemAsync(WorkItem item)
    {
        CallChain.Current = new CallChain(item, item.CallerChain);
        await item.InvokeAsync(_grain!);

        // Bookkeeping before the caller resumes, so an awaited call has left the activation idle.
        var bytes = EstimateBytes(_grain);
        List<WorkItem>? started;
        bool deactivate;
        lock (_lock)
        {
            _running.Remove(item);
            if (_blocking == item)
            {
                _blocking = null;
            }

            if (item.KeepAlive)
            {
                _lastActive = Runtime.TimeProvider.GetTimestamp();
            }

            _estimatedBytes = bytes;
            started = PumpLocked();
            deactivate = TryBeginPendingDeactivationLocked();
        }

        StartAll(started);
        if (deactivate)
        {
            RunTurn(DeactivateAsync, null);
        }

        item.Complete();
        Runtime.EnforceMemoryBudget(Type);
    }

    private async Task DeactivateAsync()
    {
        var reason = _pendingDeactivation!.Value;
        DisposeTimers();
        try
        {
            await _grain!.OnDeactivateAsync(reason, _deactivationToken);
        }
        catch (Exception exception)
        {
            Runtime.Logger.LogWarning(exception, "OnDeactivateAsync of grain {Grain} failed ({Reason})", Name, reason);
        }

        await DisposeGrainAsync(_grain);
        lock (_lock)
        {
            _status = Status.Invalid;
        }

        Runtime.OnActivationRemoved(this, wasLive: true, deactivated: true);
        _terminated.TrySetResult();
    }

    private void DisposeTimers()
    {
        GrainTimer[] timers;
        lock (_lock)
        {
            timers = [.. _timers];
            _timers.Clear();
        }

        foreach (var timer in timers)
        {
            timer.Dispose();
        }
    }

    // Grains are created by ActivatorUtilities, which the container does not track, so the runtime disposes them.
    private async Task DisposeGrainAsync(Grain? grain)
    {
        try
        {
            if (grain is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync();
            }
            else if (grain is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }
        catch (Exception exception)
        {
            Runtime.Logger.LogWarning(exception, "Disposing grain {Grain} failed", Name);
        }
    }

    // Read inside the grain's turn, so IGrainMemory implementations need no locking.
    private long EstimateBytes(Grain? grain)
    {
        try
        {
            return grain is IGrainMemory memory ? Math.Max(0, memory.EstimatedBytes) : 0;
        }
        catch (Exception exception)
        {
            Runtime.Logger.LogWarning(exception, "EstimatedBytes of grain {Grain} failed", Name);
            return 0;
        }
    }

    private DeadlockException Deadlock(WorkItem item, string what) => new(
        $"{Name}: {item.Description} would wait for an activation {what} (a non-reentrant grain called back through " +
        "its own call chain); make the grain [Reentrant] or the method [AlwaysInterleave].");
}

/// <summary>A timer whose ticks are work items of its activation; the next tick is armed after a callback ends.</summary>
internal sealed class GrainTimer : IGrainTimer
{
    private readonly Activation _activation;
    private readonly Func<CancellationToken, Task> _callback;
    private readonly GrainTimerCreationOptions _options;
    private readonly CancellationTokenSource _disposed = new();
    private readonly ITimer _timer;
    private TimeSpan _period;
    private int _changes;

    public GrainTimer(Activation activation, Func<CancellationToken, Task> callback, GrainTimerCreationOptions options)
    {
        _activation = activation;
        _callback = callback;
        _options = options;
        _period = options.Period;
        _timer = activation.Runtime.TimeProvider.CreateTimer(
            static state => ((GrainTimer)state!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public void Change(TimeSpan dueTime, TimeSpan period)
    {
        if (!_disposed.IsCancellationRequested)
        {
            _period = period;
            Interlocked.Increment(ref _changes);
            _timer.Change(dueTime, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        _disposed.Cancel();
        _timer.Dispose();
        _activation.RemoveTimer(this);
    }

    private void Fire()
    {
        if (!_disposed.IsCancellationRequested)
        {
            // A deactivating activation refuses the tick; its timers are about to be disposed anyway.
            _activation.Submit(new Tick(this) { Interleave = _options.Interleave, KeepAlive = _options.KeepAlive });
        }
    }

    private sealed class Tick(GrainTimer timer) : WorkItem
    {
        public override bool IsAbandoned => timer._disposed.IsCancellationRequested;

        public override string Description => "a timer tick";

        public override async Task InvokeAsync(Grain grain)
        {
            var changes = Volatile.Read(ref timer._changes);
            try
            {
                await timer._callback(timer._disposed.Token);
            }
            catch (Exception exception) when (!timer._disposed.IsCancellationRequested || exception is not OperationCanceledException)
            {
                timer._activation.Runtime.Logger.LogWarning(exception, "A timer callback of grain {Grain} failed",
                    $"{timer._activation.Type.Name}/{timer._activation.Key}");
            }
            catch (OperationCanceledException)
            {
                // The timer was disposed while the callback ran.
            }

            // A Change() during the callback already set the next due time.
            if (!timer._disposed.IsCancellationRequested && timer._period != Timeout.InfiniteTimeSpan
                && Volatile.Read(ref timer._changes) == changes)
            {
                timer._timer.Change(timer._period, Timeout.InfiniteTimeSpan);
            }
        }

        public override void Complete()
        {
        }

        public override void Fail(Exception exception)
        {
        }
    }
}
