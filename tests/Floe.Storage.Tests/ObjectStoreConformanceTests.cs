using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Floe.Storage.Tests;

/// <summary>
/// The behaviour every <see cref="IObjectStore"/> must show. Each backend's test class derives from this and
/// supplies a fresh, empty store per test.
/// </summary>
public abstract class ObjectStoreConformanceTests
{
    /// <summary>A new, empty store.</summary>
    protected abstract IObjectStore CreateStore();

    /// <summary>Increments each of 8 threads makes in the lost-update test.</summary>
    protected virtual int IncrementsPerThread => 200;

    /// <summary>
    /// Whether continuation tokens are the last key listed (so any key may be passed to list what follows it).
    /// Otherwise they are opaque, as Azure's list markers are, and only tokens a listing returned are passed back.
    /// </summary>
    protected virtual bool TokensAreKeys => true;

    protected static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    protected static string Text(ReadOnlyMemory<byte> data) => Encoding.UTF8.GetString(data.Span);

    [Fact]
    public async Task Get_of_a_missing_key_returns_null()
    {
        var store = CreateStore();
        Assert.Null(await store.GetAsync("no/such/key"));
        Assert.Null(await store.GetRangeAsync("no/such/key", 0, 1));
    }

    [Fact]
    public async Task Put_then_get_returns_the_same_bytes_and_the_etag_put_returned()
    {
        var store = CreateStore();
        var etag = await store.PutAsync("refs/main", Bytes("hello"));

        var read = await store.GetAsync("refs/main");

        Assert.NotNull(read);
        Assert.Equal("hello", Text(read.Data));
        Assert.Equal(etag, read.Etag);
        Assert.False(string.IsNullOrEmpty(etag));
    }

    [Fact]
    public async Task An_empty_object_round_trips()
    {
        var store = CreateStore();
        var etag = await store.PutAsync("empty", ReadOnlyMemory<byte>.Empty);

        var read = await store.GetAsync("empty");

        Assert.NotNull(read);
        Assert.Equal(0, read.Data.Length);
        Assert.Equal(etag, read.Etag);
    }

    [Fact]
    public async Task Put_replaces_the_content_and_changes_the_etag()
    {
        var store = CreateStore();
        var first = await store.PutAsync("k", Bytes("one"));
        var second = await store.PutAsync("k", Bytes("two"));

        var read = await store.GetAsync("k");

        Assert.NotEqual(first, second);
        Assert.Equal("two", Text(read!.Data));
        Assert.Equal(second, read.Etag);
    }

    [Fact]
    public async Task Stored_bytes_are_not_changed_by_mutating_the_caller_buffers()
    {
        var store = CreateStore();
        var buffer = Bytes("abc");
        await store.PutAsync("k", buffer);
        buffer[0] = (byte)'X';

        var read = await store.GetAsync("k");
        Assert.True(MemoryMarshal.TryGetArray(read!.Data, out var segment));
        segment.Array![segment.Offset] = (byte)'Y';

        Assert.Equal("abc", Text((await store.GetAsync("k"))!.Data));
    }

    [Fact]
    public async Task PutIfAbsent_stores_a_new_object()
    {
        var store = CreateStore();
        var etag = await store.PutIfAbsentAsync("new", Bytes("v1"));

        Assert.NotNull(etag);
        var read = await store.GetAsync("new");
        Assert.Equal("v1", Text(read!.Data));
        Assert.Equal(etag, read.Etag);
    }

    [Fact]
    public async Task PutIfAbsent_on_an_existing_key_returns_null_and_leaves_the_content()
    {
        var store = CreateStore();
        var etag = await store.PutAsync("k", Bytes("original"));

        Assert.Null(await store.PutIfAbsentAsync("k", Bytes("intruder")));

        var read = await store.GetAsync("k");
        Assert.Equal("original", Text(read!.Data));
        Assert.Equal(etag, read.Etag);
    }

