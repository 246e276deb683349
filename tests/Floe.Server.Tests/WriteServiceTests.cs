using Floe.Api.V1;
using Floe.Rpc;

namespace Floe.Server.Tests;

public sealed class WriteServiceTests : ApiTestBase
{
    [Fact]
    public async Task A_session_collects_changes_over_several_calls_and_commits_once()
    {
        await CreateAlphaAsync();
        var session = await Admin.Writes.OpenSessionAsync(new OpenSessionRequest { Repository = "alpha" });
        var first = await WriteAsync(Admin, session.SessionId, SetChunks("/grid/t", Decoded([5, 5, 5, 5, 5, 5], 1, 1)));
        var second = await WriteAsync(Admin, session.SessionId, new Change { UpdateAttributes = new UpdateAttributes { Path = "/grid", AttributesJson = "{\"title\":\"new\"}" } });

        Assert.Equal((1L, 1L), (first.ChangesApplied, first.PendingChunkChanges));
        Assert.Equal(1, second.ChangesApplied);
        // Nothing is visible before the commit.
        var before = await Admin.Repositories.GetArrayMetadataAsync(new ArrayRequest { Repository = "alpha", Path = "/grid/t" });
        Assert.Equal(3, before.ChunkRefs);

        var commit = await Admin.Writes.CommitAsync(new CommitRequest { SessionId = session.SessionId, Message = "two calls", Metadata = { ["by"] = "test" } });

        Assert.Equal(session.BaseSnapshotId, commit.ParentId);
        var log = await ReadAllAsync(Admin.Repositories.Log(new LogRequest { Repository = "alpha", Limit = 1 }));
        Assert.Equal(("two calls", "test"), (log[0].Message, log[0].Metadata["by"]));
        Assert.Equal(4, (await Admin.Repositories.GetArrayMetadataAsync(new ArrayRequest { Repository = "alpha", Path = "/grid/t" })).ChunkRefs);
        var committedAgain = await FailsAsync(() => Admin.Writes.CommitAsync(new CommitRequest { SessionId = session.SessionId, Message = "again" }));
        Assert.Equal(StatusCode.NotFound, committedAgain.StatusCode);
    }

