using Floe.Storage.Azure;
using Floe.Tests.Shared;

namespace Floe.Storage.Azure.Tests;

/// <summary>One in-memory Azurite for the test classes of the "azurite" collection; each test uses containers of its own.</summary>
public sealed class AzuriteFixture : IDisposable
{
    private int _containers;

    public AzuriteFixture() => Server = AzuriteServer.Start(inMemory: true);

    internal AzuriteServer Server { get; }

    public string ConnectionString => Server.ConnectionString;

    public AzureConnectionString Account => AzureConnectionString.Parse(ConnectionString);

    /// <summary>A container name no other test uses.</summary>
    public string NewContainer(string stem = "t") => $"{stem}-{Interlocked.Increment(ref _containers)}-{Guid.NewGuid():N}"[..Math.Min(63, stem.Length + 30)].TrimEnd('-');

    public void Dispose() => Server.Dispose();
}

[CollectionDefinition("azurite")]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>;
