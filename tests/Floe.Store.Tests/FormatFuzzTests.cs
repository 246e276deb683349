using System.Diagnostics;
using System.Text.Json.Nodes;
using Floe.Storage;
using Floe.Store.Format;

namespace Floe.Store.Tests;

/// <summary>
/// Mutates valid payloads (bit flips, overwritten bytes, truncation, insertion, deletion, duplication), seals them in
/// a valid envelope so that only the payload decoder is tested, and requires every decode to either fail with a
/// <see cref="CorruptObjectException"/> or return an object that survives its own encode/decode round trip.
/// </summary>
public sealed class FormatFuzzTests
{
    private const int Iterations = 3000;

    private static async Task<(byte[] Shard, byte[] Snapshot, byte[] Log)> SamplePayloadsAsync()
    {
        var store = new MemoryObjectStore();
        var repository = await Repository.CreateAsync(store, new RepositoryOptions { RefsPerShard = 64, InlineThreshold = 24 });
        var session = await repository.WritableSessionAsync();
        session.CreateGroup("/g", new JsonObject { ["title"] = "fuzz" });
        session.CreateArray("/g/a", TestData.Int32Array([8, 6], [2, 3]));
        session.CreateArray("/b", TestData.Int32Array([5], [5]));
        await session.WriteChunkAsync("/g/a", [0, 0], TestData.FilledInt32Chunk(6, 1)); // 24 bytes: inline
        await session.WriteChunkAsync("/g/a", [3, 1], TestData.FilledInt32Chunk(6, 2));
        await session.WriteChunkAsync("/b", [0], TestData.FilledInt32Chunk(5, 3)); // 20 bytes: inline
        session.SetChunkRef("/g/a", [1, 0], new VirtualChunkRef("s3://bucket/data/file-1.nc", 1000, 24, "\"abc\"", DateTimeOffset.FromUnixTimeMilliseconds(1_650_000_000_000)));
        session.SetChunkRef("/g/a", [1, 1], new VirtualChunkRef("s3://bucket/data/file-1.nc", 1024, 24, "\"abc\"", DateTimeOffset.FromUnixTimeMilliseconds(1_650_000_000_000)));
        session.SetChunkRef("/g/a", [2, 0], new VirtualChunkRef("s3://bucket/data/file-2.nc", 8, 24));
        await session.CommitAsync("first");
        var big = TestData.FilledInt32Chunk(6, 4);
        big[0] = 9;
        session.UpdateAttributes("/g", new JsonObject { ["title"] = "changed" });
        session.SetChunkRef("/g/a", [2, 1], new NativeChunkRef(ObjectId.NewId(), 100));
        session.DeleteChunk("/g/a", [0, 0]);
        session.CreateGroup("/h");
        var commit = await session.CommitAsync("second", new Dictionary<string, string> { ["author"] = "fuzzer", ["ticket"] = "42" });

        var snapshot = await TestData.PayloadAsync(store, Snapshot.KeyOf(commit), ObjectType.Snapshot);
        var log = await TestData.PayloadAsync(store, TransactionLog.KeyOf(commit), ObjectType.TransactionLog);
        var node = session.BaseSnapshot.FindNode("/g/a")!;
        var shard = await TestData.PayloadAsync(store, ManifestShard.KeyOf(node.Shards[0].ManifestId), ObjectType.ManifestShard);
        return (shard, snapshot, log);
    }

