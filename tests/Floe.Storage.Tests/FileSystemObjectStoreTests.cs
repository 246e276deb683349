using System.Security.Cryptography;

namespace Floe.Storage.Tests;

public sealed class FileSystemObjectStoreTests : ObjectStoreConformanceTests, IDisposable
{
    private readonly TempDirectory _root = new();

    protected override IObjectStore CreateStore() => new FileSystemObjectStore(_root.Path);

    // Every successful compare-and-swap costs two fsyncs here; 8 x 100 keeps the suite fast and still contends.
    protected override int IncrementsPerThread => 100;

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Key_a_b_c_is_the_file_root_a_b_c()
    {
        var store = new FileSystemObjectStore(_root.Path);
        await store.PutAsync("a/b/c", Bytes("content"));

        Assert.Equal("content", File.ReadAllText(_root.Combine("a/b/c")));
        Assert.Equal("file://" + _root.Path, store.Description);
    }

    [Fact]
    public async Task Etag_is_the_hex_of_the_first_16_bytes_of_the_sha256_of_the_content()
    {
        var store = new FileSystemObjectStore(_root.Path);
        var content = Bytes("etag me");
        var expected = Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 16));

        Assert.Equal(expected, await store.PutAsync("k", content));
        Assert.Equal(expected, (await store.GetAsync("k"))!.Etag);
        Assert.Equal(expected, FileSystemObjectStore.ComputeEtag(content));
        // Equal content is equal state: the same bytes written again keep the etag.
        Assert.Equal(expected, await store.PutAsync("k", content));
    }

    [Fact]
    public async Task A_leftover_temp_file_from_a_crashed_write_is_invisible()
    {
        var store = new FileSystemObjectStore(_root.Path);
        await store.PutAsync("dir/real", Bytes("whole"));
        // What a writer that died between creating and renaming its temp file leaves behind.
        File.WriteAllText(_root.Combine("dir/.tmp-0123456789abcdef"), "partial");
        File.WriteAllText(_root.Combine(".tmp-fedcba9876543210"), "partial");

        Assert.Equal(["dir/real"], (await store.ListAsync("")).Keys);
        Assert.Equal(["dir/real"], (await store.ListAsync("dir/")).Keys);
        Assert.Empty((await store.ListAsync("dir/.")).Keys);
        Assert.Equal("whole", Text((await store.GetAsync("dir/real"))!.Data));
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync("dir/.tmp-0123456789abcdef").AsTask());
        Assert.Contains("\"dir/.tmp-0123456789abcdef\"", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Writes_leave_no_temp_files_behind()
    {
        var store = new FileSystemObjectStore(_root.Path);
        var etag = await store.PutAsync("d/k", Bytes("1"));
        await store.PutIfMatchAsync("d/k", Bytes("2"), etag);
        await store.PutIfMatchAsync("d/k", Bytes("3"), etag);
        await store.PutIfAbsentAsync("d/k", Bytes("4"));
        await store.PutIfAbsentAsync("d/n", Bytes("5"));

        Assert.Equal(["k", "n"], Directory.GetFileSystemEntries(_root.Combine("d")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_lock_directory_is_not_listed_and_not_a_valid_key()
    {
        var store = new FileSystemObjectStore(_root.Path);
        var etag = await store.PutAsync("k", Bytes("1"));
        await store.PutIfMatchAsync("k", Bytes("2"), etag);

        Assert.NotEmpty(Directory.GetFiles(_root.Combine(FileSystemObjectStore.LockDirectoryName)));
        Assert.Equal(["k"], (await store.ListAsync("")).Keys);
        Assert.Empty((await store.ListAsync(".lo")).Keys);
        await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync(".locks/x", Bytes("x")).AsTask());
    }

    [Fact]
    public async Task Objects_survive_reopening_the_store()
    {
        var etag = await new FileSystemObjectStore(_root.Path).PutAsync("refs/main", Bytes("commit-1"));

        var reopened = new FileSystemObjectStore(_root.Path);
        var read = await reopened.GetAsync("refs/main");

        Assert.Equal("commit-1", Text(read!.Data));
        Assert.Equal(etag, read.Etag);
        Assert.NotNull(await reopened.PutIfMatchAsync("refs/main", Bytes("commit-2"), etag));
    }

    [Fact]
    public async Task Two_store_instances_on_one_root_exclude_each_other()
    {
        var first = new FileSystemObjectStore(_root.Path);
        var second = new FileSystemObjectStore(_root.Path);
        var etag = await first.PutAsync("k", Bytes("v1"));

        var won = await first.PutIfMatchAsync("k", Bytes("v2-first"), etag);
        var lost = await second.PutIfMatchAsync("k", Bytes("v2-second"), etag);

        Assert.NotNull(won);
        Assert.Null(lost);
        Assert.Equal("v2-first", Text((await second.GetAsync("k"))!.Data));
    }

    [Fact]
    public async Task A_directory_or_a_path_through_a_file_is_not_an_object()
    {
        var store = new FileSystemObjectStore(_root.Path);
        await store.PutAsync("a/b", Bytes("x"));

        Assert.Null(await store.GetAsync("a"));
        Assert.Null(await store.GetAsync("a/b/c"));
        Assert.False(await store.DeleteAsync("a"));
        Assert.Empty((await store.ListAsync("a/b/")).Keys);
        Assert.Null(await store.PutIfAbsentAsync("a", Bytes("dir is there")));
    }

    [Fact]
    public async Task Writing_below_an_existing_object_fails_naming_the_key_and_root()
    {
        var store = new FileSystemObjectStore(_root.Path);
        await store.PutAsync("a", Bytes("x"));

        var ex = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("a/b", Bytes("y")).AsTask());

        Assert.Contains("\"a/b\"", ex.Message, StringComparison.Ordinal);
        Assert.Contains(_root.Path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ranged_read_of_a_large_object_returns_a_weak_etag_that_never_matches()
    {
        var store = new FileSystemObjectStore(_root.Path);
        var content = new byte[FileSystemObjectStore.RangeEtagHashLimit + 10];
        Random.Shared.NextBytes(content);
        var etag = await store.PutAsync("big", content);

        var range = await store.GetRangeAsync("big", 1000, 16);

        Assert.Equal(content.AsSpan(1000, 16).ToArray(), range!.Data.ToArray());
        Assert.StartsWith("W/", range.Etag, StringComparison.Ordinal);
        Assert.Null(await store.PutIfMatchAsync("big", Bytes("x"), range.Etag));
        Assert.Equal(etag, (await store.GetAsync("big"))!.Etag);
    }

    [Fact]
    public async Task Unflushed_store_still_writes_atomically()
    {
        var store = new FileSystemObjectStore(_root.Path, flushToDisk: false);
        var etag = await store.PutAsync("k", Bytes("v1"));
        Assert.NotNull(await store.PutIfMatchAsync("k", Bytes("v2"), etag));
        Assert.Equal("v2", Text((await store.GetAsync("k"))!.Data));
    }
}
