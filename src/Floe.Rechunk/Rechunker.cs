using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Floe.Core;
using Floe.Store;
using Floe.Store.Format;

namespace Floe.Rechunk;

/// <summary>
/// Writes a native copy of an array with another chunk shape (docs/rechunk.md). Work goes unit by unit: a unit is
/// a box of whole target chunks, assembled in one buffer from the source chunks that overlap it (read and decoded
/// in parallel), then cut into target chunks that are encoded and written in parallel. Memory is the unit buffer
/// plus the chunks in flight, sized from the budget. Progress is saved as changesets (docs/spec.md, Rechunk jobs),
/// so a killed run resumes; one commit at the end makes the target visible.
/// </summary>
public sealed class Rechunker(Repository repository, RechunkOptions options)
{
    public const string AttributeKey = "_floe_rechunk";
    public const string JobPrefix = "rechunk";
    public const string JobKey = "floe.rechunk.job";
    private const string SourceKey = "floe.rechunk.source";
    private const string SourceSnapshotKey = "floe.rechunk.source_snapshot";
    private const string UnitShapeKey = "floe.rechunk.unit_shape";
    private const string NextUnitKey = "floe.rechunk.next_unit";
    private const string UnitsKey = "floe.rechunk.units";
    private const long FixedReserveBytes = 16L << 20;
    private const int ShuffleSampleChunks = 8;

    private readonly Lock _progressLock = new();
    private long _unitsDone;
    private long _unitsTotal;
    private long _unitsResumed;
    private long _sourceChunks;
    private long _sourceBytes;
    private long _chunksWritten;
    private long _chunksEmpty;
    private long _storedBytes;
    private int _checkpoints;
    private string _phase = "planning";
    private Stopwatch _clock = new();

