using System.Reflection;

namespace Floe.Grains;

/// <summary>One grain interface method: how to deliver a call to it and how to hand the result back.</summary>
internal sealed class GrainMethod
{
    private static readonly MethodInfo CreateCallDefinition =
        typeof(GrainMethod).GetMethod(nameof(CreateCall), BindingFlags.NonPublic | BindingFlags.Static)!;

    private readonly Func<GrainMethod, object?[], CancellationToken, GrainCall> _createCall;

    public GrainMethod(MethodInfo method, MethodInfo implementation)
    {
        Method = method;
        var returnType = method.ReturnType;
        (Kind, var resultType) = returnType switch
        {
            _ when returnType == typeof(Task) => (ReturnKind.Task, typeof(object)),
            _ when returnType == typeof(ValueTask) => (ReturnKind.ValueTask, typeof(object)),
            { IsGenericType: true } when returnType.GetGenericTypeDefinition() == typeof(Task<>) =>
                (ReturnKind.TaskOfT, returnType.GetGenericArguments()[0]),
            { IsGenericType: true } when returnType.GetGenericTypeDefinition() == typeof(ValueTask<>) =>
                (ReturnKind.ValueTaskOfT, returnType.GetGenericArguments()[0]),
            _ => throw new NotSupportedException(
                $"{method.DeclaringType?.Name}.{method.Name}: grain methods return Task, Task<T>, ValueTask or ValueTask<T>."),
        };

        if (method.IsGenericMethodDefinition)
        {
            throw new NotSupportedException($"{method.DeclaringType?.Name}.{method.Name}: generic grain methods are not supported.");
        }

        var parameters = method.GetParameters();
        if (parameters.Any(p => p.ParameterType.IsByRef))
        {
            throw new NotSupportedException($"{method.DeclaringType?.Name}.{method.Name}: ref and out parameters are not supported.");
        }

        CancellationTokenIndex = parameters.Length > 0 && parameters[^1].ParameterType == typeof(CancellationToken)
            ? parameters.Length - 1
            : -1;
        Interleave = method.IsDefined(typeof(AlwaysInterleaveAttribute), true)
            || implementation.IsDefined(typeof(AlwaysInterleaveAttribute), true);
        _createCall = CreateCallDefinition.MakeGenericMethod(resultType)
            .CreateDelegate<Func<GrainMethod, object?[], CancellationToken, GrainCall>>();
    }

    public enum ReturnKind
    {
        Task,
        TaskOfT,
        ValueTask,
        ValueTaskOfT,
    }

    public MethodInfo Method { get; }

    public ReturnKind Kind { get; }

    public bool Interleave { get; }

    /// <summary>The index of a trailing CancellationToken parameter, or -1.</summary>
    public int CancellationTokenIndex { get; }

    public GrainCall CreateCall(object?[] args)
    {
        var cancellationToken = CancellationTokenIndex >= 0 ? (CancellationToken)args[CancellationTokenIndex]! : default;
        return _createCall(this, args, cancellationToken);
    }

    private static GrainCall<T> CreateCall<T>(GrainMethod method, object?[] args, CancellationToken cancellationToken) =>
        new(method, args, cancellationToken);
}

/// <summary>A call in flight: what the proxy returns to the caller, and the work item the activation runs.</summary>
internal abstract class GrainCall : WorkItem
{
    /// <summary>The Task, Task&lt;T&gt;, ValueTask or ValueTask&lt;T&gt; the proxy hands back.</summary>
    public abstract object ReturnValue { get; }

    /// <summary>Fails the caller with a <see cref="TimeoutException"/> if no response came within <paramref name="timeout"/>.</summary>
    public abstract void ArmTimeout(TimeSpan timeout, TimeProvider timeProvider, string grainName);
}

