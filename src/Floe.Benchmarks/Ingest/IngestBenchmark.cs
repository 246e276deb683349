using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Floe.Benchmarks.Fixtures;
using Floe.Ingest;
using Floe.Ingest.Sources;
using Floe.Storage;
using Floe.Store;
using Floe.Store.Format;

namespace Floe.Benchmarks.Ingest;

/// <summary>How much of the IMERG record a run builds, how often it commits, and how many files the peer reads.</summary>
public sealed record IngestScale(string Name, DateOnly End, CommitPolicy CommitEvery, int PeerFiles)
{
    public static readonly DateOnly RecordStart = new(1998, 1, 1);

    /// <summary>
    /// The seed's 473,328 files are 9,861 days of 48: its count stops before 2024-12-31 (the whole of 2024 would
    /// add a day), so the range ends there, exclusive.
    /// </summary>
    public static readonly DateOnly RecordEnd = new(2024, 12, 31);

    /// <summary>The whole record, one commit per year (27 commits).</summary>
    public static IngestScale Full { get; } = new("full", RecordEnd, new CommitPolicy(0, CommitPeriod.Year), 9_600);

    /// <summary>1998 to 2000, one commit per year: about a minute.</summary>
    public static IngestScale Small { get; } = new("small", new DateOnly(2001, 1, 1), new CommitPolicy(0, CommitPeriod.Year), 1_440);

    /// <summary>The first <paramref name="days"/> days, one commit per day: for smoke tests.</summary>
    public static IngestScale Days(int days)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(days, 1);
        return new($"days={days}", RecordStart.AddDays(days), new CommitPolicy(0, CommitPeriod.Day), Math.Min(days * 48, 480));
    }
}

/// <summary>
/// `floe bench ingest`: builds the GPM IMERG record through <see cref="Ingestor"/> (the path of `floe ingest`), one
/// commit per year, from its real logical file names read from a few real-layout stand-in files, into a filesystem
/// repository: total time, files/s, peak RSS, each commit's time and memory, manifest bytes. The peer, in the same
/// run: h5py translating each file kerchunk's way and combining them in memory as MultiZarrToZarr does, over the
/// first files of the same record. Figures: Ingest/RESULTS.md.
/// </summary>
/// <param name="shardCacheBytes">The record repository's manifest shard cache; null: the default, as `floe ingest` opens it.</param>
public sealed class IngestBenchmark(TextWriter output, string workDirectory, IngestScale scale, long? shardCacheBytes = null)
{
    public const string Root = "s3://gesdisc-cumulus-prod-protected/GPM_L3/GPM_3IMERGHH.07";
    public const int StandIns = 4;
    public const long RssTargetBytes = 2L << 30;
    public const double RatioTarget = 1.2;
    private const string Group = "/Grid";