    /// <summary>Runs (or resumes, or finishes) the job these options describe.</summary>
    public async Task<RechunkSummary> RunAsync(IProgress<RechunkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        _clock = Stopwatch.StartNew();
        var target = NodePath.Normalize(options.Target);
        var fromId = await repository.ResolveAsync(options.From, cancellationToken);
        var branches = await repository.ListBranchesAsync(cancellationToken);
        var branch = options.Branch ?? (branches.Contains(options.From)
            ? options.From
            : throw new RechunkException($"--from {options.From} is a tag or snapshot, not a branch: give the branch to commit to (--branch)"));
        var branchExists = branches.Contains(branch);
        if (!branchExists && options.Incremental)
        {
            throw new RechunkException($"branch {branch} does not exist, so it holds no target to bring up to date");
        }

        if (options.Concurrency < 1)
        {
            throw new RechunkException($"concurrency must be at least 1, got {options.Concurrency}");
        }

        if (options.ZstdLevel is < Zstd.MinLevel or > Zstd.MaxLevel)
        {
            throw new RechunkException($"zstd level must be in [{Zstd.MinLevel}, {Zstd.MaxLevel}], got {options.ZstdLevel}");
        }

        // What the target branch holds now: a new branch will start as the source's snapshot.
        var tip = await repository.GetSnapshotAsync(branchExists ? (await repository.ReadBranchAsync(branch, cancellationToken)).Snapshot : fromId, cancellationToken);
        var existing = tip.FindNode(target);
        var job = options.Incremental
            ? await PlanIncrementalAsync(target, branch, existing, fromId, cancellationToken)
            : await PlanFullAsync(target, branch, existing, fromId, cancellationToken);
        if (job.Finished is { } finished)
        {
            return finished;
        }

        if (!branchExists)
        {
            // A new branch starts as the source's snapshot; the target appears on it only with the final commit.
            await repository.CreateBranchAsync(branch, fromId, cancellationToken);
        }

        using var reporter = new Timer(_ => Report(progress), null, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500));
        var snapshot = await RunUnitsAsync(job, branch, target, progress, cancellationToken);
        Report(progress);
        return Summary(job, branch, target, snapshot, alreadyDone: false, upToDate: false);
    }

    /// <summary>The job's name (docs/spec.md, Rechunk jobs).</summary>
    public static string JobName(string mode, string source, string branch, string target, int[] chunks)
    {
        var text = string.Join('\n', mode, NodePath.Normalize(source), branch, NodePath.Normalize(target), string.Join(',', chunks));
        return $"{JobPrefix}/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16]}";
    }

    /// <summary>Parses a chunk shape given as "N,N,…" or "name=N,…" against the source array.</summary>
    public static int[] ParseChunks(string text, ArrayMetadata source, string sourcePath)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var chunks = (int[])source.ChunkShape.Clone();
        if (parts.Length > 0 && parts.All(p => !p.Contains('=', StringComparison.Ordinal)))
        {
            if (parts.Length != source.Rank)
            {
                throw new RechunkException($"--chunks {text}: array '{sourcePath}' has {source.Rank} dimensions, {parts.Length} chunk lengths given");
            }

            for (var d = 0; d < parts.Length; d++)
            {
                chunks[d] = ParseLength(parts[d], text);
            }
        }
        else
        {
            foreach (var part in parts)
            {
                var pair = part.Split('=', 2, StringSplitOptions.TrimEntries);
                var d = pair.Length == 2 && source.DimensionNames is { } names ? Array.IndexOf(names, pair[0]) : -1;
                if (d < 0)
                {
                    var known = source.DimensionNames is { } n ? string.Join(", ", n) : "none";
                    throw new RechunkException($"--chunks {text}: '{part}' is not NAME=N with a dimension of array '{sourcePath}' (its dimensions: {known})");
                }

                chunks[d] = ParseLength(pair[1], text);
            }
        }

        for (var d = 0; d < chunks.Length; d++)
        {
            // A chunk longer than its dimension only stores fill values.
            chunks[d] = (int)Math.Max(1, Math.Min(chunks[d], Math.Max(1, source.Shape[d])));
        }

        return chunks;
    }

    private static int ParseLength(string text, string option) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1
            ? n
            : throw new RechunkException($"--chunks {option}: '{text}' is not a chunk length (a whole number of at least 1)");

    // ---- planning ----

    private sealed class Job
    {
        public required string Name { get; init; }
        public required string SourcePath { get; init; }
        public required SnapshotReader Source { get; init; }
        public required ArrayMetadata SourceMetadata { get; init; }
        public required int[] Chunks { get; init; }
        public required UnitPlan Plan { get; init; }
        public required int Concurrency { get; init; }

        /// <summary>Units written through checkpoints, in order.</summary>
        public required IReadOnlyList<long> Units { get; init; }

        /// <summary>Units that overlap chunks the target already has: rewritten in the final commit's session.</summary>
        public IReadOnlyList<long> RewriteUnits { get; init; } = [];

        public long NextUnit { get; set; }
        public int NextCheckpoint { get; set; }
        public List<string> Changesets { get; } = [];

        /// <summary>The target's metadata; null until a full job has chosen its codecs.</summary>
        public ArrayMetadata? TargetMetadata { get; set; }
        public long[]? OldShape { get; init; }
        public RechunkSummary? Finished { get; set; }
    }

    private async Task<Job> PlanFullAsync(string target, string branch, Node? existing, ObjectId fromId, CancellationToken cancellationToken)
    {
        var sourcePath = NodePath.Normalize(options.Source ?? throw new RechunkException("give the array to rechunk (--array)"));

        var fromReader = new SnapshotReader(repository, await repository.GetSnapshotAsync(fromId, cancellationToken));
        var fromMetadata = SourceArray(fromReader, sourcePath);
        var chunks = ParseChunks(options.Chunks ?? throw new RechunkException("give the new chunk shape (--chunks)"), fromMetadata, sourcePath);
        var name = JobName("full", sourcePath, branch, target, chunks);
        var saved = await repository.ListChangesetsAsync(name + "/", cancellationToken);
        if (existing is not null && existing.Kind == NodeKind.Array && RecordedJob(existing.ArrayMetadata) == name)
        {
            // Committed already; a kill after the commit may have left its changesets behind.
            await DeleteChangesetsAsync(saved, cancellationToken);
            var done = new Job
            {
                Name = name,
                SourcePath = sourcePath,
                Source = fromReader,
                SourceMetadata = fromMetadata,
                Chunks = chunks,
                Plan = new UnitPlan(fromMetadata.Shape, [.. chunks.Select(c => (long)c)], chunks),
                Concurrency = 1,
                Units = [],
            };
            done.Finished = Summary(done, branch, target, null, alreadyDone: true, upToDate: false);
            return done;
        }

        if (existing is not null && saved.Count == 0 && sourcePath == target)
        {
            throw new RechunkException($"the target '{target}' is the source itself on branch {branch}: the copy goes to a new array (--to), on this branch or another (--branch)");
        }

        if (existing is not null && saved.Count == 0)
        {
            throw new RechunkException($"'{target}' already exists on branch {branch}: choose another --to, delete it, or use --incremental to bring a rechunked copy up to date");
        }

        if (saved.Count == 0)
        {
            var (unitShape, concurrency) = ChooseUnits(fromMetadata, chunks);
            var plan = new UnitPlan(fromMetadata.Shape, unitShape, chunks);
            return new Job
            {
                Name = name,
                SourcePath = sourcePath,
                Source = fromReader,
                SourceMetadata = fromMetadata,
                Chunks = chunks,
                Plan = plan,
                Concurrency = concurrency,
                Units = new UnitRange(plan.UnitCount),
            };
        }

        // Resume: the recorded source snapshot and unit shape, whatever this run was given.
        var last = await repository.ReadChangesetAsync(saved[^1], cancellationToken) ?? throw new RechunkException($"changeset {saved[^1]} disappeared while resuming job {name}");
        var sourceSnapshot = ObjectId.Parse(Recorded(last, SourceSnapshotKey));
        var reader = new SnapshotReader(repository, await repository.GetSnapshotAsync(sourceSnapshot, cancellationToken));
        var metadata = SourceArray(reader, sourcePath);
        var recordedUnit = Recorded(last, UnitShapeKey).Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var resumedPlan = new UnitPlan(metadata.Shape, recordedUnit, chunks);
        var node = last.Nodes.FirstOrDefault(n => n.Path == target) ?? throw new RechunkException($"changeset {last.Name} of job {name} does not hold '{target}'");
        var job = new Job
        {
            Name = name,
            SourcePath = sourcePath,
            Source = reader,
            SourceMetadata = metadata,
            Chunks = chunks,
            Plan = resumedPlan,
            Concurrency = ConcurrencyFor(metadata, chunks, recordedUnit),
            Units = new UnitRange(resumedPlan.UnitCount),
            NextUnit = long.Parse(Recorded(last, NextUnitKey), CultureInfo.InvariantCulture),
            NextCheckpoint = saved.Count,
            TargetMetadata = node.ArrayMetadata,
        };
        job.Changesets.AddRange(saved);
        _unitsResumed = job.NextUnit;
        return job;
    }

    private async Task<Job> PlanIncrementalAsync(string target, string branch, Node? existing, ObjectId fromId, CancellationToken cancellationToken)
    {
        if (existing is null || existing.Kind != NodeKind.Array)
        {
            throw new RechunkException($"--incremental: '{target}' is not an array on branch {branch}; make it with a full rechunk first");
        }

        var targetMetadata = existing.ArrayMetadata;
        var record = targetMetadata.Attributes[AttributeKey] as JsonObject
            ?? throw new RechunkException($"--incremental: '{target}' was not made by floe rechunk (no {AttributeKey} attribute)");
        var sourcePath = NodePath.Normalize(options.Source ?? (string?)record["source"] ?? throw new RechunkException($"'{target}': {AttributeKey} names no source"));
        if (options.Source is not null && (string?)record["source"] is { } recordedSource && NodePath.Normalize(recordedSource) != sourcePath)
        {
            throw new RechunkException($"--incremental: '{target}' was made from '{recordedSource}', not '{sourcePath}'");
        }

        var oldSnapshot = ObjectId.Parse((string?)record["source_snapshot"] ?? throw new RechunkException($"'{target}': {AttributeKey} names no source snapshot"));
        var chunks = targetMetadata.ChunkShape;
        var name = JobName($"incremental {oldSnapshot}", sourcePath, branch, target, chunks);
        var saved = await repository.ListChangesetsAsync(name + "/", cancellationToken);
        var last = saved.Count > 0 ? await repository.ReadChangesetAsync(saved[^1], cancellationToken) : null;
        var sourceSnapshot = last is not null ? ObjectId.Parse(Recorded(last, SourceSnapshotKey)) : fromId;
        var reader = new SnapshotReader(repository, await repository.GetSnapshotAsync(sourceSnapshot, cancellationToken));
        var metadata = SourceArray(reader, sourcePath);
        CheckSameKind(sourcePath, metadata, target, targetMetadata);
        var oldShape = targetMetadata.Shape;
        if (metadata.Shape.Where((n, d) => n < oldShape[d]).Any())
        {
            throw new RechunkException($"--incremental: '{sourcePath}' shrank from [{string.Join(", ", oldShape)}] to [{string.Join(", ", metadata.Shape)}]; make a new copy with a full rechunk");
        }

        var (unitShape, concurrency) = last is not null
            ? (Recorded(last, UnitShapeKey).Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray(), 0)
            : ChooseUnits(metadata, chunks);
        if (concurrency == 0)
        {
            concurrency = ConcurrencyFor(metadata, chunks, unitShape);
        }

        var plan = new UnitPlan(metadata.Shape, unitShape, chunks);
        var changed = await ChangedSourceChunksAsync(sourcePath, oldSnapshot, sourceSnapshot, cancellationToken);
        var affected = AffectedUnits(plan, metadata.ChunkShape, oldShape, changed);
        var oldGrid = targetMetadata.GridShape;
        var fresh = new List<long>();
        var rewrite = new List<long>();
        foreach (var unit in affected)
        {
            var (origin, _) = plan.Box(plan.UnitCoords(unit));
            // A unit all of whose chunks lie beyond the old grid adds chunks only, which a changeset can carry.
            (origin.Where((o, d) => o >= oldGrid[d] * chunks[d]).Any() ? fresh : rewrite).Add(unit);
        }

        var job = new Job
        {
            Name = name,
            SourcePath = sourcePath,
            Source = reader,
            SourceMetadata = metadata,
            Chunks = chunks,
            Plan = plan,
            Concurrency = concurrency,
            Units = fresh,
            RewriteUnits = rewrite,
            OldShape = oldShape,
            TargetMetadata = targetMetadata.WithShape(metadata.Shape),
            NextUnit = last is not null ? long.Parse(Recorded(last, NextUnitKey), CultureInfo.InvariantCulture) : 0,
            NextCheckpoint = saved.Count,
        };
        job.Changesets.AddRange(saved);
        _unitsResumed = job.NextUnit;
        if (RecordedSnapshot(targetMetadata) == sourceSnapshot.ToString() || (affected.Count == 0 && metadata.Shape.SequenceEqual(oldShape)))
        {
            await DeleteChangesetsAsync(saved, cancellationToken);
            job.Finished = Summary(job, branch, target, null, alreadyDone: false, upToDate: true);
        }

        return job;
    }

    private static ArrayMetadata SourceArray(NodeReader reader, string path)
    {
        var node = reader.FindNode(path) ?? throw new RechunkException($"array '{path}' does not exist in the source snapshot");
        return node.Kind == NodeKind.Array ? node.ArrayMetadata : throw new RechunkException($"'{path}' is a group, not an array");
    }

    private static void CheckSameKind(string sourcePath, ArrayMetadata source, string target, ArrayMetadata copy)
    {
        if (source.Rank != copy.Rank || source.DataType != copy.DataType || !source.FillValue.Equals(copy.FillValue))
        {
            throw new RechunkException($"--incremental: '{sourcePath}' ({source.DataType}, {source.Rank} dimensions, fill {source.FillValue}) no longer matches '{target}' ({copy.DataType}, {copy.Rank} dimensions, fill {copy.FillValue}); make a new copy with a full rechunk");
        }
    }

    private static string Recorded(Changeset changeset, string key) =>
        changeset.Metadata.TryGetValue(key, out var value) ? value : throw new RechunkException($"changeset {changeset.Name} lacks {key}; it was not written by floe rechunk");

    private static string? RecordedJob(ArrayMetadata metadata) => (metadata.Attributes[AttributeKey] as JsonObject)?["job"]?.GetValue<string>();

    private static string? RecordedSnapshot(ArrayMetadata metadata) => (metadata.Attributes[AttributeKey] as JsonObject)?["source_snapshot"]?.GetValue<string>();

    // The source chunks whose reference differs between the two snapshots (shards with the same manifest are equal unread).
    private async Task<List<long[]>> ChangedSourceChunksAsync(string path, ObjectId fromId, ObjectId toId, CancellationToken cancellationToken)
    {
        var before = (await repository.GetSnapshotAsync(fromId, cancellationToken)).FindNode(path);
        var after = (await repository.GetSnapshotAsync(toId, cancellationToken)).FindNode(path);
        var changed = new List<long[]>();
        if (after is null || after.Kind != NodeKind.Array)
        {
            throw new RechunkException($"array '{path}' does not exist in the source snapshot {toId}");
        }

        var sameLayout = before is not null && before.Kind == NodeKind.Array && before.ShardShape!.AsSpan().SequenceEqual(after.ShardShape);
        var old = sameLayout ? before!.Shards.ToDictionary(e => e.ShardCoords, CoordsComparer.Instance) : [];
        var seen = new HashSet<long[]>(CoordsComparer.Instance);
        foreach (var entry in after.Shards)
        {
            seen.Add(entry.ShardCoords);
            old.TryGetValue(entry.ShardCoords, out var previous);
            if (previous?.ManifestId == entry.ManifestId)
            {
                continue;
            }

            var shard = await repository.GetShardAsync(entry.ManifestId, path, cancellationToken);
            var oldShard = previous is null ? null : await repository.GetShardAsync(previous.ManifestId, path, cancellationToken);
            for (var i = 0; i < shard.Count; i++)
            {
                var position = shard.Positions[i];
                if (oldShard?.Find(position) is { } was && was.Equals(shard.RefAt(i)))
                {
                    continue;
                }

                var coords = new long[shard.Shape.Length];
                shard.CoordsOf(position, coords);
                changed.Add(coords);
            }

            if (oldShard is not null)
            {
                for (var i = 0; i < oldShard.Count; i++)
                {
                    if (shard.Find(oldShard.Positions[i]) is null)
                    {
                        var coords = new long[oldShard.Shape.Length];
                        oldShard.CoordsOf(oldShard.Positions[i], coords);
                        changed.Add(coords);
                    }
                }
            }
        }

        if (!sameLayout && before is not null)
        {
            throw new RechunkException($"--incremental: the shard layout of '{path}' changed; make a new copy with a full rechunk");
        }

        foreach (var entry in old.Values.Where(e => !seen.Contains(e.ShardCoords)))
        {
            // A shard that vanished: all its chunks were deleted.
            var gone = await repository.GetShardAsync(entry.ManifestId, path, cancellationToken);
            for (var i = 0; i < gone.Count; i++)
            {
                var coords = new long[gone.Shape.Length];
                gone.CoordsOf(gone.Positions[i], coords);
                changed.Add(coords);
            }
        }

        return changed;
    }

    // Units that hold a changed source chunk's elements or elements beyond the old shape, in row-major order.
    private static List<long> AffectedUnits(UnitPlan plan, int[] sourceChunks, long[] oldShape, List<long[]> changedChunks)
    {
        var rank = plan.Grid.Length;
        var affected = new SortedSet<long>();
        for (long unit = 0; unit < plan.UnitCount; unit++)
        {
            var (origin, extent) = plan.Box(plan.UnitCoords(unit));
            if (origin.Where((o, d) => o + extent[d] > oldShape[d]).Any())
            {
                affected.Add(unit);
            }
        }

        var first = new long[rank];
        var last = new long[rank];
        foreach (var chunk in changedChunks)
        {
            var empty = false;
            for (var d = 0; d < rank; d++)
            {
                var lo = chunk[d] * sourceChunks[d];
                var hi = Math.Min(lo + sourceChunks[d], plan.ArrayShape[d]) - 1;
                empty |= lo > hi;
                first[d] = lo / plan.UnitShape[d];
                last[d] = Math.Max(lo, hi) / plan.UnitShape[d];
            }

            if (!empty)
            {
                foreach (var coords in ShardLayout.CoordsBetween(first, last))
                {
                    affected.Add(plan.UnitIndex(coords));
                }
            }
        }

        return [.. affected];
    }

    // Unit shape and concurrency for the budget: in-flight chunks, the repository's caches and a fixed reserve come first.
    private (long[] UnitShape, int Concurrency) ChooseUnits(ArrayMetadata source, int[] chunks)
    {
        var elementSize = source.DataType.Size;
        for (var concurrency = options.Concurrency; concurrency >= 1; concurrency = concurrency > 1 ? Math.Max(1, concurrency / 2) : 0)
        {
            var unitBudget = Math.Min(options.BudgetBytes - Reserve(source, chunks, concurrency), Array.MaxLength);
            if (UnitPlan.ChooseUnitShape(source.Shape, source.ChunkShape, chunks, elementSize, unitBudget) is { } unit)
            {
                return (unit, concurrency);
            }
        }

        var minimum = Reserve(source, chunks, 1) + (BoxCopy.Volume([.. chunks.Select(c => (long)c)]) * elementSize);
        throw new RechunkException($"a memory budget of {Mib(options.BudgetBytes)} cannot hold one target chunk with one source chunk in flight; --budget must be at least {Mib(minimum)}");
    }

    private int ConcurrencyFor(ArrayMetadata source, int[] chunks, long[] unitShape)
    {
        var unitBytes = BoxCopy.Volume(unitShape) * source.DataType.Size;
        var concurrency = options.Concurrency;
        while (concurrency > 1 && unitBytes + Reserve(source, chunks, concurrency) > options.BudgetBytes)
        {
            concurrency /= 2;
        }

        return concurrency;
    }

    // A worker holds a source chunk stored and decoded, or a target chunk gathered, shuffled and compressed.
    private long Reserve(ArrayMetadata source, int[] chunks, int concurrency)
    {
        var sourceChunk = (long)source.ChunkByteLength;
        var targetChunk = BoxCopy.Volume([.. chunks.Select(c => (long)c)]) * source.DataType.Size;
        var caches = repository.Options.ShardCacheBytes + repository.Options.SnapshotCacheBytes;
        return (concurrency * Math.Max(2 * sourceChunk, 3 * targetChunk)) + caches + FixedReserveBytes;
    }

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024):0.#} MiB";

    // ---- running ----

    private async Task<string> RunUnitsAsync(Job job, string branch, string target, IProgress<RechunkProgress>? progress, CancellationToken cancellationToken)
    {
        _unitsTotal = job.Units.Count + job.RewriteUnits.Count;
        _unitsDone = job.NextUnit;
        var buffer = GC.AllocateUninitializedArray<byte>(checked((int)(BoxCopy.Volume(job.Plan.UnitShape) * job.SourceMetadata.DataType.Size)));
        if (job.NextUnit < job.Units.Count)
        {
            var session = await repository.WritableSessionAsync(branch, cancellationToken);
            PrepareTarget(session, job, target);
            var lastCheckpoint = Stopwatch.StartNew();
            var pending = false;
            for (var i = (int)job.NextUnit; i < job.Units.Count; i++)
            {
                await ProcessUnitAsync(job, session, target, job.Units[i], buffer, rewrite: false, cancellationToken);
                pending = true;
                Interlocked.Increment(ref _unitsDone);
                if (lastCheckpoint.Elapsed >= options.CheckpointEvery || i == job.Units.Count - 1)
                {
                    await CheckpointAsync(job, session, i + 1, cancellationToken);
                    Report(progress);
                    lastCheckpoint.Restart();
                    pending = false;
                }
            }

            Debug.Assert(!pending, "the last unit always checkpoints");
        }

        _phase = "committing";
        var final = await repository.WritableSessionAsync(branch, cancellationToken);
        if (job.OldShape is not null && !job.SourceMetadata.Shape.SequenceEqual(job.OldShape))
        {
            final.ResizeArray(target, job.SourceMetadata.Shape);
        }

        foreach (var name in job.Changesets)
        {
            final.AddChangeset(await repository.ReadChangesetAsync(name, cancellationToken) ?? throw new RechunkException($"changeset {name} of job {job.Name} disappeared before the commit"));
        }

        if (final.FindNode(target) is null)
        {
            job.TargetMetadata ??= ChooseTargetMetadata(job, ReadOnlyMemory<byte>.Empty, new long[job.SourceMetadata.Rank]);
            // A job with no units (an empty array) wrote no changeset.
            PrepareTarget(final, job, target);
        }

        foreach (var unit in job.RewriteUnits)
        {
            await ProcessUnitAsync(job, final, target, unit, buffer, rewrite: true, cancellationToken);
            Interlocked.Increment(ref _unitsDone);
        }

        var attributes = (JsonObject)final.GetArrayMetadata(target).Attributes.DeepClone();
        attributes[AttributeKey] = new JsonObject
        {
            ["job"] = job.Name,
            ["source"] = job.SourcePath,
            ["source_snapshot"] = job.Source.Snapshot.Id.ToString(),
            ["unit_shape"] = new JsonArray([.. job.Plan.UnitShape.Select(n => (JsonNode)n)]),
        };
        final.UpdateAttributes(target, attributes);
        var snapshot = await final.CommitAsync(
            options.Incremental ? $"rechunk {job.SourcePath} -> {target}: brought up to date" : $"rechunk {job.SourcePath} -> {target} [{string.Join(", ", job.Chunks)}]",
            new Dictionary<string, string>
            {
                [JobKey] = job.Name,
                [SourceKey] = job.SourcePath,
                [SourceSnapshotKey] = job.Source.Snapshot.Id.ToString(),
            },
            cancellationToken);
        await DeleteChangesetsAsync(job.Changesets, cancellationToken);
        _phase = "done";
        return snapshot.ToString();
    }

    // The target in a checkpoint session: created (a full job, codecs chosen), or grown (an incremental one).
    private static void PrepareTarget(Session session, Job job, string target)
    {
        if (job.TargetMetadata is null)
        {
            return;
        }

        var node = session.FindNode(target);
        if (node is null)
        {
            session.CreateArray(target, job.TargetMetadata);
        }
        else if (!node.ArrayMetadata.Shape.SequenceEqual(job.TargetMetadata.Shape))
        {
            session.ResizeArray(target, job.TargetMetadata.Shape);
        }
    }

    private async Task CheckpointAsync(Job job, Session session, long nextUnit, CancellationToken cancellationToken)
    {
        var name = $"{job.Name}/{job.NextCheckpoint:D6}";
        await session.SaveChangesetAsync(name, new Dictionary<string, string>
        {
            [SourceKey] = job.SourcePath,
            [SourceSnapshotKey] = job.Source.Snapshot.Id.ToString(),
            [UnitShapeKey] = string.Join(',', job.Plan.UnitShape),
            [NextUnitKey] = nextUnit.ToString(CultureInfo.InvariantCulture),
            [UnitsKey] = job.Units.Count.ToString(CultureInfo.InvariantCulture),
        }, cancellationToken);
        job.Changesets.Add(name);
        job.NextCheckpoint++;
        job.NextUnit = nextUnit;
        Interlocked.Increment(ref _checkpoints);
    }

    private async Task ProcessUnitAsync(Job job, Session session, string target, long unit, byte[] buffer, bool rewrite, CancellationToken cancellationToken)
    {
        var plan = job.Plan;
        var source = job.SourceMetadata;
        var rank = source.Rank;
        var elementSize = source.DataType.Size;
        var (origin, extent) = plan.Box(plan.UnitCoords(unit));
        var chunks = job.Chunks;
        var bufferShape = new long[rank];
        for (var d = 0; d < rank; d++)
        {
            bufferShape[d] = UnitPlan.RoundUp(extent[d], chunks[d]);
        }

        var bufferBytes = (int)(BoxCopy.Volume(bufferShape) * elementSize);
        var unitBuffer = buffer.AsMemory(0, bufferBytes);

        // Everything a source chunk does not cover (missing chunks, the part beyond the array's edge) is the fill value.
        source.FillValue.Fill(unitBuffer.Span);
        _phase = "reading";
        var sourceChunks = source.ChunkShape;
        var first = new long[rank];
        var last = new long[rank];
        for (var d = 0; d < rank; d++)
        {
            first[d] = origin[d] / sourceChunks[d];
            last[d] = (origin[d] + extent[d] - 1) / sourceChunks[d];
        }

        var sourceShape = sourceChunks.Select(c => (long)c).ToArray();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = job.Concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(ShardLayout.CoordsBetween(first, last), parallel, async (coords, ct) =>
        {
            if (await job.Source.GetChunkRefAsync(job.SourcePath, coords, ct) is null)
            {
                return;
            }

            var decoded = await job.Source.ReadChunkAsync(job.SourcePath, coords, ct);
            var from = new long[rank];
            var to = new long[rank];
            var size = new long[rank];
            for (var d = 0; d < rank; d++)
            {
                var chunkStart = coords[d] * sourceChunks[d];
                var lo = Math.Max(origin[d], chunkStart);
                var hi = Math.Min(Math.Min(origin[d] + extent[d], chunkStart + sourceChunks[d]), source.Shape[d]);
                from[d] = lo - chunkStart;
                to[d] = lo - origin[d];
                size[d] = hi - lo;
            }

            BoxCopy.Copy(decoded, sourceShape, from, unitBuffer.Span, bufferShape, to, size, elementSize);
            Interlocked.Increment(ref _sourceChunks);
            Interlocked.Add(ref _sourceBytes, decoded.Length);
        });

        job.TargetMetadata ??= ChooseTargetMetadata(job, unitBuffer, bufferShape);
        PrepareTarget(session, job, target);
        _phase = "writing";
        var chunkShape = chunks.Select(c => (long)c).ToArray();
        var chunkBytes = (int)(BoxCopy.Volume(chunkShape) * elementSize);
        var fill = new byte[chunkBytes];
        source.FillValue.Fill(fill);
        var firstOut = new long[rank];
        var lastOut = new long[rank];
        for (var d = 0; d < rank; d++)
        {
            firstOut[d] = origin[d] / chunks[d];
            lastOut[d] = firstOut[d] + (bufferShape[d] / chunks[d]) - 1;
        }

        await Parallel.ForEachAsync(ShardLayout.CoordsBetween(firstOut, lastOut), parallel, async (coords, ct) =>
        {
            var chunk = ArrayPool<byte>.Shared.Rent(chunkBytes);
            try
            {
                var at = new long[rank];
                for (var d = 0; d < rank; d++)
                {
                    at[d] = (coords[d] * chunks[d]) - origin[d];
                }

                BoxCopy.Copy(unitBuffer.Span, bufferShape, at, chunk, chunkShape, new long[rank], chunkShape, elementSize);
                if (chunk.AsSpan(0, chunkBytes).SequenceEqual(fill))
                {
                    // Reads as the fill value without a reference; a rewrite drops the one it may have had.
                    if (rewrite)
                    {
                        session.DeleteChunk(target, coords);
                    }

                    Interlocked.Increment(ref _chunksEmpty);
                    return;
                }

                var written = await session.WriteChunkAsync(target, coords, chunk.AsMemory(0, chunkBytes), ct);
                Interlocked.Increment(ref _chunksWritten);
                Interlocked.Add(ref _storedBytes, written switch
                {
                    NativeChunkRef native => native.Length,
                    InlineChunkRef inline => inline.Data.Length,
                    _ => 0,
                });
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }
        });
    }

    // Codecs for a new target: zstd, after a byte shuffle when asked or when a sample of this unit compresses better with it.
    private ArrayMetadata ChooseTargetMetadata(Job job, ReadOnlyMemory<byte> unitBuffer, long[] bufferShape)
    {
        var source = job.SourceMetadata;
        var elementSize = source.DataType.Size;
        CodecSpec bytes = elementSize == 1 ? new("bytes") : new("bytes", new JsonObject { ["endian"] = "little" });
        CodecSpec zstd = new("zstd", new JsonObject { ["level"] = options.ZstdLevel, ["checksum"] = false });
        IReadOnlyList<CodecSpec> plain = [bytes, zstd];
        IReadOnlyList<CodecSpec> shuffled = [bytes, new CodecSpec("shuffle", new JsonObject { ["elementsize"] = elementSize }), zstd];
        var metadata = new ArrayMetadata(source.Shape, source.DataType, job.Chunks, source.FillValue, plain, source.DimensionNames, (JsonObject)source.Attributes.DeepClone());
        var shuffle = options.Shuffle switch
        {
            ShuffleMode.On => true,
            ShuffleMode.Off => false,
            _ => elementSize > 1 && ShuffleHelps(metadata, metadata with { Codecs = shuffled }, unitBuffer, bufferShape),
        };
        return shuffle ? metadata with { Codecs = shuffled } : metadata;
    }

    private static bool ShuffleHelps(ArrayMetadata plain, ArrayMetadata shuffled, ReadOnlyMemory<byte> unitBuffer, long[] bufferShape)
    {
        var rank = plain.Rank;
        var chunkShape = plain.ChunkShape.Select(c => (long)c).ToArray();
        var grid = bufferShape.Select((n, d) => n / chunkShape[d]).ToArray();
        var count = BoxCopy.Volume(grid);
        var chunk = new byte[plain.ChunkByteLength];
        var fill = new byte[chunk.Length];
        plain.FillValue.Fill(fill);
        long plainBytes = 0, shuffledBytes = 0;
        var plainPipeline = CodecPipeline.Create(plain);
        var shuffledPipeline = CodecPipeline.Create(shuffled);
        var step = Math.Max(1, count / ShuffleSampleChunks);
        for (long k = 0; k < count; k += step)
        {
            var coords = new long[rank];
            var rest = k;
            for (var d = rank - 1; d >= 0; d--)
            {
                coords[d] = rest % grid[d] * chunkShape[d];
                rest /= grid[d];
            }

            BoxCopy.Copy(unitBuffer.Span, bufferShape, coords, chunk, chunkShape, new long[rank], chunkShape, plain.DataType.Size);
            if (!chunk.AsSpan().SequenceEqual(fill))
            {
                plainBytes += plainPipeline.Encode(chunk).Length;
                shuffledBytes += shuffledPipeline.Encode(chunk).Length;
            }
        }

        return shuffledBytes <= plainBytes * 0.95;
    }

    private async Task DeleteChangesetsAsync(IEnumerable<string> names, CancellationToken cancellationToken)
    {
        foreach (var name in names)
        {
            await repository.DeleteChangesetAsync(name, cancellationToken);
        }
    }

    private RechunkProgress Snapshot() => new(
        _phase, Interlocked.Read(ref _unitsDone), _unitsTotal, _unitsResumed, Interlocked.Read(ref _sourceChunks), Interlocked.Read(ref _sourceBytes),
        Interlocked.Read(ref _chunksWritten), Interlocked.Read(ref _chunksEmpty), Interlocked.Read(ref _storedBytes), _checkpoints, _clock.Elapsed);

    private void Report(IProgress<RechunkProgress>? progress)
    {
        if (progress is null)
        {
            return;
        }

        // The timer and the unit loop both report; one at a time keeps lines whole.
        lock (_progressLock)
        {
            progress.Report(Snapshot());
        }
    }

    private RechunkSummary Summary(Job job, string branch, string target, string? snapshot, bool alreadyDone, bool upToDate) => new(
        job.Name, job.SourcePath, target, branch, job.Source.Snapshot.Id.ToString(), snapshot, job.Chunks, job.Plan.UnitShape,
        job.TargetMetadata is { } metadata ? CodecSpec.ListToJson(metadata.Codecs) : "",
        Snapshot(), BoxCopy.Volume(job.SourceMetadata.Shape) * job.SourceMetadata.DataType.Size, alreadyDone, upToDate);

    /// <summary>The unit indexes 0 … n − 1 without a list of them.</summary>
    private sealed class UnitRange(long count) : IReadOnlyList<long>
    {
        public long this[int index] => index;

        public int Count => (int)Math.Min(count, int.MaxValue);

        public IEnumerator<long> GetEnumerator()
        {
            for (long i = 0; i < count; i++)
            {
                yield return i;
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