    [Fact]
    public async Task PutIfMatch_with_the_current_etag_replaces_the_object()
    {
        var store = CreateStore();
        var etag = await store.PutAsync("k", Bytes("v1"));

        var next = await store.PutIfMatchAsync("k", Bytes("v2"), etag);

        Assert.NotNull(next);
        Assert.NotEqual(etag, next);
        var read = await store.GetAsync("k");
        Assert.Equal("v2", Text(read!.Data));
        Assert.Equal(next, read.Etag);
    }

    [Fact]
    public async Task PutIfMatch_with_a_stale_etag_returns_null_and_leaves_the_content()
    {
        var store = CreateStore();
        var stale = await store.PutAsync("k", Bytes("v1"));
        var current = await store.PutAsync("k", Bytes("v2"));

        Assert.Null(await store.PutIfMatchAsync("k", Bytes("v3"), stale));

        var read = await store.GetAsync("k");
        Assert.Equal("v2", Text(read!.Data));
        Assert.Equal(current, read.Etag);
    }

    [Fact]
    public async Task PutIfMatch_on_a_missing_key_returns_null_and_creates_nothing()
    {
        var store = CreateStore();
        var etag = await store.PutAsync("k", Bytes("v1"));
        Assert.True(await store.DeleteAsync("k"));

        Assert.Null(await store.PutIfMatchAsync("k", Bytes("v2"), etag));
        Assert.Null(await store.PutIfMatchAsync("never", Bytes("v2"), etag));

        Assert.Null(await store.GetAsync("k"));
        Assert.Null(await store.GetAsync("never"));
    }

    [Fact]
    public async Task GetRange_inside_the_object_returns_those_bytes()
    {
        var store = CreateStore();
        var etag = await store.PutAsync("blob", Bytes("0123456789"));

        var middle = await store.GetRangeAsync("blob", 3, 4);
        var tail = await store.GetRangeAsync("blob", 7, 3);
        var empty = await store.GetRangeAsync("blob", 10, 0);

        Assert.Equal("3456", Text(middle!.Data));
        Assert.Equal(etag, middle.Etag);
        Assert.Equal("789", Text(tail!.Data));
        Assert.Equal(0, empty!.Data.Length);
    }