    // kerchunk's SingleHdf5ToZarr walk (as in `bench hdf5`) over the Grid group, under each file's logical URL, then
    // MultiZarrToZarr's combine: keep every input reference set, order by time, renumber the time-dependent arrays'
    // chunk keys by position, take static arrays from the first file, inline time and time_bnds, write the JSON.
    private const string PeerScript = """
import sys, json, time, base64, h5py, numpy as np

""" + KerchunkPeer.Functions + """
def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0
def translate(url, path):
    refs = {}
    with open(path, "rb") as f, h5py.File(f, "r") as h:
        grid = h["Grid"]
        refs["Grid/.zattrs"] = json.dumps(attrs(grid))
        for name, obj in grid.items():
            if not isinstance(obj, h5py.Dataset):
                continue
            dataset_refs(refs, "Grid/" + name, obj, url)
        values = (grid["time"][:].tolist(), grid["time_bnds"][:].tolist())
    return refs, values
entries = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
baseline = status("VmRSS:")
start = time.perf_counter()
inputs = []
for url, path, logical in entries:
    refs, (times, bounds) = translate(url, path)
    shift = int(logical) - times[0]  # a stand-in takes its place from the logical file's time, as in Floe
    inputs.append((refs, [t + shift for t in times], [[b + shift for b in pair] for pair in bounds]))
translated = time.perf_counter()
inputs.sort(key=lambda i: i[1][0])
first = inputs[0][0]
along = {k[:-len("/.zarray")] for k, v in first.items() if k.endswith("/.zarray") and len(json.loads(v)["shape"]) == 3}
combined = {k: v for k, v in first.items() if k.rsplit("/", 1)[0] not in along or k.endswith((".zarray", ".zattrs"))}
n = len(inputs)
data_refs = 0
for position, (refs, times, bounds) in enumerate(inputs):
    for k, v in refs.items():
        var, _, chunk = k.rpartition("/")
        if var in along and not chunk.startswith("."):
            combined[var + "/" + str(position) + chunk[chunk.index("."):]] = v
            data_refs += 1
for var in along:
    meta = json.loads(combined[var + "/.zarray"])
    meta["shape"][0] = n
    combined[var + "/.zarray"] = json.dumps(meta)
def inline(values):
    return "base64:" + base64.b64encode(np.array(values, "<i4").tobytes()).decode()
combined["Grid/time/.zarray"] = json.dumps({"shape": [n], "chunks": [n], "dtype": "<i4", "fill_value": None, "filters": None, "compressor": None})
combined["Grid/time/0"] = inline([t for i in inputs for t in i[1]])
combined["Grid/time_bnds/.zarray"] = json.dumps({"shape": [n, 2], "chunks": [n, 2], "dtype": "<i4", "fill_value": None, "filters": None, "compressor": None})
combined["Grid/time_bnds/0.0"] = inline([b for i in inputs for b in i[2]])
combined_at = time.perf_counter()
held = status("VmRSS:")
with open(sys.argv[2], "w") as f:
    json.dump({"version": 1, "refs": combined}, f)
done = time.perf_counter()
print(json.dumps({"files": n, "refs": data_refs, "translate_s": translated - start, "combine_s": combined_at - translated,
    "write_s": done - combined_at, "seconds": done - start, "rss_baseline": baseline, "rss_held": held, "peak_rss": status("VmHWM:")}))
""";

