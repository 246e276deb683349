using System.Net;
using System.Text;

namespace Floe.Storage.Azure.Tests;

/// <summary>What Floe writes, Microsoft's Python client reads, and the reverse; SAS tokens it signs work here.</summary>
[Collection("azurite")]
public sealed class AzureOracleTests(AzuriteFixture azurite) : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("floe-azure-oracle-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Fact]
    public async Task Objects_floe_writes_are_read_back_by_the_azure_sdk_with_the_same_bytes_and_etags()
    {
        var container = azurite.NewContainer();
        var store = new AzureBlobObjectStore(new AzureBlobClient(azurite.Account), container, "repo/");
        var etags = new Dictionary<string, string>();
        foreach (var key in new[] { "refs/branch.main", "snapshots/0A1B", "odd/a b+c?d#e%f", "manifests/big" })
        {
            var data = key == "manifests/big" ? RandomBytes(1_500_000, 3) : Encoding.UTF8.GetBytes("content of " + key);
            etags[key] = (await store.PutIfAbsentAsync(key, data))!;
            var file = Path.Combine(_scratch, "download");
            var props = AzureOracle.RunJson(azurite.ConnectionString, "get", container, "repo/" + key, file);
            Assert.Equal(data, await File.ReadAllBytesAsync(file));
            Assert.Equal(etags[key], props.GetProperty("etag").GetString());
        }

        var listed = AzureOracle.RunJson(azurite.ConnectionString, "list", container, "repo/").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(etags.Keys.Select(k => "repo/" + k).Order(StringComparer.Ordinal), listed);
        var metadata = AzureOracle.RunJson(azurite.ConnectionString, "props", container, "repo/refs/branch.main").GetProperty("metadata");
        Assert.Equal(32, metadata.GetProperty(AzureBlobObjectStore.WriteIdMetadata).GetString()!.Length);
    }

    [Fact]
    public async Task Blobs_the_azure_sdk_writes_are_read_listed_and_replaced_conditionally_by_floe()
    {
        var container = azurite.NewContainer();
        var data = RandomBytes(70_000, 5);
        var file = Path.Combine(_scratch, "upload");
        await File.WriteAllBytesAsync(file, data);
        var etag = AzureOracle.RunJson(azurite.ConnectionString, "put", container, "data/one.bin", file).GetProperty("etag").GetString()!;
        AzureOracle.Run(azurite.ConnectionString, "put", container, "data/two.bin", file);
        var store = new AzureBlobObjectStore(new AzureBlobClient(azurite.Account), container);

        var read = await store.GetAsync("data/one.bin");
        var range = await store.GetRangeAsync("data/one.bin", 60_000, 10_000);

        Assert.Equal(data, read!.Data.ToArray());
        Assert.Equal(etag, read.Etag);
        Assert.Equal(data[60_000..], range!.Data.ToArray());
        Assert.Equal(["data/one.bin", "data/two.bin"], (await store.ListAsync("data/")).Keys);
        Assert.Null(await store.PutIfAbsentAsync("data/one.bin", new byte[] { 1 }));
        Assert.NotNull(await store.PutIfMatchAsync("data/one.bin", new byte[] { 2 }, etag));
        Assert.Null(await store.PutIfMatchAsync("data/one.bin", new byte[] { 3 }, etag));
    }

    [Fact]
    public async Task A_container_sas_from_the_azure_sdk_authorizes_every_store_operation()
    {
        var container = azurite.NewContainer();
        await new AzureBlobClient(azurite.Account).CreateContainerAsync(container);
        var sas = AzureOracle.Run(azurite.ConnectionString, "sas", container, "racwdl");
        var account = AzureConnectionString.Parse($"BlobEndpoint={azurite.Server.BlobEndpoint};SharedAccessSignature={sas}");
        Assert.Equal("SAS", account.AuthKind);
        var store = new AzureBlobObjectStore(new AzureBlobClient(account), container);

        var first = await store.PutIfAbsentAsync("refs/main", Encoding.UTF8.GetBytes("v1"));
        var second = await store.PutIfMatchAsync("refs/main", Encoding.UTF8.GetBytes("v2"), first!);
        await store.PutAsync("refs/dev", Encoding.UTF8.GetBytes("d"));

        Assert.NotNull(second);
        Assert.Equal("v2", Encoding.UTF8.GetString((await store.GetAsync("refs/main"))!.Data.Span));
        Assert.Equal("2", Encoding.UTF8.GetString((await store.GetRangeAsync("refs/main", 1, 1))!.Data.Span));
        Assert.Equal(["refs/dev", "refs/main"], (await store.ListAsync("refs/")).Keys);
        Assert.True(await store.DeleteAsync("refs/dev"));
        Assert.Null(await store.PutIfMatchAsync("refs/main", Encoding.UTF8.GetBytes("v3"), first!));
    }

    [Fact]
    public async Task A_read_only_sas_reads_but_a_write_fails_with_403_naming_the_blob_and_not_the_signature()
    {
        var container = azurite.NewContainer();
        await new AzureBlobObjectStore(new AzureBlobClient(azurite.Account), container).PutAsync("k", new byte[] { 7 });
        var sas = AzureOracle.Run(azurite.ConnectionString, "sas", container, "rl");
        var client = new AzureBlobClient(AzureConnectionString.Parse($"BlobEndpoint={azurite.Server.BlobEndpoint};SharedAccessSignature={sas}"));
        var store = new AzureBlobObjectStore(client, container);

        Assert.Equal([7], (await store.GetAsync("k"))!.Data.ToArray());
        var error = await Assert.ThrowsAsync<AzureBlobException>(() => store.PutAsync("k", new byte[] { 8 }).AsTask());

        Assert.Equal(HttpStatusCode.Forbidden, error.Status);
        Assert.Contains($"{container}/k", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, client.RetryCount);
    }

    [Fact]
    public async Task A_wrong_account_key_is_refused_with_403_at_once()
    {
        var wrong = azurite.ConnectionString.Replace("AccountKey=Eby8", "AccountKey=Zby8", StringComparison.Ordinal);
        var client = new AzureBlobClient(AzureConnectionString.Parse(wrong));
        var store = new AzureBlobObjectStore(client, azurite.NewContainer());

        var error = await Assert.ThrowsAsync<AzureBlobException>(() => store.GetAsync("k").AsTask());

        Assert.Equal(HttpStatusCode.Forbidden, error.Status);
        Assert.Equal(0, client.RetryCount);
    }

    internal static byte[] RandomBytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