    [Theory]
    [InlineData(8, 3)]
    [InlineData(10, 1)]
    [InlineData(11, 0)]
    [InlineData(0, 11)]
    public async Task GetRange_past_the_end_throws_naming_the_key_and_range(long offset, int length)
    {
        var store = CreateStore();
        await store.PutAsync("blob", Bytes("0123456789"));

        var ex = await Assert.ThrowsAsync<ObjectStoreException>(() => store.GetRangeAsync("blob", offset, length).AsTask());

        Assert.Contains("\"blob\"", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"{offset}+{length}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_returns_only_keys_under_the_prefix_in_ordinal_order()
    {
        var store = CreateStore();
        foreach (var key in new[] { "refs/tags/v1", "refs/main", "data/x", "refs/dev", "refsX" })
        {
            await store.PutAsync(key, Bytes(key));
        }

        var page = await store.ListAsync("refs/");

        Assert.Equal(["refs/dev", "refs/main", "refs/tags/v1"], page.Keys);
        Assert.Null(page.ContinuationToken);
    }

    [Fact]
    public async Task List_with_a_prefix_ending_mid_segment_matches_partial_names()
    {
        var store = CreateStore();
        foreach (var key in new[] { "refs/branch/a", "refs/bravo", "refs/brb/x/y", "refs/main", "refs/br" })
        {
            await store.PutAsync(key, Bytes(key));
        }

        Assert.Equal(["refs/branch/a", "refs/bravo"], (await store.ListAsync("refs/bra")).Keys);
        Assert.Equal(["refs/br", "refs/branch/a", "refs/bravo", "refs/brb/x/y"], (await store.ListAsync("refs/br")).Keys);
        Assert.Equal(["refs/br", "refs/branch/a", "refs/bravo", "refs/brb/x/y", "refs/main"], (await store.ListAsync("re")).Keys);
        Assert.Empty((await store.ListAsync("refs/z")).Keys);
        Assert.Empty((await store.ListAsync("nothing/here/")).Keys);
    }

    [Fact]
    public async Task List_sorts_nested_keys_ordinally_not_by_directory()
    {
        var store = CreateStore();
        // '-' (0x2D) and '.' (0x2E) sort before '/' (0x2F), '0' (0x30) after: a tree walk must not list "a/..." first.
        string[] keys = ["a0", "a/c/d", "a.b", "a-b", "a/b", "A", "a/c.e", "b", "a/c/d0", "a/c-x/y"];
        foreach (var key in keys)
        {
            await store.PutAsync(key, Bytes(key));
        }

        var page = await store.ListAsync("");

        Assert.Equal(keys.Order(StringComparer.Ordinal), page.Keys);
        Assert.Equal(["A", "a-b", "a.b", "a/b", "a/c-x/y", "a/c.e", "a/c/d", "a/c/d0", "a0", "b"], page.Keys);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task List_pages_through_all_keys_with_continuation_tokens(int pageSize)
    {
        var store = CreateStore();
        string[] expected = ["p/a", "p/b/1", "p/b/2", "p/b/3/x", "p/c", "p/d-e", "p/d/f"];
        foreach (var key in expected.Reverse())
        {
            await store.PutAsync(key, Bytes(key));
        }

        await store.PutAsync("q", Bytes("outside"));

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await store.ListAsync("p/", token, pageSize);
            Assert.InRange(page.Keys.Count, 1, pageSize);
            seen.AddRange(page.Keys);
            token = page.ContinuationToken;
            if (token is not null && TokensAreKeys)
            {
                Assert.Equal(page.Keys[^1], token);
            }

            pages++;
        }
        while (token is not null);

        Assert.Equal(expected, seen);
        Assert.Equal((expected.Length + pageSize - 1) / pageSize, pages);
    }

    [Fact]
    public async Task List_of_an_empty_store_returns_no_keys_and_no_token()
    {
        var store = CreateStore();
        var page = await store.ListAsync("");
        Assert.Empty(page.Keys);
        Assert.Null(page.ContinuationToken);
    }

    [Fact]
    public async Task List_after_the_last_key_returns_an_empty_page()
    {
        if (!TokensAreKeys)
        {
            return;
        }

        var store = CreateStore();
        await store.PutAsync("a", Bytes("a"));
        await store.PutAsync("b/c", Bytes("b"));

        var page = await store.ListAsync("", "b/c");

        Assert.Empty(page.Keys);
        Assert.Null(page.ContinuationToken);
        Assert.Equal(["b/c"], (await store.ListAsync("", "a")).Keys);
    }

    [Fact]
    public async Task Keys_with_every_printable_character_round_trip_and_list_in_order()
    {
        var store = CreateStore();
        // Characters that URLs, shells and file systems treat specially; each key must still name one object.
        string[] keys = ["odd/a b", "odd/a%20b", "odd/a+b", "odd/a?b=c&d", "odd/a#b", "odd/~tilde", "odd/'q'", "odd/(x)[y]{z}", "odd/!$*,;:@", "odd/\"\"", "odd/<>|^`"];
        foreach (var key in keys)
        {
            await store.PutAsync(key, Bytes(key));
        }

        foreach (var key in keys)
        {
            Assert.Equal(key, Text((await store.GetAsync(key))!.Data));
        }

        Assert.Equal(keys.Order(StringComparer.Ordinal), (await store.ListAsync("odd/")).Keys);
        Assert.Equal(["odd/a b"], (await store.ListAsync("odd/a ")).Keys);
        Assert.Equal(["odd/a?b=c&d"], (await store.ListAsync("odd/a?")).Keys);
        Assert.True(await store.DeleteAsync("odd/a%20b"));
        Assert.Equal("odd/a b", Text((await store.GetAsync("odd/a b"))!.Data));
    }

    [Fact]
    public async Task A_larger_object_round_trips_and_its_ranges_read_back()
    {
        var store = CreateStore();
        var data = new byte[(3 << 20) + 17];
        new Random(7).NextBytes(data);
        var etag = await store.PutAsync("big/object", data);

        var whole = await store.GetAsync("big/object");
        var range = await store.GetRangeAsync("big/object", (2 << 20) + 5, 1 << 20);

        Assert.Equal(etag, whole!.Etag);
        Assert.True(whole.Data.Span.SequenceEqual(data));
        Assert.True(range!.Data.Span.SequenceEqual(data.AsSpan((2 << 20) + 5, 1 << 20)));
    }

    [Fact]
    public async Task Delete_removes_an_existing_object_and_reports_it()
    {
        var store = CreateStore();
        await store.PutAsync("dir/k", Bytes("v"));

        Assert.True(await store.DeleteAsync("dir/k"));

        Assert.Null(await store.GetAsync("dir/k"));
        Assert.Empty((await store.ListAsync("")).Keys);
        Assert.NotNull(await store.PutIfAbsentAsync("dir/k", Bytes("again")));
    }

    [Fact]
    public async Task Delete_of_a_missing_key_returns_false()
    {
        var store = CreateStore();
        Assert.False(await store.DeleteAsync("missing"));
        Assert.False(await store.DeleteAsync("missing/deeper"));
    }

    [Theory]
    [InlineData("/abs")]
    [InlineData("a//b")]
    [InlineData("a/./b")]
    [InlineData("a/../b")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("a\\b")]
    [InlineData("trailing/")]
    [InlineData("caf\u00e9")]
    [InlineData("tab\there")]
    public async Task Invalid_keys_are_rejected_naming_the_key(string key)
    {
        var store = CreateStore();
        var shown = key.Replace('\t', '?').Replace('\u00e9', '?');

        async Task AssertRejected(Func<Task> operation)
        {
            var ex = await Assert.ThrowsAsync<ArgumentException>(operation);
            Assert.Contains($"\"{shown}\"", ex.Message, StringComparison.Ordinal);
        }

        await AssertRejected(() => store.GetAsync(key).AsTask());
        await AssertRejected(() => store.GetRangeAsync(key, 0, 1).AsTask());
        await AssertRejected(() => store.PutAsync(key, Bytes("x")).AsTask());
        await AssertRejected(() => store.PutIfAbsentAsync(key, Bytes("x")).AsTask());
        await AssertRejected(() => store.PutIfMatchAsync(key, Bytes("x"), "etag").AsTask());
        await AssertRejected(() => store.DeleteAsync(key).AsTask());
    }

    [Fact]
    public async Task An_empty_key_is_rejected()
    {
        var store = CreateStore();
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync("", Bytes("x")).AsTask());
        Assert.Contains("empty", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_compare_and_swap_increments_lose_no_update()
    {
        var store = CreateStore();
        const int threads = 8;
        var perThread = IncrementsPerThread;
        await store.PutAsync("counter", Bytes("0"));

        var workers = Enumerable.Range(0, threads).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < perThread; i++)
            {
                while (true)
                {
                    var current = await store.GetAsync("counter");
                    var next = long.Parse(Text(current!.Data), CultureInfo.InvariantCulture) + 1;
                    if (await store.PutIfMatchAsync("counter", Bytes(next.ToString(CultureInfo.InvariantCulture)), current.Etag) is not null)
                    {
                        break;
                    }
                }
            }
        }));
        await Task.WhenAll(workers);

        Assert.Equal((threads * perThread).ToString(CultureInfo.InvariantCulture), Text((await store.GetAsync("counter"))!.Data));
    }

    [Fact]
    public async Task Racing_put_if_absent_on_one_key_has_exactly_one_winner()
    {
        var store = CreateStore();
        const int racers = 16;
        // Released together without blocking pool threads (a blocking barrier starves a 2-core pool).
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var attempts = Enumerable.Range(0, racers).Select(i => Task.Run(async () =>
        {
            await start.Task;
            return (Racer: i, Etag: await store.PutIfAbsentAsync("lock/owner", Bytes($"racer {i}")));
        })).ToArray();
        start.SetResult();
        var results = await Task.WhenAll(attempts);

        var winner = Assert.Single(results, r => r.Etag is not null);
        var stored = await store.GetAsync("lock/owner");
        Assert.Equal($"racer {winner.Racer}", Text(stored!.Data));
        Assert.Equal(winner.Etag, stored.Etag);
    }
}
