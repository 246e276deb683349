using System.CommandLine;
using System.Globalization;
using Floe.Benchmarks.Ingest;
using Floe.Benchmarks.Store;
using Floe.Storage;
using Floe.Store;
using Floe.Store.Format;

namespace Floe.Cli;

/// <summary>The `floe` subcommands. Each opens the repository it needs and reports errors as one clear line.</summary>
internal static class Commands
{
    internal static readonly Option<string> RepoOption = new("--repo", "-r")
    {
        Description = "The repository: a directory (the embedded filesystem store) or an Azure Blob container az://CONTAINER/PREFIX (account from $AZURE_STORAGE_CONNECTION_STRING)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("FLOE_REPO") ?? ".floe/repo",
    };

    public static IEnumerable<Command> All()
    {
        yield return Demo();
        yield return Init();
        yield return Log();
        yield return List();
        yield return Branch();
        yield return Tag();
        yield return Diff();
        yield return InspectCommand.Create();
        yield return IngestCommand.Create(Floe.Ingest.IngestMode.Create);
        yield return IngestCommand.Create(Floe.Ingest.IngestMode.Append);
        yield return RechunkCommand.Create();
        yield return ExportCommand.Create();
        yield return ExportCommand.Query();
        yield return StacCommand.Create();
        yield return ServeCommand.Create();
        yield return ServeCommand.Token();
        yield return RemoteCommand.Create();
        yield return DevCommand.Create();
        yield return Bench();
    }

    private static Command Demo()
    {
        var dir = new Option<string?>("--dir") { Description = "Where to create the demo repository (default: a new temporary directory)" };
        var command = new Command("demo", "Create a repository on the local filesystem store, write an array, commit, append, read back and print the log") { dir };
        command.SetAction((parse, ct) => Run(() => DemoCommand.RunAsync(parse.GetValue(dir), Console.Out, ct)));
        return command;
    }

    private static Command Init()
    {
        var refsPerShard = new Option<int>("--refs-per-shard") { Description = "Target chunk references per manifest shard", DefaultValueFactory = _ => RepositoryConfig.DefaultRefsPerShard };
        var command = new Command("init", "Create an empty repository") { RepoOption, refsPerShard };
        command.SetAction((parse, ct) => Run(async () =>
        {
            var repo = parse.GetValue(RepoOption)!;
            var repository = await Repository.CreateAsync(CliStorage.OpenStore(repo), new RepositoryOptions { RefsPerShard = parse.GetValue(refsPerShard) }, ct);
            Console.WriteLine($"created repository in {repository.Store.Description}");
        }));
        return command;
    }

    private static Command Log()
    {
        var reference = new Argument<string>("ref") { Description = "Branch, tag or snapshot id", DefaultValueFactory = _ => Repository.MainBranch };
        var command = new Command("log", "Show the history of a branch, tag or snapshot, newest first") { RepoOption, reference };
        command.SetAction((parse, ct) => Run(async () =>
        {
            var repository = await OpenAsync(parse, ct);
            await foreach (var snapshot in repository.LogAsync(parse.GetValue(reference)!, ct))
            {
                PrintSnapshot(Console.Out, snapshot);
            }
        }));
        return command;
    }

    private static Command List()
    {
        var path = new Argument<string>("path") { Description = "Group to list", DefaultValueFactory = _ => NodePath.Root };
        var reference = new Option<string>("--ref") { Description = "Branch, tag or snapshot id", DefaultValueFactory = _ => Repository.MainBranch };
        var recursive = new Option<bool>("--recursive", "-R") { Description = "List everything below the group" };
        var command = new Command("ls", "List the groups and arrays of a snapshot (reads no manifest)") { RepoOption, path, reference, recursive };
        command.SetAction((parse, ct) => Run(async () =>
        {
            var repository = await OpenAsync(parse, ct);
            var reader = await repository.ReadOnlyAsync(parse.GetValue(reference)!, ct);
            var group = parse.GetValue(path)!;
            var nodes = parse.GetValue(recursive) ? reader.Walk(NodePath.Normalize(group)) : reader.ListChildren(group);
            foreach (var node in nodes)
            {
                Console.WriteLine(DescribeNode(node));
            }
        }));
        return command;
    }

