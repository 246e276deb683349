using System.Text.Json.Nodes;
using Floe.Storage;
using Floe.Store.Format;

namespace Floe.Store.Tests;

public sealed class ConflictTests
{
    // A repository with an int32 array "/arr" of 4 x 4 chunks of one element, and two sessions opened on its tip.
    private static async Task<(Repository Repository, ObjectId Base, Session First, Session Second)> TwoSessionsAsync(RepositoryOptions? options = null)
    {
        var repository = await TestData.NewMemoryRepositoryAsync(options);
        var setup = await repository.WritableSessionAsync();
        setup.CreateGroup("/g");
        setup.CreateArray("/arr", TestData.Int32Array([4, 4], [1, 1]));
        setup.CreateArray("/g/other", TestData.Int32Array([4], [1]));
        await setup.WriteChunkAsync("/arr", [0, 0], TestData.Int32Bytes(100));
        var baseId = await setup.CommitAsync("base");
        return (repository, baseId, await repository.WritableSessionAsync(), await repository.WritableSessionAsync());
    }

    private static async Task<int> ReadAsync(NodeReader reader, string path, params long[] coords) =>
        TestData.Int32Values(await reader.ReadChunkAsync(path, coords))[0];

    private static async Task<ObjectId> TipAsync(Repository repository) => (await repository.ReadBranchAsync("main")).Snapshot;

    [Fact]
    public async Task Disjoint_chunk_writes_from_two_sessions_both_commit_and_the_second_rebases()
    {
        var (repository, baseId, first, second) = await TwoSessionsAsync();
        await first.WriteChunkAsync("/arr", [1, 1], TestData.Int32Bytes(11));
        await second.WriteChunkAsync("/arr", [2, 2], TestData.Int32Bytes(22));
        second.DeleteChunk("/arr", [3, 3]);

        var firstId = await first.CommitAsync("first");
        var secondId = await second.CommitAsync("second");

        var log = await TestData.LogAsync(repository);
        Assert.Equal(new[] { secondId, firstId, baseId }, log.Take(3).Select(s => s.Id));
        Assert.Equal(firstId, log[0].ParentId);
        var reader = await (await Repository.OpenAsync(repository.Store)).ReadOnlyAsync("main");
        Assert.Equal(100, await ReadAsync(reader, "/arr", 0, 0));
        Assert.Equal(11, await ReadAsync(reader, "/arr", 1, 1));
        Assert.Equal(22, await ReadAsync(reader, "/arr", 2, 2));
        Assert.Equal(3, reader.GetNode("/arr").RefCount);
        // The rebased session now sits on its own commit and sees the first session's chunk.
        Assert.Equal(secondId, second.BaseSnapshot.Id);
        Assert.Equal(11, await ReadAsync(second, "/arr", 1, 1));
    }

    [Fact]
    public async Task Disjoint_node_changes_from_two_sessions_both_commit()
    {
        var (repository, _, first, second) = await TwoSessionsAsync();
        first.CreateGroup("/x");
        first.UpdateAttributes("/g", new JsonObject { ["by"] = "first" });
        second.CreateArray("/y", TestData.Int32Array([2], [1]));
        second.DeleteNode("/g/other");
        await second.WriteChunkAsync("/arr", [3, 0], TestData.Int32Bytes(30));

        await first.CommitAsync("first");
        await second.CommitAsync("second");

        var reader = await repository.ReadOnlyAsync("main");
        Assert.Equal(new[] { "/", "/arr", "/g", "/x", "/y" }, reader.Snapshot.Nodes.Select(n => n.Path));
        Assert.Equal("first", reader.GetNode("/g").GroupMetadata.Attributes["by"]!.GetValue<string>());
        Assert.Equal(30, await ReadAsync(reader, "/arr", 3, 0));
    }

