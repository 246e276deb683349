namespace Floe.Store.Format;

/// <summary>The repository's <c>config</c> object (spec: Repository config).</summary>
public sealed record RepositoryConfig(DateTimeOffset CreatedAt, int RefsPerShard, int InlineThreshold)
{
    public const string Key = "config";
    public const int DefaultRefsPerShard = 65_536;
    public const int DefaultInlineThreshold = 512;

    public byte[] Encode()
    {
        var w = new PayloadWriter();
        w.WriteVarint(1UL);
        w.WriteVarint(CreatedAt.ToUnixTimeMilliseconds());
        w.WriteVarint(RefsPerShard);
        w.WriteVarint(InlineThreshold);
        return Envelope.Seal(ObjectType.RepositoryConfig, w.WrittenSpan, compress: false);
    }

    public static RepositoryConfig Decode(ReadOnlySpan<byte> data)
    {
        var payload = Envelope.Open(Key, ObjectType.RepositoryConfig, data);
        var r = new PayloadReader(payload, Key);
        var version = r.ReadVarint();
        if (version != 1)
        {
            throw r.Corrupt($"unknown config version {version}");
        }

        var created = DateTimeOffset.FromUnixTimeMilliseconds(r.ReadLength("created at"));
        var refsPerShard = (int)r.ReadLength("refs per shard", int.MaxValue);
        var inlineThreshold = (int)r.ReadLength("inline threshold", int.MaxValue);
        r.ExpectEnd();
        if (refsPerShard < 1)
        {
            throw r.Corrupt("refs per shard must be at least 1");
        }

        return new RepositoryConfig(created, refsPerShard, inlineThreshold);
    }
}
