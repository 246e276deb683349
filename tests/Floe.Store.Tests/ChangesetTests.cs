using System.Text.Json.Nodes;
using Floe.Core;
using Floe.Storage;
using Floe.Store.Format;

namespace Floe.Store.Tests;

/// <summary>Changesets: sessions written instead of committed, and merged later into one commit (spec: Changeset).</summary>
public sealed class ChangesetTests
{
    private static readonly ArrayMetadata Grid = TestData.Int32Array([0, 4], [1, 4], fill: -1);

    private static VirtualChunkRef Ref(int file) => new($"file:///data/f{file}.nc", 100 + file, 40);

    // One worker: creates /a like every other worker does, writes virtual refs for rows [from, to) and grows the array.
    private static async Task<Session> WorkerAsync(Repository repository, int from, int to)
    {
        var session = await repository.WritableSessionAsync();
        if (session.FindNode("/a") is null)
        {
            session.CreateArray("/a", Grid, shardShape: [4, 1]);
        }

        session.ResizeArray("/a", [to, 4]);
        for (var row = from; row < to; row++)
        {
            session.SetChunkRef("/a", [row, 0], Ref(row));
        }

        return session;
    }

    [Fact]
    public async Task Parts_written_apart_and_merged_equal_one_commit_of_everything()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        await (await WorkerAsync(repository, 0, 5)).SaveChangesetAsync("job/0-of-2/000000", new Dictionary<string, string> { ["part"] = "0" });
        await (await WorkerAsync(repository, 5, 11)).SaveChangesetAsync("job/1-of-2/000000");

        Assert.Equal(["job/0-of-2/000000", "job/1-of-2/000000"], await repository.ListChangesetsAsync("job/"));
        var first = (await repository.ReadChangesetAsync("job/0-of-2/000000"))!;
        Assert.Equal("0", first.Metadata["part"]);
        Assert.Equal(5, first.RefCount);
        // Nothing is visible on the branch before the merge.
        Assert.Null((await repository.ReadOnlyAsync("main")).FindNode("/a"));

        var merge = await repository.WritableSessionAsync();
        foreach (var name in await repository.ListChangesetsAsync("job/"))
        {
            merge.AddChangeset((await repository.ReadChangesetAsync(name))!);
        }

        var id = await merge.CommitAsync("merge");
        var reader = await repository.ReadOnlyAsync("main");
        Assert.Equal(new long[] { 11, 4 }, reader.GetArrayMetadata("/a").Shape);
        Assert.Equal(11, reader.GetNode("/a").RefCount);
        for (var row = 0; row < 11; row++)
        {
            Assert.Equal(Ref(row), await reader.GetChunkRefAsync("/a", [row, 0]));
        }

