using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Floe.Formats.Hdf5;
using Floe.Formats.NetCdf;
using Floe.Ingest.Sources;
using Floe.Storage;
using Floe.Store;

namespace Floe.Ingest;

/// <summary>Where a run is: files handled, references written, commits made.</summary>
public sealed record IngestProgress(
    long FilesDone,
    long? FilesTotal,
    long Refs,
    long Skipped,
    long Missing,
    long AlreadyPresent,
    int Commits,
    TimeSpan Elapsed,
    string? LastCommit);

/// <summary>A file left out of a run, and why.</summary>
public sealed record IngestProblem(string Location, string Reason);

/// <summary>Positions along the append dimension no file filled; they read as the fill value.</summary>
public sealed record IngestGap(long FirstPosition, long Count, DateTimeOffset? From, DateTimeOffset? To);

/// <summary>What a merge of a sharded job committed.</summary>
public sealed record IngestMergeSummary(
    string Job,
    int Parts,
    long Files,
    long Refs,
    long NextOrdinal,
    (DateTimeOffset? From, DateTimeOffset? To)? TimeRange,
    string Snapshot,
    bool AlreadyMerged,
    TimeSpan Elapsed);

/// <summary>What a run did.</summary>
public sealed record IngestSummary(
    IngestProgress Progress,
    IReadOnlyList<IngestProblem> Problems,
    IReadOnlyList<IngestGap> Gaps,
    long Extent,
    long ResumedFrom,
    IngestSchema? Schema);

/// <summary>
/// Builds or extends arrays from many source files: files are read in batches, many at once; each batch is one
/// commit whose metadata records where the run is, so a rerun of the same command after a crash continues after
/// the last commit, and a file's place comes from its own coordinate values, so no file is ever added twice or
/// shifts later data. Memory is bounded by a batch, never by the archive.
/// </summary>
public sealed class Ingestor(Repository repository, IngestOptions options)
{
    public const string SourceKey = "floe.ingest.source";
    public const string NextOrdinalKey = "floe.ingest.next_ordinal";
    public const string MergedJobKey = "floe.ingest.merged_job";
    private const string DoneSegment = "done";
    private const int SchemaProbeFiles = 16;
    private const int MaxProblemsListed = 1000;

    private readonly IngestOptions _options = options ?? throw new ArgumentNullException(nameof(options));
    private readonly Repository _repository = repository ?? throw new ArgumentNullException(nameof(repository));

    public async Task<IngestSummary> RunAsync(SourceSet sources, IProgress<IngestProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var run = new Run(this, sources, progress, await _repository.WritableSessionAsync(_options.Branch, cancellationToken));
        return await run.ExecuteAsync(cancellationToken);
    }