    private static Command Branch()
    {
        var command = new Command("branch", "List, create or delete branches");
        var list = new Command("list", "List branches") { RepoOption };
        list.SetAction((parse, ct) => Run(async () =>
        {
            var repository = await OpenAsync(parse, ct);
            foreach (var name in await repository.ListBranchesAsync(ct))
            {
                Console.WriteLine($"{name}  {(await repository.ReadBranchAsync(name, ct)).Snapshot}");
            }
        }));
        var name = new Argument<string>("name");
        var from = new Option<string>("--from") { Description = "Branch, tag or snapshot to start from", DefaultValueFactory = _ => Repository.MainBranch };
        var create = new Command("create", "Create a branch") { RepoOption, name, from };
        create.SetAction((parse, ct) => Run(async () =>
        {
            var repository = await OpenAsync(parse, ct);
            var snapshot = await repository.ResolveAsync(parse.GetValue(from)!, ct);
            await repository.CreateBranchAsync(parse.GetValue(name)!, snapshot, ct);
            Console.WriteLine($"branch {parse.GetValue(name)} at {snapshot}");
        }));
        var deleteName = new Argument<string>("name");
        var delete = new Command("delete", "Delete a branch") { RepoOption, deleteName };
        delete.SetAction((parse, ct) => Run(async () =>
        {
            var repository = await OpenAsync(parse, ct);
            await repository.DeleteBranchAsync(parse.GetValue(deleteName)!, ct);
            Console.WriteLine($"deleted branch {parse.GetValue(deleteName)}");
        }));
        command.Subcommands.Add(list);
        command.Subcommands.Add(create);
        command.Subcommands.Add(delete);
        return command;
    }

    private static Command Tag()
    {
        var command = new Command("tag", "List or create immutable tags");
        var list = new Command("list", "List tags") { RepoOption };
        list.SetAction((parse, ct) => Run(async () =>
        {
            var repository = await OpenAsync(parse, ct);
            foreach (var name in await repository.ListTagsAsync(ct))
            {
                Console.WriteLine($"{name}  {await repository.ResolveTagAsync(name, ct)}");
            }
        }));
        var name = new Argument<string>("name");
        var from = new Option<string>("--from") { Description = "Branch, tag or snapshot to tag", DefaultValueFactory = _ => Repository.MainBranch };
        var create = new Command("create", "Create a tag") { RepoOption, name, from };
        create.SetAction((parse, ct) => Run(async () =>
        {
            var repository = await OpenAsync(parse, ct);
            var snapshot = await repository.ResolveAsync(parse.GetValue(from)!, ct);
            await repository.CreateTagAsync(parse.GetValue(name)!, snapshot, ct);
            Console.WriteLine($"tag {parse.GetValue(name)} at {snapshot}");
        }));
        command.Subcommands.Add(list);
        command.Subcommands.Add(create);
        return command;
    }

    private static Command Diff()
    {
        var from = new Argument<string>("from") { Description = "Branch, tag or snapshot id" };
        var to = new Argument<string>("to") { Description = "Branch, tag or snapshot id" };
        var command = new Command("diff", "Show what changed between two snapshots") { RepoOption, from, to };
        command.SetAction((parse, ct) => Run(async () =>
        {
            var repository = await OpenAsync(parse, ct);
            var diff = await repository.DiffAsync(await repository.ResolveAsync(parse.GetValue(from)!, ct), await repository.ResolveAsync(parse.GetValue(to)!, ct), ct);
            PrintDiff(Console.Out, diff);
        }));
        return command;
    }

