using System.Runtime.InteropServices;
using Floe.Api.V1;
using Floe.Rpc;
using Google.Protobuf;

namespace Floe.Server.Tests;

public sealed class RepositoryServiceTests : ApiTestBase
{
    [Fact]
    public async Task The_hand_written_methods_match_the_proto_services()
    {
        Assert.Empty(RpcDescriptorCheck.Mismatches(RepositoryReflection.Descriptor.Services[0], RepositoryServiceMethods.All));
        Assert.Empty(RpcDescriptorCheck.Mismatches(WriteReflection.Descriptor.Services[0], WriteServiceMethods.All));
        Assert.Empty(RpcDescriptorCheck.Mismatches(IngestionReflection.Descriptor.Services[0], IngestionServiceMethods.All));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Repositories_are_created_listed_and_deleted()
    {
        var created = await Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "alpha", RefsPerShard = 4 });
        await Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "beta" });

        Assert.Equal(("alpha", 4L), (created.Name, created.RefsPerShard));
        var listed = await Admin.Repositories.ListRepositoriesAsync(new ListRepositoriesRequest());
        Assert.Equal(["alpha", "beta"], listed.Repositories.Select(r => r.Name));
        var again = await FailsAsync(() => Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "alpha" }));
        Assert.Equal(StatusCode.AlreadyExists, again.StatusCode);

        var refused = await FailsAsync(() => Admin.Repositories.DeleteRepositoryAsync(new DeleteRepositoryRequest { Repository = "beta", Confirm = "alpha" }));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.StartsWith("confirm:", refused.Status.Detail, StringComparison.Ordinal);

        var deleted = await Admin.Repositories.DeleteRepositoryAsync(new DeleteRepositoryRequest { Repository = "beta", Confirm = "beta" });
        Assert.True(deleted.ObjectsDeleted >= 3);
        Assert.Equal(["alpha"], (await Admin.Repositories.ListRepositoriesAsync(new ListRepositoriesRequest())).Repositories.Select(r => r.Name));
        Assert.False(Directory.Exists(Path.Combine(Server.StoreDirectory, "repos", "beta", "snapshots")) &&
            Directory.EnumerateFiles(Path.Combine(Server.StoreDirectory, "repos", "beta"), "*", SearchOption.AllDirectories).Any());
        var gone = await FailsAsync(() => Admin.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "beta" }));
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);

        // The name is free again, and the new repository starts afresh.
        await Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "beta" });
        Assert.Single(await ReadAllAsync(Admin.Repositories.Log(new LogRequest { Repository = "beta" })));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Upper")]
    [InlineData("-leading")]
    [InlineData("has/slash")]
    public async Task A_bad_repository_name_is_invalid_argument_naming_the_field(string name)
    {
        var error = await FailsAsync(() => Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = name }));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("repository:", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Branches_tags_log_and_diff()
    {
        var first = await CreateAlphaAsync();
        var branch = await Admin.Repositories.CreateBranchAsync(new CreateRefRequest { Repository = "alpha", Name = "dev", From = "main" });
        var tag = await Admin.Repositories.CreateTagAsync(new CreateRefRequest { Repository = "alpha", Name = "v1", From = "main" });
        var second = await CommitAsync(Admin, "alpha", "more", SetChunks("/grid/t", Decoded([1, 1, 1, 1, 1, 1], 1, 1)));

        Assert.Equal(first.SnapshotId, branch.SnapshotId);
        Assert.Equal(first.SnapshotId, tag.SnapshotId);
        Assert.Equal(first.SnapshotId, second.ParentId);
        var branches = await Admin.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "alpha" });
        Assert.Equal([("dev", first.SnapshotId), ("main", second.SnapshotId)], branches.Refs.Select(r => (r.Name, r.SnapshotId)));
        Assert.Equal(["v1"], (await Admin.Repositories.ListTagsAsync(new ListRefsRequest { Repository = "alpha" })).Refs.Select(r => r.Name));

        var log = await ReadAllAsync(Admin.Repositories.Log(new LogRequest { Repository = "alpha" }));
        Assert.Equal(["more", "grid", "Repository created"], log.Select(s => s.Message));
        Assert.Equal(second.SnapshotId, log[0].Id);
        Assert.Equal(2, (await ReadAllAsync(Admin.Repositories.Log(new LogRequest { Repository = "alpha", Reference = "main", Limit = 2 }))).Count);
        Assert.Equal(["grid", "Repository created"], (await ReadAllAsync(Admin.Repositories.Log(new LogRequest { Repository = "alpha", Reference = "v1" }))).Select(s => s.Message));

        var diff = await Admin.Repositories.DiffAsync(new DiffRequest { Repository = "alpha", From = "v1", To = "main" });
        var chunks = Assert.Single(diff.Chunks);
        Assert.Equal(("/grid/t", 1L, 0L, 0L), (chunks.Path, chunks.Added, chunks.Removed, chunks.Modified));

        var reset = await FailsAsync(() => Admin.Repositories.ResetBranchAsync(new ResetBranchRequest { Repository = "alpha", Name = "dev", To = "main", ExpectedSnapshotId = second.SnapshotId }));
        Assert.Equal(StatusCode.FailedPrecondition, reset.StatusCode);
        var moved = await Admin.Repositories.ResetBranchAsync(new ResetBranchRequest { Repository = "alpha", Name = "dev", To = "main", ExpectedSnapshotId = first.SnapshotId });
        Assert.Equal(second.SnapshotId, moved.SnapshotId);
        await Admin.Repositories.DeleteBranchAsync(new DeleteBranchRequest { Repository = "alpha", Name = "dev" });
        var missing = await FailsAsync(() => Admin.Repositories.ListNodesAsync(new ListNodesRequest { Repository = "alpha", Reference = "dev" }));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        var main = await FailsAsync(() => Admin.Repositories.DeleteBranchAsync(new DeleteBranchRequest { Repository = "alpha", Name = "main" }));
        Assert.Equal(StatusCode.InvalidArgument, main.StatusCode);
    }

    [Fact]
    public async Task Nodes_and_array_metadata()
    {
        var commit = await CreateAlphaAsync();

        var root = await Admin.Repositories.ListNodesAsync(new ListNodesRequest { Repository = "alpha" });
        Assert.Equal(commit.SnapshotId, root.SnapshotId);
        Assert.Equal([("/grid", NodeKind.Group)], root.Nodes.Select(n => (n.Path, n.Kind)));
        Assert.Contains("\"title\"", root.Nodes[0].ZarrJson, StringComparison.Ordinal);
        var all = await Admin.Repositories.ListNodesAsync(new ListNodesRequest { Repository = "alpha", Recursive = true });
        Assert.Equal(["/grid", "/grid/t"], all.Nodes.Select(n => n.Path));
        Assert.Equal(3, all.Nodes[1].ChunkRefs);

        var info = await Admin.Repositories.GetArrayMetadataAsync(new ArrayRequest { Repository = "alpha", Path = "grid/t" });
        Assert.Equal(("float32", 3L), (info.DataType, info.ChunkRefs));
        Assert.Equal([4L, 6L], info.Shape);
        Assert.Equal([2L, 3L], info.ChunkShape);

        var group = await FailsAsync(() => Admin.Repositories.GetArrayMetadataAsync(new ArrayRequest { Repository = "alpha", Path = "/grid" }));
        Assert.Equal(StatusCode.InvalidArgument, group.StatusCode);
        var none = await FailsAsync(() => Admin.Repositories.GetArrayMetadataAsync(new ArrayRequest { Repository = "alpha", Path = "/nope" }));
        Assert.Equal(StatusCode.NotFound, none.StatusCode);
    }

    [Fact]
    public async Task Chunks_read_back_native_inline_virtual_and_missing()
    {
        await CreateAlphaAsync();
        var source = Server.WriteSource("src.bin", [.. new byte[100], .. Floats(30, 31, 32, 36, 37, 38)]);
        var inline = new ChunkRefEntry { Inline = ByteString.CopyFrom(Floats(9, 9, 9, 9, 9, 9)) };
        inline.Coords.AddRange([1L, 1L]);
        var virtualEntry = new ChunkRefEntry { Virtual = new VirtualRef { Location = source, Offset = 100, Length = 24 } };
        virtualEntry.Coords.AddRange([0L, 1L]);
        await CommitAsync(Admin, "alpha", "mixed", SetChunks("/grid/t", inline, virtualEntry));

        // Decoded data this small is kept inline in the manifest (the repository's inline threshold).
        var small = await Admin.Repositories.ReadChunkAsync(Chunk(0, 0));
        Assert.Equal(ChunkKind.Inline, small.Kind);
        Assert.Equal(Floats(0, 1, 2, 6, 7, 8), small.Data.ToByteArray());
        Assert.Contains("bytes", small.CodecsJson, StringComparison.Ordinal);
        var v = await Admin.Repositories.ReadChunkAsync(Chunk(0, 1));
        Assert.Equal(ChunkKind.Virtual, v.Kind);
        Assert.Equal(Floats(30, 31, 32, 36, 37, 38), v.Data.ToByteArray());
        var i = await Admin.Repositories.ReadChunkAsync(Chunk(1, 1));
        Assert.Equal(ChunkKind.Inline, i.Kind);
        Assert.Equal(Floats(9, 9, 9, 9, 9, 9), i.Data.ToByteArray());

        var streamed = new ReadChunksRequest { Repository = "alpha", Path = "/grid/t" };
        foreach (var coords in new[] { new long[] { 1, 1 }, [0, 1], [0, 0], [1, 0] })
        {
            var c = new ChunkCoords();
            c.Values.AddRange(coords);
            streamed.Chunks.Add(c);
        }

        var chunks = await ReadAllAsync(Admin.Repositories.ReadChunks(streamed));
        Assert.Equal([ChunkKind.Inline, ChunkKind.Virtual, ChunkKind.Inline, ChunkKind.Inline], chunks.Select(c => c.Kind));
        Assert.Equal(Floats(12, 13, 14, 18, 19, 20), chunks[3].Data.ToByteArray());
        Assert.Equal(v.Data, chunks[1].Data);

        var outside = await FailsAsync(() => Admin.Repositories.ReadChunkAsync(Chunk(2, 0)));
        Assert.Equal(StatusCode.OutOfRange, outside.StatusCode);

        // A source that changed length under a recorded reference is reported, not silently misread.
        File.WriteAllBytes(source, new byte[10]);
        var broken = await FailsAsync(() => Admin.Repositories.ReadChunkAsync(Chunk(0, 1)));
        Assert.Equal(StatusCode.Unavailable, broken.StatusCode);
        Assert.Contains(source, broken.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_region_streams_in_pieces_of_typed_values_with_fill_for_missing_chunks()
    {
        await CreateAlphaAsync();

        var pieces = await ReadAllAsync(Admin.Repositories.ReadRegion(new ReadRegionRequest
        {
            Repository = "alpha",
            Path = "/grid/t",
            Start = { 1, 1 },
            Count = { 3, 5 },
            PieceBytes = 24,
        }));

        // A row of the region is 20 bytes, so 24-byte pieces hold one row each.
        Assert.Equal(3, pieces.Count);
        Assert.All(pieces, p => Assert.Equal("float32", p.DataType));
        Assert.Equal([[1L, 1L], [2L, 1L], [3L, 1L]], pieces.Select(p => p.Start.ToArray()));
        var values = pieces.SelectMany(p => p.Values.Float32.Values).ToArray();
        float[] expected = [7, 8, 9, 10, 11, 13, 14, 0, 0, 0, 19, 20, 0, 0, 0];
        Assert.Equal(expected, values);

        var wrong = await FailsAsync(() => ReadAllAsync(Admin.Repositories.ReadRegion(new ReadRegionRequest { Repository = "alpha", Path = "/grid/t", Start = { 0 }, Count = { 1, 1 } })));
        Assert.Equal(StatusCode.InvalidArgument, wrong.StatusCode);
        Assert.StartsWith("start:", wrong.Status.Detail, StringComparison.Ordinal);
        var outside = await FailsAsync(() => ReadAllAsync(Admin.Repositories.ReadRegion(new ReadRegionRequest { Repository = "alpha", Path = "/grid/t", Start = { 3, 0 }, Count = { 2, 1 } })));
        Assert.Equal(StatusCode.OutOfRange, outside.StatusCode);
    }

    [Fact]
    public async Task Integer_regions_come_as_their_protobuf_lists()
    {
        await Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "alpha" });
        short[] data = [-3, 7, short.MaxValue, short.MinValue];
        var entry = new ChunkRefEntry { Decoded = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan())) };
        entry.Coords.Add(0);
        await CommitAsync(Admin, "alpha", "ints",
            new Change { CreateArray = new CreateArray { Path = "/i", ZarrJson = ArrayJson([4], [4], Core.DataType.Int16) } },
            SetChunks("/i", entry));

        var pieces = await ReadAllAsync(Admin.Repositories.ReadRegion(new ReadRegionRequest { Repository = "alpha", Path = "/i", Start = { 0 }, Count = { 4 } }));

        Assert.Equal(data.Select(v => (int)v), Assert.Single(pieces).Values.Int32.Values);
    }

    [Fact]
    public async Task Decoded_chunks_above_the_inline_threshold_are_stored_natively_and_read_back()
    {
        await Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "alpha" });
        var values = Enumerable.Range(0, 1024).Select(i => i * 0.5f).ToArray();
        await CommitAsync(Admin, "alpha", "big",
            new Change { CreateArray = new CreateArray { Path = "/big", ZarrJson = ArrayJson([2, 1024], [1, 1024]) } },
            SetChunks("/big", Decoded(values, 1, 0)));

        var chunk = await Admin.Repositories.ReadChunkAsync(new ReadChunkRequest { Repository = "alpha", Path = "/big", Coords = { 1, 0 } });
        var missing = await Admin.Repositories.ReadChunkAsync(new ReadChunkRequest { Repository = "alpha", Path = "/big", Coords = { 0, 0 } });
        var region = await ReadAllAsync(Admin.Repositories.ReadRegion(new ReadRegionRequest { Repository = "alpha", Path = "/big", Start = { 1, 0 }, Count = { 1, 1024 } }));

        Assert.Equal(ChunkKind.Native, chunk.Kind);
        Assert.Single(Directory.GetFiles(Path.Combine(Server.StoreDirectory, "repos", "alpha", "chunks")));
        Assert.Equal((ChunkKind.Missing, 0), (missing.Kind, missing.Data.Length));
        Assert.Equal(values, region.SelectMany(p => p.Values.Float32.Values));
    }

    private static ReadChunkRequest Chunk(params long[] coords)
    {
        var request = new ReadChunkRequest { Repository = "alpha", Path = "/grid/t" };
        request.Coords.AddRange(coords);
        return request;
    }
}
