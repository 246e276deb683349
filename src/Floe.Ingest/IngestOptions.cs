namespace Floe.Ingest;

/// <summary>Whether a run creates the arrays from its first file or extends arrays an earlier run created.</summary>
public enum IngestMode
{
    /// <summary><c>floe ingest</c>: create the arrays from the first file (or continue the same ingest after a crash).</summary>
    Create,

    /// <summary><c>floe append</c>: extend existing arrays along the append dimension.</summary>
    Append,
}

/// <summary>When a run commits: every so many files, or when the files' time crosses into a new year, month or day.</summary>
public sealed record CommitPolicy(int Files = 0, CommitPeriod Period = CommitPeriod.None)
{
    /// <summary>Per year where the source knows each file's time (time templates), else every 1,000 files.</summary>
    public static CommitPolicy Default { get; } = new(1000, CommitPeriod.Year);

    /// <summary>"500" (files), "year", "month" or "day".</summary>
    public static CommitPolicy Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Trim().ToLowerInvariant() switch
        {
            "year" or "yearly" => new CommitPolicy(0, CommitPeriod.Year),
            "month" or "monthly" => new CommitPolicy(0, CommitPeriod.Month),
            "day" or "daily" => new CommitPolicy(0, CommitPeriod.Day),
            var n when int.TryParse(n, out var files) && files >= 1 => new CommitPolicy(files),
            _ => throw new ArgumentException($"--commit-every \"{text}\": expected a number of files (at least 1), year, month or day"),
        };
    }

    public override string ToString() => Period switch
    {
        CommitPeriod.None => $"every {Files} files",
        _ when Files > 0 => $"per {Period.ToString().ToLowerInvariant()} (every {Files} files where file times are unknown)",
        _ => $"per {Period.ToString().ToLowerInvariant()}",
    };
}

public enum CommitPeriod
{
    None,
    Year,
    Month,
    Day,
}

/// <summary>What to ingest from each file and how.</summary>
public sealed record IngestOptions
{
    public IngestMode Mode { get; init; } = IngestMode.Create;

    public string Branch { get; init; } = "main";

    /// <summary>The dimension files are concatenated along; its coordinate variable gives each file's position. Default "time".</summary>
    public string Dimension { get; init; } = "time";

    /// <summary>Ingest only the arrays directly in this group of each file (for example "/Grid"); null: every array.</summary>
    public string? Group { get; init; }

    /// <summary>
    /// Ingest only these variables (names or absolute paths), plus the append dimension's coordinate and the
    /// coordinates of their other dimensions; null: every array (of <see cref="Group"/>).
    /// </summary>
    public IReadOnlyList<string>? Variables { get; init; }

    public CommitPolicy CommitEvery { get; init; } = CommitPolicy.Default;

    /// <summary>Files read at once. Default: 4 per core (reading is mostly waiting on storage).</summary>
    public int Concurrency { get; init; } = Math.Max(4, Environment.ProcessorCount * 4);

    /// <summary>Skip (and report) files that do not match the arrays or cannot be read, instead of stopping.</summary>
    public bool SkipMismatched { get; init; }

    /// <summary>
    /// The spacing of the append dimension. Default: the source's step divided by the values per file (time
    /// templates), the spacing of a file's own values when it has several, else the gap between the first two files.
    /// </summary>
    public TimeSpan? Step { get; init; }

    /// <summary>Values of the append dimension per native chunk of coordinate-like arrays (time, time bounds). Default 4,096.</summary>
    public int NativeChunkLength { get; init; } = 4096;

    /// <summary>Extra metadata recorded on every commit.</summary>
    public IReadOnlyDictionary<string, string>? CommitMetadata { get; init; }

    /// <summary>
    /// Write only this part of the source's files, as changesets to merge later (<see cref="Ingestor.MergeAsync"/>),
    /// instead of committing; null: the whole source, committed batch by batch.
    /// </summary>
    public IngestShard? Shard { get; init; }

    /// <summary>The name shard changesets are written under; null: derived from the source and these options.</summary>
    public string? Job { get; init; }

    /// <summary>Called after each batch is committed (benchmarks time batches with it).</summary>
    public Action<IngestCommit>? Committed { get; init; }
}

/// <summary>One batch committed: its snapshot, files and references, the time spent reading the files and committing.</summary>
public sealed record IngestCommit(string SnapshotId, long FirstOrdinal, int Files, long Refs, TimeSpan Reading, TimeSpan Committing);

/// <summary>Part <see cref="Index"/> (from 0) of <see cref="Count"/>: the files with ordinals in [Count·Index/N, Count·(Index+1)/N).</summary>
public sealed record IngestShard(int Index, int Count)
{
    public const string IndexVariable = "JOB_COMPLETION_INDEX";
    public const string CountVariable = "JOB_COMPLETIONS";

    /// <summary>"I/N", or "env" for the variables a Kubernetes Indexed Job sets (JOB_COMPLETION_INDEX, and JOB_COMPLETIONS set from the job's completions).</summary>
    public static IngestShard Parse(string text, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        environment ??= Environment.GetEnvironmentVariable;
        if (text.Trim() == "env")
        {
            var index = environment(IndexVariable) ?? throw new ArgumentException($"--shard env: {IndexVariable} is not set (a Kubernetes Indexed Job sets it)");
            var count = environment(CountVariable) ?? throw new ArgumentException($"--shard env: {CountVariable} is not set (set it to the job's completions)");
            return Create(index, count, $"{IndexVariable}={index}, {CountVariable}={count}");
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        return slash < 0
            ? throw new ArgumentException($"--shard \"{text}\": expected I/N (part I, from 0, of N) or env")
            : Create(text[..slash], text[(slash + 1)..], $"--shard \"{text}\"");
    }

    private static IngestShard Create(string index, string count, string what)
    {
        if (!int.TryParse(index.Trim(), out var i) || !int.TryParse(count.Trim(), out var n) || n < 1 || i < 0 || i >= n)
        {
            throw new ArgumentException($"{what}: expected a part from 0 to N-1 of N parts, N at least 1");
        }

        return new IngestShard(i, n);
    }

    /// <summary>The first ordinal of this part and the one after its last, for a source of <paramref name="files"/> files.</summary>
    public (long From, long To) Range(long files) => (files * Index / Count, files * (Index + 1) / Count);

    public override string ToString() => $"{Index}/{Count}";
}
