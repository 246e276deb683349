using Floe.Storage;
using Floe.Store.Format;

namespace Floe.Store.Tests;

public sealed class RepositoryTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static async Task<ObjectId> CommitArrayAsync(Repository repository, string path, string message = "commit", string branch = "main")
    {
        var session = await repository.WritableSessionAsync(branch);
        session.CreateArray(path, TestData.Int32Array([4], [2]));
        return await session.CommitAsync(message);
    }

    [Fact]
    public async Task A_new_repository_on_a_memory_store_has_main_at_an_empty_root_group()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();

        Assert.Equal(new[] { "main" }, await repository.ListBranchesAsync());
        Assert.Empty(await repository.ListTagsAsync());
        var log = await TestData.LogAsync(repository);
        var root = Assert.Single(log);
        Assert.Null(root.ParentId);
        Assert.Equal("Repository created", root.Message);
        var node = Assert.Single(root.Nodes);
        Assert.Equal(NodePath.Root, node.Path);
        Assert.Equal(NodeKind.Group, node.Kind);
        var reader = await repository.ReadOnlyAsync("main");
        Assert.Empty(reader.ListChildren("/"));
        Assert.Equal(RepositoryConfig.DefaultRefsPerShard, repository.Config.RefsPerShard);
        Assert.Equal(RepositoryConfig.DefaultInlineThreshold, repository.Config.InlineThreshold);
    }

    [Fact]
    public async Task A_new_repository_on_a_filesystem_store_writes_config_branch_and_root_snapshot_files()
    {
        var store = new FileSystemObjectStore(_dir.Path, flushToDisk: false);
        var repository = await Repository.CreateAsync(store, new RepositoryOptions { RefsPerShard = 1000, InlineThreshold = 64 });

        var (rootId, _) = await repository.ReadBranchAsync("main");
        Assert.True(File.Exists(_dir.Combine("config")));
        Assert.True(File.Exists(_dir.Combine("refs/branches/main")));
        Assert.True(File.Exists(_dir.Combine($"snapshots/{rootId}")));

        // Reopened from disk (with other options), the configuration stored at creation wins.
        var reopened = await Repository.OpenAsync(new FileSystemObjectStore(_dir.Path), new RepositoryOptions { RefsPerShard = 5, InlineThreshold = 5 });
        Assert.Equal(1000, reopened.Config.RefsPerShard);
        Assert.Equal(64, reopened.Config.InlineThreshold);
        Assert.Equal(repository.Config.CreatedAt.ToUnixTimeMilliseconds(), reopened.Config.CreatedAt.ToUnixTimeMilliseconds());
        Assert.Equal(rootId, Assert.Single(await TestData.LogAsync(reopened)).Id);
    }

    [Fact]
    public async Task Creating_a_repository_twice_on_a_memory_store_fails()
    {
        var store = new MemoryObjectStore();
        await Repository.CreateAsync(store);

        var ex = await Assert.ThrowsAsync<RepositoryException>(() => Repository.CreateAsync(store));

        Assert.Contains("already exists", ex.Message, StringComparison.Ordinal);
        Assert.Contains("memory", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Creating_a_repository_twice_in_a_directory_fails_and_keeps_the_first()
    {
        var first = await Repository.CreateAsync(new FileSystemObjectStore(_dir.Path, flushToDisk: false));
        var commit = await CommitArrayAsync(first, "/a");

        var ex = await Assert.ThrowsAsync<RepositoryException>(() => Repository.CreateAsync(new FileSystemObjectStore(_dir.Path, flushToDisk: false)));

        Assert.Contains(_dir.Path, ex.Message, StringComparison.Ordinal);
        var reopened = await Repository.OpenAsync(new FileSystemObjectStore(_dir.Path));
        Assert.Equal(commit, (await reopened.ReadBranchAsync("main")).Snapshot);
    }

    [Fact]
    public async Task Of_two_concurrent_creators_in_one_directory_exactly_one_succeeds()
    {
        for (var round = 0; round < 5; round++)
        {
            var root = _dir.Combine($"race-{round}");
            var attempts = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
            {
                try
                {
                    return await Repository.CreateAsync(new FileSystemObjectStore(root, flushToDisk: false));
                }
                catch (RepositoryException)
                {
                    return null;
                }
            })).ToList();

            var results = await Task.WhenAll(attempts);

            var winner = Assert.Single(results, r => r is not null)!;
            var opened = await Repository.OpenAsync(new FileSystemObjectStore(root));
            var (main, _) = await opened.ReadBranchAsync("main");
            Assert.Equal((await winner.ReadBranchAsync("main")).Snapshot, main);
            Assert.Equal(winner.Config.CreatedAt.ToUnixTimeMilliseconds(), opened.Config.CreatedAt.ToUnixTimeMilliseconds());
        }
    }

    [Fact]
    public async Task Opening_where_no_repository_exists_fails_naming_the_store()
    {
        var ex = await Assert.ThrowsAsync<RepositoryException>(() => Repository.OpenAsync(new FileSystemObjectStore(_dir.Path)));

        Assert.Contains("no Floe repository", ex.Message, StringComparison.Ordinal);
        Assert.Contains(_dir.Path, ex.Message, StringComparison.Ordinal);
        var memory = await Assert.ThrowsAsync<RepositoryException>(() => Repository.OpenAsync(new MemoryObjectStore()));
        Assert.Contains("'config'", memory.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenOrCreate_creates_once_then_opens()
    {
        var store = new MemoryObjectStore();
        var created = await Repository.OpenOrCreateAsync(store);
        var commit = await CommitArrayAsync(created, "/a");

        var opened = await Repository.OpenOrCreateAsync(store);

        Assert.Equal(commit, (await opened.ReadBranchAsync("main")).Snapshot);
    }

    [Fact]
    public async Task Branches_are_created_listed_and_deleted()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var commit = await CommitArrayAsync(repository, "/a");

        await repository.CreateBranchAsync("dev", commit);
        await repository.CreateBranchAsync("feature.x_1-b", commit);

        Assert.Equal(new[] { "dev", "feature.x_1-b", "main" }, await repository.ListBranchesAsync());
        Assert.Equal(commit, (await repository.ReadBranchAsync("dev")).Snapshot);
        await repository.DeleteBranchAsync("dev");
        Assert.Equal(new[] { "feature.x_1-b", "main" }, await repository.ListBranchesAsync());
        var missing = await Assert.ThrowsAsync<BranchNotFoundException>(() => repository.ReadBranchAsync("dev"));
        Assert.Equal("dev", missing.Name);
        Assert.Equal("dev", (await Assert.ThrowsAsync<BranchNotFoundException>(() => repository.DeleteBranchAsync("dev"))).Name);
    }

    [Fact]
    public async Task A_branch_moves_independently_of_main()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var (root, _) = await repository.ReadBranchAsync("main");
        await repository.CreateBranchAsync("dev", root);

        var onDev = await CommitArrayAsync(repository, "/dev-only", branch: "dev");

        Assert.Equal(root, (await repository.ReadBranchAsync("main")).Snapshot);
        Assert.Equal(onDev, (await repository.ReadBranchAsync("dev")).Snapshot);
        Assert.Null((await repository.ReadOnlyAsync("main")).FindNode("/dev-only"));
        Assert.NotNull((await repository.ReadOnlyAsync("dev")).FindNode("/dev-only"));
    }

    [Fact]
    public async Task Main_cannot_be_deleted()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => repository.DeleteBranchAsync("main"));

        Assert.Contains("main", ex.Message, StringComparison.Ordinal);
        Assert.Equal(new[] { "main" }, await repository.ListBranchesAsync());
    }

    [Fact]
    public async Task Creating_an_existing_branch_fails_and_leaves_it_where_it_was()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var (root, _) = await repository.ReadBranchAsync("main");
        var commit = await CommitArrayAsync(repository, "/a");
        await repository.CreateBranchAsync("dev", root);

        var ex = await Assert.ThrowsAsync<RefExistsException>(() => repository.CreateBranchAsync("dev", commit));

        Assert.Contains("branch 'dev' already exists", ex.Message, StringComparison.Ordinal);
        Assert.Equal(root, (await repository.ReadBranchAsync("dev")).Snapshot);
        await Assert.ThrowsAsync<RefExistsException>(() => repository.CreateBranchAsync("main", root));
        Assert.Equal(commit, (await repository.ReadBranchAsync("main")).Snapshot);
    }

    [Theory]
    [InlineData("")]
    [InlineData(".hidden")]
    [InlineData("-dash")]
    [InlineData("a/b")]
    [InlineData("white space")]
    [InlineData("ümlaut")]
    [InlineData("colon:name")]
    public async Task Invalid_ref_names_are_rejected_naming_the_name(string name)
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var (root, _) = await repository.ReadBranchAsync("main");

        var branch = await Assert.ThrowsAsync<ArgumentException>(() => repository.CreateBranchAsync(name, root));
        var tag = await Assert.ThrowsAsync<ArgumentException>(() => repository.CreateTagAsync(name, root));

        Assert.Contains($"invalid branch name '{name}'", branch.Message, StringComparison.Ordinal);
        Assert.Contains($"invalid tag name '{name}'", tag.Message, StringComparison.Ordinal);
        Assert.Equal(new[] { "main" }, await repository.ListBranchesAsync());
        Assert.Empty(await repository.ListTagsAsync());
    }

    [Fact]
    public async Task Ref_names_of_255_characters_are_accepted_and_256_rejected()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var (root, _) = await repository.ReadBranchAsync("main");

        await repository.CreateBranchAsync(new string('b', 255), root);

        Assert.Contains(new string('b', 255), await repository.ListBranchesAsync());
        await Assert.ThrowsAsync<ArgumentException>(() => repository.CreateBranchAsync(new string('b', 256), root));
    }

    [Fact]
    public async Task A_branch_or_tag_of_a_missing_snapshot_is_refused()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var missing = ObjectId.NewId();

        var branch = await Assert.ThrowsAsync<SnapshotNotFoundException>(() => repository.CreateBranchAsync("dev", missing));
        await Assert.ThrowsAsync<SnapshotNotFoundException>(() => repository.CreateTagAsync("v1", missing));

        Assert.Equal(missing.ToString(), branch.Id);
        Assert.Equal(new[] { "main" }, await repository.ListBranchesAsync());
        Assert.Empty(await repository.ListTagsAsync());
    }

    [Fact]
    public async Task Tags_are_immutable_a_second_create_fails_and_never_moves_the_tag()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var first = await CommitArrayAsync(repository, "/a");
        await repository.CreateTagAsync("v1", first);
        var second = await CommitArrayAsync(repository, "/b");

        var ex = await Assert.ThrowsAsync<RefExistsException>(() => repository.CreateTagAsync("v1", second));

        Assert.Contains("tag 'v1' already exists (tags are immutable)", ex.Message, StringComparison.Ordinal);
        Assert.Equal(first, await repository.ResolveTagAsync("v1"));
        Assert.Equal(new[] { "v1" }, await repository.ListTagsAsync());
        var reader = await repository.ReadOnlyAsync("tag:v1");
        Assert.NotNull(reader.FindNode("/a"));
        Assert.Null(reader.FindNode("/b"));
        Assert.Equal("v2", (await Assert.ThrowsAsync<TagNotFoundException>(() => repository.ResolveTagAsync("v2"))).Name);
    }

    [Fact]
    public async Task Resolve_understands_branch_tag_snapshot_and_bare_names()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var (root, _) = await repository.ReadBranchAsync("main");
        var commit = await CommitArrayAsync(repository, "/a");
        await repository.CreateTagAsync("release", root);
        await repository.CreateBranchAsync("only-branch", root);
        // A tag and a branch of the same name: the bare name is the branch.
        await repository.CreateTagAsync("main", root);

        Assert.Equal(commit, await repository.ResolveAsync("branch:main"));
        Assert.Equal(root, await repository.ResolveAsync("tag:main"));
        Assert.Equal(root, await repository.ResolveAsync("tag:release"));
        Assert.Equal(commit, await repository.ResolveAsync($"snapshot:{commit}"));
        Assert.Equal(commit, await repository.ResolveAsync("main"));
        Assert.Equal(root, await repository.ResolveAsync("release"));
        Assert.Equal(root, await repository.ResolveAsync("only-branch"));
        Assert.Equal(commit, await repository.ResolveAsync(commit.ToString()));
        Assert.Equal(commit, await repository.ResolveAsync(commit.ToString().ToLowerInvariant()));
    }

    [Fact]
    public async Task Resolve_fails_clearly_for_unknown_references()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var unknownId = ObjectId.NewId().ToString();

        Assert.Equal("nope", (await Assert.ThrowsAsync<BranchNotFoundException>(() => repository.ResolveAsync("branch:nope"))).Name);
        Assert.Equal("nope", (await Assert.ThrowsAsync<TagNotFoundException>(() => repository.ResolveAsync("tag:nope"))).Name);
        Assert.Equal(unknownId, (await Assert.ThrowsAsync<SnapshotNotFoundException>(() => repository.ResolveAsync($"snapshot:{unknownId}"))).Id);
        Assert.Equal("not-an-id", (await Assert.ThrowsAsync<SnapshotNotFoundException>(() => repository.ResolveAsync("snapshot:not-an-id"))).Id);
        var bare = await Assert.ThrowsAsync<ReferenceNotFoundException>(() => repository.ResolveAsync("nope"));
        Assert.Contains("'nope' is not a branch, tag or snapshot id", bare.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ReferenceNotFoundException>(() => repository.ResolveAsync(unknownId));
        await Assert.ThrowsAsync<BranchNotFoundException>(() => repository.WritableSessionAsync("nope"));
    }

    [Fact]
    public async Task The_log_lists_a_branch_newest_first_following_parent_links()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var (root, _) = await repository.ReadBranchAsync("main");
        var commits = new List<ObjectId> { root };
        for (var i = 0; i < 5; i++)
        {
            commits.Add(await CommitArrayAsync(repository, $"/a{i}", $"commit {i}"));
        }

        var log = await TestData.LogAsync(repository);

        Assert.Equal(Enumerable.Reverse(commits), log.Select(s => s.Id));
        for (var i = 0; i < log.Count - 1; i++)
        {
            Assert.Equal(log[i + 1].Id, log[i].ParentId);
            Assert.True(log[i].Timestamp >= log[i + 1].Timestamp);
        }

        Assert.Null(log[^1].ParentId);
        Assert.Equal(new[] { "commit 4", "commit 3", "commit 2", "commit 1", "commit 0", "Repository created" }, log.Select(s => s.Message));
        // The log of a tag or a snapshot starts there.
        await repository.CreateTagAsync("t", commits[2]);
        Assert.Equal(new[] { commits[2], commits[1], root }, (await TestData.LogAsync(repository, "tag:t")).Select(s => s.Id));
        Assert.Equal(new[] { commits[1], root }, (await TestData.LogAsync(repository, commits[1].ToString())).Select(s => s.Id));
    }

    [Fact]
    public async Task Messages_and_metadata_round_trip_through_a_reopened_repository()
    {
        var store = new MemoryObjectStore();
        var repository = await Repository.CreateAsync(store);
        var session = await repository.WritableSessionAsync();
        session.CreateGroup("/g");
        var metadata = new Dictionary<string, string> { ["z-last"] = "1", ["author"] = "Ada Lovelace", ["note"] = "multi\nline ☔", ["empty"] = "" };
        var message = "Add IMERG precipitation 🌧\nsecond line";
        var id = await session.CommitAsync(message, metadata);

        var reopened = await Repository.OpenAsync(store);
        var snapshot = await reopened.GetSnapshotAsync(id);

        Assert.Equal(message, snapshot.Message);
        Assert.Equal(new[] { "author", "empty", "note", "z-last" }, snapshot.Metadata.Keys);
        foreach (var (key, value) in metadata)
        {
            Assert.Equal(value, snapshot.Metadata[key]);
        }

        Assert.True(Math.Abs((snapshot.Timestamp - DateTimeOffset.UtcNow).TotalMinutes) < 5);
    }

    [Fact]
    public async Task Reset_moves_a_branch_only_from_the_expected_snapshot()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var (root, _) = await repository.ReadBranchAsync("main");
        var commit = await CommitArrayAsync(repository, "/a");

        await Assert.ThrowsAsync<FloeStoreException>(() => repository.ResetBranchAsync("main", root, expected: root));
        Assert.Equal(commit, (await repository.ReadBranchAsync("main")).Snapshot);

        await repository.ResetBranchAsync("main", root, expected: commit);
        Assert.Equal(root, (await repository.ReadBranchAsync("main")).Snapshot);
    }

    [Fact]
    public async Task A_missing_snapshot_fails_with_its_id()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var id = ObjectId.NewId();

        var ex = await Assert.ThrowsAsync<SnapshotNotFoundException>(() => repository.GetSnapshotAsync(id));

        Assert.Equal(id.ToString(), ex.Id);
        Assert.Contains(id.ToString(), ex.Message, StringComparison.Ordinal);
    }
}
