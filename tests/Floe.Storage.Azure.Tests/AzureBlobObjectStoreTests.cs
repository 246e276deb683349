using Floe.Storage.Tests;

namespace Floe.Storage.Azure.Tests;

/// <summary>The object store conformance suite on Azurite, at a container's root.</summary>
[Collection("azurite")]
public sealed class AzureBlobObjectStoreTests(AzuriteFixture azurite) : ObjectStoreConformanceTests
{
    protected override bool TokensAreKeys => false;

    protected override int IncrementsPerThread => 40;

    protected override IObjectStore CreateStore() => new AzureBlobObjectStore(new AzureBlobClient(azurite.Account), azurite.NewContainer());
}

/// <summary>The same suite on a store under a name prefix, beside other blobs of the container.</summary>
[Collection("azurite")]
public sealed class PrefixedAzureBlobObjectStoreTests(AzuriteFixture azurite) : ObjectStoreConformanceTests
{
    protected override bool TokensAreKeys => false;

    protected override int IncrementsPerThread => 40;

    protected override IObjectStore CreateStore()
    {
        var container = azurite.NewContainer();
        var client = new AzureBlobClient(azurite.Account);
        // Neighbours that sort before, inside and after the prefix must never show through.
        foreach (var name in new[] { "store", "store/a", "stores/x/y", "store/x-y", "store/x", "store/y/z" })
        {
            client.PutAsync(container, name, new byte[] { 1 }, BlobCondition.None).GetAwaiter().GetResult();
        }

        return new AzureBlobObjectStore(client, container, "store/x/");
    }
}
