using System.Text.Json.Nodes;
using Floe.Core;
using Floe.Storage;

namespace Floe.Store.Tests;

public sealed class SessionTests
{
    private static async Task<(Repository Repository, Session Session)> NewSessionAsync(RepositoryOptions? options = null)
    {
        var repository = await TestData.NewMemoryRepositoryAsync(options);
        return (repository, await repository.WritableSessionAsync());
    }

    private static string[] Paths(IEnumerable<Node> nodes) => [.. nodes.Select(n => n.Path)];

    [Fact]
    public async Task Groups_and_arrays_are_created_under_existing_groups()
    {
        var (_, session) = await NewSessionAsync();

        var group = session.CreateGroup("/g", new JsonObject { ["title"] = "G" });
        var array = session.CreateArray("g/a", TestData.Int32Array([10], [5]));
        session.CreateGroup("/g/sub/");

        Assert.Equal("/g", group.Path);
        Assert.Equal(NodeKind.Group, group.Kind);
        Assert.Equal("/g/a", array.Path);
        Assert.Equal(NodeKind.Array, array.Kind);
        Assert.Equal(new[] { "/g/a", "/g/sub" }, Paths(session.ListChildren("/g")));
        Assert.Equal("G", session.GetNode("/g").GroupMetadata.Attributes["title"]!.GetValue<string>());
        Assert.Equal(new long[] { 10 }, session.GetArrayMetadata("/g/a").Shape);
    }

    [Fact]
    public async Task A_node_needs_an_existing_parent_group()
    {
        var (_, session) = await NewSessionAsync();
        session.CreateArray("/a", TestData.Int32Array([10], [5]));

        var missing = Assert.Throws<NodeNotFoundException>(() => session.CreateArray("/missing/a", TestData.Int32Array([10], [5])));
        var underArray = Assert.Throws<NodeNotFoundException>(() => session.CreateGroup("/a/g"));

        Assert.Equal("/missing", missing.Path);
        Assert.Contains("parent group of '/missing/a' does not exist", missing.Message, StringComparison.Ordinal);
        Assert.Equal("/a", underArray.Path);
        Assert.Contains("is an array", underArray.Message, StringComparison.Ordinal);
        Assert.Equal(new[] { "/a" }, Paths(session.ListChildren("/")));
    }

    [Fact]
    public async Task Creating_an_existing_node_fails_before_and_after_commit()
    {
        var (_, session) = await NewSessionAsync();
        session.CreateGroup("/g");

        Assert.Equal("/g", Assert.Throws<NodeExistsException>(() => session.CreateArray("/g", TestData.Int32Array([1], [1]))).Path);
        await session.CommitAsync("g");
        Assert.Equal("/g", Assert.Throws<NodeExistsException>(() => session.CreateGroup("/g")).Path);
        Assert.Equal("/", Assert.Throws<NodeExistsException>(() => session.CreateGroup("/")).Path);
    }

