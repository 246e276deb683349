using System.Diagnostics;
using System.Text;
using Floe.Core;
using Floe.Storage;
using Floe.Store;
using Floe.Store.Format;

namespace Floe.Benchmarks.Store;

/// <summary>
/// `floe bench store`: builds the IMERG record's references (one commit per year) on the filesystem store and
/// measures manifest bytes per reference against kerchunk's JSON references for the same chunks, open-and-list
/// time at two sizes, a cold chunk lookup, and each year's commit time and memory. Figures: Store/RESULTS.md.
/// </summary>
public sealed class StoreBenchmark(TextWriter output, string workDirectory, bool full)
{
    private const string Group = "/Grid";

    public async Task<Dictionary<string, object>> RunAsync(CancellationToken cancellationToken = default)
    {
        var periodFiles = full ? 0 : 730; // full: calendar years; small: 730-file periods (about 15 days)
        var totalFiles = full ? ImergLayout.FilesInRecord : 730 * 27;
        var smallRepoFiles = full ? 12_000 : 1_200; // 1,008,000 and 100,800 references

        output.WriteLine($"floe bench store --scale {(full ? "full" : "small")}: {totalFiles:N0} IMERG files, {totalFiles * (long)ImergLayout.RefsPerFile:N0} references, in {workDirectory}");
        var report = new Report(output);

        // 1. The small repository, for the open-and-list comparison.
        var smallStore = new CountingObjectStore(new FileSystemObjectStore(Path.Combine(workDirectory, "small")));
        await BuildAsync(smallStore, smallRepoFiles, periodFiles: smallRepoFiles, null, cancellationToken);

        // 2. The whole record, one commit per period.
        var store = new CountingObjectStore(new FileSystemObjectStore(Path.Combine(workDirectory, "record")));
        var commits = new List<CommitFigures>();
        var buildClock = Stopwatch.StartNew();
        await BuildAsync(store, totalFiles, periodFiles, commits, cancellationToken);
        var buildSeconds = buildClock.Elapsed.TotalSeconds;
        var peakRss = MemorySampler.PeakResidentBytes();

        report.Row("commit", "files", "refs before", "fill session", "commit", "allocated in commit");
        foreach (var c in commits)
        {
            report.Row(c.Label, c.Files.ToString("N0"), c.RefsBefore.ToString("N0"), Report.Ms(c.FillMs), Report.Ms(c.CommitMs), Report.Mb(c.AllocatedBytes));
        }

        report.PrintTable("Building the record, one commit per " + (full ? "year" : "730 files"));

        // Early: commits onto 1-3 periods; late: onto 23-25 periods. Medians of three, as one commit is noisy here.
        var early = commits.Skip(1).Take(3).ToList();
        var late = commits.Skip(Math.Max(0, commits.Count - 4)).Take(3).ToList();
        double MedianOf(List<CommitFigures> list, Func<CommitFigures, double> f) => Report.Median(list.Select(f));
        var earlyMs = MedianOf(early, c => c.CommitMs);
        var lateMs = MedianOf(late, c => c.CommitMs);
        var earlyAllocated = MedianOf(early, c => c.AllocatedBytes);
        var lateAllocated = MedianOf(late, c => c.AllocatedBytes);
        report.Row("commits", "onto refs", "commit (median)", "allocated (median)");
        report.Row(string.Join(", ", early.Select(c => c.Label)), early[0].RefsBefore.ToString("N0"), Report.Ms(earlyMs), Report.Mb((long)earlyAllocated));
        report.Row(string.Join(", ", late.Select(c => c.Label)), late[0].RefsBefore.ToString("N0"), Report.Ms(lateMs), Report.Mb((long)lateAllocated));
        report.Row("late / early", "", Report.F(lateMs / earlyMs), Report.F(lateAllocated / earlyAllocated));
        report.PrintTable("Commit cost early and late in the record");


        // 3. Manifest bytes per reference: Floe's live manifests against kerchunk JSON for one month of the same references.
        var repository = await Repository.OpenAsync(store);
        var snapshot = await repository.GetSnapshotAsync((await repository.ReadBranchAsync(Repository.MainBranch, cancellationToken)).Snapshot, cancellationToken);
        long manifestBytes = 0, refs = 0, shards = 0;
        foreach (var node in snapshot.Nodes.Where(n => n.Kind == NodeKind.Array))
        {
            foreach (var entry in node.Shards)
            {
                manifestBytes += (await store.GetAsync(ManifestShard.KeyOf(entry.ManifestId), cancellationToken))!.Data.Length;
                refs += entry.RefCount;
                shards++;
            }
        }

        var floeBytesPerRef = manifestBytes / (double)refs;
        var (kerchunkRaw, kerchunkZstd, floeMonth, monthRefs) = CompareWithKerchunk(Math.Min(1_440, totalFiles));
        report.Row("format", "refs", "bytes", "bytes/ref");
        report.Row("Floe manifests (whole record)", refs.ToString("N0"), manifestBytes.ToString("N0"), Report.F(floeBytesPerRef));
        report.Row("Floe shard encoding (one month)", monthRefs.ToString("N0"), floeMonth.ToString("N0"), Report.F(floeMonth / (double)monthRefs));
        report.Row("kerchunk JSON refs (one month)", monthRefs.ToString("N0"), kerchunkRaw.ToString("N0"), Report.F(kerchunkRaw / (double)monthRefs));
        report.Row("kerchunk JSON + zstd-3 (one month)", monthRefs.ToString("N0"), kerchunkZstd.ToString("N0"), Report.F(kerchunkZstd / (double)monthRefs));
        report.Row("seed's Icechunk 1 manifest (quoted)", "16,972,032", "3,086,327,626", "181.85");
        report.PrintTable("Manifest bytes per virtual reference");

        // 4. Open a repository and list every node, cold (a new Repository each time), small against whole record.
        var (listSmall, listLarge) = await MeasureOpenAndListAsync(smallStore, store, cancellationToken);
        report.Row("repository", "refs", "open + list (median of 31, alternating)", "bytes read", "manifest bytes read");
        report.Row("small", (smallRepoFiles * (long)ImergLayout.RefsPerFile).ToString("N0"), Report.Ms(listSmall.Ms), listSmall.Bytes.ToString("N0"), listSmall.ManifestBytes.ToString("N0"));
        report.Row("record", refs.ToString("N0"), Report.Ms(listLarge.Ms), listLarge.Bytes.ToString("N0"), listLarge.ManifestBytes.ToString("N0"));
        report.PrintTable("Open and list all nodes");

        // 5. Cold lookup of one chunk reference in the whole record.
        var cold = await MeasureColdLookupAsync(store, totalFiles, cancellationToken);
        report.Row("step", "median", "max manifest bytes");
        report.Row("open + resolve branch + snapshot", Report.Ms(cold.OpenMs), "0");
        report.Row("chunk ref lookup (one shard)", Report.Ms(cold.LookupMs), cold.ManifestBytes.ToString("N0"));
        report.PrintTable("Cold read of one chunk reference (median of 21 random chunks, new Repository each)");

        // 6. Peak live memory of a commit, measured apart from the timed build (forced full collections slow it):
        // the same year of appends committed onto the small repository and onto the whole record. Last, as it
        // adds to both repositories.
        var yearFiles = full ? 17_520 : periodFiles;
        var memorySmall = await MeasureCommitMemoryAsync(smallStore, smallRepoFiles, yearFiles, cancellationToken);
        var memoryLarge = await MeasureCommitMemoryAsync(store, totalFiles, yearFiles, cancellationToken);
        report.Row("one more year committed onto", "refs before", "session (live)", "peak live growth in commit");
        report.Row("small repository", (smallRepoFiles * (long)ImergLayout.RefsPerFile).ToString("N0"), Report.Mb(memorySmall.Session), Report.Mb(memorySmall.Commit));
        report.Row("whole record", (totalFiles * (long)ImergLayout.RefsPerFile).ToString("N0"), Report.Mb(memoryLarge.Session), Report.Mb(memoryLarge.Commit));
        report.Row("record / small", "", Report.F(memoryLarge.Session / (double)memorySmall.Session), Report.F(memoryLarge.Commit / (double)memorySmall.Commit));
        report.PrintTable($"Commit memory ({yearFiles:N0} files appended; full collections every 20 ms)");

        var figures = new Dictionary<string, object>
        {
            ["benchmark"] = "store",
            ["scale"] = full ? "full" : "small",
            ["files"] = totalFiles,
            ["refs"] = refs,
            ["manifest_shards"] = shards,
            ["manifest_bytes"] = manifestBytes,
            ["bytes_per_ref"] = Math.Round(floeBytesPerRef, 3),
            ["kerchunk_json_bytes_per_ref"] = Math.Round(kerchunkRaw / (double)monthRefs, 2),
            ["kerchunk_json_zstd_bytes_per_ref"] = Math.Round(kerchunkZstd / (double)monthRefs, 2),
            ["open_list_small_ms"] = Math.Round(listSmall.Ms, 3),
            ["open_list_large_ms"] = Math.Round(listLarge.Ms, 3),
            ["open_list_ratio"] = Math.Round(listLarge.Ms / listSmall.Ms, 3),
            ["open_list_manifest_bytes"] = listLarge.ManifestBytes,
            ["cold_lookup_ms"] = Math.Round(cold.LookupMs, 3),
            ["cold_open_ms"] = Math.Round(cold.OpenMs, 3),
            ["cold_lookup_manifest_bytes"] = cold.ManifestBytes,
            ["commit_early_ms"] = Math.Round(earlyMs, 1),
            ["commit_late_ms"] = Math.Round(lateMs, 1),
            ["commit_time_ratio"] = Math.Round(lateMs / earlyMs, 3),
            ["commit_early_allocated_bytes"] = (long)earlyAllocated,
            ["commit_late_allocated_bytes"] = (long)lateAllocated,
            ["commit_allocated_ratio"] = Math.Round(lateAllocated / earlyAllocated, 3),
            ["commit_memory_small_session_bytes"] = memorySmall.Session,
            ["commit_memory_small_peak_growth_bytes"] = memorySmall.Commit,
            ["commit_memory_record_session_bytes"] = memoryLarge.Session,
            ["commit_memory_record_peak_growth_bytes"] = memoryLarge.Commit,
            ["commit_memory_ratio"] = Math.Round(memoryLarge.Commit / (double)memorySmall.Commit, 3),
            ["build_seconds"] = Math.Round(buildSeconds, 1),
            ["peak_rss_bytes"] = peakRss,
        };
        output.WriteLine();
        report.PrintJson(figures);
        return figures;
    }