    private static Command Bench()
    {
        var command = new Command("bench", "Run a benchmark against its named peer; ends with one JSON line of figures");
        var scale = new Option<string>("--scale") { Description = "small (a minute) or full (the whole IMERG record)", DefaultValueFactory = _ => "small" };
        scale.AcceptOnlyFromAmong("small", "full");
        var dir = new Option<string?>("--dir") { Description = "Working directory (default: a new temporary directory, removed afterwards)" };
        var store = new Command("store", "Manifest size, open/list, cold lookup and commit scaling of the versioned store") { scale, dir };
        store.SetAction((parse, ct) => Run(async () =>
        {
            var work = parse.GetValue(dir);
            var temporary = work is null;
            work ??= Path.Combine(Path.GetTempPath(), "floe-bench-store-" + Guid.NewGuid().ToString("N")[..8]);
            try
            {
                await new StoreBenchmark(Console.Out, work, parse.GetValue(scale) == "full").RunAsync(ct);
            }
            finally
            {
                if (temporary && Directory.Exists(work))
                {
                    Directory.Delete(work, recursive: true);
                }
            }
        }));
        command.Subcommands.Add(store);

        var writers = new Option<int>("--writers") { Description = "Concurrent writers, each with its own repository instance", DefaultValueFactory = _ => 4 };
        var commitsEach = new Option<int>("--commits") { Description = "Commits per writer", DefaultValueFactory = _ => 40 };
        var commitRounds = new Option<int>("--rounds") { Description = "Rounds per store (the median is reported)", DefaultValueFactory = _ => 3 };
        var azuriteDir = new Option<string?>("--node-dir") { Description = "A folder whose node_modules holds azurite (default: tests/node above the working directory)" };
        var commits = new Command("commits", "Concurrent writers committing to one branch on an Azure Blob container (Azurite) against the embedded filesystem store: commits/s, latency, retries")
        {
            writers, commitsEach, commitRounds, azuriteDir, dir,
        };
        commits.SetAction((parse, ct) => Run(async () =>
        {
            var (w, c, r) = (parse.GetValue(writers), parse.GetValue(commitsEach), parse.GetValue(commitRounds));
            if (w < 1 || c < 1 || r < 1)
            {
                throw new ArgumentException("--writers, --commits and --rounds must be at least 1");
            }

            var work = parse.GetValue(dir);
            var temporary = work is null;
            work ??= Path.Combine(Path.GetTempPath(), "floe-bench-commits-" + Guid.NewGuid().ToString("N")[..8]);
            try
            {
                await new Floe.Benchmarks.Store.CommitBenchmark(Console.Out, work, w, c, r, parse.GetValue(azuriteDir)).RunAsync(ct);
            }
            finally
            {
                if (temporary && Directory.Exists(work))
                {
                    Directory.Delete(work, recursive: true);
                }
            }
        }));
        command.Subcommands.Add(commits);

        var files = new Option<int>("--files") { Description = "IMERG-layout files to write and read", DefaultValueFactory = _ => 8 };
        var rounds = new Option<int>("--rounds") { Description = "Times each file is read (medians are quoted)", DefaultValueFactory = _ => 25 };
        var hdf5 = new Command("hdf5", "Reading IMERG-layout NetCDF4 files into virtual references, locally and over HTTP, against h5py (kerchunk's method)") { files, rounds, dir };
        hdf5.SetAction((parse, ct) => Run(async () =>
        {
            var work = parse.GetValue(dir);
            var temporary = work is null;
            work ??= Path.Combine(Path.GetTempPath(), "floe-bench-hdf5-" + Guid.NewGuid().ToString("N")[..8]);
            try
            {
                await new Floe.Benchmarks.Formats.Hdf5Benchmark(Console.Out, work, parse.GetValue(files), parse.GetValue(rounds)).RunAsync(ct);
            }
            finally
            {
                if (temporary && Directory.Exists(work))
                {
                    Directory.Delete(work, recursive: true);
                }
            }
        }));
        command.Subcommands.Add(hdf5);

        var days = new Option<int?>("--days") { Description = "Only the first N days, one commit per day (a quick check; overrides --scale)" };
        var shardCache = new Option<long?>("--shard-cache-mb") { Description = "The record repository's manifest shard cache in MB (default: the repository default, as floe ingest uses)" };
        var ingest = new Command("ingest", "Building the IMERG record through floe ingest (stand-in files, one commit per year): time, memory, manifest bytes, against an h5py kerchunk-style build")
        {
            scale, dir, days, shardCache,
        };
        ingest.SetAction((parse, ct) => Run(async () =>
        {
            var work = parse.GetValue(dir);
            var temporary = work is null;
            work ??= Path.Combine(Path.GetTempPath(), "floe-bench-ingest-" + Guid.NewGuid().ToString("N")[..8]);
            var chosen = parse.GetValue(days) is { } n
                ? n >= 1 ? IngestScale.Days(n) : throw new ArgumentException("--days must be at least 1")
                : parse.GetValue(scale) == "full" ? IngestScale.Full : IngestScale.Small;
            try
            {
                var cacheBytes = parse.GetValue(shardCache) is { } mb ? mb >= 0 ? mb << 20 : throw new ArgumentException("--shard-cache-mb must not be negative") : (long?)null;
                await new IngestBenchmark(Console.Out, work, chosen, cacheBytes).RunAsync(ct);
            }
            finally
            {
                if (temporary && Directory.Exists(work))
                {
                    Directory.Delete(work, recursive: true);
                }
            }
        }));
        command.Subcommands.Add(ingest);

        var chunks = new Option<int>("--chunks") { Description = "Chunks per array, about 1 MB each (rounded up to whole time steps of 25)", DefaultValueFactory = _ => 400 };
        var seconds = new Option<double>("--seconds") { Description = "Length of each measured cell in seconds", DefaultValueFactory = _ => 3 };
        var serveRounds = new Option<int>("--rounds") { Description = "Times every cell is measured (medians are quoted)", DefaultValueFactory = _ => 3 };
        var serve = new Command("serve", "A Floe server in this process read over loopback gRPC by 1, 16 and 64 clients (cached native and virtual chunks, streamed chunks, decoded regions), against reading the same bytes straight from the files")
        {
            chunks, seconds, serveRounds, dir,
        };
        serve.SetAction((parse, ct) => Run(async () =>
        {
            var (n, s, r) = (parse.GetValue(chunks), parse.GetValue(seconds), parse.GetValue(serveRounds));
            if (n < 1 || s <= 0 || r < 1)
            {
                throw new ArgumentException("--chunks and --rounds must be at least 1 and --seconds above 0");
            }

            var work = parse.GetValue(dir);
            var temporary = work is null;
            work ??= Path.Combine(Path.GetTempPath(), "floe-bench-serve-" + Guid.NewGuid().ToString("N")[..8]);
            try
            {
                await new Floe.Benchmarks.Serve.ServeBenchmark(Console.Out, work, n, s, r).RunAsync(ct);
            }
            finally
            {
                if (temporary && Directory.Exists(work))
                {
                    Directory.Delete(work, recursive: true);
                }
            }
        }));
        command.Subcommands.Add(serve);

        var readFiles = new Option<int>("--files") { Description = "Half-hourly IMERG-layout files (time steps); 17,520 is one year", DefaultValueFactory = _ => 17_520 };
        var readRounds = new Option<int>("--rounds") { Description = "Times each pattern is read by each reader (medians are quoted)", DefaultValueFactory = _ => 3 };
        var fixtures = new Option<string?>("--fixtures") { Description = "Where the source files are written and kept between runs (default: floe-bench/read-imerg in the temporary directory)" };
        var readBudget = new Option<string>("--budget") { Description = "The rechunk's memory budget", DefaultValueFactory = _ => "1GiB" };
        var readChunks = new Option<string>("--chunks") { Description = "The native copy's chunk shape", DefaultValueFactory = _ => "time=4380,lon=6,lat=6" };
        var read = new Command("read", "Rechunk a year of IMERG-layout files and read a point over a month and a year, a map and a box over a week from the virtual and native arrays, against netCDF4-python on the files and xarray + zarr on a Zarr v2 copy")
        {
            readFiles, readRounds, fixtures, readBudget, readChunks, dir,
        };
        read.SetAction((parse, ct) => Run(async () =>
        {
            var (n, r) = (parse.GetValue(readFiles), parse.GetValue(readRounds));
            if (n < 2 || r < 1)
            {
                throw new ArgumentException("--files must be at least 2 and --rounds at least 1");
            }

            var work = parse.GetValue(dir);
            var temporary = work is null;
            work ??= Path.Combine(Path.GetTempPath(), "floe-bench-read-" + Guid.NewGuid().ToString("N")[..8]);
            var fixtureDirectory = parse.GetValue(fixtures) ?? Path.Combine(Path.GetTempPath(), "floe-bench", "read-imerg");
            try
            {
                await new Floe.Benchmarks.Read.ReadBenchmark(Console.Out, work, fixtureDirectory, n, r, RechunkCommand.ParseBytes(parse.GetValue(readBudget)!, "--budget"), parse.GetValue(readChunks)!).RunAsync(ct);
            }
            finally
            {
                if (temporary && Directory.Exists(work))
                {
                    Directory.Delete(work, recursive: true);
                }
            }
        }));
        command.Subcommands.Add(read);

        var exportDays = new Option<int>("--days") { Description = "ERA5-layout days to export (one file each); 31 is one month", DefaultValueFactory = _ => 31 };
        var exportRounds = new Option<int>("--rounds") { Description = "Times Floe exports them (the median is quoted)", DefaultValueFactory = _ => 1 };
        var queryRounds = new Option<int>("--query-rounds") { Description = "Times each reader runs the query (the first is dropped, the median quoted)", DefaultValueFactory = _ => 21 };
        var exportFixtures = new Option<string?>("--fixtures") { Description = "Where the source files are written and kept between runs (default: floe-bench/export-era5 in the temporary directory)" };
        var exportSmall = new Option<bool>("--small") { Description = "A 19 x 36 grid instead of 721 x 1440 (a quick check, not a measurement)" };
        var nodeDir = new Option<string?>("--node-dir") { Description = "A folder whose node_modules holds @duckdb/node-api (default: tests/node above the working directory)" };
        var export = new Command("export", "Export a month of ERA5-layout data to Parquet rows (time, h3, lat, lon, value) and query one day in one cell, against DuckDB writing and scanning the same rows")
        {
            exportDays, exportRounds, queryRounds, exportFixtures, exportSmall, nodeDir, dir,
        };
        export.SetAction((parse, ct) => Run(async () =>
        {
            var (d, r, q) = (parse.GetValue(exportDays), parse.GetValue(exportRounds), parse.GetValue(queryRounds));
            if (d < 1 || r < 1 || q < 1)
            {
                throw new ArgumentException("--days, --rounds and --query-rounds must be at least 1");
            }

            var small = parse.GetValue(exportSmall);
            var work = parse.GetValue(dir);
            var temporary = work is null;
            work ??= Path.Combine(Path.GetTempPath(), "floe-bench-export-" + Guid.NewGuid().ToString("N")[..8]);
            var fixtureDirectory = parse.GetValue(exportFixtures) ?? Path.Combine(Path.GetTempPath(), "floe-bench", small ? "export-era5-small" : "export-era5");
            try
            {
                await new Floe.Benchmarks.Export.ExportBenchmark(Console.Out, work, fixtureDirectory, d, r, q, small, parse.GetValue(nodeDir)).RunAsync(ct);
            }
            finally
            {
                if (temporary && Directory.Exists(work))
                {
                    Directory.Delete(work, recursive: true);
                }
            }
        }));
        command.Subcommands.Add(export);
        return command;
    }

