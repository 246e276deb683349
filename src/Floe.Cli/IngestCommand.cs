using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Floe.Ingest;
using Floe.Ingest.Sources;
using Floe.Storage;
using Floe.Store;
using Spectre.Console;

namespace Floe.Cli;

/// <summary>`floe ingest` and `floe append`: build or extend arrays from many source files.</summary>
internal static class IngestCommand
{
    public static Command Create(IngestMode mode)
    {
        var files = new Argument<string[]>("files") { Description = "Source files (paths or URLs); or use --list-file, --glob or --template", Arity = ArgumentArity.ZeroOrMore };
        var listFile = new Option<string?>("--list-file") { Description = "A file of source locations, one per line ('#' starts a comment)" };
        var glob = new Option<string?>("--glob") { Description = "Local files matching a pattern ('*', '?', '**', [abc]), in path order" };
        var template = new Option<string?>("--template")
        {
            Description = "A location pattern over time: {start:yyyy}, {start:MM}, {end:HHmmss}, {doy}, {minute:0000}; or the presets imerg:ROOT, era5:ROOT",
        };
        var start = new Option<string?>("--start") { Description = "With --template: the first time (UTC), e.g. 1998-01-01 or 2020-01-01T00:30" };
        var end = new Option<string?>("--end") { Description = "With --template: the end time (UTC, exclusive)" };
        var every = new Option<string?>("--every") { Description = "With --template: the time between files, e.g. 30m, 1h, 1d (presets bring their own)" };
        var standIn = new Option<string?>("--stand-in") { Description = "Read each file from these physical files in turn (a glob or directory), recording the logical locations: for tests and benchmarks at archive scale" };
        var group = new Option<string?>("--group") { Description = "Ingest only the arrays of this group of each file, e.g. /Grid" };
        var variables = new Option<string?>("--variables") { Description = "Comma-separated variables to ingest (their coordinates come along); default: all" };
        var dimension = new Option<string>("--dimension") { Description = "The dimension to concatenate files along", DefaultValueFactory = _ => "time" };
        var step = new Option<string?>("--step") { Description = "Spacing of that dimension (e.g. 30m, 1h); default: from the template or the files" };
        var commitEvery = new Option<string?>("--commit-every") { Description = "Commit every N files, or per year, month or day (default: per year for templates, else 1000 files)" };
        var concurrency = new Option<int>("--concurrency") { Description = "Files read at once", DefaultValueFactory = _ => Math.Max(4, Environment.ProcessorCount * 4) };
        var skip = new Option<bool>("--skip-mismatched") { Description = "Skip and report files that do not match the arrays or cannot be read, instead of stopping" };
        var branch = new Option<string>("--branch", "-b") { Description = "Branch to commit to", DefaultValueFactory = _ => Repository.MainBranch };
        var json = new Option<bool>("--json") { Description = "Print progress and the result as JSON lines" };
        var shard = new Option<string?>("--shard")
        {
            Description = "Write only part I (from 0) of N of the files, as changesets to merge later: I/N, or env for JOB_COMPLETION_INDEX/JOB_COMPLETIONS (a Kubernetes Indexed Job)",
        };
        var merge = new Option<bool>("--merge") { Description = "Commit all N parts written with --shard in one commit (give the same source options, or --job)" };
        var job = new Option<string?>("--job") { Description = "Name of the sharded job's changesets (default: derived from the source and options)" };
        var name = mode == IngestMode.Create ? "ingest" : "append";
        var description = mode == IngestMode.Create
            ? "Create arrays from many source files, committing as it goes; rerun the same command to resume after a crash"
            : "Extend ingested arrays along their append dimension with more source files";
        var command = new Command(name, description)
        {
            Commands.RepoOption, files, listFile, glob, template, start, end, every, standIn, group, variables, dimension, step, commitEvery, concurrency, skip, branch, json,
            shard, merge, job,
        };
        command.SetAction((parse, ct) => Commands.Run(async () =>
        {
            var merging = parse.GetValue(merge);
            if (merging && parse.GetValue(shard) is not null)
            {
                throw new ArgumentException("--merge and --shard go in separate runs: first every --shard I/N, then one --merge");
            }

            var hasSource = (parse.GetValue(files) ?? []).Length > 0 || parse.GetValue(listFile) is not null || parse.GetValue(glob) is not null || parse.GetValue(template) is not null;
            var sources = merging && !hasSource && parse.GetValue(job) is not null
                ? null
                : SourceSets.Create(
                    parse.GetValue(files), parse.GetValue(listFile), parse.GetValue(glob), parse.GetValue(template),
                    ParseTime(parse.GetValue(start), "--start"), ParseTime(parse.GetValue(end), "--end"),
                    parse.GetValue(every) is { } e ? Durations.Parse(e) : null, parse.GetValue(standIn));
            var options = new IngestOptions
            {
                Mode = mode,
                Branch = parse.GetValue(branch)!,
                Dimension = parse.GetValue(dimension)!,
                Group = parse.GetValue(group),
                Variables = parse.GetValue(variables)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Step = parse.GetValue(step) is { } s ? Durations.Parse(s) : null,
                CommitEvery = parse.GetValue(commitEvery) is { } c ? CommitPolicy.Parse(c) : CommitPolicy.Default,
                Concurrency = parse.GetValue(concurrency) is var n and >= 1 ? n : throw new ArgumentException("--concurrency must be at least 1"),
                SkipMismatched = parse.GetValue(skip),
                Shard = parse.GetValue(shard) is { } part ? IngestShard.Parse(part) : null,
                Job = parse.GetValue(job),
            };
            var store = CliStorage.OpenStore(parse.GetValue(Commands.RepoOption)!);
            var repository = mode == IngestMode.Create && !merging
                ? await Repository.OpenOrCreateAsync(store, CliStorage.Options(), ct)
                : await Repository.OpenAsync(store, CliStorage.Options(), ct);
            if (merging)
            {
                await MergeAsync(repository, options, options.Job ?? Ingestor.JobName(sources!, options), parse.GetValue(json), ct);
            }
            else
            {
                await RunAsync(repository, sources!, options, parse.GetValue(json), ct);
            }
        }));
        return command;
    }

