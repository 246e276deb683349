using Floe.Core;
using Floe.Store.Format;

namespace Floe.Store;

public enum NodeKind : byte
{
    Group = 1,
    Array = 2,
}

/// <summary>One entry of an array's manifest index: a shard box, the manifest holding it, and what it holds.</summary>
public sealed record ShardEntry(long[] ShardCoords, ObjectId ManifestId, long RefCount, long[] ExtentMin, long[] ExtentMax);

/// <summary>A group or array in a snapshot: its Zarr metadata and, for arrays, the manifest index.</summary>
public sealed class Node
{
    private static readonly IReadOnlyList<ShardEntry> NoShards = [];
    private readonly Lock _lock = new();
    private IReadOnlyList<ShardEntry>? _shards;
    private byte[]? _encodedShards;
    private readonly string? _objectKey;
    private ArrayMetadata? _array;
    private GroupMetadata? _group;

    public Node(string path, NodeKind kind, byte[] zarrJson, long[]? shardShape = null, IReadOnlyList<ShardEntry>? shards = null)
    {
        Path = path;
        Kind = kind;
        ZarrJson = zarrJson;
        ShardShape = shardShape;
        _shards = shards ?? NoShards;
        RefCount = _shards.Sum(s => s.RefCount);
    }

    // A decoded array whose manifest index is parsed on first use, so opening a snapshot and listing its nodes
    // costs the same however many shards its arrays have.
    private Node(string path, byte[] zarrJson, long[] shardShape, long refCount, byte[] encodedShards, string objectKey)
    {
        Path = path;
        Kind = NodeKind.Array;
        ZarrJson = zarrJson;
        ShardShape = shardShape;
        RefCount = refCount;
        _encodedShards = encodedShards;
        _objectKey = objectKey;
    }

    public string Path { get; }

    public NodeKind Kind { get; }

    /// <summary>The node's Zarr v3 zarr.json document.</summary>
    public byte[] ZarrJson { get; }

    /// <summary>Chunks per manifest shard along each dimension (arrays only).</summary>
    public long[]? ShardShape { get; }

    /// <summary>The manifest index, sorted by shard coordinates (arrays only).</summary>
    public IReadOnlyList<ShardEntry> Shards
    {
        get
        {
            if (_shards is null)
            {
                lock (_lock)
                {
                    _shards ??= DecodeShards(ShardShape!.Length, _encodedShards!, _objectKey!, Path);
                    _encodedShards = null;
                }
            }

            return _shards;
        }
    }

    /// <summary>How many chunk references the array holds (known without reading the manifest index).</summary>
    public long RefCount { get; }

    public ArrayMetadata ArrayMetadata => Kind == NodeKind.Array
        ? _array ??= ParseMetadata(json => ArrayMetadata.Parse(json))
        : throw new FloeStoreException($"'{Path}' is a group, not an array");

    public GroupMetadata GroupMetadata => Kind == NodeKind.Group
        ? _group ??= ParseMetadata(json => GroupMetadata.Parse(json))
        : throw new FloeStoreException($"'{Path}' is an array, not a group");