    [Fact]
    public async Task Writing_the_same_chunk_conflicts_naming_array_and_coordinates_and_leaves_the_branch_at_the_winner()
    {
        var (repository, baseId, first, second) = await TwoSessionsAsync();
        await first.WriteChunkAsync("/arr", [1, 2], TestData.Int32Bytes(1));
        await second.WriteChunkAsync("/arr", [1, 2], TestData.Int32Bytes(2));
        await second.WriteChunkAsync("/arr", [0, 3], TestData.Int32Bytes(3));
        var firstId = await first.CommitAsync("first");

        var ex = await Assert.ThrowsAsync<ConflictException>(() => second.CommitAsync("second"));

        Assert.Equal("main", ex.Branch);
        Assert.Contains("'main'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("/arr", ex.Message, StringComparison.Ordinal);
        Assert.Contains("[1, 2]", ex.Message, StringComparison.Ordinal);
        var conflict = Assert.Single(ex.Conflicts);
        Assert.Equal("/arr", conflict.Path);
        Assert.Equal(new long[][] { [1, 2] }, conflict.Chunks!.ToArray());
        Assert.Equal(firstId, await TipAsync(repository));
        Assert.Equal(new[] { firstId, baseId }, (await TestData.LogAsync(repository)).Take(2).Select(s => s.Id));
        Assert.Equal(1, await ReadAsync(await repository.ReadOnlyAsync("main"), "/arr", 1, 2));
        Assert.Null(await (await repository.ReadOnlyAsync("main")).GetChunkRefAsync("/arr", [0, 3]));
    }

    [Fact]
    public async Task Deleting_a_chunk_the_other_side_wrote_conflicts()
    {
        var (_, _, first, second) = await TwoSessionsAsync();
        await first.WriteChunkAsync("/arr", [0, 0], TestData.Int32Bytes(5));
        second.DeleteChunk("/arr", [0, 0]);
        await first.CommitAsync("first");

        var ex = await Assert.ThrowsAsync<ConflictException>(() => second.CommitAsync("second"));

        Assert.Equal(new long[][] { [0, 0] }, Assert.Single(ex.Conflicts).Chunks!.ToArray());
    }

    [Fact]
    public async Task Deleting_an_array_the_other_side_writes_conflicts_whichever_commits_first()
    {
        foreach (var deleterFirst in new[] { true, false })
        {
            var (repository, _, deleter, writer) = await TwoSessionsAsync();
            deleter.DeleteNode("/arr");
            await writer.WriteChunkAsync("/arr", [2, 2], TestData.Int32Bytes(9));
            var (winner, loser) = deleterFirst ? (deleter, writer) : (writer, deleter);
            var winnerId = await winner.CommitAsync("winner");

            var ex = await Assert.ThrowsAsync<ConflictException>(() => loser.CommitAsync("loser"));

            Assert.Equal("/arr", Assert.Single(ex.Conflicts).Path);
            Assert.Contains("/arr", ex.Message, StringComparison.Ordinal);
            Assert.Equal(winnerId, await TipAsync(repository));
        }
    }

    [Fact]
    public async Task Deleting_a_group_while_the_other_side_writes_below_it_conflicts()
    {
        var (_, _, deleter, writer) = await TwoSessionsAsync();
        deleter.DeleteNode("/g");
        await writer.WriteChunkAsync("/g/other", [1], TestData.Int32Bytes(1));
        writer.CreateGroup("/g/new");
        await writer.CommitAsync("writer");

        var ex = await Assert.ThrowsAsync<ConflictException>(() => deleter.CommitAsync("deleter"));

        Assert.Contains(ex.Conflicts, c => c.Path == "/g");
        Assert.Contains(ex.Conflicts, c => c.Path == "/g/other");
    }

    [Fact]
    public async Task Creating_the_same_path_on_both_sides_conflicts()
    {
        var (repository, _, first, second) = await TwoSessionsAsync();
        first.CreateGroup("/same");
        second.CreateArray("/same", TestData.Int32Array([2], [1]));
        var firstId = await first.CommitAsync("first");

        var ex = await Assert.ThrowsAsync<ConflictException>(() => second.CommitAsync("second"));

        var conflict = Assert.Single(ex.Conflicts);
        Assert.Equal("/same", conflict.Path);
        Assert.Contains("created here and by a concurrent commit", conflict.Reason, StringComparison.Ordinal);
        Assert.Equal(firstId, await TipAsync(repository));
        Assert.Equal(NodeKind.Group, (await repository.ReadOnlyAsync("main")).GetNode("/same").Kind);
    }

    [Fact]
    public async Task Changing_metadata_while_the_other_side_writes_chunks_conflicts()
    {
        var (_, _, resizer, writer) = await TwoSessionsAsync();
        resizer.AppendAlong("/arr", 0, 4);
        await writer.WriteChunkAsync("/arr", [3, 3], TestData.Int32Bytes(1));
        await writer.CommitAsync("writer");

        var ex = await Assert.ThrowsAsync<ConflictException>(() => resizer.CommitAsync("resizer"));

        Assert.Equal("/arr", Assert.Single(ex.Conflicts).Path);
    }

    [Fact]
    public async Task Updating_the_same_attributes_on_both_sides_conflicts()
    {
        var (_, _, first, second) = await TwoSessionsAsync();
        first.UpdateAttributes("/g", new JsonObject { ["v"] = 1 });
        second.UpdateAttributes("/g", new JsonObject { ["v"] = 2 });
        await first.CommitAsync("first");

        var ex = await Assert.ThrowsAsync<ConflictException>(() => second.CommitAsync("second"));

        Assert.Equal("/g", Assert.Single(ex.Conflicts).Path);
    }

    [Fact]
    public async Task A_failed_commit_leaves_no_new_snapshot_reachable_from_any_ref()
    {
        var (repository, baseId, first, second) = await TwoSessionsAsync();
        await first.WriteChunkAsync("/arr", [1, 1], TestData.Int32Bytes(1));
        await second.WriteChunkAsync("/arr", [1, 1], TestData.Int32Bytes(2));
        var firstId = await first.CommitAsync("first");
        var snapshotsBefore = await TestData.KeysAsync(repository.Store, "snapshots/");

        await Assert.ThrowsAsync<ConflictException>(() => second.CommitAsync("second"));

        // The loser wrote a snapshot for its attempt, but no ref leads to it.
        var written = (await TestData.KeysAsync(repository.Store, "snapshots/")).Except(snapshotsBefore).ToList();
        Assert.Single(written);
        var reachable = new HashSet<string>();
        foreach (var branch in await repository.ListBranchesAsync())
        {
            foreach (var snapshot in await TestData.LogAsync(repository, $"branch:{branch}"))
            {
                reachable.Add(Snapshot.KeyOf(snapshot.Id));
            }
        }

        Assert.DoesNotContain(written[0], reachable);
        Assert.Equal(new[] { firstId, baseId }, (await TestData.LogAsync(repository)).Take(2).Select(s => s.Id));
        Assert.DoesNotContain((await TestData.LogAsync(repository)).Select(s => s.Message), m => m == "second");
    }

    [Fact]
    public async Task A_session_keeps_its_changes_after_a_conflict_and_a_retry_fails_again()
    {
        var (repository, _, first, second) = await TwoSessionsAsync();
        await first.WriteChunkAsync("/arr", [1, 1], TestData.Int32Bytes(1));
        await second.WriteChunkAsync("/arr", [1, 1], TestData.Int32Bytes(2));
        var firstId = await first.CommitAsync("first");
        await Assert.ThrowsAsync<ConflictException>(() => second.CommitAsync("second"));

        Assert.True(second.HasChanges);
        Assert.Equal(2, await ReadAsync(second, "/arr", 1, 1));
        await Assert.ThrowsAsync<ConflictException>(() => second.CommitAsync("second again"));
        Assert.Equal(firstId, await TipAsync(repository));
    }

    [Fact]
    public async Task A_branch_reset_behind_the_sessions_base_fails_the_commit()
    {
        var (repository, baseId, _, second) = await TwoSessionsAsync();
        var root = (await TestData.LogAsync(repository))[^1].Id;
        await repository.ResetBranchAsync("main", root, expected: baseId);
        await second.WriteChunkAsync("/arr", [1, 1], TestData.Int32Bytes(2));

        var ex = await Assert.ThrowsAsync<ConflictException>(() => second.CommitAsync("second"));

        Assert.Contains("reset", ex.Message, StringComparison.Ordinal);
        Assert.Equal(root, await TipAsync(repository));
    }

    [Fact]
    public async Task A_branch_reset_to_the_sessions_own_base_lets_the_commit_through()
    {
        var (repository, baseId, _, second) = await TwoSessionsAsync();
        await repository.ResetBranchAsync("main", baseId, expected: baseId); // moves the ref (new etag), same snapshot
        await second.WriteChunkAsync("/arr", [1, 1], TestData.Int32Bytes(2));

        var id = await second.CommitAsync("second");

        Assert.Equal(baseId, (await repository.GetSnapshotAsync(id)).ParentId);
        Assert.Equal(id, await TipAsync(repository));
    }

    [Fact]
    public async Task A_commit_racing_a_stream_of_disjoint_commits_rebases_over_all_of_them()
    {
        var (repository, _, first, second) = await TwoSessionsAsync();
        for (var i = 0; i < 3; i++)
        {
            await first.WriteChunkAsync("/arr", [1, i], TestData.Int32Bytes(10 + i));
            await first.CommitAsync($"first {i}");
        }

        await second.WriteChunkAsync("/arr", [3, 3], TestData.Int32Bytes(33));
        var secondId = await second.CommitAsync("second");

        var log = await TestData.LogAsync(repository);
        Assert.Equal(secondId, log[0].Id);
        Assert.Equal(new[] { "second", "first 2", "first 1", "first 0", "base" }, log.Take(5).Select(s => s.Message));
        var reader = await repository.ReadOnlyAsync("main");
        Assert.Equal(12, await ReadAsync(reader, "/arr", 1, 2));
        Assert.Equal(33, await ReadAsync(reader, "/arr", 3, 3));
    }

    [Fact]
    public async Task A_commit_gives_up_after_the_configured_number_of_attempts()
    {
        // A store whose branch compare-and-swap always loses: every attempt rebases onto an unchanged tip.
        var store = new LosingStore();
        var repository = await Repository.CreateAsync(store, new RepositoryOptions { MaxCommitAttempts = 3 });
        var session = await repository.WritableSessionAsync();
        session.CreateGroup("/g");
        store.LoseBranchMoves = true;

        var ex = await Assert.ThrowsAsync<BranchContentionException>(() => session.CommitAsync("never"));

        Assert.Contains("gave up after 3 attempts", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, store.BranchMoves);
    }

    /// <summary>A memory store that can refuse every conditional move of a branch, as if another writer always won.</summary>
    private sealed class LosingStore : IObjectStore
    {
        private readonly MemoryObjectStore _inner = new();

        public bool LoseBranchMoves { get; set; }

        public int BranchMoves { get; private set; }

        public string Description => "losing memory";

        public ValueTask<StoredObject?> GetAsync(string key, CancellationToken cancellationToken = default) => _inner.GetAsync(key, cancellationToken);

        public ValueTask<StoredObject?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default) =>
            _inner.GetRangeAsync(key, offset, length, cancellationToken);

        public ValueTask<string> PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => _inner.PutAsync(key, data, cancellationToken);

        public ValueTask<string?> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
            _inner.PutIfAbsentAsync(key, data, cancellationToken);

        public ValueTask<string?> PutIfMatchAsync(string key, ReadOnlyMemory<byte> data, string expectedEtag, CancellationToken cancellationToken = default)
        {
            if (LoseBranchMoves && key.StartsWith(RefObject.BranchPrefix, StringComparison.Ordinal))
            {
                BranchMoves++;
                return ValueTask.FromResult<string?>(null);
            }

            return _inner.PutIfMatchAsync(key, data, expectedEtag, cancellationToken);
        }

        public ValueTask<ListPage> ListAsync(string prefix, string? continuationToken = null, int pageSize = 1000, CancellationToken cancellationToken = default) =>
            _inner.ListAsync(prefix, continuationToken, pageSize, cancellationToken);

        public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => _inner.DeleteAsync(key, cancellationToken);
    }
}
