using System.Text;
using Floe.Storage;
using Floe.Storage.Azure;
using Floe.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;

namespace Floe.Grains.Tests;

public sealed class PersistenceTests
{
    public static TheoryData<string> Storages => ["memory-grain-storage", "memory-object-store", "filesystem-object-store", "azure-object-store"];

    private static readonly GrainStateId Id = new("CounterGrain", "key/1", "state");

    [Theory]
    [MemberData(nameof(Storages))]
    public async Task Writes_and_clears_are_conditional_on_the_etag_last_seen(string kind)
    {
        using var directory = new TempDirectory();
        using var azurite = kind == "azure-object-store" ? AzuriteServer.Start() : null;
        var storage = CreateStorage(kind, directory.Path, azurite);

        var absent = await storage.ReadAsync(Id);
        Assert.False(absent.RecordExists);
        Assert.Null(absent.Etag);

        var first = await storage.WriteAsync(Id, Json("1"), expectedEtag: null);
        await Assert.ThrowsAsync<InconsistentStateException>(async () => await storage.WriteAsync(Id, Json("x"), expectedEtag: null));
        var second = await storage.WriteAsync(Id, Json("2"), first);
        Assert.NotEqual(first, second);
        var stale = await Assert.ThrowsAsync<InconsistentStateException>(async () => await storage.WriteAsync(Id, Json("x"), first));
        Assert.Equal(first, stale.ExpectedEtag);

        var read = await storage.ReadAsync(Id);
        Assert.Equal("2", Encoding.UTF8.GetString(read.Data!.Value.Span));
        Assert.Equal(second, read.Etag);

        await Assert.ThrowsAsync<InconsistentStateException>(async () => await storage.ClearAsync(Id, first));
        var cleared = await storage.ClearAsync(Id, second);
        var afterClear = await storage.ReadAsync(Id);
        Assert.False(afterClear.RecordExists);
        Assert.Equal(cleared, afterClear.Etag);
        await Assert.ThrowsAsync<InconsistentStateException>(async () => await storage.WriteAsync(Id, Json("x"), second));
        await storage.WriteAsync(Id, Json("3"), cleared);
        Assert.Equal("3", Encoding.UTF8.GetString((await storage.ReadAsync(Id)).Data!.Value.Span));
    }

    [Fact]
    public async Task Two_storages_over_one_object_store_never_overwrite_each_other_silently()
    {
        using var directory = new TempDirectory();
        // Two store instances over one directory stand for two server processes.
        var one = new ObjectStoreGrainStorage(new FileSystemObjectStore(directory.Path));
        var two = new ObjectStoreGrainStorage(new FileSystemObjectStore(directory.Path));

        var seenByTwo = await two.ReadAsync(Id);
        var written = await one.WriteAsync(Id, Json("1"), (await one.ReadAsync(Id)).Etag);
        await Assert.ThrowsAsync<InconsistentStateException>(async () => await two.WriteAsync(Id, Json("2"), seenByTwo.Etag));

        var reread = await two.ReadAsync(Id);
        Assert.Equal(written, reread.Etag);
        await two.WriteAsync(Id, Json("2"), reread.Etag);
        Assert.Equal("2", Encoding.UTF8.GetString((await one.ReadAsync(Id)).Data!.Value.Span));
    }

    [Fact]
    public async Task Object_keys_escape_grain_keys_into_valid_distinct_segments()
    {
        string[] keys = ["", ".", "..", ".hidden", "a/b", "a%2Fb", "%", "ü", "plain-key_1.x", "sp ace"];
        var escaped = keys.Select(ObjectStoreGrainStorage.EscapeSegment).ToList();

        Assert.Equal(["%", "%2E", "%2E.", "%2Ehidden", "a%2Fb", "a%252Fb", "%25", "%C3%BC", "plain-key_1.x", "sp%20ace"], escaped);
        Assert.All(escaped, e => Assert.True(ObjectKeys.IsValidSegment(e)));

        var store = new MemoryObjectStore();
        var storage = new ObjectStoreGrainStorage(store);
        Assert.Equal("grains/CounterGrain/key%2F1/state", storage.GetObjectKey(Id));
        await storage.WriteAsync(Id, Json("1"), null);
        Assert.Equal(["grains/CounterGrain/key%2F1/state"], (await store.ListAsync("grains/")).Keys);
    }

