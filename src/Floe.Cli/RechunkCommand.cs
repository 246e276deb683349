using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Floe.Rechunk;
using Floe.Storage;
using Floe.Store;
using Spectre.Console;

namespace Floe.Cli;

/// <summary>`floe rechunk`: a native copy of an array with a new chunk shape (docs/rechunk.md).</summary>
internal static class RechunkCommand
{
    public static Command Create()
    {
        var array = new Option<string?>("--array", "-a") { Description = "The array to copy, e.g. /Grid/precipitation (with --incremental: the one the copy was made from)" };
        var to = new Option<string>("--to") { Description = "The native array to write, e.g. /Grid/precipitation_ts; must be new unless --incremental", Required = true };
        var chunks = new Option<string?>("--chunks", "-c") { Description = "New chunk shape: N,N,N for every dimension, or NAME=N,... by dimension (others keep the source's), e.g. time=4096,lat=10,lon=10" };
        var from = new Option<string>("--from") { Description = "Branch, tag or snapshot id holding the source", DefaultValueFactory = _ => Repository.MainBranch };
        var branch = new Option<string?>("--branch", "-b") { Description = "Branch to commit the copy to (created from the source's snapshot if missing); default: --from when it is a branch" };
        var budget = new Option<string>("--budget") { Description = "Memory for the data being moved, e.g. 512MiB, 4GiB", DefaultValueFactory = _ => "1GiB" };
        var concurrency = new Option<int>("--concurrency") { Description = "Chunks read or written at once", DefaultValueFactory = _ => 2 * Environment.ProcessorCount };
        var level = new Option<int>("--level") { Description = "zstd compression level", DefaultValueFactory = _ => 3 };
        var shuffle = new Option<ShuffleMode>("--shuffle") { Description = "Byte-shuffle before zstd: auto (when a sample compresses 5% smaller), on, off", DefaultValueFactory = _ => ShuffleMode.Auto };
        var incremental = new Option<bool>("--incremental") { Description = "Bring an existing copy up to date with what changed in its source (appended time steps), rewriting only what changed" };
        var checkpoint = new Option<int>("--checkpoint-seconds") { Description = "Save progress this often; a killed run resumes from the last save when rerun", DefaultValueFactory = _ => 30 };
        var json = new Option<bool>("--json") { Description = "Print progress and the result as JSON lines" };
        var command = new Command("rechunk", "Write a native, zstd-compressed copy of an array with a new chunk shape, in one commit; rerun the same command to resume after a kill")
        {
            Commands.RepoOption, array, to, chunks, from, branch, budget, concurrency, level, shuffle, incremental, checkpoint, json,
        };
        command.SetAction((parse, ct) => Commands.Run(async () =>
        {
            var budgetBytes = ParseBytes(parse.GetValue(budget)!, "--budget");
            if (parse.GetValue(checkpoint) < 0)
            {
                throw new ArgumentException("--checkpoint-seconds must not be negative");
            }

            var options = new RechunkOptions
            {
                Source = parse.GetValue(array),
                Target = parse.GetValue(to)!,
                Chunks = parse.GetValue(chunks),
                From = parse.GetValue(from)!,
                Branch = parse.GetValue(branch),
                BudgetBytes = budgetBytes,
                Concurrency = parse.GetValue(concurrency),
                ZstdLevel = parse.GetValue(level),
                Shuffle = parse.GetValue(shuffle),
                Incremental = parse.GetValue(incremental),
                CheckpointEvery = TimeSpan.FromSeconds(parse.GetValue(checkpoint)),
            };
            if (!options.Incremental && (options.Source is null || options.Chunks is null))
            {
                throw new ArgumentException("give the array to copy (--array) and its new chunk shape (--chunks), or --incremental to update a copy");
            }

            // The repository's caches count against the budget: keep them a small part of it.
            var store = CliStorage.OpenStore(parse.GetValue(Commands.RepoOption)!);
            var repository = await Repository.OpenAsync(store, CliStorage.Options(new RepositoryOptions
            {
                ShardCacheBytes = Math.Clamp(budgetBytes / 8, 4L << 20, 256L << 20),
                SnapshotCacheBytes = Math.Clamp(budgetBytes / 32, 2L << 20, 64L << 20),
            }), ct);
            await RunAsync(repository, options, parse.GetValue(json), ct);
        }));
        return command;
    }

