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
    private const int MaxProblemsListed = 1000;

    private readonly IngestOptions _options = options ?? throw new ArgumentNullException(nameof(options));
    private readonly Repository _repository = repository ?? throw new ArgumentNullException(nameof(repository));

    public async Task<IngestSummary> RunAsync(SourceSet sources, IProgress<IngestProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var run = new Run(this, sources, progress, await _repository.WritableSessionAsync(_options.Branch, cancellationToken));
        return await run.ExecuteAsync(cancellationToken);
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

        public async Task<IngestSummary> ExecuteAsync(CancellationToken cancellationToken)
        {
            _schema = IngestSchema.Load(session, _options.Dimension);
            var head = session.BaseSnapshot.Metadata;
            long from = 0;
            if (head.TryGetValue(SourceKey, out var recorded) && recorded == sources.Description &&
                head.TryGetValue(NextOrdinalKey, out var next) && long.TryParse(next, CultureInfo.InvariantCulture, out var ordinal))
            {
                from = ordinal;
            }

            if (_options.Mode == IngestMode.Append && _schema is null)
            {
                throw new IngestException($"branch {_options.Branch}", $"holds no arrays ingested along \"{_options.Dimension}\"; create them with floe ingest");
            }

            if (_options.Mode == IngestMode.Create && _schema is not null && from == 0)
            {
                throw new IngestException($"branch {_options.Branch}",
                    $"already holds arrays ingested along \"{_options.Dimension}\" ({_schema.CoordinatePath}) from other files; add files with floe append");
            }

            _extent = _schema is null ? 0 : session.GetArrayMetadata(_schema.CoordinatePath).Shape[0];
            var batch = new List<SourceFile>();
            await using var files = sources.EnumerateAsync(from, cancellationToken).GetAsyncEnumerator(cancellationToken);
            var more = await files.MoveNextAsync();
            while (more)
            {
                batch.Clear();
                while (more && (batch.Count == 0 || SameBatch(batch[0], files.Current, batch.Count)))
                {
                    batch.Add(files.Current);
                    more = await files.MoveNextAsync();
                }

                await RunBatchAsync(batch, cancellationToken);
            }

            Report(force: true);
            return new IngestSummary(Snapshot(), [.. _problems], _gaps, _extent, from, _schema);
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
            var start = 0;
            if (_schema is null)
            {
                start = await CreateSchemaAsync(batch, cancellationToken);
                if (_schema is null)
                {
                    return;
                }
            }

            var previousExtent = _extent;
            var batchClock = Stopwatch.StartNew();
            var refsBefore = Interlocked.Read(ref _refs);
            var placed = new ConcurrentBag<(long Position, int Count)>();
            var nativeRows = new ConcurrentBag<(string Path, long Position, int Count, byte[] Rows)>();
            await Parallel.ForEachAsync(batch.Skip(start), new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken },
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
            RecordGaps(placed, previousExtent);
            if (session.HasChanges)
            {
                var reading = batchClock.Elapsed;
                var id = await CommitAsync(batch, placed, cancellationToken);
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

        // Reads the batch's first readable file (and a second when the step must come from two files) and creates the arrays.
        private async Task<int> CreateSchemaAsync(List<SourceFile> batch, CancellationToken cancellationToken)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                var file = batch[i];
                FileSample first;
                try
                {
                    first = await FileSample.ReadAsync(owner._repository.Sources, file.Location, file.ReadFrom, file.Time, _options, cancellationToken);
                }
                catch (Exception ex) when (Skippable(file, ex))
                {
                    continue;
                }

                FileSample? second = null;
                if (_options.Step is null && sources.Step is null && first.Coordinate.Length == 1 && i + 1 < batch.Count)
                {
                    var next = batch[i + 1];
                    second = await FileSample.ReadAsync(owner._repository.Sources, next.Location, next.ReadFrom, next.Time, _options, cancellationToken);
                }

                _schema = await IngestSchema.CreateAsync(session, _options, first, second, sources.Step, file.Ordinal, cancellationToken);
                // The first file is read again with the others, through the same path as every later file.
                return i;
            }

            return batch.Count;
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
        private bool Skippable(SourceFile file, Exception ex)
        {
            if (ex is SourceNotFoundException && sources.Step is not null)
            {
                Interlocked.Increment(ref _missing);
                AddProblem(new IngestProblem(file.Location, "missing"));
                Interlocked.Increment(ref _filesDone);
                return true;
            }

            if (_options.SkipMismatched && ex is IngestException or Hdf5FormatException or Hdf5NotSupportedException or NetCdfFormatException
                or SourceReadException or NotSupportedException or FormatException)
            {
                Interlocked.Increment(ref _skipped);
                AddProblem(new IngestProblem(file.Location, ex is IngestException ingest && ingest.Location == file.Location
                    ? ex.Message[(file.Location.Length + 2)..]
                    : ex.Message));
                Interlocked.Increment(ref _filesDone);
                return true;
            }

            return false;
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

        private async Task<string> CommitAsync(List<SourceFile> batch, IEnumerable<(long Position, int Count)> placed, CancellationToken cancellationToken)
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
            var id = await session.CommitAsync(message, metadata, cancellationToken);
            _commits++;
            _lastCommit = $"{id} {range}";
            return id.ToString();
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
