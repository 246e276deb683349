namespace Floe.Grains;

/// <summary>
/// The base class of grain implementations (the shape of Orleans' Grain). The runtime constructs grains through
/// dependency injection, so constructors may take loggers, options and services; the key, the factory and
/// persistent state are available from the constructor on. Grain code always runs as turns of its activation:
/// never on two threads at once, and <c>await</c> resumes on the activation (do not use ConfigureAwait(false)).
/// </summary>
public abstract class Grain
{
    private readonly Activation? _activation;

    protected Grain()
    {
        // The runtime marks the activation it is constructing on this thread; a grain made with "new" has none.
        _activation = Activation.Constructing;
    }

    private Activation Activation => _activation
        ?? throw new InvalidOperationException($"{GetType().Name} was not created by a grain runtime.");

    /// <summary>Creates references to other grains (and to this one).</summary>
    protected IGrainFactory GrainFactory => Activation.Runtime;

    /// <summary>The grain's key.</summary>
    public string GetPrimaryKeyString() => Activation.Key;

    /// <summary>Runs once, before any call reaches the activation; if it throws, the calls waiting for it fail.</summary>
    public virtual Task OnActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs once when the activation is collected, evicted, asked to deactivate or the runtime stops.</summary>
    public virtual Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Deactivates this activation once the current and already queued calls finish; calls arriving meanwhile wait
    /// and go to a fresh activation.
    /// </summary>
    protected void DeactivateOnIdle() =>
        Activation.RequestDeactivation(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "DeactivateOnIdle was called"), CancellationToken.None);

    /// <summary>
    /// Registers a timer whose callbacks run as turns of this activation. Ticks never overlap: the next is scheduled
    /// a period after a callback finishes. The timer stops when disposed or when the activation deactivates (the
    /// callback's token is then cancelled). Exceptions from callbacks are logged.
    /// </summary>
    protected IGrainTimer RegisterGrainTimer(Func<CancellationToken, Task> callback, GrainTimerCreationOptions options)
    {
        ArgumentNullException.ThrowIfNull(callback);
        ArgumentNullException.ThrowIfNull(options);
        return Activation.RegisterTimer(callback, options);
    }

    /// <inheritdoc cref="RegisterGrainTimer(Func{CancellationToken, Task}, GrainTimerCreationOptions)"/>
    protected IGrainTimer RegisterGrainTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period) =>
        RegisterGrainTimer(callback, new GrainTimerCreationOptions { DueTime = dueTime, Period = period });

    /// <summary>
    /// Persistent state named <paramref name="stateName"/> in the grain storage registered as
    /// <paramref name="storageName"/>. Call it from the constructor: the runtime reads every state before
    /// OnActivateAsync runs.
    /// </summary>
    protected IPersistentState<T> GetPersistentState<T>(string stateName = "state", string storageName = GrainServiceCollectionExtensions.DefaultStorageName)
        where T : new() => Activation.CreatePersistentState<T>(stateName, storageName);
}
