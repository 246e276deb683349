namespace Floe.Storage.Tests;

public sealed class MemoryObjectStoreTests : ObjectStoreConformanceTests
{
    protected override IObjectStore CreateStore() => new MemoryObjectStore();

    [Fact]
    public async Task Etags_increase_with_every_write_and_are_never_reused_after_delete()
    {
        var store = new MemoryObjectStore();
        var first = await store.PutAsync("k", Bytes("same"));
        var second = await store.PutAsync("k", Bytes("same"));
        await store.DeleteAsync("k");
        var third = await store.PutIfAbsentAsync("k", Bytes("same"));

        Assert.Equal("1", first);
        Assert.Equal("2", second);
        Assert.Equal("3", third);
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public async Task A_key_may_be_both_an_object_and_a_prefix_of_others()
    {
        var store = new MemoryObjectStore();
        await store.PutAsync("a", Bytes("1"));
        await store.PutAsync("a/b", Bytes("2"));

        Assert.Equal(["a", "a/b"], (await store.ListAsync("a")).Keys);
    }
}