    [Fact]
    public async Task Persistent_state_is_read_before_activation_and_tracks_its_etag()
    {
        var store = new MemoryObjectStore();
        await using var host = ObjectStoreHost(store);
        var grain = host.Grain<IPersistedCounterGrain>("p");

        Assert.Equal((null, false), await grain.StateInfo());
        Assert.Equal(new CounterSnapshot(1, 1), await grain.Increment());
        Assert.Equal(new CounterSnapshot(2, 2), await grain.Increment());
        var (etag, exists) = await grain.StateInfo();
        Assert.True(exists);
        Assert.Equal((await store.GetAsync("grains/PersistedCounterGrain/p/counter"))!.Etag, etag);
        Assert.Equal("{\"Value\":2}", Encoding.UTF8.GetString((await store.GetAsync("grains/PersistedCounterGrain/p/counter"))!.Data.Span));

        await host.Runtime.CollectIdleActivationsAsync(TimeSpan.Zero);
        Assert.Equal(new CounterSnapshot(0, 2), await grain.Get());
        Assert.Equal(1, host.Probe.Count("activated-with:p:2"));

        await grain.Clear();
        Assert.False((await grain.StateInfo()).RecordExists);
        Assert.Equal(new CounterSnapshot(1, 1), await grain.Increment());
    }

    [Theory]
    [InlineData("filesystem")]
    [InlineData("azure")]
    public async Task A_conflicting_write_from_another_runtime_over_the_same_store_fails_the_call_until_the_grain_rereads(string backend)
    {
        using var directory = new TempDirectory();
        using var azurite = backend == "azure" ? AzuriteServer.Start() : null;
        // Two store instances over one directory or container stand for two server processes.
        IObjectStore Open() => azurite is null ? new FileSystemObjectStore(directory.Path) : ObjectStoreLocation.Open("az://grains/state", azurite.ConnectionString);
        await using var first = ObjectStoreHost(Open());
        await using var second = ObjectStoreHost(Open());
        var inFirst = first.Grain<IPersistedCounterGrain>("shared");
        var inSecond = second.Grain<IPersistedCounterGrain>("shared");

        // Both activate having read "no record"; the first write wins, the second is refused, not overwritten.
        await inSecond.Get();
        Assert.Equal(1, (await inFirst.Increment()).Persisted);
        await Assert.ThrowsAsync<InconsistentStateException>(() => inSecond.Increment());

        await inSecond.Reload();
        Assert.Equal(2, (await inSecond.Increment()).Persisted);
        await Assert.ThrowsAsync<InconsistentStateException>(() => inFirst.Increment());
        await inFirst.Reload();
        Assert.Equal(3, (await inFirst.Increment()).Persisted);
    }

    [Fact]
    public async Task A_grain_asking_for_unregistered_storage_fails_its_activation_with_a_clear_message()
    {
        await using var host = TestHost.Start(
            o => o.AddGrain<IPersistedCounterGrain, PersistedCounterGrain>(),
            s => s.AddObjectStoreGrainStorage("other", _ => new MemoryObjectStore()));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.Grain<IPersistedCounterGrain>("x").Get());
        Assert.Contains("no grain storage named \"Default\"", error.Message);
    }

    private static TestHost ObjectStoreHost(IObjectStore store) => TestHost.Start(
        o => o.AddGrain<IPersistedCounterGrain, PersistedCounterGrain>(),
        s => s.AddObjectStoreGrainStorage(GrainServiceCollectionExtensions.DefaultStorageName, _ => store));

    private static IGrainStorage CreateStorage(string kind, string directory, AzuriteServer? azurite) => kind switch
    {
        "memory-grain-storage" => new MemoryGrainStorage(),
        "memory-object-store" => new ObjectStoreGrainStorage(new MemoryObjectStore()),
        "azure-object-store" => new ObjectStoreGrainStorage(ObjectStoreLocation.Open("az://grains", azurite!.ConnectionString)),
        _ => new ObjectStoreGrainStorage(new FileSystemObjectStore(directory)),
    };

    private static byte[] Json(string text) => Encoding.UTF8.GetBytes(text);
}