    private sealed record CommitFigures(string Label, int Files, long RefsBefore, double FillMs, double CommitMs, long AllocatedBytes);

    // Appends `files` IMERG files to a new repository, committing every period (calendar year when periodFiles is 0).
    private async Task BuildAsync(IObjectStore store, int files, int periodFiles, List<CommitFigures>? figures, CancellationToken cancellationToken)
    {
        var repository = await Repository.CreateAsync(store, new RepositoryOptions { ShardCacheBytes = 64L << 20 }, cancellationToken);
        var session = await repository.WritableSessionAsync(cancellationToken: cancellationToken);
        session.CreateGroup(Group);
        var paths = ImergLayout.Variables.Select(v => $"{Group}/{v.Name}").ToArray();
        for (var v = 0; v < paths.Length; v++)
        {
            session.CreateArray(paths[v], ImergLayout.ArrayOf(v, 0));
        }

        var done = 0;
        while (done < files)
        {
            var count = periodFiles > 0 ? Math.Min(periodFiles, files - done) : Math.Min(FilesInYear(done), files - done);
            var label = periodFiles > 0 ? $"files {done:N0}+" : ImergLayout.TimeOf(done).Year.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var fill = Stopwatch.StartNew();
            foreach (var path in paths)
            {
                session.AppendAlong(path, 0, count);
            }

            for (var f = done; f < done + count; f++)
            {
                var url = ImergLayout.UrlOf(f);
                var file = f;
                ImergLayout.ForEachChunk(f, (v, c, offset, length) => session.SetChunkRef(paths[v], [file, c, 0], new VirtualChunkRef(url, offset, length)));
            }

            fill.Stop();
            GC.Collect();
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            await session.CommitAsync($"Appended {label}", new Dictionary<string, string>
            {
                ["source.first"] = ImergLayout.UrlOf(done),
                ["source.last"] = ImergLayout.UrlOf(done + count - 1),
                ["source.files"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }, cancellationToken);
            clock.Stop();
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            figures?.Add(new CommitFigures(label, count, done * (long)ImergLayout.RefsPerFile, fill.Elapsed.TotalMilliseconds, clock.Elapsed.TotalMilliseconds, allocated));
            done += count;
            if (figures is not null)
            {
                output.Write($"\r  committed {label}: {done:N0}/{files:N0} files");
            }
        }

        if (figures is not null)
        {
            output.WriteLine();
        }
    }

    // Appends `files` files after the first `existing` ones in one commit; returns the live heap the filled session
    // holds and the peak live growth during the commit, both from forced full collections.
    private static async Task<(long Session, long Commit)> MeasureCommitMemoryAsync(IObjectStore store, int existing, int files, CancellationToken cancellationToken)
    {
        var repository = await Repository.OpenAsync(store, new RepositoryOptions { ShardCacheBytes = 64L << 20 }, cancellationToken);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var session = await repository.WritableSessionAsync(cancellationToken: cancellationToken);
        var paths = ImergLayout.Variables.Select(v => $"{Group}/{v.Name}").ToArray();
        foreach (var path in paths)
        {
            session.AppendAlong(path, 0, files);
        }

        for (var f = existing; f < existing + files; f++)
        {
            var url = ImergLayout.UrlOf(f);
            var file = f;
            ImergLayout.ForEachChunk(f, (v, c, offset, length) => session.SetChunkRef(paths[v], [file, c, 0], new VirtualChunkRef(url, offset, length)));
        }

        var filled = GC.GetTotalMemory(forceFullCollection: true);
        long peak;
        using (var sampler = new MemorySampler(fullCollectionEveryMs: 20))
        {
            await session.CommitAsync("memory measurement", cancellationToken: cancellationToken);
            peak = sampler.PeakLiveBytes;
        }

        GC.KeepAlive(session);
        return (filled - before, Math.Max(0, peak - filled));
    }

    private static int FilesInYear(int fileIndex)
    {
        var year = ImergLayout.TimeOf(fileIndex).Year;
        return (DateTime.IsLeapYear(year) ? 366 : 365) * 48;
    }

    // Kerchunk's JSON reference format keys each chunk as "var/t.c.0": ["url", offset, length].
    private static (long Raw, long Zstd, long Floe, long Refs) CompareWithKerchunk(int files)
    {
        var json = new StringBuilder("{\"version\":1,\"refs\":{");
        var perVariable = ImergLayout.Variables.Select(_ => new List<(long, ChunkRef)>()).ToArray();
        long refs = 0;
        for (var f = 0; f < files; f++)
        {
            var url = ImergLayout.UrlOf(f);
            var file = f;
            ImergLayout.ForEachChunk(f, (v, c, offset, length) =>
            {
                json.Append(System.Globalization.CultureInfo.InvariantCulture, $"\"Grid/{ImergLayout.Variables[v].Name}/{file}.{c}.0\":[\"{url}\",{offset},{length}],");
                perVariable[v].Add(((file * (3600L / ImergLayout.Variables[v].LonChunk)) + c, new VirtualChunkRef(url, offset, length)));
                refs++;
            });
        }

        json.Length--;
        json.Append("}}");
        var bytes = Encoding.UTF8.GetBytes(json.ToString());
        long floe = 0;
        for (var v = 0; v < perVariable.Length; v++)
        {
            var lonChunks = 3600L / ImergLayout.Variables[v].LonChunk;
            var shard = new ManifestShard([0, 0, 0], [files, lonChunks, 1], perVariable[v].Select(p => p.Item1).ToArray(), perVariable[v].Select(p => p.Item2).ToArray());
            floe += shard.Encode().Length;
        }

        return (bytes.Length, Zstd.Compress(bytes, 3).Length, floe, refs);
    }

    // Alternates the two repositories so that drift in the machine's load affects both alike.
    private static async Task<((double Ms, long Bytes, long ManifestBytes) Small, (double Ms, long Bytes, long ManifestBytes) Large)> MeasureOpenAndListAsync(
        CountingObjectStore small, CountingObjectStore large, CancellationToken cancellationToken)
    {
        var times = new[] { new List<double>(), new List<double>() };
        var bytes = new long[2];
        var manifestBytes = new long[2];
        for (var i = 0; i < 64; i++)
        {
            var which = i % 2;
            var store = which == 0 ? small : large;
            store.Reset();
            var clock = Stopwatch.StartNew();
            var repository = await Repository.OpenAsync(store, cancellationToken: cancellationToken);
            var reader = await repository.ReadOnlyAsync(Repository.MainBranch, cancellationToken);
            var nodes = reader.Walk().Select(n => n.Kind == NodeKind.Array ? n.ArrayMetadata.Shape.Length : 0).Count();
            clock.Stop();
            if (nodes == 0)
            {
                throw new InvalidOperationException("the benchmark repository lists no nodes");
            }

            if (i >= 2)
            {
                times[which].Add(clock.Elapsed.TotalMilliseconds);
            }

            bytes[which] = store.BytesRead;
            manifestBytes[which] = store.ManifestBytesRead;
        }

        return ((Report.Median(times[0]), bytes[0], manifestBytes[0]), (Report.Median(times[1]), bytes[1], manifestBytes[1]));
    }

    private static async Task<(double OpenMs, double LookupMs, long ManifestBytes)> MeasureColdLookupAsync(CountingObjectStore store, int files, CancellationToken cancellationToken)
    {
        var rng = new Random(42);
        var opens = new List<double>();
        var lookups = new List<double>();
        long maxManifestBytes = 0;
        for (var i = 0; i < 21; i++)
        {
            var file = rng.Next(files);
            var variable = rng.Next(ImergLayout.Variables.Length);
            var lonChunk = rng.Next(3600 / ImergLayout.Variables[variable].LonChunk);
            var expected = default(VirtualChunkRef);
            ImergLayout.ForEachChunk(file, (v, c, offset, length) =>
            {
                if (v == variable && c == lonChunk)
                {
                    expected = new VirtualChunkRef(ImergLayout.UrlOf(file), offset, length);
                }
            });

            store.Reset();
            var clock = Stopwatch.StartNew();
            var repository = await Repository.OpenAsync(store, cancellationToken: cancellationToken);
            var reader = await repository.ReadOnlyAsync(Repository.MainBranch, cancellationToken);
            var opened = clock.Elapsed.TotalMilliseconds;
            var found = await reader.GetChunkRefAsync($"{Group}/{ImergLayout.Variables[variable].Name}", [file, lonChunk, 0], cancellationToken);
            clock.Stop();
            if (!Equals(found, expected))
            {
                throw new InvalidOperationException($"lookup of file {file} chunk {lonChunk} returned {found}, expected {expected}");
            }

            opens.Add(opened);
            lookups.Add(clock.Elapsed.TotalMilliseconds - opened);
            maxManifestBytes = Math.Max(maxManifestBytes, store.ManifestBytesRead);
        }

        return (Report.Median(opens), Report.Median(lookups), maxManifestBytes);
    }
}
