using Floe.Store;

namespace Floe.Rechunk;

/// <summary>Whether native chunks are byte-shuffled before zstd.</summary>
public enum ShuffleMode
{
    /// <summary>Shuffle when a sample of the first chunks compresses at least 5% smaller with it.</summary>
    Auto,
    On,
    Off,
}

/// <summary>What <see cref="Rechunker"/> copies where (docs/rechunk.md).</summary>
public sealed class RechunkOptions
{
    /// <summary>The array to read. With <see cref="Incremental"/> it defaults to the one the target was made from.</summary>
    public string? Source { get; init; }

    /// <summary>The native array to write; it must not exist yet unless <see cref="Incremental"/>.</summary>
    public required string Target { get; init; }

    /// <summary>Branch, tag or snapshot id holding the source.</summary>
    public string From { get; init; } = Repository.MainBranch;

    /// <summary>Branch to commit the target to; default <see cref="From"/> when that is a branch. Created from the source's snapshot when missing.</summary>
    public string? Branch { get; init; }

    /// <summary>Target chunk shape: "N,N,…" for every dimension, or "name=N,…" by dimension name (others keep the source's chunk length).</summary>
    public string? Chunks { get; init; }

    /// <summary>Memory for the data being moved: the unit being assembled, chunks in flight and the repository's caches.</summary>
    public long BudgetBytes { get; init; } = 1L << 30;

    /// <summary>Source chunks read and target chunks written at once; twice the cores by default, so reads overlap decoding.</summary>
    public int Concurrency { get; init; } = 2 * Environment.ProcessorCount;

    public int ZstdLevel { get; init; } = 3;

    public ShuffleMode Shuffle { get; init; } = ShuffleMode.Auto;

    /// <summary>Bring an existing target up to date with what changed in its source since it was made.</summary>
    public bool Incremental { get; init; }

    /// <summary>How much work a kill may lose: a checkpoint (changeset) is written when this much time has passed since the last.</summary>
    public TimeSpan CheckpointEvery { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>Where a rechunk stands.</summary>
public sealed record RechunkProgress(
    string Phase,
    long UnitsDone,
    long UnitsTotal,
    long UnitsResumed,
    long SourceChunksRead,
    long SourceBytes,
    long ChunksWritten,
    long ChunksEmpty,
    long StoredBytes,
    int Checkpoints,
    TimeSpan Elapsed);

/// <summary>The result of a rechunk.</summary>
public sealed record RechunkSummary(
    string Job,
    string Source,
    string Target,
    string Branch,
    string SourceSnapshot,
    string? Snapshot,
    int[] Chunks,
    long[] UnitShape,
    string Codecs,
    RechunkProgress Progress,
    long ArrayBytes,
    bool AlreadyDone,
    bool UpToDate);

/// <summary>A rechunk cannot start or go on; the message names the array, option or object.</summary>
public sealed class RechunkException(string message, Exception? inner = null) : Exception(message, inner);
