using Floe.Storage;
using Floe.Store.Format;

namespace Floe.Store.Tests;

/// <summary>
/// A store may apply a branch update and lose the answer, then report the condition failed on its retry (Azure Blob
/// over a dropped connection). The commit must still count as landed, exactly once.
/// </summary>
public sealed class LostAnswerTests
{
    [Fact]
    public async Task A_commit_whose_branch_update_answer_was_lost_lands_once_even_with_another_commit_on_top()
    {
        var store = new LosingStore(new MemoryObjectStore());
        var repository = await Repository.CreateAsync(store);
        var setup = await repository.WritableSessionAsync();
        setup.CreateArray("/grid", TestData.Int32Array([4, 1], [1, 1]));
        await setup.CommitAsync("grid");
        var session = await repository.WritableSessionAsync();

        store.LoseNext = true;
        await session.WriteChunkAsync("/grid", [0, 0], TestData.Int32Bytes(10));
        var first = await session.CommitAsync("first");

        ObjectId? theirs = null;
        store.LoseNext = true;
        store.AfterLoss = async () =>
        {
            var other = await repository.WritableSessionAsync();
            await other.WriteChunkAsync("/grid", [1, 0], TestData.Int32Bytes(11));
            theirs = await other.CommitAsync("theirs");
        };
        await session.WriteChunkAsync("/grid", [2, 0], TestData.Int32Bytes(12));
        var second = await session.CommitAsync("second");

        await session.WriteChunkAsync("/grid", [3, 0], TestData.Int32Bytes(13));
        var third = await session.CommitAsync("third");

        Assert.Equal(2, store.Lost);
        var log = await TestData.LogAsync(repository);
        Assert.Equal(["third", "theirs", "second", "first", "grid"], log.Take(5).Select(s => s.Message));
        Assert.Equal([third, theirs!.Value, second, first], log.Take(4).Select(s => s.Id));
        var reader = await repository.ReadOnlyAsync("main");
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(10 + i, TestData.Int32Values(await reader.ReadChunkAsync("/grid", [i, 0]))[0]);
        }
    }

    [Fact]
    public async Task A_lost_answer_on_the_last_allowed_attempt_still_counts_as_landed()
    {
        var store = new LosingStore(new MemoryObjectStore());
        var repository = await Repository.CreateAsync(store, new RepositoryOptions { MaxCommitAttempts = 1 });
        var session = await repository.WritableSessionAsync();
        session.CreateArray("/a", TestData.Int32Array([1], [1]));

        store.LoseNext = true;
        var id = await session.CommitAsync("only try");

        Assert.Equal(id, (await TestData.LogAsync(repository))[0].Id);
    }

    /// <summary>Applies the next branch update, then answers as if its condition had failed.</summary>
    private sealed class LosingStore(IObjectStore inner) : IObjectStore
    {
        public bool LoseNext { get; set; }

        public Func<Task>? AfterLoss { get; set; }

        public int Lost { get; private set; }

        public string Description => inner.Description;

        public ValueTask<StoredObject?> GetAsync(string key, CancellationToken cancellationToken = default) => inner.GetAsync(key, cancellationToken);

        public ValueTask<StoredObject?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default) =>
            inner.GetRangeAsync(key, offset, length, cancellationToken);

        public ValueTask<string> PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => inner.PutAsync(key, data, cancellationToken);

        public ValueTask<string?> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
            inner.PutIfAbsentAsync(key, data, cancellationToken);

        public async ValueTask<string?> PutIfMatchAsync(string key, ReadOnlyMemory<byte> data, string expectedEtag, CancellationToken cancellationToken = default)
        {
            var etag = await inner.PutIfMatchAsync(key, data, expectedEtag, cancellationToken);
            if (!LoseNext || etag is null || !key.StartsWith(RefObject.BranchPrefix, StringComparison.Ordinal))
            {
                return etag;
            }

            LoseNext = false;
            Lost++;
            if (AfterLoss is { } after)
            {
                AfterLoss = null;
                await after();
            }

            return null;
        }

        public ValueTask<ListPage> ListAsync(string prefix, string? continuationToken = null, int pageSize = 1000, CancellationToken cancellationToken = default) =>
            inner.ListAsync(prefix, continuationToken, pageSize, cancellationToken);

        public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);
    }
}
