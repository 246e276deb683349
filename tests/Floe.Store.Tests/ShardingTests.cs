using Floe.Storage;
using Floe.Store.Format;

namespace Floe.Store.Tests;

public sealed class ShardingTests
{
    private static async Task<(MemoryObjectStore Store, Repository Repository, Session Session)> NewAsync(int refsPerShard)
    {
        var store = new MemoryObjectStore();
        var repository = await Repository.CreateAsync(store, new RepositoryOptions { RefsPerShard = refsPerShard });
        return (store, repository, await repository.WritableSessionAsync());
    }

    private static async Task WriteRowsAsync(Session session, string path, long fromRow, long toRow, long columns)
    {
        for (var row = fromRow; row < toRow; row++)
        {
            for (var column = 0L; column < columns; column++)
            {
                await session.WriteChunkAsync(path, [row, column], TestData.Int32Bytes((int)((row * 1000) + column)));
            }
        }
    }

    private static async Task WriteCellsAsync(Session session, string path, long from, long to)
    {
        for (var i = from; i < to; i++)
        {
            await session.WriteChunkAsync(path, [i], TestData.Int32Bytes((int)(i * 1000)));
        }
    }

    [Fact]
    public void The_default_shard_shape_keeps_trailing_dimensions_whole_and_gives_the_first_the_rest()
    {
        Assert.Equal(new long[] { 2621, 25, 1 }, ShardLayout.DefaultShape([17520, 25, 1], 65_536));
        Assert.Equal(new long[] { 2, 4 }, ShardLayout.DefaultShape([40, 4], 8));
        Assert.Equal(new long[] { 65_536 }, ShardLayout.DefaultShape([10], 65_536));
        Assert.Equal(new long[] { 1, 6, 16 }, ShardLayout.DefaultShape([3, 100, 16], 100)); // 16, then 100 / 16 = 6, then 6 / 6 = 1
        Assert.Empty(ShardLayout.DefaultShape([], 8));
    }

    [Fact]
    public async Task A_small_refs_per_shard_spreads_references_over_many_shards()
    {
        var (store, repository, session) = await NewAsync(refsPerShard: 8);
        var node = session.CreateArray("/arr", TestData.Int32Array([40, 4], [1, 1]));
        Assert.Equal(new long[] { 2, 4 }, node.ShardShape);
        await WriteRowsAsync(session, "/arr", 0, 40, 4);
        await session.CommitAsync("160 chunks");

        var committed = await (await Repository.OpenAsync(store)).ReadOnlyAsync("main");
        var arrayNode = committed.GetNode("/arr");
        Assert.Equal(new long[] { 2, 4 }, arrayNode.ShardShape);
        Assert.Equal(20, arrayNode.Shards.Count);
        Assert.Equal(160, arrayNode.RefCount);
        for (var s = 0; s < 20; s++)
        {
            var entry = arrayNode.Shards[s];
            Assert.Equal(new long[] { s, 0 }, entry.ShardCoords);
            Assert.Equal(8, entry.RefCount);
            Assert.Equal(new long[] { 2 * s, 0 }, entry.ExtentMin);
            Assert.Equal(new long[] { (2 * s) + 1, 3 }, entry.ExtentMax);
        }

        Assert.Equal(20, arrayNode.Shards.Select(e => e.ManifestId).Distinct().Count());
        Assert.Equal(20, (await TestData.KeysAsync(store, "manifests/")).Count);
        Assert.Equal(0, repository.ShardLoads); // the commit wrote shards but had none to read
    }

    [Fact]
    public async Task A_partial_shard_records_its_count_and_extent()
    {
        var (_, _, session) = await NewAsync(refsPerShard: 16);
        session.CreateArray("/arr", TestData.Int32Array([8, 8], [1, 1])); // shard shape [2, 8]
        await session.WriteChunkAsync("/arr", [3, 2], TestData.Int32Bytes(1));
        await session.WriteChunkAsync("/arr", [2, 6], TestData.Int32Bytes(2));
        await session.WriteChunkAsync("/arr", [3, 5], TestData.Int32Bytes(3));
        await session.CommitAsync("three chunks in shard [1, 0]");

        var entry = Assert.Single(session.BaseSnapshot.FindNode("/arr")!.Shards);

        Assert.Equal(new long[] { 1, 0 }, entry.ShardCoords);
        Assert.Equal(3, entry.RefCount);
        Assert.Equal(new long[] { 2, 2 }, entry.ExtentMin);
        Assert.Equal(new long[] { 3, 6 }, entry.ExtentMax);
    }