    /// <summary>
    /// The name shard changesets are written under: <see cref="IngestOptions.Job"/>, else derived from the source and
    /// the options that shape the arrays, so every worker of a job (and the merge) computes the same one.
    /// </summary>
    public static string JobName(SourceSet sources, IngestOptions options)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Job is { } job)
        {
            Changeset.ValidateName(job);
            return job;
        }

        var key = string.Join("\n", sources.Description, options.Branch, options.Mode, options.Dimension, options.Group ?? "", string.Join(",", options.Variables ?? []));
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key));
        return "ingest-" + Convert.ToHexStringLower(hash.AsSpan(0, 6));
    }

    /// <summary>
    /// Commits every part of a sharded job in one commit: checks that all N parts finished, merges their changesets in
    /// part order (memory bounded by a manifest box, not the job), commits, then deletes the changesets. A part that
    /// is missing or unfinished is named, with the command that finishes it.
    /// </summary>
    public async Task<IngestMergeSummary> MergeAsync(string job, CancellationToken cancellationToken = default)
    {
        Changeset.ValidateName(job);
        var clock = Stopwatch.StartNew();
        var names = await _repository.ListChangesetsAsync(job + "/", cancellationToken);
        var session = await _repository.WritableSessionAsync(_options.Branch, cancellationToken);
        if (names.Count == 0)
        {
            if (session.BaseSnapshot.Metadata.TryGetValue(MergedJobKey, out var merged) && merged == job)
            {
                return new IngestMergeSummary(job, 0, 0, 0, 0, null, session.BaseSnapshot.Id.ToString(), AlreadyMerged: true, clock.Elapsed);
            }

            throw new IngestException($"job {job}", "has no parts written; run floe ingest --shard I/N with the same source first");
        }

        var parts = new SortedDictionary<int, List<string>>();
        var counts = new HashSet<int>();
        foreach (var name in names)
        {
            var segments = name[(job.Length + 1)..].Split('/');
            var of = segments[0].Split("-of-");
            if (segments.Length != 2 || of.Length != 2 || !int.TryParse(of[0], CultureInfo.InvariantCulture, out var index) ||
                !int.TryParse(of[1], CultureInfo.InvariantCulture, out var count))
            {
                throw new IngestException($"job {job}", $"holds a changeset named {name}, which no shard writes");
            }

            counts.Add(count);
            if (!parts.TryGetValue(index, out var list))
            {
                parts[index] = list = [];
            }

            list.Add(segments[1]);
        }

        if (counts.Count != 1)
        {
            throw new IngestException($"job {job}", $"has parts of {string.Join(" and ", counts.Order())} shards; delete the changesets of the run you abandoned, or use --job");
        }

        var total = counts.Single();
        var unfinished = Enumerable.Range(0, total).Where(i => !parts.TryGetValue(i, out var list) || !list.Contains(DoneSegment)).ToList();
        if (unfinished.Count > 0)
        {
            throw new IngestException($"job {job}",
                $"{unfinished.Count} of {total} parts are not finished ({string.Join(", ", unfinished.Take(20).Select(i => $"{i}/{total}"))}{(unfinished.Count > 20 ? ", ..." : "")}); " +
                "rerun floe ingest --shard I/N for each, then merge");
        }

        long files = 0, refs = 0, next = 0;
        string? source = null;
        DateTimeOffset? from = null, to = null;
        foreach (var (index, segments) in parts)
        {
            // Batches in order, the part's closing changeset last.
            foreach (var segment in segments.Where(s => s != DoneSegment).Order(StringComparer.Ordinal).Append(DoneSegment))
            {
                var name = $"{job}/{index}-of-{total}/{segment}";
                var changeset = await _repository.ReadChangesetAsync(name, cancellationToken)
                    ?? throw new IngestException($"job {job}", $"changeset {name} disappeared during the merge");
                var metadata = changeset.Metadata;
                source ??= metadata.GetValueOrDefault(SourceKey);
                if (metadata.GetValueOrDefault(SourceKey) != source)
                {
                    throw new IngestException($"job {job}", $"changeset {name} comes from {metadata.GetValueOrDefault(SourceKey)}, not {source}");
                }

                session.AddChangeset(changeset);
                if (segment == DoneSegment)
                {
                    continue;
                }

                files += long.Parse(metadata.GetValueOrDefault("floe.ingest.files", "0"), CultureInfo.InvariantCulture);
                refs += long.Parse(metadata.GetValueOrDefault("floe.ingest.refs", "0"), CultureInfo.InvariantCulture);
                next = Math.Max(next, long.Parse(metadata.GetValueOrDefault(NextOrdinalKey, "0"), CultureInfo.InvariantCulture));
                if (metadata.TryGetValue("floe.ingest.time_from", out var a) && DateTimeOffset.TryParse(a, CultureInfo.InvariantCulture, out var af))
                {
                    from = from is null || af < from ? af : from;
                }

                if (metadata.TryGetValue("floe.ingest.time_to", out var b) && DateTimeOffset.TryParse(b, CultureInfo.InvariantCulture, out var bt))
                {
                    to = to is null || bt > to ? bt : to;
                }
            }
        }

        var commitMetadata = new Dictionary<string, string>(_options.CommitMetadata ?? new Dictionary<string, string>())
        {
            [SourceKey] = source ?? "",
            [NextOrdinalKey] = next.ToString(CultureInfo.InvariantCulture),
            [MergedJobKey] = job,
            ["floe.ingest.parts"] = total.ToString(CultureInfo.InvariantCulture),
            ["floe.ingest.files"] = files.ToString(CultureInfo.InvariantCulture),
            ["floe.ingest.refs"] = refs.ToString(CultureInfo.InvariantCulture),
        };
        var range = "";
        if (from is { } f && to is { } t)
        {
            commitMetadata["floe.ingest.time_from"] = f.ToString("o", CultureInfo.InvariantCulture);
            commitMetadata["floe.ingest.time_to"] = t.ToString("o", CultureInfo.InvariantCulture);
            range = $" {f.UtcDateTime:yyyy-MM-dd HH:mm} to {t.UtcDateTime:yyyy-MM-dd HH:mm}";
        }

        var id = await session.CommitAsync($"merge {job}:{range} {total} parts, {files} files of {source}", commitMetadata, cancellationToken);
        foreach (var name in names)
        {
            // Best effort: a changeset left behind is garbage; the commit already records that the job was merged.
            try
            {
                await _repository.DeleteChangesetAsync(name, cancellationToken);
            }
            catch (Exception ex) when (ex is FloeStoreException or ObjectStoreException or IOException)
            {
                break;
            }
        }

        return new IngestMergeSummary(job, total, files, refs, next, from is null ? null : (from, to), id.ToString(), AlreadyMerged: false, clock.Elapsed);
    }

    private sealed class Run(Ingestor owner, SourceSet sources, IProgress<IngestProgress>? progress, Session session)
    {
        private readonly IngestOptions _options = owner._options;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly ConcurrentQueue<IngestProblem> _problems = new();
        private readonly List<IngestGap> _gaps = [];
        private readonly Lock _lock = new();
        private IngestSchema? _schema;
        private long _filesDone, _refs, _skipped, _missing, _present, _problemCount;
        private int _commits;
        private string? _lastCommit;
        private long _extent;
        private long _lastReport;
        private string? _segmentPrefix;
        private int _segment;
        private bool _firstShardBatch;

        public async Task<IngestSummary> ExecuteAsync(CancellationToken cancellationToken)
        {
            _schema = IngestSchema.Load(session, _options.Dimension);
            var head = session.BaseSnapshot.Metadata;
            long from = 0, to = long.MaxValue;
            var continuing = head.TryGetValue(SourceKey, out var recorded) && recorded == sources.Description &&
                head.TryGetValue(NextOrdinalKey, out var next) && long.TryParse(next, CultureInfo.InvariantCulture, out from);

            if (_options.Mode == IngestMode.Append && _schema is null)
            {
                throw new IngestException($"branch {_options.Branch}", $"holds no arrays ingested along \"{_options.Dimension}\"; create them with floe ingest");
            }

            if (_options.Mode == IngestMode.Create && _schema is not null && (from == 0 || !continuing))
            {
                throw new IngestException($"branch {_options.Branch}",
                    $"already holds arrays ingested along \"{_options.Dimension}\" ({_schema.CoordinatePath}) from other files; add files with floe append");
            }

            _extent = _schema is null ? 0 : session.GetArrayMetadata(_schema.CoordinatePath).Shape[0];
            if (_options.Shard is { } shard)
            {
                (from, to) = await StartShardAsync(shard, cancellationToken);
            }
            else if (_schema is null)
            {
                await CreateSchemaAsync(from, cancellationToken);
            }

            var batch = new List<SourceFile>();
            await using var files = sources.EnumerateAsync(from, cancellationToken).GetAsyncEnumerator(cancellationToken);
            var more = await files.MoveNextAsync() && files.Current.Ordinal < to;
            while (more)
            {
                batch.Clear();
                while (more && (batch.Count == 0 || SameBatch(batch[0], files.Current, batch.Count)))
                {
                    batch.Add(files.Current);
                    more = await files.MoveNextAsync() && files.Current.Ordinal < to;
                }

                await RunBatchAsync(batch, cancellationToken);
            }

            if (_segmentPrefix is not null)
            {
                // The closing changeset marks the part finished; the merge requires one from every part.
                await session.SaveChangesetAsync(_segmentPrefix + DoneSegment, new Dictionary<string, string>
                {
                    [SourceKey] = sources.Description,
                    [NextOrdinalKey] = to.ToString(CultureInfo.InvariantCulture),
                }, cancellationToken);
            }

            Report(force: true);
            return new IngestSummary(Snapshot(), [.. _problems], _gaps, _extent, from, _schema);
        }

        // A part's range of ordinals, continuing after its last changeset when rerun; the arrays, when the branch has
        // none yet, come from the source's first files, so that every part creates the same ones.
        private async Task<(long From, long To)> StartShardAsync(IngestShard shard, CancellationToken cancellationToken)
        {
            // A glob is listed once to count it; its order is the same for every part.
            var count = sources.Count ?? await sources.EnumerateAsync(0, cancellationToken).LongCountAsync(cancellationToken);
            var (from, to) = shard.Range(count);
            var job = JobName(sources, _options);
            _segmentPrefix = $"{job}/{shard.Index}-of-{shard.Count}/";
            _firstShardBatch = true;
            var written = await owner._repository.ListChangesetsAsync(_segmentPrefix, cancellationToken);
            if (written.Contains(_segmentPrefix + DoneSegment))
            {
                _segmentPrefix = null; // nothing left to write
                return (to, to);
            }

            var segments = written.Select(n => n[_segmentPrefix.Length..]).ToList();
            if (segments.Count > 0)
            {
                var last = await owner._repository.ReadChangesetAsync(_segmentPrefix + segments[^1], cancellationToken);
                if (last is null || last.Metadata.GetValueOrDefault(SourceKey) != sources.Description ||
                    !long.TryParse(last.Metadata.GetValueOrDefault(NextOrdinalKey), CultureInfo.InvariantCulture, out var next))
                {
                    throw new IngestException($"job {job}", $"part {shard} holds changesets of another source; pass another --job");
                }

                from = next;
                _segment = segments.Count;
                _firstShardBatch = false;
            }

            if (_schema is null)
            {
                await CreateSchemaAsync(0, cancellationToken);
            }

            return (from, to);
        }

        private bool SameBatch(SourceFile first, SourceFile file, int count)
        {
            var policy = _options.CommitEvery;
            if (policy.Period != CommitPeriod.None && first.Time is { } a && file.Time is { } b)
            {
                var (x, y) = (a.UtcDateTime, b.UtcDateTime);
                return policy.Period switch
                {
                    CommitPeriod.Year => x.Year == y.Year,
                    CommitPeriod.Month => x.Year == y.Year && x.Month == y.Month,
                    _ => x.Date == y.Date,
                };
            }

            return count < (policy.Files > 0 ? policy.Files : CommitPolicy.Default.Files);
        }

        private async Task RunBatchAsync(List<SourceFile> batch, CancellationToken cancellationToken)
        {
            var previousExtent = _extent;
            var batchClock = Stopwatch.StartNew();
            var refsBefore = Interlocked.Read(ref _refs);
            var placed = new ConcurrentBag<(long Position, int Count)>();
            var nativeRows = new ConcurrentBag<(string Path, long Position, int Count, byte[] Rows)>();
            await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken },
                async (file, ct) =>
                {
                    var changes = await ReadFileAsync(file, ct);
                    if (changes is null)
                    {
                        return;
                    }

                    placed.Add((changes.Position, changes.Count));
                    if (await AlreadyPresentAsync(changes, ct))
                    {
                        Interlocked.Increment(ref _present);
                        Interlocked.Increment(ref _filesDone);
                        Report(force: false);
                        return;
                    }

                    // Session changes are made one file at a time: growing the arrays must not race with references into them.
                    lock (_lock)
                    {
                        Grow(changes.Position + changes.Count);
                        foreach (var (path, coords, chunkRef) in changes.Refs)
                        {
                            session.SetChunkRef(path, coords, chunkRef);
                        }
                    }

                    foreach (var (path, rows) in changes.NativeRows)
                    {
                        nativeRows.Add((path, changes.Position, changes.Count, rows));
                    }

                    Interlocked.Add(ref _refs, changes.Refs.Count);
                    Interlocked.Increment(ref _filesDone);
                    Report(force: false);
                });

            await WriteNativeRowsAsync(nativeRows, cancellationToken);
            if (_firstShardBatch && !placed.IsEmpty)
            {
                // A part's first file need not follow the array's end: the parts before it fill that.
                previousExtent = placed.Min(p => p.Position);
                _firstShardBatch = false;
            }

            RecordGaps(placed, previousExtent);
            if (_segmentPrefix is not null)
            {
                var (metadata, _, range) = Describe(batch, placed, Interlocked.Read(ref _refs) - refsBefore);
                metadata["floe.ingest.part"] = _options.Shard!.ToString();
                await session.SaveChangesetAsync(_segmentPrefix + _segment.ToString("D6", CultureInfo.InvariantCulture), metadata, cancellationToken);
                _segment++;
                _commits++;
                _lastCommit = $"changeset {_segmentPrefix}{_segment - 1:D6} {range}";
            }
            else if (session.HasChanges)
            {
                var reading = batchClock.Elapsed;
                var id = await CommitAsync(batch, placed, Interlocked.Read(ref _refs) - refsBefore, cancellationToken);
                _options.Committed?.Invoke(new IngestCommit(id, batch[0].Ordinal, batch.Count, Interlocked.Read(ref _refs) - refsBefore, reading, batchClock.Elapsed - reading));
            }

            Report(force: true);
        }

        // Grows every array along the append dimension to hold `extent` positions (under _lock).
        private void Grow(long extent)
        {
            if (extent <= _extent)
            {
                return;
            }

            foreach (var target in _schema!.Arrays.Where(a => a.Kind != TargetKind.Static))
            {
                var shape = (long[])session.GetArrayMetadata(target.Path).Shape.Clone();
                shape[0] = extent;
                session.ResizeArray(target.Path, shape);
            }

            _extent = extent;
        }

        // Creates the arrays from the first readable file at or after `fromOrdinal` (and the next readable one when the
        // step must come from two files). Files it cannot read are not counted here: the batches read them again.
        private async Task CreateSchemaAsync(long fromOrdinal, CancellationToken cancellationToken)
        {
            var probe = await sources.EnumerateAsync(fromOrdinal, cancellationToken).Take(SchemaProbeFiles).ToListAsync(cancellationToken);
            Exception? firstProblem = null;
            for (var i = 0; i < probe.Count; i++)
            {
                var first = await TryReadAsync(probe[i]);
                if (first is null)
                {
                    continue;
                }

                FileSample? second = null;
                for (var j = i + 1; second is null && j < probe.Count && _options.Step is null && sources.Step is null && first.Coordinate.Length == 1; j++)
                {
                    second = await TryReadAsync(probe[j]);
                }

                _schema = await IngestSchema.CreateAsync(session, _options, first, second, sources.Step, probe[i].Ordinal, cancellationToken);
                return;
            }

            if (probe.Count > 0)
            {
                throw new IngestException(sources.Description,
                    $"none of its first {probe.Count} files from file {fromOrdinal} could be read to create the arrays{(firstProblem is null ? "" : $" ({firstProblem.Message})")}");
            }

            async Task<FileSample?> TryReadAsync(SourceFile file)
            {
                try
                {
                    return await FileSample.ReadAsync(owner._repository.Sources, file.Location, file.ReadFrom, file.Time, _options, cancellationToken);
                }
                catch (Exception ex) when (CanSkip(ex))
                {
                    firstProblem ??= ex;
                    return null;
                }
            }
        }

        private async Task<FileChanges?> ReadFileAsync(SourceFile file, CancellationToken cancellationToken)
        {
            try
            {
                var sample = await FileSample.ReadAsync(owner._repository.Sources, file.Location, file.ReadFrom, file.Time, _options, cancellationToken);
                var changes = FileMapper.Map(sample, _schema!);
                await FileMapper.LoadNativeRowsAsync(sample, changes, cancellationToken);
                return changes;
            }
            catch (Exception ex) when (Skippable(file, ex))
            {
                return null;
            }
        }

        // A missing file of a time template is a gap; with --skip-mismatched an unreadable or mismatched file is skipped.
        // Both are reported. Anything else stops the run (the batch is not committed).
        private bool CanSkip(Exception ex) =>
            (ex is SourceNotFoundException && sources.Step is not null) ||
            (_options.SkipMismatched && ex is IngestException or Hdf5FormatException or Hdf5NotSupportedException or NetCdfFormatException
                or SourceReadException or NotSupportedException or FormatException);

        private bool Skippable(SourceFile file, Exception ex)
        {
            if (!CanSkip(ex))
            {
                return false;
            }

            if (ex is SourceNotFoundException && sources.Step is not null)
            {
                Interlocked.Increment(ref _missing);
                AddProblem(new IngestProblem(file.Location, "missing"));
                Interlocked.Increment(ref _filesDone);
                return true;
            }

            Interlocked.Increment(ref _skipped);
            AddProblem(new IngestProblem(file.Location, ex is IngestException ingest && ingest.Location == file.Location
                ? ex.Message[(file.Location.Length + 2)..]
                : ex.Message));
            Interlocked.Increment(ref _filesDone);
            return true;
        }

        private void AddProblem(IngestProblem problem)
        {
            if (Interlocked.Increment(ref _problemCount) <= MaxProblemsListed)
            {
                _problems.Enqueue(problem);
            }
        }

        private async Task<bool> AlreadyPresentAsync(FileChanges changes, CancellationToken cancellationToken)
        {
            var probe = changes.Refs.FirstOrDefault(r => r.Ref is VirtualChunkRef);
            lock (_lock)
            {
                if (probe.Path is null || changes.Position + changes.Count > _extent)
                {
                    return false;
                }
            }

            var existing = await session.GetChunkRefAsync(probe.Path, probe.Coords, cancellationToken);
            return existing is VirtualChunkRef v && probe.Ref is VirtualChunkRef wanted && v.Location == wanted.Location && v.Offset == wanted.Offset && v.Length == wanted.Length;
        }

        private async Task WriteNativeRowsAsync(IEnumerable<(string Path, long Position, int Count, byte[] Rows)> rows, CancellationToken cancellationToken)
        {
            foreach (var byArray in rows.GroupBy(r => r.Path))
            {
                var metadata = session.GetArrayMetadata(byArray.Key);
                var chunkLength = metadata.ChunkShape[0];
                var rowBytes = metadata.ChunkByteLength / chunkLength;
                foreach (var byChunk in byArray.SelectMany(SplitRows).GroupBy(r => r.Position / chunkLength))
                {
                    var coords = new long[metadata.Rank];
                    coords[0] = byChunk.Key;
                    var chunk = await session.ReadChunkAsync(byArray.Key, coords, cancellationToken);
                    foreach (var (position, row) in byChunk)
                    {
                        row.CopyTo(chunk.AsMemory((int)(position % chunkLength) * rowBytes));
                    }

                    await session.WriteChunkAsync(byArray.Key, coords, chunk, cancellationToken);
                }

                IEnumerable<(long Position, ReadOnlyMemory<byte> Row)> SplitRows((string Path, long Position, int Count, byte[] Rows) file)
                {
                    for (var i = 0; i < file.Count; i++)
                    {
                        yield return (file.Position + i, file.Rows.AsMemory(i * rowBytes, rowBytes));
                    }
                }
            }
        }

        // Positions between what was there and what this batch wrote that no file filled.
        private void RecordGaps(IEnumerable<(long Position, int Count)> placed, long previousExtent)
        {
            var end = previousExtent;
            foreach (var (position, count) in placed.OrderBy(p => p.Position))
            {
                if (position > end)
                {
                    lock (_lock)
                    {
                        _gaps.Add(new IngestGap(end, position - end, _schema!.TimeAt(end), _schema.TimeAt(position - 1)));
                    }
                }

                end = Math.Max(end, position + count);
            }
        }

        private async Task<string> CommitAsync(List<SourceFile> batch, IEnumerable<(long Position, int Count)> placed, long refs, CancellationToken cancellationToken)
        {
            var (metadata, message, range) = Describe(batch, placed, refs);
            var id = await session.CommitAsync(message, metadata, cancellationToken);
            _commits++;
            _lastCommit = $"{id} {range}";
            return id.ToString();
        }

        // A batch's commit (or changeset) metadata and message: the source range, so reruns resume after it.
        private (Dictionary<string, string> Metadata, string Message, string Range) Describe(List<SourceFile> batch, IEnumerable<(long Position, int Count)> placed, long refs)
        {
            var positions = placed.ToList();
            var first = positions.Count > 0 ? positions.Min(p => p.Position) : (long?)null;
            var last = positions.Count > 0 ? positions.Max(p => p.Position + p.Count) - 1 : (long?)null;
            var from = first is { } f ? _schema!.TimeAt(f) : null;
            var to = last is { } l ? _schema!.TimeAt(l) : null;
            var metadata = new Dictionary<string, string>(_options.CommitMetadata ?? new Dictionary<string, string>())
            {
                [SourceKey] = sources.Description,
                [NextOrdinalKey] = (batch[^1].Ordinal + 1).ToString(CultureInfo.InvariantCulture),
                ["floe.ingest.first_ordinal"] = batch[0].Ordinal.ToString(CultureInfo.InvariantCulture),
                ["floe.ingest.first_location"] = batch[0].Location,
                ["floe.ingest.last_location"] = batch[^1].Location,
                ["floe.ingest.files"] = batch.Count.ToString(CultureInfo.InvariantCulture),
                ["floe.ingest.extent"] = _extent.ToString(CultureInfo.InvariantCulture),
                ["floe.ingest.refs"] = refs.ToString(CultureInfo.InvariantCulture),
            };
            if (from is { } a && to is { } b)
            {
                metadata["floe.ingest.time_from"] = a.ToString("o", CultureInfo.InvariantCulture);
                metadata["floe.ingest.time_to"] = b.ToString("o", CultureInfo.InvariantCulture);
            }

            var range = from is { } x && to is { } y
                ? $"{x.UtcDateTime:yyyy-MM-dd HH:mm} to {y.UtcDateTime:yyyy-MM-dd HH:mm}"
                : $"positions {first} to {last}";
            var verb = _options.Mode == IngestMode.Create ? "ingest" : "append";
            var message = $"{verb} {range}: files {batch[0].Ordinal} to {batch[^1].Ordinal} of {sources.Description}";
            return (metadata, message, range);
        }

        private IngestProgress Snapshot() => new(
            Interlocked.Read(ref _filesDone), sources.Count, Interlocked.Read(ref _refs), Interlocked.Read(ref _skipped), Interlocked.Read(ref _missing),
            Interlocked.Read(ref _present), _commits, _clock.Elapsed, _lastCommit);

        private void Report(bool force)
        {
            if (progress is null)
            {
                return;
            }

            var now = _clock.ElapsedMilliseconds;
            var last = Interlocked.Read(ref _lastReport);
            if (force)
            {
                Interlocked.Exchange(ref _lastReport, now);
            }
            else if (now - last < 250 || Interlocked.CompareExchange(ref _lastReport, now, last) != last)
            {
                return;
            }

            progress.Report(Snapshot());
        }
    }
}
