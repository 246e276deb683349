using System.Text;
using System.Text.Json.Nodes;
using Floe.Core;
using Floe.Storage;
using Floe.Store.Format;

namespace Floe.Store.Tests;

/// <summary>
/// Reads what a repository wrote field by field, following docs/spec.md rather than the library's decoders, so
/// that a change to a byte layout shows up here as a broken contract.
/// </summary>
public sealed class SpecLayoutTests
{
    private static async Task<(MemoryObjectStore Store, Session Session, ObjectId Parent, ObjectId Commit)> SampleAsync()
    {
        var store = new MemoryObjectStore();
        var repository = await Repository.CreateAsync(store, new RepositoryOptions { RefsPerShard = 4 });
        var session = await repository.WritableSessionAsync();
        session.CreateGroup("/g", new JsonObject { ["title"] = "T" });
        session.CreateArray("/g/a", TestData.Int32Array([8, 2], [1, 1])); // shard shape [2, 2]
        session.CreateArray("/old", TestData.Int32Array([2], [1]));
        var parent = await session.CommitAsync("setup");
        await session.WriteChunkAsync("/g/a", [0, 1], TestData.Int32Bytes(1));
        await session.WriteChunkAsync("/g/a", [5, 0], TestData.Int32Bytes(2));
        await session.WriteChunkAsync("/g/a", [5, 1], TestData.Int32Bytes(3));
        session.DeleteChunk("/g/a", [7, 1]);
        session.DeleteNode("/old");
        session.CreateGroup("/new");
        session.UpdateAttributes("/g", new JsonObject { ["title"] = "U" });
        var commit = await session.CommitAsync("layout ☔", new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" });
        return (store, session, parent, commit);
    }

    [Fact]
    public async Task A_snapshot_payload_follows_the_spec_field_by_field()
    {
        var (store, session, parent, commit) = await SampleAsync();
        var payload = await TestData.PayloadAsync(store, Snapshot.KeyOf(commit), ObjectType.Snapshot);
        var r = new PayloadReader(payload, "spec");

        Assert.Equal(commit, r.ReadId());
        Assert.Equal(1, r.ReadByte()); // has parent
        Assert.Equal(parent, r.ReadId());
        Assert.Equal(session.BaseSnapshot.Timestamp.ToUnixTimeMilliseconds(), (long)r.ReadVarint());
        Assert.Equal("layout ☔", r.ReadString());
        Assert.Equal(2UL, r.ReadVarint()); // metadata, keys sorted ordinally
        Assert.Equal(("a", "1"), (r.ReadString(), r.ReadString()));
        Assert.Equal(("b", "2"), (r.ReadString(), r.ReadString()));
        Assert.Equal(4UL, r.ReadVarint()); // nodes, sorted by path

        Assert.Equal("/", r.ReadString());
        Assert.Equal(1, r.ReadByte()); // group
        Assert.Equal("group", JsonNode.Parse(r.ReadBytes())!["node_type"]!.GetValue<string>());

        Assert.Equal("/g", r.ReadString());
        Assert.Equal(1, r.ReadByte());
        Assert.Equal("U", GroupMetadata.Parse(r.ReadBytes()).Attributes["title"]!.GetValue<string>());

        Assert.Equal("/g/a", r.ReadString());
        Assert.Equal(2, r.ReadByte()); // array
        var zarrJson = r.ReadBytes().ToArray();
        Assert.Equal(new long[] { 8, 2 }, ArrayMetadata.Parse(zarrJson).Shape);
        Assert.Equal("array", JsonNode.Parse(zarrJson)!["node_type"]!.GetValue<string>());
        Assert.Equal(2UL, r.ReadVarint()); // rank
        Assert.Equal(new long[] { 2, 2 }, r.ReadCoords(2)); // shard shape
        Assert.Equal(3UL, r.ReadVarint()); // reference count
        var index = new PayloadReader(r.ReadBytes(), "index");
        Assert.Equal(2UL, index.ReadVarint()); // two shards, sorted by shard coordinates
        var shards = session.BaseSnapshot.FindNode("/g/a")!.Shards;
        Assert.Equal(new long[] { 0, 0 }, index.ReadCoords(2));
        Assert.Equal(shards[0].ManifestId, index.ReadId());
        Assert.Equal(1UL, index.ReadVarint());
        Assert.Equal(new long[] { 0, 1 }, index.ReadCoords(2)); // extent min
        Assert.Equal(new long[] { 0, 1 }, index.ReadCoords(2)); // extent max
        Assert.Equal(new long[] { 2, 0 }, index.ReadCoords(2));
        Assert.Equal(shards[1].ManifestId, index.ReadId());
        Assert.Equal(2UL, index.ReadVarint());
        Assert.Equal(new long[] { 5, 0 }, index.ReadCoords(2));
        Assert.Equal(new long[] { 5, 1 }, index.ReadCoords(2));
        index.ExpectEnd();

        Assert.Equal("/new", r.ReadString());
        Assert.Equal(1, r.ReadByte());
        r.ReadBytes();
        r.ExpectEnd();
    }

    [Fact]
    public async Task A_transaction_log_payload_follows_the_spec_field_by_field()
    {
        var (store, _, _, commit) = await SampleAsync();
        var payload = await TestData.PayloadAsync(store, TransactionLog.KeyOf(commit), ObjectType.TransactionLog);
        var r = new PayloadReader(payload, "spec");

        Assert.Equal(commit, r.ReadId());
        Assert.Equal(1UL, r.ReadVarint()); // created
        Assert.Equal("/new", r.ReadString());
        Assert.Equal(1UL, r.ReadVarint()); // deleted
        Assert.Equal("/old", r.ReadString());
        Assert.Equal(1UL, r.ReadVarint()); // updated
        Assert.Equal("/g", r.ReadString());
        Assert.Equal(1UL, r.ReadVarint()); // arrays with chunk changes
        Assert.Equal("/g/a", r.ReadString());
        Assert.Equal(2UL, r.ReadVarint()); // rank
        Assert.Equal(3UL, r.ReadVarint()); // written
        Assert.Equal(1UL, r.ReadVarint()); // deleted
        var writtenRows = r.ReadUIntColumn(3);
        var writtenColumns = r.ReadUIntColumn(3);
        var written = writtenRows.Zip(writtenColumns, (a, b) => (a, b)).Order().ToArray();
        Assert.Equal(new[] { (0UL, 1UL), (5UL, 0UL), (5UL, 1UL) }, written);
        Assert.Equal(new ulong[] { 7 }, r.ReadUIntColumn(1));
        Assert.Equal(new ulong[] { 1 }, r.ReadUIntColumn(1));
        Assert.Equal(0UL, r.ReadVarint()); // boxes (only merged changesets record them)
        r.ExpectEnd();
    }

    [Fact]
    public async Task A_manifest_shard_written_by_a_commit_follows_the_spec_header()
    {
        var (store, session, _, _) = await SampleAsync();
        var entry = session.BaseSnapshot.FindNode("/g/a")!.Shards[1];
        var payload = await TestData.PayloadAsync(store, ManifestShard.KeyOf(entry.ManifestId), ObjectType.ManifestShard);
        var r = new PayloadReader(payload, "spec");

        Assert.Equal(2UL, r.ReadVarint()); // rank
        Assert.Equal(new long[] { 4, 0 }, r.ReadCoords(2)); // origin of shard [2, 0]
        Assert.Equal(new long[] { 2, 2 }, r.ReadCoords(2)); // shape
        Assert.Equal(2UL, r.ReadVarint()); // count
        Assert.Equal(1, r.ReadByte()); // positions
        var positions = new PayloadReader(r.ReadBytes(), "positions");
        Assert.Equal(new ulong[] { 2, 1 }, positions.ReadUIntColumn(2)); // [5, 0] is position 2, [5, 1] is 3
        Assert.Equal(2, r.ReadByte()); // kinds
        Assert.Equal(new byte[] { 1, 1 }, r.ReadBytes().ToArray()); // inline
        Assert.Equal(9, r.ReadByte());
        Assert.Equal(new byte[] { 1, 4, 4 }, r.ReadBytes().ToArray()); // inline lengths: width 1, [4, 4]
        Assert.Equal(10, r.ReadByte());
        Assert.Equal(TestData.Int32Bytes(2, 3), r.ReadBytes().ToArray());
        r.ExpectEnd();
    }

    [Fact]
    public async Task Keys_follow_the_spec_naming()
    {
        var (store, session, parent, commit) = await SampleAsync();
        await session.Repository.CreateTagAsync("v1", commit);

        var keys = await TestData.KeysAsync(store, "");

        Assert.Contains("config", keys);
        Assert.Contains("refs/branches/main", keys);
        Assert.Contains("refs/tags/v1", keys);
        Assert.Contains($"snapshots/{parent}", keys);
        Assert.Contains($"snapshots/{commit}", keys);
        Assert.Contains($"transactions/{commit}", keys);
        Assert.All(session.BaseSnapshot.FindNode("/g/a")!.Shards, s => Assert.Contains($"manifests/{s.ManifestId}", keys));
        Assert.All(keys, k => Assert.Matches("^(config|refs/(branches|tags)/[A-Za-z0-9._-]+|(snapshots|manifests|transactions|chunks)/[0-9A-HJKMNP-TV-Z]{20})$", k));
        Assert.Equal("FLOE", Encoding.ASCII.GetString((await store.GetAsync("refs/tags/v1"))!.Data.Span[..4]));
    }
}