    [Theory]
    [InlineData("/a//b")]
    [InlineData("/./a")]
    [InlineData("/a/..")]
    [InlineData("/a\u0001b")]
    public async Task Invalid_node_paths_are_rejected_naming_the_path(string path)
    {
        var (_, session) = await NewSessionAsync();

        var ex = Assert.Throws<ArgumentException>(() => session.CreateGroup(path));

        Assert.Contains($"invalid node path '{path}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Children_are_listed_in_path_order_direct_children_only_before_and_after_commit()
    {
        var (repository, session) = await NewSessionAsync();
        session.CreateGroup("/b");
        session.CreateGroup("/a");
        session.CreateArray("/a/x", TestData.Int32Array([2], [1]));
        session.CreateGroup("/a/y");
        session.CreateArray("/a/y/deep", TestData.Int32Array([2], [1]));
        session.CreateArray("/c", TestData.Int32Array([2], [1]));

        Assert.Equal(new[] { "/a", "/b", "/c" }, Paths(session.ListChildren("/")));
        await session.CommitAsync("tree");
        session.CreateGroup("/a/z");

        Assert.Equal(new[] { "/a", "/b", "/c" }, Paths(session.ListChildren("/")));
        Assert.Equal(new[] { "/a/x", "/a/y", "/a/z" }, Paths(session.ListChildren("/a")));
        var reader = await repository.ReadOnlyAsync("main");
        Assert.Equal(new[] { "/a/x", "/a/y" }, Paths(reader.ListChildren("/a")));
        Assert.Equal(new[] { "/a", "/a/x", "/a/y", "/a/y/deep", "/b", "/c" }, Paths(reader.Walk()));
        Assert.Equal("/a/x", Assert.Throws<NodeNotFoundException>(() => reader.ListChildren("/a/x")).Path);
    }

    [Fact]
    public async Task Siblings_whose_names_extend_another_siblings_name_are_all_listed()
    {
        // Ordinal order puts "/a-b" and "/a.c" between "/a" and "/a/x" ('-' and '.' sort before '/').
        var (repository, session) = await NewSessionAsync();
        foreach (var path in new[] { "/a", "/a/x", "/a-b", "/a.c", "/a.c/y", "/ab", "/a b" })
        {
            session.CreateGroup(path);
        }

        await session.CommitAsync("siblings");

        var expected = new[] { "/a", "/a b", "/a-b", "/a.c", "/ab" };
        var reader = await repository.ReadOnlyAsync("main");
        Assert.Equal(expected, Paths(reader.ListChildren("/")));
        Assert.Equal(expected, Paths(session.ListChildren("/")));
        Assert.Equal(new[] { "/a/x" }, Paths(reader.ListChildren("/a")));
        Assert.Equal(7, reader.Walk().Count());
    }

    [Fact]
    public async Task Listing_and_reading_metadata_of_a_committed_repository_reads_no_manifest()
    {
        var store = new MemoryObjectStore();
        var repository = await Repository.CreateAsync(store, new RepositoryOptions { RefsPerShard = 16 });
        var session = await repository.WritableSessionAsync();
        session.CreateGroup("/g", new JsonObject { ["k"] = 1 });
        session.CreateArray("/g/big", TestData.Int32Array([64, 32], [1, 1]));
        session.CreateArray("/other", TestData.Int32Array([8], [2]));
        foreach (var coords in TestData.GridCoords([64, 32]))
        {
            session.SetChunkRef("/g/big", coords, new InlineChunkRef(TestData.Int32Bytes((int)(coords[0] * 100 + coords[1]))));
        }

        await session.CommitAsync("2048 chunks in 128 shards");

        var cold = await Repository.OpenAsync(store);
        var reader = await cold.ReadOnlyAsync("main");
        var writable = await cold.WritableSessionAsync();
        Assert.Equal(new[] { "/g", "/other" }, Paths(reader.ListChildren("/")));
        Assert.Equal(new[] { "/g/big" }, Paths(writable.ListChildren("/g")));
        Assert.Equal(new long[] { 64, 32 }, reader.GetArrayMetadata("/g/big").Shape);
        Assert.Equal(1, reader.GetNode("/g").GroupMetadata.Attributes["k"]!.GetValue<int>());
        Assert.Equal(2048, reader.GetNode("/g/big").RefCount);
        Assert.Equal(new[] { "/g", "/g/big", "/other" }, Paths(reader.Walk()));
        Assert.Equal(0, cold.ShardLoads);

        // One chunk then reads exactly one shard.
        Assert.Equal(TestData.Int32Bytes(3105), await reader.ReadChunkAsync("/g/big", [31, 5]));
        Assert.Equal(1, cold.ShardLoads);
    }

    [Fact]
    public async Task Attribute_updates_are_committed_and_keep_the_rest_of_the_metadata()
    {
        var (repository, session) = await NewSessionAsync();
        session.CreateGroup("/g", new JsonObject { ["a"] = 1 });
        var metadata = TestData.Int32Array([6, 4], [3, 2], fill: -1) with { DimensionNames = ["time", "x"] };
        session.CreateArray("/arr", metadata);
        await session.CommitAsync("created");

        session.UpdateAttributes("/g", new JsonObject { ["b"] = "two" });
        session.UpdateAttributes("/arr", new JsonObject { ["units"] = "mm/h", ["scale"] = 0.5 });
        await session.CommitAsync("attributes");

        var reader = await (await Repository.OpenAsync(repository.Store)).ReadOnlyAsync("main");
        var group = reader.GetNode("/g").GroupMetadata;
        Assert.Null(group.Attributes["a"]);
        Assert.Equal("two", group.Attributes["b"]!.GetValue<string>());
        var array = reader.GetArrayMetadata("/arr");
        Assert.Equal("mm/h", array.Attributes["units"]!.GetValue<string>());
        Assert.Equal(0.5, array.Attributes["scale"]!.GetValue<double>());
        Assert.Equal(metadata with { Attributes = array.Attributes }, array);
        Assert.Equal(new[] { "time", "x" }, array.DimensionNames);
    }

    [Fact]
    public async Task Metadata_updates_that_would_reinterpret_stored_chunks_are_refused()
    {
        var (_, session) = await NewSessionAsync();
        var metadata = TestData.Int32Array([6, 4], [3, 2]);
        session.CreateArray("/arr", metadata);
        await session.CommitAsync("created");

        var changes = new[]
        {
            metadata with { DataType = DataType.Float32, FillValue = FillValue.Zero(DataType.Float32), Codecs = ArrayMetadata.DefaultCodecs(DataType.Float32) },
            metadata with { ChunkShape = [2, 2] },
            metadata with { FillValue = FillValue.FromDouble(DataType.Int32, 7) },
            metadata with { Codecs = [.. metadata.Codecs, new CodecSpec("zstd", new JsonObject { ["level"] = 3 })] },
        };
        foreach (var changed in changes)
        {
            var ex = Assert.Throws<ArgumentException>(() => session.UpdateArrayMetadata("/arr", changed));
            Assert.Contains("'/arr'", ex.Message, StringComparison.Ordinal);
        }

        Assert.False(session.HasChanges);
        Assert.Equal(metadata, session.GetArrayMetadata("/arr"));

        // Shape, attributes and dimension names may change.
        var allowed = metadata with { Shape = [9, 4], DimensionNames = ["t", "x"], Attributes = new JsonObject { ["v"] = 2 } };
        session.UpdateArrayMetadata("/arr", allowed);
        Assert.Equal(allowed, session.GetArrayMetadata("/arr"));
    }

    [Fact]
    public async Task AppendAlong_returns_the_old_size_and_grows_the_array()
    {
        var (_, session) = await NewSessionAsync();
        session.CreateArray("/arr", TestData.Int32Array([5, 4], [2, 2]));

        Assert.Equal(5, session.AppendAlong("/arr", 0, 3));
        Assert.Equal(4, session.AppendAlong("/arr", 1, 2));
        Assert.Equal(8, session.AppendAlong("/arr", 0, 0));

        Assert.Equal(new long[] { 8, 6 }, session.GetArrayMetadata("/arr").Shape);
        await session.WriteChunkAsync("/arr", [3, 2], TestData.FilledInt32Chunk(4, 9));
        await session.CommitAsync("appended");
        Assert.Equal(new long[] { 8, 6 }, session.GetArrayMetadata("/arr").Shape);
        Assert.Equal(TestData.FilledInt32Chunk(4, 9), await session.ReadChunkAsync("/arr", [3, 2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => session.AppendAlong("/arr", 2, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => session.AppendAlong("/arr", 0, -1));
    }

    [Fact]
    public async Task Shrinking_drops_chunks_outside_the_grid_and_growing_again_shows_fill_values()
    {
        var (repository, session) = await NewSessionAsync();
        session.CreateArray("/arr", TestData.Int32Array([8, 4], [2, 2], fill: -5));
        foreach (var coords in TestData.GridCoords([4, 2]))
        {
            await session.WriteChunkAsync("/arr", coords, TestData.FilledInt32Chunk(4, (int)(coords[0] * 10 + coords[1])));
        }

        await session.CommitAsync("full");

        session.ResizeArray("/arr", [3, 2]); // grid [2, 1]
        // Inside the session the dropped chunks are gone at once.
        session.ResizeArray("/arr", [8, 4]);
        Assert.Equal(TestData.FilledInt32Chunk(4, -5), await session.ReadChunkAsync("/arr", [3, 1]));
        session.ResizeArray("/arr", [3, 2]);
        await session.CommitAsync("shrunk");
        session.ResizeArray("/arr", [8, 4]);
        await session.CommitAsync("grown again");

        var reader = await (await Repository.OpenAsync(repository.Store)).ReadOnlyAsync("main");
        foreach (var coords in TestData.GridCoords([4, 2]))
        {
            var kept = coords[0] < 2 && coords[1] < 1;
            var expected = TestData.FilledInt32Chunk(4, kept ? (int)(coords[0] * 10 + coords[1]) : -5);
            Assert.Equal(expected, await reader.ReadChunkAsync("/arr", coords));
            Assert.Equal(kept, await reader.GetChunkRefAsync("/arr", coords) is not null);
        }

        Assert.Equal(2, reader.GetNode("/arr").RefCount);
    }

    [Fact]
    public async Task A_chunk_written_after_shrinking_and_growing_in_one_session_is_kept()
    {
        var (_, session) = await NewSessionAsync();
        session.CreateArray("/arr", TestData.Int32Array([6], [2]));
        await session.WriteChunkAsync("/arr", [2], TestData.FilledInt32Chunk(2, 1));
        await session.CommitAsync("one");

        session.ResizeArray("/arr", [2]);
        session.ResizeArray("/arr", [6]);
        await session.WriteChunkAsync("/arr", [1], TestData.FilledInt32Chunk(2, 2));
        await session.WriteChunkAsync("/arr", [2], TestData.FilledInt32Chunk(2, 3));
        await session.CommitAsync("rewritten");

        Assert.Equal(TestData.FilledInt32Chunk(2, 2), await session.ReadChunkAsync("/arr", [1]));
        Assert.Equal(TestData.FilledInt32Chunk(2, 3), await session.ReadChunkAsync("/arr", [2]));
    }

    [Fact]
    public async Task Deleting_a_group_deletes_its_descendants()
    {
        var (repository, session) = await NewSessionAsync();
        session.CreateGroup("/g");
        session.CreateGroup("/g/h");
        session.CreateArray("/g/h/a", TestData.Int32Array([4], [2]));
        session.CreateArray("/g2", TestData.Int32Array([4], [2]));
        await session.WriteChunkAsync("/g/h/a", [1], TestData.FilledInt32Chunk(2, 8));
        await session.CommitAsync("tree");

        session.DeleteNode("/g");

        Assert.Null(session.FindNode("/g/h/a"));
        Assert.Equal(new[] { "/g2" }, Paths(session.ListChildren("/")));
        await session.CommitAsync("deleted");
        var reader = await repository.ReadOnlyAsync("main");
        Assert.Equal(new[] { "/", "/g2" }, reader.Snapshot.Nodes.Select(n => n.Path));
        Assert.Equal("/g/h/a", Assert.Throws<NodeNotFoundException>(() => reader.GetNode("/g/h/a")).Path);

        // A new group and array at the old paths start empty.
        session.CreateGroup("/g");
        session.CreateGroup("/g/h");
        session.CreateArray("/g/h/a", TestData.Int32Array([4], [2]));
        Assert.Null(await session.GetChunkRefAsync("/g/h/a", [1]));
        await session.CommitAsync("recreated");
        Assert.Null(await (await repository.ReadOnlyAsync("main")).GetChunkRefAsync("/g/h/a", [1]));
        Assert.Throws<ArgumentException>(() => session.DeleteNode("/"));
    }

    [Fact]
    public async Task Deleting_and_recreating_an_array_in_one_session_drops_its_old_chunks()
    {
        var (_, session) = await NewSessionAsync();
        session.CreateArray("/a", TestData.Int32Array([4], [2]));
        await session.WriteChunkAsync("/a", [0], TestData.FilledInt32Chunk(2, 1));
        await session.CommitAsync("one");

        session.DeleteNode("/a");
        session.CreateArray("/a", TestData.Int32Array([4], [2], fill: 3));
        await session.CommitAsync("recreated");

        Assert.Null(await session.GetChunkRefAsync("/a", [0]));
        Assert.Equal(TestData.FilledInt32Chunk(2, 3), await session.ReadChunkAsync("/a", [0]));
        Assert.Equal(0, session.GetNode("/a").RefCount);
    }

    [Fact]
    public async Task Chunk_coordinates_outside_the_grid_are_refused_naming_the_array()
    {
        var (repository, session) = await NewSessionAsync();
        session.CreateArray("/arr", TestData.Int32Array([5, 4], [2, 2])); // grid [3, 2]
        await session.CommitAsync("created");
        var reader = await repository.ReadOnlyAsync("main");
        var inline = new InlineChunkRef(TestData.FilledInt32Chunk(4, 1));

        foreach (var coords in new long[][] { [3, 0], [0, 2], [-1, 0], [0], [0, 0, 0] })
        {
            var attempts = new Func<Task>[]
            {
                () => session.WriteChunkAsync("/arr", coords, TestData.FilledInt32Chunk(4, 1)),
                () => Task.Run(() => session.SetChunkRef("/arr", coords, inline)),
                () => Task.Run(() => session.DeleteChunk("/arr", coords)),
                () => session.ReadChunkAsync("/arr", coords),
                () => reader.ReadChunkAsync("/arr", coords),
                () => reader.GetChunkRefAsync("/arr", coords),
            };
            foreach (var attempt in attempts)
            {
                var ex = await Assert.ThrowsAsync<ChunkOutOfRangeException>(attempt);
                Assert.Equal("/arr", ex.ArrayPath);
                Assert.Contains("array '/arr'", ex.Message, StringComparison.Ordinal);
                Assert.Contains(TestData.Coords(coords), ex.Message, StringComparison.Ordinal);
                Assert.Contains("[3, 2]", ex.Message, StringComparison.Ordinal);
            }
        }

        Assert.False(session.HasChanges);
    }

    [Fact]
    public async Task Writing_a_chunk_of_the_wrong_size_is_refused_naming_the_array()
    {
        var (_, session) = await NewSessionAsync();
        session.CreateArray("/arr", TestData.Int32Array([4, 4], [2, 2]));

        foreach (var length in new[] { 0, 15, 17, 32 })
        {
            var ex = await Assert.ThrowsAsync<ChunkDataException>(() => session.WriteChunkAsync("/arr", [0, 0], new byte[length]));
            Assert.Equal("/arr", ex.ArrayPath);
            Assert.Contains($"has {length} bytes", ex.Message, StringComparison.Ordinal);
            Assert.Contains("need 16", ex.Message, StringComparison.Ordinal);
        }

        Assert.Null(await session.GetChunkRefAsync("/arr", [0, 0]));
    }

    [Fact]
    public async Task Small_chunks_are_stored_inline_and_bigger_ones_as_native_objects()
    {
        var store = new MemoryObjectStore();
        var repository = await Repository.CreateAsync(store, new RepositoryOptions { InlineThreshold = 64 });
        var session = await repository.WritableSessionAsync();
        session.CreateArray("/small", TestData.Int32Array([32], [16])); // 64 bytes: at the threshold
        session.CreateArray("/big", TestData.Int32Array([34], [17])); // 68 bytes: above it
        var small = Enumerable.Range(0, 16).ToArray();
        var big = Enumerable.Range(100, 17).ToArray();

        var inline = Assert.IsType<InlineChunkRef>(await session.WriteChunkAsync("/small", [1], TestData.Int32Bytes(small)));
        var native = Assert.IsType<NativeChunkRef>(await session.WriteChunkAsync("/big", [1], TestData.Int32Bytes(big)));
        await session.CommitAsync("two chunks");

        Assert.Equal(TestData.Int32Bytes(small), inline.Data.ToArray());
        Assert.Equal(68, native.Length);
        Assert.Equal(TestData.Int32Bytes(big), (await store.GetAsync(Repository.ChunkKey(native.Id)))!.Data.ToArray());
        Assert.Equal(new[] { Repository.ChunkKey(native.Id) }, await TestData.KeysAsync(store, "chunks/"));
        var reader = await (await Repository.OpenAsync(store)).ReadOnlyAsync("main");
        Assert.Equal(inline, await reader.GetChunkRefAsync("/small", [1]));
        Assert.Equal(native, await reader.GetChunkRefAsync("/big", [1]));
        Assert.Equal(big, TestData.Int32Values(await reader.ReadChunkAsync("/big", [1])));
        Assert.Equal(small, TestData.Int32Values(await reader.ReadChunkAsync("/small", [1])));
    }

    [Fact]
    public async Task The_inline_threshold_applies_to_the_encoded_size()
    {
        // 4096 zeros compress to a few bytes with zstd: stored inline although the decoded chunk is large.
        var (_, session) = await NewSessionAsync();
        session.CreateArray("/z", ArrayMetadata.Create([2048], DataType.Int32, [1024], [new CodecSpec("bytes", new JsonObject { ["endian"] = "little" }), new CodecSpec("zstd", new JsonObject { ["level"] = 3 })]));

        var chunkRef = await session.WriteChunkAsync("/z", [0], new byte[4096]);

        Assert.True(Assert.IsType<InlineChunkRef>(chunkRef).Data.Length < 100);
        Assert.Equal(new byte[4096], await session.ReadChunkAsync("/z", [0]));
    }

    [Fact]
    public async Task A_session_reads_its_own_writes_and_others_do_not_see_them_before_commit()
    {
        var (repository, session) = await NewSessionAsync();
        session.CreateArray("/arr", TestData.Int32Array([4], [2], fill: -1));
        await session.WriteChunkAsync("/arr", [0], TestData.Int32Bytes(1, 2));
        await session.WriteChunkAsync("/arr", [1], TestData.Int32Bytes(3, 4));
        await session.CommitAsync("base");

        await session.WriteChunkAsync("/arr", [0], TestData.Int32Bytes(10, 20));
        session.DeleteChunk("/arr", [1]);

        Assert.Equal(new[] { 10, 20 }, TestData.Int32Values(await session.ReadChunkAsync("/arr", [0])));
        Assert.Equal(new[] { -1, -1 }, TestData.Int32Values(await session.ReadChunkAsync("/arr", [1])));
        Assert.Null(await session.GetChunkRefAsync("/arr", [1]));
        Assert.Equal(2, session.PendingChunkChanges);
        var other = await repository.ReadOnlyAsync("main");
        Assert.Equal(new[] { 1, 2 }, TestData.Int32Values(await other.ReadChunkAsync("/arr", [0])));
        Assert.Equal(new[] { 3, 4 }, TestData.Int32Values(await other.ReadChunkAsync("/arr", [1])));
        var otherSession = await repository.WritableSessionAsync();
        Assert.Equal(new[] { 1, 2 }, TestData.Int32Values(await otherSession.ReadChunkAsync("/arr", [0])));

        await session.CommitAsync("changed");
        var after = await repository.ReadOnlyAsync("main");
        Assert.Equal(new[] { 10, 20 }, TestData.Int32Values(await after.ReadChunkAsync("/arr", [0])));
        Assert.Null(await after.GetChunkRefAsync("/arr", [1]));
    }

    [Fact]
    public async Task Missing_chunks_read_as_the_fill_value()
    {
        var (_, session) = await NewSessionAsync();
        session.CreateArray("/i", TestData.Int32Array([6], [3], fill: 42));
        session.CreateArray("/f", ArrayMetadata.Create([4], DataType.Float64, [4]) with { FillValue = FillValue.FromDouble(DataType.Float64, double.NaN) });
        session.CreateArray("/u", ArrayMetadata.Create([3], DataType.UInt8, [3]) with { FillValue = FillValue.FromDouble(DataType.UInt8, 255) });
        await session.CommitAsync("arrays");

        Assert.Equal(new[] { 42, 42, 42 }, TestData.Int32Values(await session.ReadChunkAsync("/i", [1])));
        var f = await session.ReadChunkAsync("/f", [0]);
        Assert.Equal(32, f.Length);
        Assert.All(Enumerable.Range(0, 4), i => Assert.True(double.IsNaN(BitConverter.ToDouble(f, i * 8))));
        Assert.Equal(new byte[] { 255, 255, 255 }, await session.ReadChunkAsync("/u", [0]));
        Assert.Null(await session.ReadChunkBytesAsync("/i", [0]));
    }

    [Fact]
    public async Task ReadRegion_matches_a_plain_array_across_chunk_boundaries_and_edge_chunks()
    {
        // Shape [7, 10] in chunks of [3, 4]: the last row and column of chunks are partial.
        var (repository, session) = await NewSessionAsync();
        const int fill = -7;
        session.CreateArray("/arr", TestData.Int32Array([7, 10], [3, 4], fill));
        var expected = new int[7, 10];
        for (var i = 0; i < 7; i++)
        {
            for (var j = 0; j < 10; j++)
            {
                expected[i, j] = fill;
            }
        }

        foreach (var coords in TestData.GridCoords([3, 3]))
        {
            if (coords[0] == 1 && coords[1] == 1)
            {
                continue; // one chunk never written: reads as fill
            }

            var chunk = new int[12];
            for (var k = 0; k < 12; k++)
            {
                var (i, j) = ((int)(coords[0] * 3) + (k / 4), (int)(coords[1] * 4) + (k % 4));
                chunk[k] = (i * 100) + j;
                if (i < 7 && j < 10)
                {
                    expected[i, j] = chunk[k];
                }
                else
                {
                    chunk[k] = 999_999; // outside the array: must never show
                }
            }

            await session.WriteChunkAsync("/arr", coords, TestData.Int32Bytes(chunk));
        }

        async Task CheckAsync(NodeReader reader, long[] start, long[] count)
        {
            var values = TestData.Int32Values(await reader.ReadRegionAsync("/arr", start, count));
            Assert.Equal(count[0] * count[1], values.Length);
            for (var i = 0; i < count[0]; i++)
            {
                for (var j = 0; j < count[1]; j++)
                {
                    Assert.Equal(expected[start[0] + i, start[1] + j], values[(i * count[1]) + j]);
                }
            }
        }

        var random = new Random(710);
        var regions = new List<(long[] Start, long[] Count)> { ([0, 0], [7, 10]), ([6, 9], [1, 1]), ([2, 3], [2, 2]), ([0, 0], [0, 5]), ([5, 7], [2, 3]) };
        for (var n = 0; n < 60; n++)
        {
            long i0 = random.Next(7), j0 = random.Next(10);
            regions.Add(([i0, j0], [random.Next(0, 8 - (int)i0), random.Next(0, 11 - (int)j0)]));
        }

        foreach (var (start, count) in regions)
        {
            await CheckAsync(session, start, count);
        }

        await session.CommitAsync("written");
        var cold = await (await Repository.OpenAsync(repository.Store)).ReadOnlyAsync("main");
        foreach (var (start, count) in regions)
        {
            await CheckAsync(cold, start, count);
        }

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => cold.ReadRegionAsync("/arr", [5, 0], [3, 1]));
        await Assert.ThrowsAsync<ArgumentException>(() => cold.ReadRegionAsync("/arr", [0], [1]));
    }

    [Fact]
    public async Task ReadRegion_of_a_three_dimensional_array_matches_a_plain_array()
    {
        var (_, session) = await NewSessionAsync();
        session.CreateArray("/cube", ArrayMetadata.Create([5, 4, 3], DataType.UInt8, [2, 3, 2]));
        var expected = new byte[5, 4, 3];
        foreach (var coords in TestData.GridCoords([3, 2, 2]))
        {
            var chunk = new byte[12];
            for (var k = 0; k < 12; k++)
            {
                var (a, b, c) = ((int)(coords[0] * 2) + (k / 6), (int)(coords[1] * 3) + (k / 2 % 3), (int)(coords[2] * 2) + (k % 2));
                chunk[k] = (byte)((a * 16) + (b * 4) + c);
                if (a < 5 && b < 4 && c < 3)
                {
                    expected[a, b, c] = chunk[k];
                }
            }

            await session.WriteChunkAsync("/cube", coords, chunk);
        }

        var region = await session.ReadRegionAsync("/cube", [1, 1, 1], [4, 3, 2]);

        var index = 0;
        for (var a = 1; a < 5; a++)
        {
            for (var b = 1; b < 4; b++)
            {
                for (var c = 1; c < 3; c++)
                {
                    Assert.Equal(expected[a, b, c], region[index++]);
                }
            }
        }
    }

    [Fact]
    public async Task A_zero_dimensional_array_stores_and_reads_its_single_element()
    {
        var (repository, session) = await NewSessionAsync();
        session.CreateArray("/scalar", TestData.Int32Array([], [], fill: 5));
        Assert.Equal(new[] { 5 }, TestData.Int32Values(await session.ReadChunkAsync("/scalar", [])));

        await session.WriteChunkAsync("/scalar", [], TestData.Int32Bytes(42));
        await session.CommitAsync("scalar");

        var reader = await (await Repository.OpenAsync(repository.Store)).ReadOnlyAsync("main");
        Assert.Equal(new[] { 42 }, TestData.Int32Values(await reader.ReadChunkAsync("/scalar", [])));
        Assert.Equal(new[] { 42 }, TestData.Int32Values(await reader.ReadRegionAsync("/scalar", [], [])));
        Assert.Equal(1, reader.GetNode("/scalar").RefCount);
    }

    [Fact]
    public async Task A_commit_with_nothing_to_commit_fails()
    {
        var (repository, session) = await NewSessionAsync();
        var (before, _) = await repository.ReadBranchAsync("main");

        var ex = await Assert.ThrowsAsync<FloeStoreException>(() => session.CommitAsync("empty"));

        Assert.Contains("nothing to commit on branch 'main'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, (await repository.ReadBranchAsync("main")).Snapshot);
        session.CreateGroup("/g");
        session.DeleteNode("/g");
        Assert.False(session.HasChanges);
        await Assert.ThrowsAsync<FloeStoreException>(() => session.CommitAsync("created and deleted"));
    }

    [Fact]
    public async Task After_a_commit_the_session_keeps_working_on_its_branch()
    {
        var (repository, session) = await NewSessionAsync();
        var (root, _) = await repository.ReadBranchAsync("main");
        session.CreateArray("/arr", TestData.Int32Array([4], [2]));
        var first = await session.CommitAsync("first");

        Assert.False(session.HasChanges);
        Assert.Equal(first, session.BaseSnapshot.Id);
        await session.WriteChunkAsync("/arr", [1], TestData.Int32Bytes(5, 6));
        var second = await session.CommitAsync("second");
        session.CreateGroup("/g");
        var third = await session.CommitAsync("third");

        Assert.Equal(third, (await repository.ReadBranchAsync("main")).Snapshot);
        Assert.Equal(new[] { third, second, first, root }, (await TestData.LogAsync(repository)).Select(s => s.Id));
        Assert.Equal(new[] { 5, 6 }, TestData.Int32Values(await (await repository.ReadOnlyAsync("main")).ReadChunkAsync("/arr", [1])));
        Assert.Equal("main", session.Branch);
    }

    [Fact]
    public async Task Concurrent_chunk_writes_from_many_threads_in_one_session_are_all_committed()
    {
        var (repository, session) = await NewSessionAsync(new RepositoryOptions { InlineThreshold = 8 });
        session.CreateArray("/arr", TestData.Int32Array([400], [2]));

        await Parallel.ForEachAsync(Enumerable.Range(0, 200), async (i, ct) =>
            await session.WriteChunkAsync("/arr", [i], TestData.Int32Bytes(i, -i), ct));
        await session.CommitAsync("parallel");

        var reader = await (await Repository.OpenAsync(repository.Store)).ReadOnlyAsync("main");
        Assert.Equal(200, reader.GetNode("/arr").RefCount);
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(new[] { i, -i }, TestData.Int32Values(await reader.ReadChunkAsync("/arr", [i])));
        }
    }

    [Fact]
    public async Task A_commit_drops_the_shards_it_replaced_from_the_cache()
    {
        var (repository, session) = await NewSessionAsync();
        session.CreateArray("/a", TestData.Int32Array([8], [1]), shardShape: [8]);
        session.SetChunkRef("/a", [0], new VirtualChunkRef("file:///f0", 0, 4));
        await session.CommitAsync("first");
        var before = await repository.ReadOnlyAsync("main");
        await before.GetChunkRefAsync("/a", [0]);
        Assert.Equal(1, repository.ShardLoads);

        session.SetChunkRef("/a", [1], new VirtualChunkRef("file:///f1", 0, 4));
        await session.CommitAsync("second");
        Assert.Equal(1, repository.ShardLoads); // the merge found the shard cached

        // Replaced by the commit, the old shard is no longer cached: an old snapshot's reader loads it again.
        Assert.Equal(new VirtualChunkRef("file:///f0", 0, 4), await before.GetChunkRefAsync("/a", [0]));
        Assert.Equal(2, repository.ShardLoads);
    }
}