    private static byte[] Mutate(Random random, byte[] payload, out string description)
    {
        var data = new List<byte>(payload);
        var kind = random.Next(7);
        var at = data.Count == 0 ? 0 : random.Next(data.Count);
        switch (kind)
        {
            case 0:
                var flips = random.Next(1, 4);
                for (var i = 0; i < flips && data.Count > 0; i++)
                {
                    var p = random.Next(data.Count);
                    data[p] ^= (byte)(1 << random.Next(8));
                }

                description = $"{flips} bit flip(s)";
                break;
            case 1:
                var value = (byte)random.Next(256);
                if (data.Count > 0)
                {
                    data[at] = value;
                }

                description = $"byte {at} set to {value:X2}";
                break;
            case 2:
                data.RemoveRange(at, data.Count - at);
                description = $"truncated to {at}";
                break;
            case 3:
                var inserted = (byte)random.Next(256);
                data.Insert(at, inserted);
                description = $"inserted {inserted:X2} at {at}";
                break;
            case 4:
                if (data.Count > 0)
                {
                    data.RemoveAt(at);
                }

                description = $"deleted byte {at}";
                break;
            case 5:
                var length = Math.Min(random.Next(1, 16), data.Count - at);
                data.InsertRange(at, data.GetRange(at, length));
                description = $"duplicated {length} bytes at {at}";
                break;
            default:
                // Large values where varints live: a byte with the high bit set continues a varint into its neighbours.
                var count = random.Next(1, 5);
                for (var i = 0; i < count && data.Count > 0; i++)
                {
                    data[random.Next(data.Count)] = (byte)(0x80 | random.Next(128));
                }

                description = $"{count} continuation byte(s)";
                break;
        }

        return [.. data];
    }