    public async Task<Dictionary<string, object>> RunAsync(CancellationToken cancellationToken = default)
    {
        var start = new DateTimeOffset(IngestScale.RecordStart.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var end = new DateTimeOffset(scale.End.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var logical = new TimeTemplateSource(TimeTemplates.Imerg(Root), start, end, TimeTemplates.ImergStep);
        var totalFiles = logical.Count!.Value;
        output.WriteLine($"floe bench ingest --scale {scale.Name}: {totalFiles:N0} IMERG files {start:yyyy-MM-dd} to {end:yyyy-MM-dd} (exclusive), " +
            $"read from {StandIns} real-layout stand-ins, commits {scale.CommitEvery}, in {workDirectory}");
        var shardCache = shardCacheBytes ?? new RepositoryOptions().ShardCacheBytes;
        output.WriteLine($"record repository: shard cache {Report.Mb(shardCache)}{(shardCacheBytes is null ? " (the default)" : "")}");
        var physical = await FixturesAsync(cancellationToken);
        var sources = new StandInSource(logical, physical);
        var memory = new ResidentMemory();
        var report = new Report(output);

        // 1. Floe on the files the peer reads, in one commit, after a first pass that lets the JIT tier up (which also
        // keeps compilation out of the record's first commit).
        var peerFiles = (int)Math.Min(scale.PeerFiles, totalFiles);
        var peerEnd = start.AddTicks(peerFiles * TimeTemplates.ImergStep.Ticks);
        var sameSources = new StandInSource(new TimeTemplateSource(TimeTemplates.Imerg(Root), start, peerEnd, TimeTemplates.ImergStep), physical);
        var concurrency = new IngestOptions().Concurrency;
        await IngestSameFilesAsync(sameSources, peerFiles, concurrency, memory, cancellationToken, "warm-up");
        var sameDefault = await IngestSameFilesAsync(sameSources, peerFiles, concurrency, memory, cancellationToken);
        var sameOne = await IngestSameFilesAsync(sameSources, peerFiles, 1, memory, cancellationToken);

        // 2. The record.
        var (commits, build, storeFigures) = await BuildRecordAsync(sources, start, memory, cancellationToken);

        // 3. The peer, on the same first files.
        var peer = await RunPeerAsync(sameSources, peerFiles, cancellationToken);

        report.Row("commit", "files", "refs in repo", "reading", "commit", "files/s", "peak RSS", "RSS after", "live heap after", "manifest B written", "manifest B read", "snapshot B");
        foreach (var c in commits)
        {
            report.Row(c.Label, c.Files.ToString("N0", CultureInfo.InvariantCulture), c.RefsAfter.ToString("N0", CultureInfo.InvariantCulture), Seconds(c.Reading), Seconds(c.Committing),
                Report.F(c.Files / (c.Reading + c.Committing).TotalSeconds, "0"), Report.Mb(c.PeakRss), Report.Mb(c.RssAfter), Report.Mb(c.LiveHeap),
                c.ManifestBytesWritten.ToString("N0", CultureInfo.InvariantCulture), c.ManifestBytesRead.ToString("N0", CultureInfo.InvariantCulture),
                c.SnapshotBytes.ToString("N0", CultureInfo.InvariantCulture));
        }

        report.PrintTable($"Building the record through Ingestor, one commit {PeriodName(scale.CommitEvery)} (peak RSS: the process's peak during that batch{(memory.PerPeriod ? "" : ", here the peak so far")}; live heap: after a full collection)");

        var first = commits[0];
        var last = commits[^1];
        var timeRatio = last.Committing / first.Committing;
        var rssRatio = last.PeakRss / (double)first.PeakRss;
        var heapRatio = last.LiveHeap / (double)first.LiveHeap;
        var refs = build.Refs;
        var filesPerSecond = totalFiles / build.Seconds;
        report.Row("figure", "target", "measured", "");
        report.Row("files, references", "", $"{totalFiles:N0} files, {refs:N0} refs ({storeFigures.RefsPerFile} per file, from the repository)", "");
        report.Row("total time (reading + committing)", "", $"{build.Seconds:0.0} s: {filesPerSecond:N0} files/s, {refs / build.Seconds:N0} refs/s", "");
        report.Row("peak RSS of the process", "≤ 2 GB", Report.Mb(build.PeakRss), Met(build.PeakRss <= RssTargetBytes));
        report.Row($"commit time, {last.Label} / {first.Label}", "≤ 1.2", $"{Seconds(last.Committing)} / {Seconds(first.Committing)} = {Report.F(timeRatio, "0.000")}", Met(timeRatio <= RatioTarget));
        report.Row($"peak RSS during the batch, {last.Label} / {first.Label}", "≤ 1.2", $"{Report.Mb(last.PeakRss)} / {Report.Mb(first.PeakRss)} = {Report.F(rssRatio, "0.000")}", Met(rssRatio <= RatioTarget));
        report.Row($"live heap after the commit, {last.Label} / {first.Label}", "≤ 1.2", $"{Report.Mb(last.LiveHeap)} / {Report.Mb(first.LiveHeap)} = {Report.F(heapRatio, "0.000")}", Met(heapRatio <= RatioTarget));
        // One commit against one is noisy on a shared machine: medians of the first and last few, and the trend of
        // the live heap over all commits (a leak shows as a steady slope).
        var k = Math.Clamp(commits.Count / 2, 1, 3);
        double Steady(Func<CommitFigures, double> figure) =>
            Report.Median(commits.Skip(commits.Count - k).Select(figure)) / Report.Median(commits.Take(k).Select(figure));
        var timeSteady = Steady(c => c.Committing.TotalMilliseconds);
        var rssSteady = Steady(c => c.PeakRss);
        var heapSteady = Steady(c => c.LiveHeap);
        var heapSlope = Slope(commits.Select(c => (double)c.LiveHeap).ToList());
        report.Row($"commit time, median of last {k} / first {k}", "", Report.F(timeSteady, "0.000"), "");
        report.Row($"peak RSS during the batch, median of last {k} / first {k}", "", Report.F(rssSteady, "0.000"), "");
        report.Row($"live heap after the commit, median of last {k} / first {k}", "", Report.F(heapSteady, "0.000"), "");
        report.Row("live heap after the commit, trend over all commits", "", $"{(heapSlope >= 0 ? "+" : "")}{Report.F(heapSlope / 1048576.0, "0.00")} MB per commit (least squares)", "");

        report.Row("manifest bytes in the repository (every manifest object)", "", $"{storeFigures.ManifestBytes:N0} in {storeFigures.ManifestObjects:N0} objects: {Report.F(storeFigures.ManifestBytes / (double)refs, "0.000")} B/ref", "");
        report.Row("manifest bytes of the last snapshot", "", $"{storeFigures.LiveManifestBytes:N0} in {storeFigures.LiveShards:N0} shards: {Report.F(storeFigures.LiveManifestBytes / (double)refs, "0.000")} B/ref", "");
        report.Row("snapshot bytes, first / last commit", "", $"{first.SnapshotBytes:N0} / {last.SnapshotBytes:N0}", "");
        report.PrintTable("The record against the targets");
        output.WriteLine("For comparison (quoted from the seed, not measured): Icechunk 1 + VirtualiZarr appending one year per commit ran out of memory");
        output.WriteLine("around year 10; its 11-year manifest was 3,086,327,626 bytes for 16,972,032 chunks (181.85 B/ref).");

        var peerFilesPerSecond = peer.Files / peer.Seconds;
        var peerRefsPerFile = peer.Refs / (double)peer.Files;
        var peerBytesPerRef = (peer.RssHeld - peer.RssBaseline) / (double)peer.Refs;
        var recordPeerRefs = (long)(totalFiles * peerRefsPerFile);
        var peerExtrapolatedRss = peer.RssBaseline + (long)(peerBytesPerRef * recordPeerRefs);
        var peerExtrapolatedSeconds = totalFiles / peerFilesPerSecond;
        report.Row("builder (same files)", "files", "seconds", "files/s", "peak RSS", "memory per ref held", "refs per file", "Floe ÷ peer");
        report.Row($"Floe Ingestor, concurrency {concurrency} (default)", peerFiles.ToString("N0", CultureInfo.InvariantCulture), Report.F(sameDefault.Seconds, "0.0"),
            Report.F(peerFiles / sameDefault.Seconds, "0"), Report.Mb(sameDefault.PeakRss), "", sameDefault.RefsPerFile.ToString(CultureInfo.InvariantCulture),
            Report.F(peerFiles / sameDefault.Seconds / peerFilesPerSecond, "0.0") + "×");
        report.Row("Floe Ingestor, concurrency 1", peerFiles.ToString("N0", CultureInfo.InvariantCulture), Report.F(sameOne.Seconds, "0.0"),
            Report.F(peerFiles / sameOne.Seconds, "0"), Report.Mb(sameOne.PeakRss), "", sameOne.RefsPerFile.ToString(CultureInfo.InvariantCulture),
            Report.F(peerFiles / sameOne.Seconds / peerFilesPerSecond, "0.0") + "×");
        report.Row("peer: h5py kerchunk walk + MultiZarrToZarr-style combine (1 process)", peer.Files.ToString("N0", CultureInfo.InvariantCulture), Report.F(peer.Seconds, "0.0"),
            Report.F(peerFilesPerSecond, "0"), Report.Mb(peer.PeakRss), Report.F(peerBytesPerRef, "0") + " B", Report.F(peerRefsPerFile, "0.##"), "");
        report.Row($"peer EXTRAPOLATED (linear) to {totalFiles:N0} files, {recordPeerRefs:N0} refs", totalFiles.ToString("N0", CultureInfo.InvariantCulture),
            Report.F(peerExtrapolatedSeconds, "0"), "", Report.Mb(peerExtrapolatedRss), "", "", "");
        report.Row("Floe, the whole record (measured above)", totalFiles.ToString("N0", CultureInfo.InvariantCulture), Report.F(build.Seconds, "0"),
            Report.F(filesPerSecond, "0"), Report.Mb(build.PeakRss), "", storeFigures.RefsPerFile.ToString(CultureInfo.InvariantCulture), "");
        report.PrintTable($"Floe against the peer on the first {peerFiles:N0} files of the record, in this run (peer JSON: {peer.JsonBytes / (double)peer.Refs:0.0} B/ref)");

        var figures = new Dictionary<string, object>
        {
            ["benchmark"] = "ingest",
            ["scale"] = scale.Name,
            ["start"] = start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["end_exclusive"] = end.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["files"] = totalFiles,
            ["stand_ins"] = physical.Count,
            ["refs"] = refs,
            ["refs_in_store"] = storeFigures.Refs,
            ["refs_per_file"] = storeFigures.RefsPerFile,
            ["commits"] = commits.Count,
            ["build_seconds"] = Math.Round(build.Seconds, 2),
            ["files_per_second"] = Math.Round(filesPerSecond, 1),
            ["refs_per_second"] = Math.Round(refs / build.Seconds, 0),
            ["peak_rss_bytes"] = build.PeakRss,
            ["peak_rss_target_met"] = build.PeakRss <= RssTargetBytes,
            ["first_commit"] = first.Label,
            ["last_commit"] = last.Label,
            ["first_commit_ms"] = Math.Round(first.Committing.TotalMilliseconds, 1),
            ["last_commit_ms"] = Math.Round(last.Committing.TotalMilliseconds, 1),
            ["commit_time_ratio"] = Math.Round(timeRatio, 3),
            ["first_reading_ms"] = Math.Round(first.Reading.TotalMilliseconds, 1),
            ["last_reading_ms"] = Math.Round(last.Reading.TotalMilliseconds, 1),
            ["first_peak_rss_bytes"] = first.PeakRss,
            ["last_peak_rss_bytes"] = last.PeakRss,
            ["peak_rss_ratio"] = Math.Round(rssRatio, 3),
            ["first_live_heap_bytes"] = first.LiveHeap,
            ["last_live_heap_bytes"] = last.LiveHeap,
            ["live_heap_ratio"] = Math.Round(heapRatio, 3),
            ["commit_time_ratio_median"] = Math.Round(timeSteady, 3),
            ["peak_rss_ratio_median"] = Math.Round(rssSteady, 3),
            ["live_heap_ratio_median"] = Math.Round(heapSteady, 3),
            ["ratio_median_of"] = k,
            ["live_heap_slope_bytes_per_commit"] = Math.Round(heapSlope, 0),
            ["ratio_targets_met"] = timeRatio <= RatioTarget && rssRatio <= RatioTarget && heapRatio <= RatioTarget,
            ["per_commit_peak_rss"] = memory.PerPeriod,
            ["shard_cache_bytes"] = shardCache,
            ["manifest_bytes"] = storeFigures.ManifestBytes,
            ["manifest_objects"] = storeFigures.ManifestObjects,
            ["bytes_per_ref"] = Math.Round(storeFigures.ManifestBytes / (double)refs, 3),
            ["live_manifest_bytes"] = storeFigures.LiveManifestBytes,
            ["live_bytes_per_ref"] = Math.Round(storeFigures.LiveManifestBytes / (double)refs, 3),
            ["max_manifest_bytes_read_in_a_batch"] = commits.Max(c => c.ManifestBytesRead),
            ["first_snapshot_bytes"] = first.SnapshotBytes,
            ["last_snapshot_bytes"] = last.SnapshotBytes,
            ["measurement_seconds"] = Math.Round(build.MeasurementSeconds, 2),
            ["same_files"] = peerFiles,
            ["floe_same_files_per_second"] = Math.Round(peerFiles / sameDefault.Seconds, 1),
            ["floe_same_files_concurrency"] = concurrency,
            ["floe_same_files_per_second_concurrency_1"] = Math.Round(peerFiles / sameOne.Seconds, 1),
            ["peer"] = "h5py kerchunk SingleHdf5ToZarr walk, MultiZarrToZarr-style in-memory combine",
            ["peer_files"] = peer.Files,
            ["peer_refs"] = peer.Refs,
            ["peer_refs_per_file"] = Math.Round(peerRefsPerFile, 3),
            ["peer_seconds"] = Math.Round(peer.Seconds, 2),
            ["peer_files_per_second"] = Math.Round(peerFilesPerSecond, 1),
            ["peer_peak_rss_bytes"] = peer.PeakRss,
            ["peer_memory_bytes_per_ref"] = Math.Round(peerBytesPerRef, 1),
            ["peer_json_bytes_per_ref"] = Math.Round(peer.JsonBytes / (double)peer.Refs, 1),
            ["peer_extrapolated_record_seconds"] = Math.Round(peerExtrapolatedSeconds, 0),
            ["peer_extrapolated_record_rss_bytes"] = peerExtrapolatedRss,
            ["speedup"] = Math.Round(peerFiles / sameDefault.Seconds / peerFilesPerSecond, 2),
            ["speedup_concurrency_1"] = Math.Round(peerFiles / sameOne.Seconds / peerFilesPerSecond, 2),
        };
        output.WriteLine();
        report.PrintJson(figures);
        return figures;
    }

    private sealed record CommitFigures(string Label, int Files, long RefsAfter, TimeSpan Reading, TimeSpan Committing, long PeakRss, long RssAfter, long LiveHeap,
        long ManifestBytesWritten, long ManifestBytesRead, long SnapshotBytes);

    private sealed record BuildFigures(double Seconds, long Refs, long PeakRss, double MeasurementSeconds);

    private sealed record StoreFigures(long Refs, long RefsPerFile, long ManifestBytes, long ManifestObjects, long LiveManifestBytes, long LiveShards);

    private sealed record SameFiles(double Seconds, long PeakRss, long RefsPerFile);

    private sealed record PeerFigures(int Files, long Refs, double Seconds, long RssBaseline, long RssHeld, long PeakRss, long JsonBytes);

    private async Task<(List<CommitFigures> Commits, BuildFigures Build, StoreFigures Store)> BuildRecordAsync(
        StandInSource sources, DateTimeOffset start, ResidentMemory memory, CancellationToken cancellationToken)
    {
        var directory = Fresh(Path.Combine(workDirectory, "record"));
        var store = new TallyingObjectStore(new FileSystemObjectStore(directory));
        var repositoryOptions = shardCacheBytes is { } cache ? new RepositoryOptions { ShardCacheBytes = cache } : new RepositoryOptions();
        var repository = await Repository.CreateAsync(store, repositoryOptions, cancellationToken);
        var commits = new List<CommitFigures>();
        long refs = 0;
        var measuring = TimeSpan.Zero;
        var options = new IngestOptions
        {
            Group = Group,
            CommitEvery = scale.CommitEvery,
            Committed = commit =>
            {
                // Memory figures are taken between batches; the full collection they force is kept out of the build time.
                var clock = Stopwatch.GetTimestamp();
                var peak = memory.TakePeak();
                var rss = ResidentMemory.Current();
                var live = GC.GetTotalMemory(forceFullCollection: true);
                var (written, read, snapshot) = store.Take();
                refs += commit.Refs;
                var label = Label(start.AddTicks(commit.FirstOrdinal * TimeTemplates.ImergStep.Ticks), scale.CommitEvery);
                commits.Add(new CommitFigures(label, commit.Files, refs, commit.Reading, commit.Committing, peak, rss, live, written, read, snapshot));
                output.WriteLine($"  {label}: {commit.Files:N0} files, reading {Seconds(commit.Reading)}, commit {Seconds(commit.Committing)}, " +
                    $"peak RSS {Report.Mb(peak)}, live heap {Report.Mb(live)}, {refs:N0} refs in all");
                measuring += Stopwatch.GetElapsedTime(clock);
            },
        };

        memory.Reset();
        var watch = Stopwatch.StartNew();
        var summary = await new Ingestor(repository, options).RunAsync(sources, cancellationToken: cancellationToken);
        watch.Stop();
        var peakRss = memory.TakePeak();
        if (summary.Problems.Count > 0 || summary.Progress.Refs != refs)
        {
            throw new InvalidOperationException($"the record build reported {summary.Problems.Count} problem(s) and {summary.Progress.Refs:N0} refs (commits counted {refs:N0})");
        }

        var build = new BuildFigures((watch.Elapsed - measuring).TotalSeconds, refs, Math.Max(peakRss, commits.Max(c => c.PeakRss)), measuring.TotalSeconds);
        return (commits, build, await StoreFiguresAsync(repository, directory, summary.Extent, cancellationToken));
    }

    // What the repository holds: the per-file arrays' references (so references per file come from the store, not
    // from the ingestor's count) and the manifest bytes, every object in manifests/ and the last snapshot's.
    private static async Task<StoreFigures> StoreFiguresAsync(Repository repository, string directory, long extent, CancellationToken cancellationToken)
    {
        var snapshot = await repository.GetSnapshotAsync((await repository.ReadBranchAsync(Repository.MainBranch, cancellationToken)).Snapshot, cancellationToken);
        long refs = 0, liveBytes = 0, shards = 0;
        foreach (var node in snapshot.Nodes.Where(n => n.Kind == NodeKind.Array))
        {
            var metadata = node.ArrayMetadata;
            if (metadata.Shape.Length == 3 && metadata.Shape[0] == extent && metadata.ChunkShape[0] == 1)
            {
                refs += node.RefCount;
            }

            foreach (var entry in node.Shards)
            {
                liveBytes += (await repository.Store.GetAsync(ManifestShard.KeyOf(entry.ManifestId), cancellationToken))!.Data.Length;
                shards++;
            }
        }

        if (extent == 0 || refs % extent != 0)
        {
            throw new InvalidOperationException($"the repository holds {refs:N0} per-file references for {extent:N0} positions");
        }

        var manifests = new DirectoryInfo(Path.Combine(directory, "manifests"));
        var objects = manifests.Exists ? manifests.GetFiles("*", SearchOption.AllDirectories) : [];
        return new StoreFigures(refs, refs / extent, objects.Sum(f => f.Length), objects.Length, liveBytes, shards);
    }

    private async Task<SameFiles> IngestSameFilesAsync(StandInSource sources, int files, int concurrency, ResidentMemory memory, CancellationToken cancellationToken,
        string purpose = "measured")
    {
        var directory = Fresh(Path.Combine(workDirectory, $"same-files-{concurrency}"));
        try
        {
            var repository = await Repository.CreateAsync(new FileSystemObjectStore(directory), cancellationToken: cancellationToken);
            var options = new IngestOptions { Group = Group, CommitEvery = new CommitPolicy(files), Concurrency = concurrency };
            memory.Reset();
            var clock = Stopwatch.StartNew();
            var summary = await new Ingestor(repository, options).RunAsync(sources, cancellationToken: cancellationToken);
            clock.Stop();
            var peak = memory.TakePeak();
            output.WriteLine($"  Floe on the first {files:N0} files, concurrency {concurrency} ({purpose}): {clock.Elapsed.TotalSeconds:0.0} s, {summary.Progress.Refs:N0} refs, {summary.Progress.Commits} commit");
            return new SameFiles(clock.Elapsed.TotalSeconds, peak, summary.Progress.Refs / files);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private async Task<PeerFigures> RunPeerAsync(StandInSource sources, int files, CancellationToken cancellationToken)
    {
        var directory = Fresh(Path.Combine(workDirectory, "peer"));
        try
        {
            // The peer reads the very files Floe read: each logical URL, its stand-in, and its logical time.
            var list = new StringBuilder();
            await foreach (var file in sources.EnumerateAsync(0, cancellationToken).Take(files).WithCancellation(cancellationToken))
            {
                list.Append(CultureInfo.InvariantCulture, $"{file.Location}\t{file.ReadFrom}\t{file.Time!.Value.ToUnixTimeSeconds()}\n");
            }

            var listFile = Path.Combine(directory, "files.tsv");
            var json = Path.Combine(directory, "combined.json");
            await File.WriteAllTextAsync(listFile, list.ToString(), cancellationToken);
            output.WriteLine($"  peer (h5py, kerchunk's method + combine) on the first {files:N0} files ...");
            var stdout = await Task.Run(() => Python.Run(["-c", PeerScript, listFile, json], TimeSpan.FromMinutes(30)), cancellationToken);
            using var document = JsonDocument.Parse(stdout);
            var root = document.RootElement;
            return new PeerFigures(root.GetProperty("files").GetInt32(), root.GetProperty("refs").GetInt64(), root.GetProperty("seconds").GetDouble(),
                root.GetProperty("rss_baseline").GetInt64(), root.GetProperty("rss_held").GetInt64(), root.GetProperty("peak_rss").GetInt64(), new FileInfo(json).Length);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private async Task<List<string>> FixturesAsync(CancellationToken cancellationToken)
    {
        var directory = Path.Combine(workDirectory, "stand-ins");
        var existing = Directory.Exists(directory) ? Directory.GetFiles(directory, "*.HDF5").Order(StringComparer.Ordinal).ToList() : [];
        if (existing.Count >= StandIns)
        {
            return existing.Take(StandIns).ToList();
        }

        output.WriteLine($"writing {StandIns} IMERG-layout files (3600 × 1800) with netCDF4-python ...");
        var written = await Task.Run(
            () => FixtureWriter.WriteImerg(directory, StandIns, IngestScale.RecordStart, tree: false, small: false, progress: null, cancellationToken),
            cancellationToken);
        return [.. written];
    }

    private static string Fresh(string directory)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
        return directory;
    }

    private static string Label(DateTimeOffset time, CommitPolicy policy) => policy.Period switch
    {
        CommitPeriod.Year => time.ToString("yyyy", CultureInfo.InvariantCulture),
        CommitPeriod.Month => time.ToString("yyyy-MM", CultureInfo.InvariantCulture),
        _ => time.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
    };

    private static string PeriodName(CommitPolicy policy) => policy.Period switch
    {
        CommitPeriod.Year => "per year",
        CommitPeriod.Month => "per month",
        CommitPeriod.Day => "per day",
        _ => $"every {policy.Files:N0} files",
    };

    // Least-squares slope of values against their index.
    private static double Slope(IReadOnlyList<double> values)
    {
        if (values.Count < 2)
        {
            return 0;
        }

        var meanX = (values.Count - 1) / 2.0;
        var meanY = values.Average();
        double covariance = 0, variance = 0;
        for (var i = 0; i < values.Count; i++)
        {
            covariance += (i - meanX) * (values[i] - meanY);
            variance += (i - meanX) * (i - meanX);
        }

        return covariance / variance;
    }

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString(time.TotalSeconds < 10 ? "0.000" : "0.0", CultureInfo.InvariantCulture) + " s";

    private static string Met(bool met) => met ? "met" : "NOT met";

    /// <summary>Counts manifest bytes written and read, and the size of the last snapshot written, between calls to <see cref="Take"/>.</summary>
    private sealed class TallyingObjectStore(IObjectStore inner) : IObjectStore
    {
        private long _manifestWritten;
        private long _manifestRead;
        private long _snapshot;

        public string Description => inner.Description;

        public (long ManifestWritten, long ManifestRead, long Snapshot) Take() =>
            (Interlocked.Exchange(ref _manifestWritten, 0), Interlocked.Exchange(ref _manifestRead, 0), Interlocked.Exchange(ref _snapshot, 0));

        public async ValueTask<StoredObject?> GetAsync(string key, CancellationToken cancellationToken = default) =>
            Read(key, await inner.GetAsync(key, cancellationToken));

        public async ValueTask<StoredObject?> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default) =>
            Read(key, await inner.GetRangeAsync(key, offset, length, cancellationToken));

        public ValueTask<string> PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            Written(key, data.Length);
            return inner.PutAsync(key, data, cancellationToken);
        }

        public ValueTask<string?> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            Written(key, data.Length);
            return inner.PutIfAbsentAsync(key, data, cancellationToken);
        }

        public ValueTask<string?> PutIfMatchAsync(string key, ReadOnlyMemory<byte> data, string expectedEtag, CancellationToken cancellationToken = default)
        {
            Written(key, data.Length);
            return inner.PutIfMatchAsync(key, data, expectedEtag, cancellationToken);
        }

        public ValueTask<ListPage> ListAsync(string prefix, string? continuationToken = null, int pageSize = 1000, CancellationToken cancellationToken = default) =>
            inner.ListAsync(prefix, continuationToken, pageSize, cancellationToken);

        public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

        private void Written(string key, int length)
        {
            if (key.StartsWith("manifests/", StringComparison.Ordinal))
            {
                Interlocked.Add(ref _manifestWritten, length);
            }
            else if (key.StartsWith("snapshots/", StringComparison.Ordinal))
            {
                Interlocked.Exchange(ref _snapshot, length);
            }
        }

        private StoredObject? Read(string key, StoredObject? result)
        {
            if (result is not null && key.StartsWith("manifests/", StringComparison.Ordinal))
            {
                Interlocked.Add(ref _manifestRead, result.Data.Length);
            }

            return result;
        }
    }
}
