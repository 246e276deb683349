namespace Floe.Grains;

/// <summary>Marks a grain interface: every method returns Task, Task&lt;T&gt;, ValueTask or ValueTask&lt;T&gt;.</summary>
public interface IGrain;

/// <summary>A grain addressed by a string key, as in Orleans.</summary>
public interface IGrainWithStringKey : IGrain;

/// <summary>Hands out references to grains; a reference is cheap and activates nothing until it is called.</summary>
public interface IGrainFactory
{
    /// <summary>A reference to the grain <typeparamref name="TGrainInterface"/> with key <paramref name="primaryKey"/>.</summary>
    TGrainInterface GetGrain<TGrainInterface>(string primaryKey) where TGrainInterface : IGrainWithStringKey;
}

/// <summary>
/// Lets requests interleave at await points on this grain class (one turn still runs at a time). Without it a
/// grain processes one request at a time, start to finish, in arrival order.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class ReentrantAttribute : Attribute;

/// <summary>
/// Lets calls to this method interleave with any other request even on a non-reentrant grain, and never blocks
/// other requests: for long polls and reads. Put it on the grain interface's method (or the class's).
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = true)]
public sealed class AlwaysInterleaveAttribute : Attribute;

/// <summary>
/// Implemented by grains that hold a lot in memory, so their type's memory budget
/// (<see cref="GrainTypeOptions.MemoryBudgetBytes"/>) can evict the least recently used idle ones. The value is read
/// inside the grain's own turns (after activation and after every call), so it needs no locking.
/// </summary>
public interface IGrainMemory
{
    /// <summary>An estimate of the bytes this activation holds.</summary>
    long EstimatedBytes { get; }
}

/// <summary>Why an activation is being deactivated.</summary>
public enum DeactivationReasonCode
{
    /// <summary>The grain called <see cref="Grain.DeactivateOnIdle"/>.</summary>
    ApplicationRequested,

    /// <summary>The activation was idle for longer than its type's idle timeout.</summary>
    ActivationIdle,

    /// <summary>Its type went over its memory budget and this was a least recently used idle activation.</summary>
    HighMemoryPressure,

    /// <summary>The runtime is shutting down.</summary>
    ShuttingDown,
}

/// <summary>Why an activation is being deactivated, with a description for logs.</summary>
public readonly record struct DeactivationReason(DeactivationReasonCode ReasonCode, string Description)
{
    public override string ToString() => $"{ReasonCode}: {Description}";
}

/// <summary>How a grain timer behaves (the shape of Orleans' GrainTimerCreationOptions).</summary>
public sealed record GrainTimerCreationOptions
{
    /// <summary>Time until the first tick.</summary>
    public required TimeSpan DueTime { get; init; }

    /// <summary>Time from the end of one tick's callback to the next tick; <see cref="Timeout.InfiniteTimeSpan"/> for one tick.</summary>
    public required TimeSpan Period { get; init; }

    /// <summary>When true, ticks interleave with requests like <see cref="AlwaysInterleaveAttribute"/> methods.</summary>
    public bool Interleave { get; init; }

    /// <summary>When true, ticks count as activity and keep the activation from being collected as idle.</summary>
    public bool KeepAlive { get; init; }
}

/// <summary>A registered grain timer; dispose it to stop the ticks.</summary>
public interface IGrainTimer : IDisposable
{
    /// <summary>Reschedules the timer: the next tick after <paramref name="dueTime"/>, then every <paramref name="period"/>.</summary>
    void Change(TimeSpan dueTime, TimeSpan period);
}

/// <summary>
/// A call would wait for a request that is itself waiting for this call (for example a non-reentrant grain calling
/// itself, or A → B → A); it fails at once instead of hanging.
/// </summary>
public sealed class DeadlockException(string message) : InvalidOperationException(message);
