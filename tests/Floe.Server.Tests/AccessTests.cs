using Floe.Api.V1;
using Floe.Rpc;

namespace Floe.Server.Tests;

/// <summary>Tokens: "admin" writes everything, "reader" reads alpha, "other" writes beta (RunningServer).</summary>
public sealed class AccessTests : ApiTestBase
{
    [Fact]
    public async Task Without_a_token_every_call_is_unauthenticated_and_changes_nothing()
    {
        await CreateAlphaAsync();
        using var anonymous = Server.Client(token: null);

        var read = await FailsAsync(() => anonymous.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "alpha" }));
        var write = await FailsAsync(() => anonymous.Repositories.CreateBranchAsync(new CreateRefRequest { Repository = "alpha", Name = "x" }));
        var create = await FailsAsync(() => anonymous.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "gamma" }));

        Assert.Equal([StatusCode.Unauthenticated, StatusCode.Unauthenticated, StatusCode.Unauthenticated], new[] { read, write, create }.Select(e => e.StatusCode));
        Assert.Empty((await anonymous.Repositories.ListRepositoriesAsync(new ListRepositoriesRequest())).Repositories);
        Assert.Equal(["main"], (await Admin.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "alpha" })).Refs.Select(r => r.Name));
        Assert.Equal(["alpha"], (await Admin.Repositories.ListRepositoriesAsync(new ListRepositoriesRequest())).Repositories.Select(r => r.Name));
    }

    [Fact]
    public async Task An_unknown_or_malformed_token_is_unauthenticated()
    {
        await CreateAlphaAsync();
        using var unknown = Server.Client("floe_not_a_configured_token");

        var error = await FailsAsync(() => unknown.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "alpha" }));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.DoesNotContain("floe_not_a_configured_token", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_read_only_token_reads_but_every_write_is_permission_denied_and_changes_nothing()
    {
        var commit = await CreateAlphaAsync();
        using var reader = Server.Client(RunningServer.ReaderToken);

        Assert.Equal(commit.SnapshotId, (await reader.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "alpha" })).Refs.Single().SnapshotId);
        var refused = new List<RpcException>
        {
            await FailsAsync(() => reader.Repositories.CreateBranchAsync(new CreateRefRequest { Repository = "alpha", Name = "x" })),
            await FailsAsync(() => reader.Repositories.CreateTagAsync(new CreateRefRequest { Repository = "alpha", Name = "x" })),
            await FailsAsync(() => reader.Repositories.DeleteRepositoryAsync(new DeleteRepositoryRequest { Repository = "alpha", Confirm = "alpha" })),
            await FailsAsync(() => reader.Writes.OpenSessionAsync(new OpenSessionRequest { Repository = "alpha" })),
        };
        // A session the admin opened cannot be fed or committed with the reader's token either.
        var session = await Admin.Writes.OpenSessionAsync(new OpenSessionRequest { Repository = "alpha" });
        refused.Add(await FailsAsync(() => WriteAsync(reader, session.SessionId, SetChunks("/grid/t", Decoded([1, 1, 1, 1, 1, 1], 1, 1)))));
        refused.Add(await FailsAsync(() => reader.Writes.CommitAsync(new CommitRequest { SessionId = session.SessionId, Message = "sneak" })));
        using (var append = reader.Writes.Append())
        {
            await append.RequestStream.WriteAsync(new AppendRequest { Target = new AppendTarget { Repository = "alpha", Path = "/grid/t", Dimension = "0" }, GrowBy = 2 });
            await append.RequestStream.CompleteAsync();
            refused.Add(await FailsAsync(() => append.ResponseAsync));
        }

        Assert.All(refused, e => Assert.Equal(StatusCode.PermissionDenied, e.StatusCode));
        Assert.All(refused, e => Assert.Contains("'reader'", e.Status.Detail, StringComparison.Ordinal));
        var branches = await Admin.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "alpha" });
        Assert.Equal([("main", commit.SnapshotId)], branches.Refs.Select(r => (r.Name, r.SnapshotId)));
        Assert.Empty((await Admin.Repositories.ListTagsAsync(new ListRefsRequest { Repository = "alpha" })).Refs);
        Assert.Equal([4L, 6L], (await Admin.Repositories.GetArrayMetadataAsync(new ArrayRequest { Repository = "alpha", Path = "/grid/t" })).Shape);
    }

    [Fact]
    public async Task A_token_for_another_repository_may_neither_read_nor_write_this_one()
    {
        await CreateAlphaAsync();
        using var other = Server.Client(RunningServer.OtherToken);

        var read = await FailsAsync(() => other.Repositories.ReadChunkAsync(new ReadChunkRequest { Repository = "alpha", Path = "/grid/t", Coords = { 0, 0 } }));
        var write = await FailsAsync(() => other.Writes.OpenSessionAsync(new OpenSessionRequest { Repository = "alpha" }));
        await other.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "beta" });

        Assert.Equal((StatusCode.PermissionDenied, StatusCode.PermissionDenied), (read.StatusCode, write.StatusCode));
        Assert.Equal(["beta"], (await other.Repositories.ListRepositoriesAsync(new ListRepositoriesRequest())).Repositories.Select(r => r.Name));
        var gamma = await FailsAsync(() => other.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "gamma" }));
        Assert.Equal(StatusCode.PermissionDenied, gamma.StatusCode);
        Assert.Equal(["alpha", "beta"], (await Admin.Repositories.ListRepositoriesAsync(new ListRepositoriesRequest())).Repositories.Select(r => r.Name));
    }
}

/// <summary>Anonymous reads of one repository, when configured.</summary>
public sealed class AnonymousReadTests : ApiTestBase
{
    protected override IDictionary<string, string?>? Settings() => new Dictionary<string, string?> { ["Floe:Auth:AnonymousRead:0"] = "alpha" };

    [Fact]
    public async Task Anonymous_callers_read_the_configured_repository_and_nothing_else()
    {
        await CreateAlphaAsync();
        await Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "beta" });
        using var anonymous = Server.Client(token: null);

        var chunk = await anonymous.Repositories.ReadChunkAsync(new ReadChunkRequest { Repository = "alpha", Path = "/grid/t", Coords = { 0, 0 } });
        Assert.Equal(Floats(0, 1, 2, 6, 7, 8), chunk.Data.ToByteArray());
        Assert.Equal(["alpha"], (await anonymous.Repositories.ListRepositoriesAsync(new ListRepositoriesRequest())).Repositories.Select(r => r.Name));
        Assert.Equal(StatusCode.Unauthenticated, (await FailsAsync(() => anonymous.Repositories.ListBranchesAsync(new ListRefsRequest { Repository = "beta" }))).StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, (await FailsAsync(() => anonymous.Writes.OpenSessionAsync(new OpenSessionRequest { Repository = "alpha" }))).StatusCode);
    }
}
