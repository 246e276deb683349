using Floe.Store.Format;

namespace Floe.Store;

/// <summary>
/// What a session changed, written instead of committed (spec: Changeset): many workers each write a part, and one
/// session merges them all into a single commit. Arrays list delta manifests holding only the part's references.
/// </summary>
public sealed class Changeset
{
    public const string Prefix = "changesets/";

    public Changeset(string name, ObjectId baseSnapshotId, DateTimeOffset timestamp, IReadOnlyDictionary<string, string> metadata, IReadOnlyList<Node> nodes)
    {
        ValidateName(name);
        Name = name;
        BaseSnapshotId = baseSnapshotId;
        Timestamp = timestamp;
        Metadata = metadata;
        Nodes = nodes;
    }

    public string Name { get; }

    public ObjectId BaseSnapshotId { get; }

    public DateTimeOffset Timestamp { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The nodes created or changed, and the arrays written to, sorted by path; shard indexes list delta manifests.</summary>
    public IReadOnlyList<Node> Nodes { get; }

    /// <summary>References the delta manifests hold.</summary>
    public long RefCount => Nodes.Sum(n => n.RefCount);

    public static string KeyOf(string name) => Prefix + name;

    /// <summary>Segments of ref-name characters joined by '/'; throws ArgumentException naming the name.</summary>
    public static void ValidateName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        try
        {
            foreach (var segment in name.Split('/'))
            {
                RefObject.ValidateName(segment, "changeset");
            }
        }
        catch (ArgumentException)
        {
            throw new ArgumentException($"invalid changeset name '{name}': use segments of 1-255 of A-Z a-z 0-9 . _ - joined by '/', none starting with . or -", nameof(name));
        }
    }

    public byte[] Encode()
    {
        var w = new PayloadWriter(1024);
        w.WriteId(BaseSnapshotId);
        w.WriteVarint(Timestamp.ToUnixTimeMilliseconds());
        w.WriteVarint((ulong)Metadata.Count);
        foreach (var (k, v) in Metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            w.WriteString(k);
            w.WriteString(v);
        }

        Snapshot.WriteNodes(w, Nodes);
        return Envelope.Seal(ObjectType.Changeset, w.WrittenSpan, compress: true);
    }

    public static Changeset Decode(string name, ReadOnlySpan<byte> data)
    {
        var key = KeyOf(name);
        var payload = Envelope.Open(key, ObjectType.Changeset, data);
        var r = new PayloadReader(payload, key);
        var baseId = r.ReadId();
        var timestamp = DateTimeOffset.FromUnixTimeMilliseconds(r.ReadLength("timestamp", 253402300799999));
        var metadataCount = r.ReadCount("metadata count", 2);
        var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < metadataCount; i++)
        {
            var k = r.ReadString();
            metadata[k] = r.ReadString();
        }

        var nodes = Snapshot.ReadNodes(ref r, key);
        r.ExpectEnd();
        return new Changeset(name, baseId, timestamp, metadata, nodes);
    }
}