    internal static void PrintSnapshot(TextWriter output, Snapshot snapshot)
    {
        output.WriteLine($"snapshot {snapshot.Id}" + (snapshot.ParentId is { } p ? $"  (parent {p})" : ""));
        output.WriteLine($"  date     {snapshot.Timestamp.ToString("u", CultureInfo.InvariantCulture)}");
        output.WriteLine($"  message  {snapshot.Message}");
        foreach (var (k, v) in snapshot.Metadata)
        {
            output.WriteLine($"  {k} = {v}");
        }
    }

    internal static void PrintDiff(TextWriter output, SnapshotDiff diff)
    {
        if (diff.IsEmpty)
        {
            output.WriteLine("no differences");
        }

        foreach (var p in diff.AddedNodes)
        {
            output.WriteLine($"+ {p}");
        }

        foreach (var p in diff.DeletedNodes)
        {
            output.WriteLine($"- {p}");
        }

        foreach (var p in diff.UpdatedNodes)
        {
            output.WriteLine($"~ {p} (metadata)");
        }

        foreach (var c in diff.Chunks)
        {
            output.WriteLine($"  {c.Path}: {c.Added.Count} chunk(s) added, {c.Removed.Count} removed, {c.Modified.Count} modified");
        }
    }

    internal static string DescribeNode(Node node)
    {
        if (node.Kind == NodeKind.Group)
        {
            return $"{node.Path}/";
        }

        var m = node.ArrayMetadata;
        return $"{node.Path}  {m.DataType} [{string.Join(", ", m.Shape)}] chunks [{string.Join(", ", m.ChunkShape)}] " +
               $"{string.Join("+", m.Codecs.Select(c => c.Name))}  {node.RefCount:N0} chunk refs in {node.Shards.Count} shard(s)";
    }

    private static async Task<Repository> OpenAsync(ParseResult parse, CancellationToken cancellationToken) =>
        await Repository.OpenAsync(CliStorage.OpenStore(parse.GetValue(RepoOption)!), CliStorage.Options(), cancellationToken);

    internal static async Task<int> Run(Func<Task> action)
    {
        try
        {
            await action();
            return 0;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("floe: cancelled");
            return 130;
        }
        catch (Exception e) when (e is FloeStoreException or ObjectStoreException or ArgumentException or FormatException or SourceReadException or IOException
            or Floe.Formats.Hdf5.Hdf5FormatException or Floe.Formats.NetCdf.NetCdfFormatException or Floe.Ingest.IngestException or Floe.Rechunk.RechunkException
            or Floe.Export.ExportException or Floe.Parquet.ParquetFormatException or Floe.Stac.StacRequestException or Floe.Stac.StacCatalogException
            or HttpRequestException)
        {
            await Console.Error.WriteLineAsync($"floe: error: {e.Message}");
            return 1;
        }
    }
}