    [Fact]
    public async Task A_bad_change_names_its_field_and_an_abandoned_session_leaves_nothing()
    {
        await CreateAlphaAsync();
        var session = await Admin.Writes.OpenSessionAsync(new OpenSessionRequest { Repository = "alpha" });

        var badJson = await FailsAsync(() => WriteAsync(Admin, session.SessionId,
            SetChunks("/grid/t", Decoded([1, 1, 1, 1, 1, 1], 1, 1)),
            new Change { CreateArray = new CreateArray { Path = "/x", ZarrJson = "{not json" } }));
        Assert.Equal(StatusCode.InvalidArgument, badJson.StatusCode);
        Assert.StartsWith("changes[1].create_array.zarr_json:", badJson.Status.Detail, StringComparison.Ordinal);

        var outside = await FailsAsync(() => WriteAsync(Admin, session.SessionId, SetChunks("/grid/t", Decoded([1, 1, 1, 1, 1, 1], 5, 0))));
        Assert.Equal(StatusCode.OutOfRange, outside.StatusCode);
        Assert.StartsWith("changes[0].set_chunks.chunks[0]:", outside.Status.Detail, StringComparison.Ordinal);

        var shortChunk = await FailsAsync(() => WriteAsync(Admin, session.SessionId, SetChunks("/grid/t", Decoded([1, 2], 1, 1))));
        Assert.Equal(StatusCode.InvalidArgument, shortChunk.StatusCode);

        var escape = new ChunkRefEntry { Virtual = new VirtualRef { Location = "/etc/passwd", Offset = 0, Length = 24 } };
        escape.Coords.AddRange([1L, 1L]);
        var denied = await FailsAsync(() => WriteAsync(Admin, session.SessionId, SetChunks("/grid/t", escape)));
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains("changes[0].set_chunks.chunks[0].virtual.location", denied.Status.Detail, StringComparison.Ordinal);
        var sneaky = new ChunkRefEntry { Virtual = new VirtualRef { Location = Server.SourceDirectory + "/../../../etc/passwd", Offset = 0, Length = 24 } };
        sneaky.Coords.AddRange([1L, 1L]);
        Assert.Equal(StatusCode.PermissionDenied, (await FailsAsync(() => WriteAsync(Admin, session.SessionId, SetChunks("/grid/t", sneaky)))).StatusCode);

        var head = (await Admin.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "alpha" })).Refs.Single().SnapshotId;
        await Admin.Writes.AbandonSessionAsync(new AbandonSessionRequest { SessionId = session.SessionId });
        Assert.Equal(head, (await Admin.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "alpha" })).Refs.Single().SnapshotId);
        Assert.Equal(StatusCode.NotFound, (await FailsAsync(() => Admin.Writes.CommitAsync(new CommitRequest { SessionId = session.SessionId, Message = "x" }))).StatusCode);

        var bogus = await FailsAsync(() => Admin.Writes.CommitAsync(new CommitRequest { SessionId = "nope", Message = "x" }));
        Assert.Equal(StatusCode.InvalidArgument, bogus.StatusCode);
        Assert.StartsWith("session_id:", bogus.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_to_commit_is_a_failed_precondition()
    {
        await CreateAlphaAsync();
        var session = await Admin.Writes.OpenSessionAsync(new OpenSessionRequest { Repository = "alpha" });

        var error = await FailsAsync(() => Admin.Writes.CommitAsync(new CommitRequest { SessionId = session.SessionId, Message = "empty" }));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
    }

    [Fact]
    public async Task Two_sessions_writing_one_chunk_conflict_and_the_second_is_aborted_with_details()
    {
        await CreateAlphaAsync();
        var a = await Admin.Writes.OpenSessionAsync(new OpenSessionRequest { Repository = "alpha" });
        var b = await Admin.Writes.OpenSessionAsync(new OpenSessionRequest { Repository = "alpha" });
        await WriteAsync(Admin, a.SessionId, SetChunks("/grid/t", Decoded([1, 1, 1, 1, 1, 1], 1, 1)));
        await WriteAsync(Admin, b.SessionId, SetChunks("/grid/t", Decoded([2, 2, 2, 2, 2, 2], 1, 1)));
        var c = await Admin.Writes.OpenSessionAsync(new OpenSessionRequest { Repository = "alpha" });
        await WriteAsync(Admin, c.SessionId, SetChunks("/grid/t", Decoded([3, 3, 3, 3, 3, 3], 0, 0)));

        var won = await Admin.Writes.CommitAsync(new CommitRequest { SessionId = a.SessionId, Message = "a" });
        var lost = await FailsAsync(() => Admin.Writes.CommitAsync(new CommitRequest { SessionId = b.SessionId, Message = "b" }));
        // A different chunk rebases cleanly onto the winner.
        var rebased = await Admin.Writes.CommitAsync(new CommitRequest { SessionId = c.SessionId, Message = "c" });

        Assert.Equal(StatusCode.Aborted, lost.StatusCode);
        Assert.Contains("/grid/t", lost.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(lost.Trailers, t => t.Key == "floe-conflicts" && t.Value.Contains("/grid/t", StringComparison.Ordinal));
        Assert.Equal(won.SnapshotId, rebased.ParentId);
        var chunk = new ReadChunkRequest { Repository = "alpha", Path = "/grid/t", Coords = { 1, 1 } };
        Assert.Equal(Floats(1, 1, 1, 1, 1, 1), (await Admin.Repositories.ReadChunkAsync(chunk)).Data.ToByteArray());
    }

    [Fact]
    public async Task Append_grows_an_array_along_a_dimension_in_one_commit()
    {
        await CreateAlphaAsync();
        using (var call = Admin.Writes.Append())
        {
            await call.RequestStream.WriteAsync(new AppendRequest
            {
                Target = new AppendTarget { Repository = "alpha", Path = "/grid/t", Dimension = "0", Message = "two more rows" },
                GrowBy = 2,
                Chunks = { Decoded([24, 25, 26, 30, 31, 32], 0, 0) },
            });
            await call.RequestStream.WriteAsync(new AppendRequest { GrowBy = 2, Chunks = { Decoded([50, 50, 50, 50, 50, 50], 1, 1) } });
            await call.RequestStream.CompleteAsync();
            var commit = await call.ResponseAsync;
            Assert.Equal("main", commit.Branch);
        }

        var info = await Admin.Repositories.GetArrayMetadataAsync(new ArrayRequest { Repository = "alpha", Path = "/grid/t" });
        Assert.Equal([8L, 6L], info.Shape);
        Assert.Equal(5, info.ChunkRefs);
        var pieces = await ReadAllAsync(Admin.Repositories.ReadRegion(new ReadRegionRequest { Repository = "alpha", Path = "/grid/t", Start = { 4, 0 }, Count = { 4, 6 } }));
        float[] expected = [24, 25, 26, 0, 0, 0, 30, 31, 32, 0, 0, 0, 0, 0, 0, 50, 50, 50, 0, 0, 0, 50, 50, 50];
        Assert.Equal(expected, pieces.SelectMany(p => p.Values.Float32.Values));
    }

    [Fact]
    public async Task An_append_cancelled_midway_commits_nothing()
    {
        await CreateAlphaAsync();
        var head = (await Admin.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "alpha" })).Refs.Single().SnapshotId;
        using var cancel = new CancellationTokenSource();
        using (var call = Admin.Writes.Append(new CallOptions(CancellationToken: cancel.Token)))
        {
            await call.RequestStream.WriteAsync(new AppendRequest
            {
                Target = new AppendTarget { Repository = "alpha", Path = "/grid/t", Dimension = "0" },
                GrowBy = 2,
                Chunks = { Decoded([1, 1, 1, 1, 1, 1], 0, 0) },
            });
            await cancel.CancelAsync();
            var error = await Assert.ThrowsAnyAsync<Exception>(() => call.ResponseAsync);
            Assert.True(error is OperationCanceledException || error is RpcException { StatusCode: StatusCode.Cancelled }, error.ToString());
        }

        var after = (await Admin.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "alpha" })).Refs.Single().SnapshotId;
        Assert.Equal(head, after);
        Assert.Equal([4L, 6L], (await Admin.Repositories.GetArrayMetadataAsync(new ArrayRequest { Repository = "alpha", Path = "/grid/t" })).Shape);
    }

    [Fact]
    public async Task An_append_that_would_not_line_up_with_chunks_is_refused()
    {
        await CreateAlphaAsync();
        // Grow by one row first: 5 rows in chunks of 2 no longer line up.
        await CommitAsync(Admin, "alpha", "odd", new Change { ResizeArray = new ResizeArray { Path = "/grid/t", Shape = { 5, 6 } } });

        using var call = Admin.Writes.Append();
        await call.RequestStream.WriteAsync(new AppendRequest { Target = new AppendTarget { Repository = "alpha", Path = "/grid/t", Dimension = "0" }, GrowBy = 1 });
        await call.RequestStream.CompleteAsync();
        var error = await FailsAsync(() => call.ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.StartsWith("target.dimension:", error.Status.Detail, StringComparison.Ordinal);
    }
}