    private static async Task MergeAsync(Repository repository, IngestOptions options, string job, bool json, CancellationToken cancellationToken)
    {
        var merged = await new Ingestor(repository, options).MergeAsync(job, cancellationToken);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["event"] = "merged",
                ["job"] = merged.Job,
                ["already_merged"] = merged.AlreadyMerged,
                ["parts"] = merged.Parts,
                ["files"] = merged.Files,
                ["refs"] = merged.Refs,
                ["snapshot"] = merged.Snapshot,
                ["elapsed_s"] = Math.Round(merged.Elapsed.TotalSeconds, 3),
            }));
            return;
        }

        Console.WriteLine(merged.AlreadyMerged
            ? $"job {job} was already merged: branch {options.Branch} is at {merged.Snapshot}"
            : $"merged job {job}: {merged.Parts} parts, {merged.Files:N0} files, {merged.Refs:N0} refs in one commit {merged.Snapshot} on branch {options.Branch} ({merged.Elapsed.TotalSeconds:0.0} s)");
    }

    private static async Task RunAsync(Repository repository, SourceSet sources, IngestOptions options, bool json, CancellationToken cancellationToken)
    {
        var ingestor = new Ingestor(repository, options);
        IngestSummary summary;
        if (json)
        {
            summary = await ingestor.RunAsync(sources, new InlineProgress<IngestProgress>(p => Console.WriteLine(ProgressJson(p))), cancellationToken);
            var done = SummaryJson(summary);
            if (options.Shard is { } part)
            {
                done["shard"] = part.ToString();
                done["job"] = Ingestor.JobName(sources, options);
            }

            Console.WriteLine(JsonSerializer.Serialize(done));
            return;
        }

        Console.WriteLine($"{(options.Mode == IngestMode.Create ? "ingesting" : "appending")} {sources.Description}");
        Console.WriteLine(options.Shard is { } shard
            ? $"part {shard} into {repository.Store.Description}, written as changesets of job {Ingestor.JobName(sources, options)} every {options.CommitEvery} batch"
            : $"into {repository.Store.Description}, branch {options.Branch}; commits {options.CommitEvery}");
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            IngestSummary? result = null;
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask("files", maxValue: Math.Max(1, sources.Count ?? 1));
                    task.IsIndeterminate = sources.Count is null;
                    result = await ingestor.RunAsync(sources, new InlineProgress<IngestProgress>(p =>
                    {
                        task.Value = p.FilesDone;
                        task.Description = $"{p.FilesDone:N0} files, {Rate(p)} files/s, {p.Refs:N0} refs, {p.Commits} commits";
                    }), cancellationToken);
                    task.Value = task.MaxValue;
                });
            summary = result!;
        }
        else
        {
            var lastLine = TimeSpan.Zero;
            summary = await ingestor.RunAsync(sources, new InlineProgress<IngestProgress>(p =>
            {
                if (p.Elapsed - lastLine >= TimeSpan.FromSeconds(5))
                {
                    lastLine = p.Elapsed;
                    Console.WriteLine(ProgressLine(p));
                }
            }), cancellationToken);
        }

        PrintSummary(summary);
        if (options.Shard is { } written)
        {
            Console.WriteLine($"part {written} is written; once all {written.Count} parts are, commit them with: floe {(options.Mode == IngestMode.Create ? "ingest" : "append")} --merge --job {Ingestor.JobName(sources, options)} and the same --repo");
        }
    }

    private static void PrintSummary(IngestSummary summary)
    {
        var p = summary.Progress;
        Console.WriteLine(ProgressLine(p));
        if (summary.ResumedFrom > 0)
        {
            Console.WriteLine(p.FilesDone == 0 && p.Commits == 0
                ? $"nothing to do: earlier runs handled the files up to file {summary.ResumedFrom - 1}"
                : $"resumed after file {summary.ResumedFrom - 1} (handled by an earlier run)");
        }

        if (p.AlreadyPresent > 0)
        {
            Console.WriteLine($"{p.AlreadyPresent:N0} file(s) were already ingested and were left as they are");
        }

        foreach (var problem in summary.Problems)
        {
            Console.WriteLine($"  {(problem.Reason == "missing" ? "missing" : "skipped")}: {problem.Location}{(problem.Reason == "missing" ? "" : $": {problem.Reason}")}");
        }

        foreach (var gap in summary.Gaps)
        {
            Console.WriteLine($"  gap: {gap.Count} position(s) from {gap.FirstPosition}{(gap.From is { } from ? $" ({from.UtcDateTime:yyyy-MM-dd HH:mm} to {gap.To!.Value.UtcDateTime:yyyy-MM-dd HH:mm})" : "")} read as the fill value");
        }

        if (summary.Schema is { } schema)
        {
            Console.WriteLine($"{schema.CoordinatePath} now holds {summary.Extent:N0} positions" +
                (schema.TimeAt(0) is { } first && summary.Extent > 0 ? $", {first.UtcDateTime:yyyy-MM-dd HH:mm} to {schema.TimeAt(summary.Extent - 1)!.Value.UtcDateTime:yyyy-MM-dd HH:mm}" : ""));
        }

        if (p.LastCommit is not null)
        {
            Console.WriteLine($"last commit {p.LastCommit}");
        }
    }

    private static string ProgressLine(IngestProgress p) =>
        $"{p.FilesDone:N0}{(p.FilesTotal is { } total ? $"/{total:N0}" : "")} files, {Rate(p)} files/s, {p.Refs:N0} refs, {p.Commits} commit(s), " +
        $"{p.Skipped} skipped, {p.Missing} missing{Eta(p)}";

    private static string Rate(IngestProgress p) =>
        p.Elapsed.TotalSeconds > 0 ? (p.FilesDone / p.Elapsed.TotalSeconds).ToString("0", CultureInfo.InvariantCulture) : "0";

    private static string Eta(IngestProgress p)
    {
        if (p.FilesTotal is not { } total || p.FilesDone == 0 || p.FilesDone >= total)
        {
            return "";
        }

        var remaining = TimeSpan.FromSeconds(p.Elapsed.TotalSeconds / p.FilesDone * (total - p.FilesDone));
        return $", about {remaining:hh\\:mm\\:ss} left";
    }

    private static string ProgressJson(IngestProgress p) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["event"] = "progress",
        ["files_done"] = p.FilesDone,
        ["files_total"] = p.FilesTotal,
        ["refs"] = p.Refs,
        ["skipped"] = p.Skipped,
        ["missing"] = p.Missing,
        ["already_present"] = p.AlreadyPresent,
        ["commits"] = p.Commits,
        ["elapsed_s"] = Math.Round(p.Elapsed.TotalSeconds, 3),
        ["files_per_s"] = p.Elapsed.TotalSeconds > 0 ? Math.Round(p.FilesDone / p.Elapsed.TotalSeconds, 1) : 0,
    });

    private static Dictionary<string, object?> SummaryJson(IngestSummary summary) => new()
    {
        ["event"] = "done",
        ["files_done"] = summary.Progress.FilesDone,
        ["refs"] = summary.Progress.Refs,
        ["commits"] = summary.Progress.Commits,
        ["skipped"] = summary.Problems.Where(p => p.Reason != "missing").Select(p => new { location = p.Location, reason = p.Reason }),
        ["missing"] = summary.Problems.Where(p => p.Reason == "missing").Select(p => p.Location),
        ["already_present"] = summary.Progress.AlreadyPresent,
        ["gaps"] = summary.Gaps.Select(g => new { first_position = g.FirstPosition, count = g.Count, from = g.From, to = g.To }),
        ["extent"] = summary.Extent,
        ["resumed_from"] = summary.ResumedFrom,
        ["elapsed_s"] = Math.Round(summary.Progress.Elapsed.TotalSeconds, 3),
        ["last_commit"] = summary.Progress.LastCommit,
    };

    internal static DateTimeOffset? ParseTime(string? text, string option)
    {
        if (text is null)
        {
            return null;
        }

        string[] formats = ["yyyy-MM-dd", "yyyy-MM-ddTHH:mm", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-ddTHH:mmK", "yyyy-MM-ddTHH:mm:ssK"];
        return DateTimeOffset.TryParseExact(text, formats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new ArgumentException($"{option} \"{text}\" is not a date such as 2020-01-01 or 2020-01-01T00:30");
    }
}