    [Fact]
    public async Task An_append_rewrites_only_the_boundary_and_new_shards()
    {
        // 41 rows of 4 chunks in shards of [2, 4]: shard 20 holds only row 40 until the append fills it.
        var (store, _, session) = await NewAsync(refsPerShard: 8);
        session.CreateArray("/arr", TestData.Int32Array([41, 4], [1, 1]));
        await WriteRowsAsync(session, "/arr", 0, 41, 4);
        await session.CommitAsync("41 rows");
        var before = session.BaseSnapshot.FindNode("/arr")!.Shards.ToList();
        var manifestsBefore = await TestData.KeysAsync(store, "manifests/");
        Assert.Equal(21, before.Count);
        Assert.Equal(4, before[20].RefCount);

        Assert.Equal(41, session.AppendAlong("/arr", 0, 3));
        await WriteRowsAsync(session, "/arr", 41, 44, 4);
        await session.CommitAsync("3 more rows");

        var after = session.BaseSnapshot.FindNode("/arr")!.Shards;
        Assert.Equal(22, after.Count);
        for (var s = 0; s < 20; s++)
        {
            Assert.Equal(before[s].ManifestId, after[s].ManifestId);
        }

        Assert.NotEqual(before[20].ManifestId, after[20].ManifestId);
        Assert.Equal(8, after[20].RefCount);
        Assert.Equal(new long[] { 21, 0 }, after[21].ShardCoords);
        Assert.Equal(8, after[21].RefCount);
        var manifestsAfter = await TestData.KeysAsync(store, "manifests/");
        Assert.Equal(2, manifestsAfter.Except(manifestsBefore).Count());

        // The rewritten boundary shard still holds the old row.
        var reader = await (await Repository.OpenAsync(store)).ReadOnlyAsync("main");
        Assert.Equal(TestData.Int32Bytes(40_003), await reader.ReadChunkAsync("/arr", [40, 3]));
        Assert.Equal(TestData.Int32Bytes(43_002), await reader.ReadChunkAsync("/arr", [43, 2]));
    }

    [Fact]
    public async Task A_commit_to_one_shard_leaves_other_arrays_and_shards_untouched()
    {
        var (store, _, session) = await NewAsync(refsPerShard: 4);
        session.CreateArray("/a", TestData.Int32Array([16], [1]));
        session.CreateArray("/b", TestData.Int32Array([16], [1]));
        await WriteCellsAsync(session, "/a", 0, 16);
        await WriteCellsAsync(session, "/b", 0, 16);
        await session.CommitAsync("two arrays");
        var aBefore = session.BaseSnapshot.FindNode("/a")!.Shards.Select(s => s.ManifestId).ToList();
        var bBefore = session.BaseSnapshot.FindNode("/b")!.Shards.Select(s => s.ManifestId).ToList();
        var manifests = (await TestData.KeysAsync(store, "manifests/")).Count;

        await session.WriteChunkAsync("/a", [9], TestData.Int32Bytes(-9));
        await session.CommitAsync("one chunk");

        var aAfter = session.BaseSnapshot.FindNode("/a")!.Shards.Select(s => s.ManifestId).ToList();
        Assert.Equal(bBefore, session.BaseSnapshot.FindNode("/b")!.Shards.Select(s => s.ManifestId));
        Assert.Equal(new[] { true, true, false, true }, aBefore.Zip(aAfter, (x, y) => x == y));
        Assert.Equal(manifests + 1, (await TestData.KeysAsync(store, "manifests/")).Count);
    }

    [Fact]
    public async Task A_chunk_lookup_in_a_cold_repository_reads_exactly_one_shard()
    {
        var (store, _, session) = await NewAsync(refsPerShard: 8);
        session.CreateArray("/arr", TestData.Int32Array([40, 4], [1, 1]));
        await WriteRowsAsync(session, "/arr", 0, 40, 4);
        await session.CommitAsync("160 chunks in 20 shards");

        var cold = await Repository.OpenAsync(store);
        var reader = await cold.ReadOnlyAsync("main");
        Assert.Equal(0, cold.ShardLoads);

        Assert.Equal(TestData.Int32Bytes(27_002), await reader.ReadChunkAsync("/arr", [27, 2]));
        Assert.Equal(1, cold.ShardLoads);
        // Another chunk of the same shard is served from the cache; one of another shard reads that shard.
        Assert.Equal(TestData.Int32Bytes(26_000), await reader.ReadChunkAsync("/arr", [26, 0]));
        Assert.Equal(1, cold.ShardLoads);
        Assert.Equal(TestData.Int32Bytes(3), await reader.ReadChunkAsync("/arr", [0, 3]));
        Assert.Equal(2, cold.ShardLoads);
    }

    [Fact]
    public async Task A_lookup_where_the_index_has_no_shard_reads_nothing()
    {
        var (store, _, session) = await NewAsync(refsPerShard: 8);
        session.CreateArray("/arr", TestData.Int32Array([40, 4], [1, 1]));
        await session.WriteChunkAsync("/arr", [0, 0], TestData.Int32Bytes(1));
        await session.CommitAsync("one chunk");

        var cold = await Repository.OpenAsync(store);
        var reader = await cold.ReadOnlyAsync("main");

        Assert.Null(await reader.GetChunkRefAsync("/arr", [39, 3]));
        Assert.Equal(0, cold.ShardLoads);
    }

