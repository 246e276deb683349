using System.Text.Json.Nodes;

namespace Floe.Store.Tests;

public sealed class DiffTests
{
    private static long[][] Coords(IEnumerable<long[]> coords) => [.. coords];

    [Fact]
    public async Task Added_removed_and_updated_nodes_are_reported()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var session = await repository.WritableSessionAsync();
        session.CreateGroup("/g");
        session.CreateGroup("/g/inner");
        session.CreateArray("/a", TestData.Int32Array([4], [2]));
        session.CreateArray("/b", TestData.Int32Array([4], [2]));
        var from = await session.CommitAsync("from");

        session.CreateArray("/c", TestData.Int32Array([4], [2]));
        session.CreateGroup("/g/new");
        session.DeleteNode("/b");
        session.DeleteNode("/g/inner");
        session.UpdateAttributes("/g", new JsonObject { ["x"] = 1 });
        session.ResizeArray("/a", [6]);
        var to = await session.CommitAsync("to");

        var diff = await repository.DiffAsync(from, to);

        Assert.Equal(new[] { "/c", "/g/new" }, diff.AddedNodes);
        Assert.Equal(new[] { "/b", "/g/inner" }, diff.DeletedNodes);
        Assert.Equal(new[] { "/a", "/g" }, diff.UpdatedNodes);
        Assert.Empty(diff.Chunks);
        Assert.False(diff.IsEmpty);

        var back = await repository.DiffAsync(to, from);
        Assert.Equal(new[] { "/b", "/g/inner" }, back.AddedNodes);
        Assert.Equal(new[] { "/c", "/g/new" }, back.DeletedNodes);
        Assert.Equal(new[] { "/a", "/g" }, back.UpdatedNodes);
    }

    [Fact]
    public async Task Added_removed_and_modified_chunks_are_reported_per_array()
    {
        var repository = await TestData.NewMemoryRepositoryAsync(new RepositoryOptions { RefsPerShard = 4 });
        var session = await repository.WritableSessionAsync();
        session.CreateArray("/arr", TestData.Int32Array([8, 2], [1, 1]));
        session.CreateArray("/same", TestData.Int32Array([8], [1]));
        foreach (var coords in TestData.GridCoords([8, 2]))
        {
            if (coords[0] < 6)
            {
                await session.WriteChunkAsync("/arr", coords, TestData.Int32Bytes((int)coords[0])); // the row number
            }
        }

        await session.WriteChunkAsync("/same", [3], TestData.Int32Bytes(3));
        var from = await session.CommitAsync("from");

        await session.WriteChunkAsync("/arr", [6, 1], TestData.Int32Bytes(61)); // added
        await session.WriteChunkAsync("/arr", [0, 0], TestData.Int32Bytes(1000)); // modified
        await session.WriteChunkAsync("/arr", [4, 1], TestData.Int32Bytes(4)); // rewritten with the same bytes: unchanged
        session.DeleteChunk("/arr", [2, 1]); // removed
        session.DeleteChunk("/arr", [5, 0]); // removed
        session.SetChunkRef("/arr", [3, 0], new VirtualChunkRef("/data/file.nc", 0, 4)); // modified (now virtual)
        var to = await session.CommitAsync("to");

        var diff = await repository.DiffAsync(from, to);

        Assert.Empty(diff.AddedNodes);
        Assert.Empty(diff.DeletedNodes);
        Assert.Empty(diff.UpdatedNodes);
        var chunks = Assert.Single(diff.Chunks);
        Assert.Equal("/arr", chunks.Path);
        Assert.Equal(new long[][] { [6, 1] }, Coords(chunks.Added));
        Assert.Equal(new long[][] { [2, 1], [5, 0] }, Coords(chunks.Removed));
        Assert.Equal(new long[][] { [0, 0], [3, 0] }, Coords(chunks.Modified));

        var back = Assert.Single((await repository.DiffAsync(to, from)).Chunks);
        Assert.Equal(new long[][] { [2, 1], [5, 0] }, Coords(back.Added));
        Assert.Equal(new long[][] { [6, 1] }, Coords(back.Removed));
        Assert.Equal(new long[][] { [0, 0], [3, 0] }, Coords(back.Modified));
    }

    [Fact]
    public async Task A_snapshot_diffed_with_itself_is_empty()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var session = await repository.WritableSessionAsync();
        session.CreateArray("/arr", TestData.Int32Array([4], [2]));
        await session.WriteChunkAsync("/arr", [1], TestData.Int32Bytes(1, 2));
        var id = await session.CommitAsync("one");

        var diff = await repository.DiffAsync(id, id);

        Assert.True(diff.IsEmpty);
        Assert.Empty(diff.Chunks);
    }

    [Fact]
    public async Task The_chunks_of_added_and_deleted_arrays_are_all_added_or_removed()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var session = await repository.WritableSessionAsync();
        session.CreateArray("/old", TestData.Int32Array([4], [1]));
        await session.WriteChunkAsync("/old", [0], TestData.Int32Bytes(1));
        await session.WriteChunkAsync("/old", [3], TestData.Int32Bytes(2));
        var from = await session.CommitAsync("from");

        session.DeleteNode("/old");
        session.CreateArray("/new", TestData.Int32Array([4], [1]));
        await session.WriteChunkAsync("/new", [2], TestData.Int32Bytes(3));
        session.CreateArray("/empty", TestData.Int32Array([4], [1]));
        var to = await session.CommitAsync("to");

        var diff = await repository.DiffAsync(from, to);

        Assert.Equal(new[] { "/empty", "/new" }, diff.AddedNodes);
        Assert.Equal(new[] { "/old" }, diff.DeletedNodes);
        var byPath = diff.Chunks.ToDictionary(c => c.Path);
        Assert.Equal(new[] { "/new", "/old" }, byPath.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(new long[][] { [2] }, Coords(byPath["/new"].Added));
        Assert.Empty(byPath["/new"].Removed);
        Assert.Equal(new long[][] { [0], [3] }, Coords(byPath["/old"].Removed));
        Assert.Empty(byPath["/old"].Added);
    }

    [Fact]
    public async Task Diffing_across_branches_compares_the_two_snapshots()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var main = await repository.WritableSessionAsync();
        main.CreateArray("/arr", TestData.Int32Array([4], [1]));
        var baseId = await main.CommitAsync("base");
        await repository.CreateBranchAsync("dev", baseId);
        var dev = await repository.WritableSessionAsync("dev");
        await dev.WriteChunkAsync("/arr", [1], TestData.Int32Bytes(1));
        var devId = await dev.CommitAsync("dev");
        await main.WriteChunkAsync("/arr", [2], TestData.Int32Bytes(2));
        var mainId = await main.CommitAsync("main");

        var chunks = Assert.Single((await repository.DiffAsync(mainId, devId)).Chunks);

        Assert.Equal(new long[][] { [1] }, Coords(chunks.Added));
        Assert.Equal(new long[][] { [2] }, Coords(chunks.Removed));
        Assert.Empty(chunks.Modified);
    }
}
