using Floe.Storage;

namespace Floe.Store;

/// <summary>How a repository is created and read. Defaults suit an archive of millions of chunks on one machine.</summary>
public sealed record RepositoryOptions
{
    /// <summary>Target references per manifest shard for new arrays (stored in the repository config at creation).</summary>
    public int RefsPerShard { get; init; } = Format.RepositoryConfig.DefaultRefsPerShard;

    /// <summary>Encoded chunks up to this many bytes are kept inline in the manifest (stored at creation).</summary>
    public int InlineThreshold { get; init; } = Format.RepositoryConfig.DefaultInlineThreshold;

    /// <summary>Where virtual chunks are read from; local files and http(s) by default.</summary>
    public IByteRangeSource? Sources { get; init; }

    /// <summary>Memory budget of the cache of decoded manifest shards.</summary>
    public long ShardCacheBytes { get; init; } = 256L << 20;

    /// <summary>Memory budget of the cache of decoded snapshots.</summary>
    public long SnapshotCacheBytes { get; init; } = 64L << 20;

    /// <summary>zstd level for manifests and snapshots.</summary>
    public int ZstdLevel { get; init; } = 3;

    /// <summary>How many times a commit rebases onto concurrent commits before giving up.</summary>
    public int MaxCommitAttempts { get; init; } = 100;

    /// <summary>How many manifest shards a commit reads, merges and writes at once.</summary>
    public int CommitParallelism { get; init; } = 8;
}
