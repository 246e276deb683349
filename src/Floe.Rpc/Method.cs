using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Floe.Rpc;

/// <summary>Whether each side of a call sends one message or a stream.</summary>
public enum MethodType
{
    Unary,
    ClientStreaming,
    ServerStreaming,
    DuplexStreaming,
}

/// <summary>A method of a service, without its message types.</summary>
public interface IMethod
{
    MethodType Type { get; }

    /// <summary>The service's full protobuf name, e.g. <c>floe.v1.RepositoryService</c>.</summary>
    string ServiceName { get; }

    string Name { get; }

    /// <summary>The HTTP/2 path: <c>/{ServiceName}/{Name}</c>.</summary>
    string FullName { get; }

    MessageDescriptor RequestDescriptor { get; }

    MessageDescriptor ResponseDescriptor { get; }
}

/// <summary>A method with its protobuf request and response types; the description both client and server share.</summary>
public sealed class Method<TRequest, TResponse> : IMethod
    where TRequest : IMessage<TRequest>, new()
    where TResponse : IMessage<TResponse>, new()
{
    public Method(MethodType type, string serviceName, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        ArgumentException.ThrowIfNullOrEmpty(name);
        Type = type;
        ServiceName = serviceName;
        Name = name;
        FullName = $"/{serviceName}/{name}";
    }

    public MethodType Type { get; }

    public string ServiceName { get; }

    public string Name { get; }

    public string FullName { get; }

    public MessageParser<TRequest> RequestParser { get; } = new(() => new TRequest());

    public MessageParser<TResponse> ResponseParser { get; } = new(() => new TResponse());

    public MessageDescriptor RequestDescriptor => new TRequest().Descriptor;

    public MessageDescriptor ResponseDescriptor => new TResponse().Descriptor;

    public override string ToString() => $"{Type} {FullName}";
}

/// <summary>What a client passes with each call.</summary>
public readonly record struct CallOptions(
    Metadata? Headers = null,
    DateTime? Deadline = null,
    CancellationToken CancellationToken = default)
{
    public CallOptions WithHeaders(Metadata headers) => this with { Headers = headers };

    public CallOptions WithDeadline(DateTime deadline) => this with { Deadline = deadline };

    public CallOptions WithCancellationToken(CancellationToken cancellationToken) => this with { CancellationToken = cancellationToken };
}

/// <summary>Compares a service as the .proto declares it with the hand-written <see cref="IMethod"/> objects for it.</summary>
public static class RpcDescriptorCheck
{
    /// <summary>
    /// One line per difference: a proto method without a hand-written one, a hand-written method the proto lacks,
    /// a different streaming kind, or different request or response message types. Empty when they agree.
    /// </summary>
    public static IReadOnlyList<string> Mismatches(ServiceDescriptor service, IEnumerable<IMethod> methods)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(methods);
        var problems = new List<string>();
        var byName = new Dictionary<string, IMethod>(StringComparer.Ordinal);
        foreach (var method in methods)
        {
            if (method.ServiceName != service.FullName)
            {
                problems.Add($"{method.FullName}: belongs to service {method.ServiceName}, not {service.FullName}");
            }
            else if (!byName.TryAdd(method.Name, method))
            {
                problems.Add($"{method.FullName}: defined more than once");
            }
        }

        foreach (var declared in service.Methods)
        {
            var path = $"/{service.FullName}/{declared.Name}";
            if (!byName.Remove(declared.Name, out var method))
            {
                problems.Add($"{path}: declared in the proto but has no hand-written method");
                continue;
            }

            var expectedType = (declared.IsClientStreaming, declared.IsServerStreaming) switch
            {
                (false, false) => MethodType.Unary,
                (true, false) => MethodType.ClientStreaming,
                (false, true) => MethodType.ServerStreaming,
                (true, true) => MethodType.DuplexStreaming,
            };
            if (method.Type != expectedType)
            {
                problems.Add($"{path}: the proto declares {expectedType}, the hand-written method is {method.Type}");
            }

            if (method.RequestDescriptor.FullName != declared.InputType.FullName)
            {
                problems.Add($"{path}: request is {declared.InputType.FullName} in the proto, {method.RequestDescriptor.FullName} in the hand-written method");
            }

            if (method.ResponseDescriptor.FullName != declared.OutputType.FullName)
            {
                problems.Add($"{path}: response is {declared.OutputType.FullName} in the proto, {method.ResponseDescriptor.FullName} in the hand-written method");
            }
        }

        foreach (var extra in byName.Values)
        {
            problems.Add($"{extra.FullName}: hand-written but not declared in the proto");
        }

        return problems;
    }
}