    [Fact]
    public async Task Many_concurrent_readers_of_one_cold_shard_cause_one_load()
    {
        var (store, _, session) = await NewAsync(refsPerShard: 64);
        session.CreateArray("/arr", TestData.Int32Array([64], [1]));
        await WriteCellsAsync(session, "/arr", 0, 64);
        await session.CommitAsync("one shard");

        var cold = await Repository.OpenAsync(store);
        var reader = await cold.ReadOnlyAsync("main");
        var reads = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() => reader.ReadChunkAsync("/arr", [i]))));

        Assert.Equal(1, cold.ShardLoads);
        Assert.Equal(Enumerable.Range(0, 64).Select(i => i * 1000), reads.Select(r => TestData.Int32Values(r)[0]));
    }

    [Fact]
    public async Task Shrinking_drops_emptied_shards_from_the_index()
    {
        var (store, _, session) = await NewAsync(refsPerShard: 8);
        session.CreateArray("/arr", TestData.Int32Array([40, 4], [1, 1]));
        await WriteRowsAsync(session, "/arr", 0, 40, 4);
        await session.CommitAsync("20 shards");

        session.ResizeArray("/arr", [11, 4]);
        await session.CommitAsync("shrunk to 11 rows");

        var node = (await (await Repository.OpenAsync(store)).ReadOnlyAsync("main")).GetNode("/arr");
        Assert.Equal(6, node.Shards.Count);
        Assert.Equal(44, node.RefCount);
        Assert.Equal(4, node.Shards[5].RefCount);
        Assert.Equal(new long[] { 10, 3 }, node.Shards[5].ExtentMax);
    }

    [Fact]
    public async Task An_explicit_shard_shape_is_used_and_an_invalid_one_refused()
    {
        var (_, _, session) = await NewAsync(refsPerShard: 8);

        var node = session.CreateArray("/arr", TestData.Int32Array([10, 10], [1, 1]), shardShape: [5, 2]);

        Assert.Equal(new long[] { 5, 2 }, node.ShardShape);
        Assert.Throws<ArgumentException>(() => session.CreateArray("/bad1", TestData.Int32Array([10, 10], [1, 1]), shardShape: [5]));
        Assert.Throws<ArgumentException>(() => session.CreateArray("/bad2", TestData.Int32Array([10, 10], [1, 1]), shardShape: [0, 2]));
        Assert.Throws<ArgumentException>(() => session.CreateArray("/bad3", TestData.Int32Array([10, 10], [1, 1]), shardShape: [1 << 20, 1 << 20]));
        Assert.Null(session.FindNode("/bad1"));
    }

    [Fact]
    public async Task The_shard_shape_is_fixed_at_creation_so_growing_never_moves_a_chunk()
    {
        var (_, _, session) = await NewAsync(refsPerShard: 8);
        session.CreateArray("/arr", TestData.Int32Array([4, 2], [1, 1])); // shard shape [4, 2]
        await WriteRowsAsync(session, "/arr", 0, 4, 2);
        await session.CommitAsync("one shard");
        var first = Assert.Single(session.BaseSnapshot.FindNode("/arr")!.Shards).ManifestId;

        session.ResizeArray("/arr", [4, 100]);
        await session.WriteChunkAsync("/arr", [0, 99], TestData.Int32Bytes(99));
        await session.CommitAsync("grown along dimension 1");

        var node = session.BaseSnapshot.FindNode("/arr")!;
        Assert.Equal(new long[] { 4, 2 }, node.ShardShape);
        Assert.Equal(first, node.Shards[0].ManifestId);
        Assert.Equal(new long[] { 0, 49 }, node.Shards[1].ShardCoords);
    }

    [Fact]
    public async Task A_missing_manifest_fails_naming_the_key_and_the_array()
    {
        var (store, _, session) = await NewAsync(refsPerShard: 8);
        session.CreateArray("/arr", TestData.Int32Array([4], [1]));
        await session.WriteChunkAsync("/arr", [0], TestData.Int32Bytes(1));
        await session.CommitAsync("one chunk");
        var manifest = ManifestShard.KeyOf(Assert.Single(session.BaseSnapshot.FindNode("/arr")!.Shards).ManifestId);
        await store.DeleteAsync(manifest);

        var reader = await (await Repository.OpenAsync(store)).ReadOnlyAsync("main");
        var ex = await Assert.ThrowsAsync<MissingObjectException>(() => reader.ReadChunkAsync("/arr", [0]));

        Assert.Contains(manifest, ex.Message, StringComparison.Ordinal);
        Assert.Contains("'/arr'", ex.Message, StringComparison.Ordinal);
    }
}