    private static async Task RunAsync(Repository repository, RechunkOptions options, bool json, CancellationToken cancellationToken)
    {
        var rechunker = new Rechunker(repository, options);
        RechunkSummary summary;
        if (json)
        {
            TimeSpan? lastJson = null;
            summary = await rechunker.RunAsync(new InlineProgress<RechunkProgress>(p =>
            {
                if (lastJson is null || p.Elapsed - lastJson >= TimeSpan.FromSeconds(1) || p.Phase == "done")
                {
                    lastJson = p.Elapsed;
                    Console.WriteLine(JsonSerializer.Serialize(ProgressJson(p)));
                }
            }), cancellationToken);
            var done = ProgressJson(summary.Progress);
            done["event"] = "done";
            done["job"] = summary.Job;
            done["source"] = summary.Source;
            done["target"] = summary.Target;
            done["branch"] = summary.Branch;
            done["source_snapshot"] = summary.SourceSnapshot;
            done["snapshot"] = summary.Snapshot;
            done["chunks"] = summary.Chunks;
            done["unit_shape"] = summary.UnitShape;
            done["codecs"] = summary.Codecs;
            done["already_done"] = summary.AlreadyDone;
            done["up_to_date"] = summary.UpToDate;
            Console.WriteLine(JsonSerializer.Serialize(done));
            return;
        }

        Console.WriteLine(options.Incremental
            ? $"bringing {options.Target} up to date in {repository.Store.Description}"
            : $"rechunking {options.Source} -> {options.Target} [{options.Chunks}] in {repository.Store.Description}, budget {options.BudgetBytes / (1024.0 * 1024):N0} MiB");
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            RechunkSummary? result = null;
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask("planning", maxValue: 1);
                    result = await rechunker.RunAsync(new InlineProgress<RechunkProgress>(p =>
                    {
                        task.MaxValue = Math.Max(1, p.UnitsTotal);
                        task.Value = p.UnitsDone;
                        task.Description = Line(p);
                    }), cancellationToken);
                    task.Value = task.MaxValue;
                });
            summary = result!;
        }
        else
        {
            var lastLine = TimeSpan.Zero;
            summary = await rechunker.RunAsync(new InlineProgress<RechunkProgress>(p =>
            {
                if (p.Elapsed - lastLine >= TimeSpan.FromSeconds(5))
                {
                    lastLine = p.Elapsed;
                    Console.WriteLine(Line(p));
                }
            }), cancellationToken);
        }

        var s = summary.Progress;
        if (summary.AlreadyDone)
        {
            Console.WriteLine($"{summary.Target} on branch {summary.Branch} was already made by this job ({summary.Job}); nothing to do");
            return;
        }

        if (summary.UpToDate)
        {
            Console.WriteLine($"{summary.Target} on branch {summary.Branch} is up to date with {summary.Source}; nothing to do");
            return;
        }

        Console.WriteLine(Line(s));
        if (s.UnitsResumed > 0)
        {
            Console.WriteLine($"resumed job {summary.Job} after {s.UnitsResumed:N0} unit(s) written by an earlier run");
        }

        Console.WriteLine($"{summary.Target}: chunks [{string.Join(", ", summary.Chunks)}], codecs {summary.Codecs}; " +
            $"{Mib(s.SourceBytes)} MiB decoded -> {Mib(s.StoredBytes)} MiB stored in {s.ChunksWritten:N0} chunks ({s.ChunksEmpty:N0} only fill values, not stored)");
        Console.WriteLine($"commit {summary.Snapshot} on branch {summary.Branch}");
    }

    /// <summary>A byte count with an optional unit: 1073741824, 512MiB, 4GiB, 500MB, 2G.</summary>
    internal static long ParseBytes(string text, string option)
    {
        var trimmed = text.Trim();
        var split = trimmed.Length;
        while (split > 0 && char.IsLetter(trimmed[split - 1]))
        {
            split--;
        }

        var multiplier = trimmed[split..].ToUpperInvariant() switch
        {
            "" or "B" => 1L,
            "K" or "KIB" => 1L << 10,
            "KB" => 1_000L,
            "M" or "MIB" => 1L << 20,
            "MB" => 1_000_000L,
            "G" or "GIB" => 1L << 30,
            "GB" => 1_000_000_000L,
            "T" or "TIB" => 1L << 40,
            "TB" => 1_000_000_000_000L,
            _ => 0L,
        };
        return multiplier > 0 && double.TryParse(trimmed[..split], NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number > 0
            ? (long)(number * multiplier)
            : throw new ArgumentException($"{option} {text}: not a size (a number with an optional unit such as 512MiB or 4GiB)");
    }

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("N1", CultureInfo.InvariantCulture);

    private static string Line(RechunkProgress p) =>
        $"{p.Phase}: {p.UnitsDone:N0}/{p.UnitsTotal:N0} units, {Mib(p.SourceBytes)} MiB decoded " +
        $"({(p.Elapsed.TotalSeconds > 0 ? p.SourceBytes / (1024.0 * 1024) / p.Elapsed.TotalSeconds : 0):N0} MiB/s), {p.ChunksWritten:N0} chunks written, {p.Checkpoints} checkpoint(s)";

    private static Dictionary<string, object?> ProgressJson(RechunkProgress p) => new()
    {
        ["event"] = "progress",
        ["phase"] = p.Phase,
        ["units_done"] = p.UnitsDone,
        ["units_total"] = p.UnitsTotal,
        ["units_resumed"] = p.UnitsResumed,
        ["source_chunks"] = p.SourceChunksRead,
        ["decoded_bytes"] = p.SourceBytes,
        ["chunks_written"] = p.ChunksWritten,
        ["chunks_empty"] = p.ChunksEmpty,
        ["stored_bytes"] = p.StoredBytes,
        ["checkpoints"] = p.Checkpoints,
        ["elapsed_s"] = Math.Round(p.Elapsed.TotalSeconds, 3),
    };
}