internal sealed class GrainCall<T> : GrainCall
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly GrainMethod _method;
    private readonly object?[] _args;
    private readonly CancellationToken _cancellationToken;
    private CancellationTokenRegistration _cancellationRegistration;
    private CancellationTokenSource? _timeout;
    private T? _result;
    private Exception? _exception;

    public GrainCall(GrainMethod method, object?[] args, CancellationToken cancellationToken)
    {
        _method = method;
        _args = args;
        _cancellationToken = cancellationToken;
        Interleave = method.Interleave;
        CallerChain = CallChain.Current;
        Context = ExecutionContext.Capture();
    }

    public override object ReturnValue => _method.Kind switch
    {
        GrainMethod.ReturnKind.ValueTask => new ValueTask(_completion.Task),
        GrainMethod.ReturnKind.ValueTaskOfT => new ValueTask<T>(_completion.Task),
        _ => _completion.Task,
    };

    public override bool IsAbandoned => _completion.Task.IsCompleted;

    public override string Description => $"a call to {_method.Method.DeclaringType?.Name}.{_method.Method.Name}";

    public override void ArmTimeout(TimeSpan timeout, TimeProvider timeProvider, string grainName)
    {
        _timeout = new CancellationTokenSource(timeout, timeProvider);
        _timeout.Token.Register(() =>
        {
            // The grain may still run the call; Orleans behaves the same way. A queued call is dropped when reached.
            _completion.TrySetException(new TimeoutException($"{grainName}: {Description} got no response within {timeout}."));
            _timeout.Dispose();
        });
    }

    public override void OnQueued(Activation activation)
    {
        if (_cancellationToken.CanBeCanceled)
        {
            // Cancelling a call that has not started fails it at once; once started, only the grain sees the token.
            _cancellationRegistration = _cancellationToken.Register(() =>
            {
                if (_completion.TrySetCanceled(_cancellationToken))
                {
                    activation.RemoveIfQueued(this);
                }
            });
        }
    }

    public override void OnStarting() => _cancellationRegistration.Unregister();

    public override async Task InvokeAsync(Grain grain)
    {
        try
        {
            var returned = _method.Method.Invoke(grain, BindingFlags.DoNotWrapExceptions, null, _args, null);
            switch (_method.Kind)
            {
                case GrainMethod.ReturnKind.Task:
                    await (Task)returned!;
                    break;
                case GrainMethod.ReturnKind.TaskOfT:
                    _result = await (Task<T>)returned!;
                    break;
                case GrainMethod.ReturnKind.ValueTask:
                    await (ValueTask)returned!;
                    break;
                default:
                    _result = await (ValueTask<T>)returned!;
                    break;
            }
        }
        catch (Exception exception)
        {
            _exception = exception;
        }
    }

    public override void Complete()
    {
        if (_exception is not null)
        {
            _completion.TrySetException(_exception);
        }
        else
        {
            _completion.TrySetResult(_result!);
        }

        _timeout?.Dispose();
    }

    public override void Fail(Exception exception)
    {
        _completion.TrySetException(exception);
        _timeout?.Dispose();
    }
}

/// <summary>
/// A grain reference: a proxy implementing the grain interface that delivers every call to the grain's activation.
/// References to the same grain are equal.
/// </summary>
public class GrainReference : DispatchProxy
{
    private GrainRuntime? _runtime;
    private GrainInterface? _interface;
    private string _key = "";

    /// <summary>The grain's key.</summary>
    public string Key => _key;

    internal static object Create(GrainRuntime runtime, GrainInterface grainInterface, string key)
    {
        var proxy = (GrainReference)Create(grainInterface.Interface, typeof(GrainReference));
        proxy._runtime = runtime;
        proxy._interface = grainInterface;
        proxy._key = key;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        var method = _interface!.Methods[targetMethod];
        return _runtime!.Send(_interface.GrainType, _key, method, args ?? []);
    }

    public override bool Equals(object? obj) =>
        obj is GrainReference other && other._interface?.GrainType == _interface?.GrainType && other._key == _key;

    public override int GetHashCode() => HashCode.Combine(_interface?.GrainType, _key);

    public override string ToString() => $"{_interface?.GrainType.Name}/{_key}";
}