    public ShardEntry? FindShard(ReadOnlySpan<long> shardCoords)
    {
        int lo = 0, hi = Shards.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var c = CompareCoords(Shards[mid].ShardCoords, shardCoords);
            if (c == 0)
            {
                return Shards[mid];
            }

            if (c < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return null;
    }

    public static int CompareCoords(ReadOnlySpan<long> a, ReadOnlySpan<long> b) => a.SequenceCompareTo(b);

    internal static Node Decoded(string path, byte[] zarrJson, long[] shardShape, long refCount, byte[] encodedShards, string objectKey) =>
        new(path, zarrJson, shardShape, refCount, encodedShards, objectKey);

    /// <summary>A rough count of the bytes this node keeps alive, for the snapshot cache's budget; does not parse the index.</summary>
    public long EstimatedMemory()
    {
        lock (_lock)
        {
            return 128L + ZarrJson.Length + (_shards is not null ? _shards.Count * 96L : (_encodedShards?.Length ?? 0) * 4L);
        }
    }

    /// <summary>The encoded manifest index; reuses the stored bytes when the index was never parsed.</summary>
    internal byte[] EncodedShardIndex()
    {
        lock (_lock)
        {
            if (_shards is null && _encodedShards is not null)
            {
                return _encodedShards;
            }
        }

        return EncodeShards(Shards);
    }

    private static byte[] EncodeShards(IReadOnlyList<ShardEntry> shards)
    {
        var w = new PayloadWriter(16 + (shards.Count * 32));
        w.WriteVarint((ulong)shards.Count);
        foreach (var s in shards)
        {
            w.WriteCoords(s.ShardCoords);
            w.WriteId(s.ManifestId);
            w.WriteVarint(s.RefCount);
            w.WriteCoords(s.ExtentMin);
            w.WriteCoords(s.ExtentMax);
        }

        return w.ToArray();
    }

    private static ShardEntry[] DecodeShards(int rank, byte[] encoded, string objectKey, string path)
    {
        var r = new PayloadReader(encoded, objectKey);
        var shardCount = r.ReadCount("shard count", ObjectId.ByteLength);
        var shards = new ShardEntry[shardCount];
        for (var s = 0; s < shardCount; s++)
        {
            var coords = r.ReadCoords(rank);
            var manifest = r.ReadId();
            var refs = r.ReadLength("reference count");
            shards[s] = new ShardEntry(coords, manifest, refs, r.ReadCoords(rank), r.ReadCoords(rank));
            if (s > 0 && CompareCoords(shards[s - 1].ShardCoords, coords) >= 0)
            {
                throw r.Corrupt($"array '{path}' has shard index entries out of order");
            }
        }

        r.ExpectEnd();
        return shards;
    }

    private T ParseMetadata<T>(Func<byte[], T> parse)
    {
        try
        {
            return parse(ZarrJson);
        }
        catch (FormatException e)
        {
            throw new FloeStoreException($"node '{Path}' has invalid zarr.json: {e.Message}", e);
        }
    }
}

/// <summary>An immutable snapshot: the whole node tree with each array's manifest index (spec: Snapshot).</summary>
public sealed class Snapshot
{
    public Snapshot(ObjectId id, ObjectId? parentId, DateTimeOffset timestamp, string message,
        IReadOnlyDictionary<string, string> metadata, IReadOnlyList<Node> nodes)
    {
        Id = id;
        ParentId = parentId;
        Timestamp = timestamp;
        Message = message;
        Metadata = metadata;
        Nodes = nodes;
    }

    public ObjectId Id { get; }

    public ObjectId? ParentId { get; }

    public DateTimeOffset Timestamp { get; }