    private static async Task FuzzAsync(ObjectType type, byte[] payload, Action<string, byte[]> decodeAndCheck, int seed)
    {
        var key = type switch
        {
            ObjectType.ManifestShard => "manifests/FUZZ",
            ObjectType.Snapshot => "snapshots/FUZZ",
            _ => "transactions/FUZZ",
        };
        decodeAndCheck(key, Envelope.Seal(type, payload, compress: true)); // the unmutated payload decodes

        var failures = new List<string>();
        var corrupt = 0;
        var work = Task.Run(() =>
        {
            var random = new Random(seed);
            for (var i = 0; i < Iterations; i++)
            {
                var mutated = Mutate(random, payload, out var description);
                var sealedObject = Envelope.Seal(type, mutated, compress: random.Next(2) == 0);
                var watch = Stopwatch.StartNew();
                try
                {
                    decodeAndCheck(key, sealedObject);
                }
                catch (CorruptObjectException e)
                {
                    corrupt++;
                    if (e.Key != key)
                    {
                        failures.Add($"iteration {i} ({description}): CorruptObjectException names '{e.Key}', not '{key}'");
                    }
                }
                catch (Exception e)
                {
                    failures.Add($"iteration {i} ({description}): {e.GetType().Name}: {e.Message}");
                }

                if (watch.Elapsed > TimeSpan.FromSeconds(2))
                {
                    failures.Add($"iteration {i} ({description}): decoding took {watch.Elapsed}");
                }
            }
        });

        // A decoder that loops forever fails the test instead of hanging it.
        await work.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(failures.Count == 0,
            $"seed {seed}: {failures.Count} of {Iterations} mutated {type} payloads failed otherwise than with CorruptObjectException:\n" +
            string.Join("\n", failures.Take(15)));
        Assert.InRange(corrupt, Iterations / 4, Iterations); // most mutations are caught, so the fuzzer reaches the checks
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Mutated_manifest_shard_payloads_decode_correctly_or_fail_as_corrupt(int seed)
    {
        var (shard, _, _) = await SamplePayloadsAsync();

        await FuzzAsync(ObjectType.ManifestShard, shard, (key, data) =>
        {
            var decoded = ManifestShard.Decode(key, data);
            var again = ManifestShard.Decode(key, decoded.Encode());
            Assert.Equal(decoded.Origin, again.Origin);
            Assert.Equal(decoded.Shape, again.Shape);
            Assert.Equal(decoded.Positions, again.Positions);
            Assert.Equal(decoded.Refs, again.Refs);
            Assert.All(decoded.Positions, p => Assert.InRange(p, 0, decoded.Shape.Aggregate(1L, (a, b) => a * b) - 1));
        }, seed);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Mutated_snapshot_payloads_decode_correctly_or_fail_as_corrupt(int seed)
    {
        var (_, snapshot, _) = await SamplePayloadsAsync();

        await FuzzAsync(ObjectType.Snapshot, snapshot, (key, data) =>
        {
            var decoded = Snapshot.Decode(key, data);
            var again = Snapshot.Decode(key, decoded.Encode());
            Assert.Equal(decoded.Id, again.Id);
            Assert.Equal(decoded.ParentId, again.ParentId);
            Assert.Equal(decoded.Timestamp, again.Timestamp);
            Assert.Equal(decoded.Message, again.Message);
            Assert.Equal(decoded.Metadata, again.Metadata);
            Assert.Equal(decoded.Nodes.Select(n => (n.Path, n.Kind, n.Shards.Count)), again.Nodes.Select(n => (n.Path, n.Kind, n.Shards.Count)));
            Assert.Equal(NodePath.Root, decoded.Nodes[0].Path);
        }, seed);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Mutated_transaction_log_payloads_decode_correctly_or_fail_as_corrupt(int seed)
    {
        var (_, _, log) = await SamplePayloadsAsync();

        await FuzzAsync(ObjectType.TransactionLog, log, (key, data) =>
        {
            var decoded = TransactionLog.Decode(key, data);
            var again = TransactionLog.Decode(key, decoded.Encode());
            Assert.Equal(decoded.SnapshotId, again.SnapshotId);
            Assert.Equal(decoded.CreatedNodes.Order(StringComparer.Ordinal), again.CreatedNodes);
            Assert.Equal(decoded.DeletedNodes.Order(StringComparer.Ordinal), again.DeletedNodes);
            Assert.Equal(decoded.UpdatedNodes.Order(StringComparer.Ordinal), again.UpdatedNodes);
            Assert.Equal(decoded.ChunkChanges.Count, again.ChunkChanges.Count);
        }, seed);
    }

    [Fact]
    public void A_transaction_log_claiming_billions_of_rank_zero_chunks_is_corrupt_without_allocating_them()
    {
        var w = new PayloadWriter();
        w.WriteId(ObjectId.NewId());
        w.WriteVarint(0UL); // created
        w.WriteVarint(0UL); // deleted
        w.WriteVarint(0UL); // updated
        w.WriteVarint(1UL); // one array
        w.WriteString("/a");
        w.WriteVarint(0UL); // rank 0
        w.WriteVarint((ulong)int.MaxValue); // written count
        w.WriteVarint(0UL); // deleted count
        var data = Envelope.Seal(ObjectType.TransactionLog, w.WrittenSpan, compress: true);

        var ex = Record.Exception(() => TransactionLog.Decode("transactions/X", data));

        Assert.IsType<CorruptObjectException>(ex);
    }

    [Fact]
    public void A_transaction_log_whose_chunk_counts_overflow_when_added_is_corrupt()
    {
        var w = new PayloadWriter();
        w.WriteId(ObjectId.NewId());
        w.WriteVarint(0UL);
        w.WriteVarint(0UL);
        w.WriteVarint(0UL);
        w.WriteVarint(1UL);
        w.WriteString("/a");
        w.WriteVarint(1UL); // rank 1
        w.WriteVarint((ulong)int.MaxValue); // written + deleted overflows an int
        w.WriteVarint((ulong)int.MaxValue);
        w.WriteRaw(new byte[64]);
        var data = Envelope.Seal(ObjectType.TransactionLog, w.WrittenSpan, compress: true);

        var ex = Record.Exception(() => TransactionLog.Decode("transactions/X", data));

        Assert.IsType<CorruptObjectException>(ex);
    }

    [Fact]
    public void A_transaction_log_round_trips_with_sorted_paths()
    {
        var id = ObjectId.NewId();
        var log = new TransactionLog(id, ["/b", "/a"], ["/z"], ["/m", "/c"],
            [new ArrayChunkChanges("/a", 2, [[0, 1], [300, 70000]], [[5, 5]])]);

        var decoded = TransactionLog.Decode("transactions/X", log.Encode());

        Assert.Equal(id, decoded.SnapshotId);
        Assert.Equal(new[] { "/a", "/b" }, decoded.CreatedNodes);
        Assert.Equal(new[] { "/z" }, decoded.DeletedNodes);
        Assert.Equal(new[] { "/c", "/m" }, decoded.UpdatedNodes);
        var change = Assert.Single(decoded.ChunkChanges);
        Assert.Equal("/a", change.Path);
        Assert.Equal(2, change.Rank);
        Assert.Equal(new long[][] { [0, 1], [300, 70000] }, change.Written);
        Assert.Equal(new long[][] { [5, 5] }, change.Deleted);
    }
}