        // The log records the delta manifests' extents as boxes, so later writers see what the merge touched.
        var log = await repository.GetTransactionLogAsync(id);
        var change = Assert.Single(log.ChunkChanges);
        Assert.True(change.Touches([10, 0]));
        Assert.False(change.Touches([11, 0]));
    }

    [Fact]
    public async Task A_worker_can_write_one_changeset_per_batch_and_keeps_its_nodes()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var session = await WorkerAsync(repository, 0, 3);
        await session.SaveChangesetAsync("w/1");
        Assert.Equal(0, session.PendingChunkChanges);
        Assert.NotNull(session.FindNode("/a"));

        session.ResizeArray("/a", [6, 4]);
        for (var row = 3; row < 6; row++)
        {
            session.SetChunkRef("/a", [row, 0], Ref(row));
        }

        var second = await session.SaveChangesetAsync("w/2");
        Assert.Equal(3, second.RefCount);
        Assert.Equal(new long[] { 6, 4 }, second.Nodes.Single(n => n.Path == "/a").ArrayMetadata.Shape);

        var merge = await repository.WritableSessionAsync();
        merge.AddChangeset((await repository.ReadChangesetAsync("w/1"))!);
        merge.AddChangeset(second);
        await merge.CommitAsync("merge");
        var reader = await repository.ReadOnlyAsync("main");
        Assert.Equal(6, reader.GetNode("/a").RefCount);
        Assert.Equal(Ref(4), await reader.GetChunkRefAsync("/a", [4, 0]));
    }

    [Fact]
    public async Task Native_chunks_two_parts_both_wrote_keep_both_parts_rows()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var time = TestData.Int32Array([8], [8], fill: -1);
        foreach (var (name, from, to) in new[] { ("t/0", 0, 3), ("t/1", 3, 8) })
        {
            var session = await repository.WritableSessionAsync();
            session.CreateArray("/time", time);
            var rows = Enumerable.Range(0, 8).Select(i => i >= from && i < to ? 1000 + i : -1).ToArray();
            await session.WriteChunkAsync("/time", [0], TestData.Int32Bytes(rows));
            await session.SaveChangesetAsync(name);
        }

        var merge = await repository.WritableSessionAsync();
        merge.AddChangeset((await repository.ReadChangesetAsync("t/0"))!);
        merge.AddChangeset((await repository.ReadChangesetAsync("t/1"))!);
        await merge.CommitAsync("merge");

        var values = TestData.Int32Values(await (await repository.ReadOnlyAsync("main")).ReadChunkAsync("/time", [0]));
        Assert.Equal(Enumerable.Range(1000, 8).ToArray(), values);
    }

    [Fact]
    public async Task A_merge_extends_what_the_branch_already_has()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var setup = await WorkerAsync(repository, 0, 2);
        await setup.CommitAsync("first rows");
        await (await WorkerAsync(repository, 2, 4)).SaveChangesetAsync("more/0");

        var merge = await repository.WritableSessionAsync();
        merge.AddChangeset((await repository.ReadChangesetAsync("more/0"))!);
        await merge.CommitAsync("merge");

        var reader = await repository.ReadOnlyAsync("main");
        Assert.Equal(4, reader.GetNode("/a").RefCount);
        Assert.Equal(Ref(0), await reader.GetChunkRefAsync("/a", [0, 0]));
        Assert.Equal(Ref(3), await reader.GetChunkRefAsync("/a", [3, 0]));
    }

    [Fact]
    public async Task A_concurrent_commit_into_a_merged_box_conflicts_and_one_outside_rebases()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var setup = await repository.WritableSessionAsync();
        setup.CreateArray("/a", Grid with { Shape = [40, 4] }, shardShape: [4, 1]);
        await setup.CommitAsync("array");
        var part = await repository.WritableSessionAsync();
        for (var row = 0; row < 4; row++)
        {
            part.SetChunkRef("/a", [row, 0], Ref(row));
        }

        await part.SaveChangesetAsync("c/0");

        var merge = await repository.WritableSessionAsync();
        merge.AddChangeset((await repository.ReadChangesetAsync("c/0"))!);
        var other = await repository.WritableSessionAsync();
        other.SetChunkRef("/a", [20, 0], Ref(20));
        await other.CommitAsync("elsewhere");
        var rival = await repository.WritableSessionAsync();
        rival.SetChunkRef("/a", [2, 0], Ref(99));
        await rival.CommitAsync("inside the merged rows");

        var ex = await Assert.ThrowsAsync<ConflictException>(() => merge.CommitAsync("merge"));
        Assert.Contains("/a", ex.Message, StringComparison.Ordinal);
        Assert.Equal(Ref(99), await (await repository.ReadOnlyAsync("main")).GetChunkRefAsync("/a", [2, 0]));
    }

    [Fact]
    public async Task A_merge_without_overlap_rebases_over_a_concurrent_commit()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var setup = await repository.WritableSessionAsync();
        setup.CreateArray("/a", Grid with { Shape = [40, 4] }, shardShape: [4, 1]);
        await setup.CommitAsync("array");
        var part = await repository.WritableSessionAsync();
        part.SetChunkRef("/a", [1, 0], Ref(1));
        await part.SaveChangesetAsync("r/0");

        var merge = await repository.WritableSessionAsync();
        merge.AddChangeset((await repository.ReadChangesetAsync("r/0"))!);
        var other = await repository.WritableSessionAsync();
        other.SetChunkRef("/a", [30, 0], Ref(30));
        await other.CommitAsync("elsewhere");
        await merge.CommitAsync("merge");

        var reader = await repository.ReadOnlyAsync("main");
        Assert.Equal(Ref(1), await reader.GetChunkRefAsync("/a", [1, 0]));
        Assert.Equal(Ref(30), await reader.GetChunkRefAsync("/a", [30, 0]));
    }

    [Fact]
    public async Task Changesets_hold_additions_only_and_are_never_overwritten()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var setup = await WorkerAsync(repository, 0, 2);
        await setup.CommitAsync("rows");

        var deleting = await repository.WritableSessionAsync();
        deleting.DeleteChunk("/a", [0, 0]);
        var ex = await Assert.ThrowsAsync<FloeStoreException>(() => deleting.SaveChangesetAsync("d/0"));
        Assert.Contains("additions only", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'/a'", ex.Message, StringComparison.Ordinal);

        var shrinking = await repository.WritableSessionAsync();
        shrinking.ResizeArray("/a", [1, 4]);
        await Assert.ThrowsAsync<FloeStoreException>(() => shrinking.SaveChangesetAsync("d/1"));

        await (await WorkerAsync(repository, 2, 3)).SaveChangesetAsync("d/2");
        var again = await Assert.ThrowsAsync<FloeStoreException>(async () => await (await WorkerAsync(repository, 3, 4)).SaveChangesetAsync("d/2"));
        Assert.Contains("'d/2' already exists", again.Message, StringComparison.Ordinal);
        Assert.Equal(1, (await repository.ReadChangesetAsync("d/2"))!.RefCount);

        Assert.Throws<ArgumentException>(() => Changeset.ValidateName("job//0"));
        Assert.Throws<ArgumentException>(() => Changeset.ValidateName("../x"));
    }

    [Fact]
    public async Task Changesets_that_disagree_on_an_arrays_metadata_do_not_merge()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        await (await WorkerAsync(repository, 0, 2)).SaveChangesetAsync("m/0");
        var odd = await repository.WritableSessionAsync();
        odd.CreateArray("/a", Grid with { Shape = [2, 4], Attributes = new JsonObject { ["units"] = "K" } }, shardShape: [4, 1]);
        await odd.SaveChangesetAsync("m/1");
        var otherShards = await repository.WritableSessionAsync();
        otherShards.CreateArray("/a", Grid, shardShape: [2, 1]);
        await otherShards.SaveChangesetAsync("m/2");

        var merge = await repository.WritableSessionAsync();
        merge.AddChangeset((await repository.ReadChangesetAsync("m/0"))!);
        var units = (await repository.ReadChangesetAsync("m/1"))!;
        var shardShape = (await repository.ReadChangesetAsync("m/2"))!;
        var ex = Assert.Throws<FloeStoreException>(() => merge.AddChangeset(units));
        Assert.Contains("changeset 'm/1': node '/a' has other metadata than in changeset 'm/0'", ex.Message, StringComparison.Ordinal);
        var shards = Assert.Throws<FloeStoreException>(() => merge.AddChangeset(shardShape));
        Assert.Contains("shard shape", shards.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_changeset_round_trips_and_a_damaged_one_is_rejected_naming_it()
    {
        var store = new MemoryObjectStore();
        var repository = await Repository.CreateAsync(store);
        var saved = await (await WorkerAsync(repository, 0, 3)).SaveChangesetAsync("x/0", new Dictionary<string, string> { ["k"] = "v" });
        var read = (await repository.ReadChangesetAsync("x/0"))!;

        Assert.Equal(saved.BaseSnapshotId, read.BaseSnapshotId);
        Assert.Equal(saved.Timestamp.ToUnixTimeMilliseconds(), read.Timestamp.ToUnixTimeMilliseconds());
        Assert.Equal(saved.Nodes.Select(n => n.Path), read.Nodes.Select(n => n.Path));
        Assert.Equal(saved.Nodes.Single(n => n.Path == "/a").Shards.Select(s => s.ManifestId), read.Nodes.Single(n => n.Path == "/a").Shards.Select(s => s.ManifestId));
        Assert.Null(await repository.ReadChangesetAsync("x/9"));

        var bytes = (await store.GetAsync("changesets/x/0"))!.Data.ToArray();
        bytes[^1] ^= 0x55;
        await store.PutAsync("changesets/x/0", bytes);
        var ex = await Assert.ThrowsAnyAsync<CorruptObjectException>(() => repository.ReadChangesetAsync("x/0"));
        Assert.Contains("changesets/x/0", ex.Message, StringComparison.Ordinal);

        var snapshotBytes = (await store.GetAsync(Snapshot.KeyOf(saved.BaseSnapshotId)))!.Data;
        await store.PutAsync("changesets/x/1", snapshotBytes);
        await Assert.ThrowsAnyAsync<CorruptObjectException>(() => repository.ReadChangesetAsync("x/1"));
        Assert.Equal(ObjectType.Changeset, (ObjectType)saved.Encode()[5]);
    }
}