    public string Message { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>All nodes, sorted by path (ordinal).</summary>
    public IReadOnlyList<Node> Nodes { get; }

    public static string KeyOf(ObjectId id) => $"snapshots/{id}";

    public Node? FindNode(string path)
    {
        var i = LowerBound(path);
        return i < Nodes.Count && Nodes[i].Path == path ? Nodes[i] : null;
    }

    /// <summary>The direct children of a group, in path order, without visiting deeper descendants one by one.</summary>
    public IEnumerable<Node> Children(string groupPath)
    {
        var prefix = groupPath == NodePath.Root ? "/" : groupPath + "/";
        var i = LowerBound(prefix);
        while (i < Nodes.Count && Nodes[i].Path.StartsWith(prefix, StringComparison.Ordinal))
        {
            var path = Nodes[i].Path;
            var slash = path.IndexOf('/', prefix.Length);
            if (path.Length == prefix.Length)
            {
                i++; // the root group itself
            }
            else if (slash < 0)
            {
                yield return Nodes[i];
                i++;
            }
            else
            {
                // A grandchild: skip the rest of that child's subtree ("/a/b0" sorts after every "/a/b/...").
                i = LowerBound(string.Concat(path.AsSpan(0, slash), "0"));
            }
        }
    }

    private int LowerBound(string path)
    {
        int lo = 0, hi = Nodes.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (string.CompareOrdinal(Nodes[mid].Path, path) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    public byte[] Encode()
    {
        var w = new PayloadWriter(1024);
        w.WriteId(Id);
        w.WriteByte(ParentId.HasValue ? (byte)1 : (byte)0);
        if (ParentId is { } parent)
        {
            w.WriteId(parent);
        }

        w.WriteVarint(Timestamp.ToUnixTimeMilliseconds());
        w.WriteString(Message);
        w.WriteVarint((ulong)Metadata.Count);
        foreach (var (k, v) in Metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            w.WriteString(k);
            w.WriteString(v);
        }

        WriteNodes(w, Nodes);
        return Envelope.Seal(ObjectType.Snapshot, w.WrittenSpan, compress: true);
    }

    /// <summary>Nodes as a snapshot encodes them (a changeset encodes its nodes the same way).</summary>
    internal static void WriteNodes(PayloadWriter w, IReadOnlyList<Node> nodes)
    {
        w.WriteVarint((ulong)nodes.Count);
        foreach (var node in nodes)
        {
            w.WriteString(node.Path);
            w.WriteByte((byte)node.Kind);
            w.WriteBytes(node.ZarrJson);
            if (node.Kind != NodeKind.Array)
            {
                continue;
            }

            var shardShape = node.ShardShape!;
            w.WriteVarint((ulong)shardShape.Length);
            w.WriteCoords(shardShape);
            w.WriteVarint(node.RefCount);
            w.WriteBytes(node.EncodedShardIndex());
        }
    }

    public static Snapshot Decode(string key, ReadOnlySpan<byte> data)
    {
        var payload = Envelope.Open(key, ObjectType.Snapshot, data);
        var r = new PayloadReader(payload, key);
        var id = r.ReadId();
        ObjectId? parent = r.ReadByte() switch
        {
            0 => null,
            1 => r.ReadId(),
            var b => throw r.Corrupt($"parent flag {b} is neither 0 nor 1"),
        };
        var timestamp = DateTimeOffset.FromUnixTimeMilliseconds(r.ReadLength("timestamp", 253402300799999));
        var message = r.ReadString();
        var metadataCount = r.ReadCount("metadata count", 2);
        var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < metadataCount; i++)
        {
            var k = r.ReadString();
            metadata[k] = r.ReadString();
        }

        var nodes = ReadNodes(ref r, key);
        r.ExpectEnd();
        if (nodes.Count == 0 || nodes[0].Path != NodePath.Root)
        {
            throw r.Corrupt("snapshot has no root group");
        }

        return new Snapshot(id, parent, timestamp, message, metadata, nodes);
    }

    internal static List<Node> ReadNodes(ref PayloadReader r, string key)
    {
        var nodeCount = r.ReadCount("node count", 3);
        var nodes = new List<Node>(nodeCount);
        for (var i = 0; i < nodeCount; i++)
        {
            var path = r.ReadString();
            if (nodes.Count > 0 && string.CompareOrdinal(nodes[^1].Path, path) >= 0)
            {
                throw r.Corrupt($"node '{path}' is out of order");
            }

            var kind = r.ReadByte();
            var json = r.ReadBytes().ToArray();
            switch (kind)
            {
                case (byte)NodeKind.Group:
                    nodes.Add(new Node(path, NodeKind.Group, json));
                    break;
                case (byte)NodeKind.Array:
                    var rank = (int)r.ReadLength("rank", 64);
                    var shardShape = r.ReadCoords(rank);
                    if (shardShape.Any(s => s < 1))
                    {
                        throw r.Corrupt($"array '{path}' has a shard shape with a zero dimension");
                    }

                    var refCount = r.ReadLength("reference count");
                    nodes.Add(Node.Decoded(path, json, shardShape, refCount, r.ReadBytes().ToArray(), key));
                    break;
                default:
                    throw r.Corrupt($"node '{path}' has unknown kind {kind}");
            }
        }

        return nodes;
    }
}
