using System.Text;

namespace Floe.Storage.Tests;

/// <summary>A prefixed view passes the whole conformance suite, and neighbours under other prefixes never see each other.</summary>
public sealed class PrefixedObjectStoreTests : ObjectStoreConformanceTests
{
    protected override IObjectStore CreateStore()
    {
        var shared = new MemoryObjectStore();
        // A neighbour's objects sit beside the view's prefix and under a prefix that starts the same way.
        shared.PutAsync("repos/a-b/refs/main", Encoding.UTF8.GetBytes("neighbour")).AsTask().GetAwaiter().GetResult();
        shared.PutAsync("repos/other", Encoding.UTF8.GetBytes("neighbour")).AsTask().GetAwaiter().GetResult();
        return new PrefixedObjectStore(shared, "repos/a/");
    }

    [Fact]
    public async Task Two_views_of_one_store_are_separate_and_keys_land_under_the_prefix()
    {
        var shared = new MemoryObjectStore();
        var a = new PrefixedObjectStore(shared, "repos/a/");
        var b = new PrefixedObjectStore(shared, "repos/b/");

        await a.PutAsync("refs/main", Bytes("A"));
        Assert.NotNull(await b.PutIfAbsentAsync("refs/main", Bytes("B")));

        Assert.Equal("A", Text((await a.GetAsync("refs/main"))!.Data));
        Assert.Equal("B", Text((await b.GetAsync("refs/main"))!.Data));
        Assert.Equal(["refs/main"], (await a.ListAsync("")).Keys);
        Assert.Equal(["repos/a/refs/main", "repos/b/refs/main"], (await shared.ListAsync("repos/")).Keys);
        Assert.True(await b.DeleteAsync("refs/main"));
        Assert.NotNull(await a.GetAsync("refs/main"));
    }

    [Theory]
    [InlineData("repos/a")]
    [InlineData("/repos/")]
    [InlineData("repos/../")]
    [InlineData("")]
    public void A_bad_prefix_is_refused_and_named(string prefix)
    {
        var error = Assert.Throws<ArgumentException>(() => new PrefixedObjectStore(new MemoryObjectStore(), prefix));
        Assert.Contains($"\"{prefix}\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_escaping_the_prefix_is_refused()
    {
        var view = new PrefixedObjectStore(new MemoryObjectStore(), "repos/a/");
        await Assert.ThrowsAsync<ArgumentException>(() => view.GetAsync("../b/refs/main").AsTask());
    }
}
