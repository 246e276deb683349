using System.CommandLine;
using Floe.Api.V1;
using Floe.Rpc;

namespace Floe.Cli;

/// <summary>`floe remote ...`: the same work as the local commands, against a Floe server through Floe.Client.</summary>
internal static class RemoteCommand
{
    private static readonly Option<string> ServerOption = new("--server")
    {
        Description = "The server's gRPC address (env FLOE_SERVER)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("FLOE_SERVER") ?? "http://127.0.0.1:7700",
    };

    private static readonly Option<string?> TokenOption = new("--token")
    {
        Description = "Bearer token (env FLOE_TOKEN; prefer the environment, command lines are visible to other users)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("FLOE_TOKEN"),
    };

    public static Command Create()
    {
        var command = new Command("remote", "Talk to a Floe server (floe serve) over gRPC") { ServerOption, TokenOption };
        command.Subcommands.Add(Repos());
        command.Subcommands.Add(CreateRepository());
        command.Subcommands.Add(Log());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Ingest());
        command.Subcommands.Add(Export());
        return command;
    }

    private static Command Repos()
    {
        var command = new Command("repos", "List the repositories you may read");
        command.SetAction((parse, ct) => Run(parse, async client =>
        {
            var response = await client.Repositories.ListRepositoriesAsync(new ListRepositoriesRequest(), new CallOptions(CancellationToken: ct));
            foreach (var repo in response.Repositories)
            {
                Console.WriteLine($"{repo.Name}\tcreated {DateTimeOffset.FromUnixTimeMilliseconds(repo.CreatedAtMs):u}");
            }
        }));
        return command;
    }

    private static Command CreateRepository()
    {
        var name = new Argument<string>("repository");
        var command = new Command("create", "Create a repository on the server") { name };
        command.SetAction((parse, ct) => Run(parse, async client =>
        {
            var info = await client.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = parse.GetValue(name)! }, new CallOptions(CancellationToken: ct));
            Console.WriteLine($"created repository {info.Name}");
        }));
        return command;
    }

    private static Command Log()
    {
        var name = new Argument<string>("repository");
        var reference = new Argument<string>("ref") { DefaultValueFactory = _ => "main" };
        var limit = new Option<int>("--limit", "-n") { Description = "At most this many snapshots (0: all)" };
        var command = new Command("log", "The history of a branch, tag or snapshot") { name, reference, limit };
        command.SetAction((parse, ct) => Run(parse, async client =>
        {
            using var call = client.Repositories.Log(new LogRequest { Repository = parse.GetValue(name)!, Reference = parse.GetValue(reference)!, Limit = parse.GetValue(limit) }, new CallOptions(CancellationToken: ct));
            await foreach (var snapshot in call.ResponseStream.ReadAllAsync(ct))
            {
                Console.WriteLine($"{snapshot.Id}  {DateTimeOffset.FromUnixTimeMilliseconds(snapshot.TimestampMs):u}  {snapshot.Message}");
            }
        }));
        return command;
    }

    private static Command List()
    {
        var name = new Argument<string>("repository");
        var path = new Argument<string>("path") { DefaultValueFactory = _ => "/" };
        var reference = new Option<string>("--ref") { DefaultValueFactory = _ => "main" };
        var recursive = new Option<bool>("--recursive", "-R");
        var command = new Command("ls", "List groups and arrays") { name, path, reference, recursive };
        command.SetAction((parse, ct) => Run(parse, async client =>
        {
            var response = await client.Repositories.ListNodesAsync(new ListNodesRequest
            {
                Repository = parse.GetValue(name)!,
                Path = parse.GetValue(path)!,
                Reference = parse.GetValue(reference)!,
                Recursive = parse.GetValue(recursive),
            }, new CallOptions(CancellationToken: ct));
            foreach (var node in response.Nodes)
            {
                Console.WriteLine(node.Kind == NodeKind.Array ? $"{node.Path}\tarray\t{node.ChunkRefs} chunk refs" : $"{node.Path}\tgroup");
            }
        }));
        return command;
    }

    private static Command Ingest()
    {
        var name = new Argument<string>("repository");
        var files = new Argument<string[]>("files") { Arity = ArgumentArity.ZeroOrMore, Description = "Source files, as the server sees them" };
        var glob = new Option<string?>("--glob");
        var template = new Option<string?>("--template");
        var start = new Option<string?>("--start");
        var end = new Option<string?>("--end");
        var every = new Option<string?>("--every");
        var append = new Option<bool>("--append") { Description = "Extend arrays an earlier ingest created" };
        var group = new Option<string?>("--group");
        var branch = new Option<string?>("--branch");
        var commitEvery = new Option<string?>("--commit-every");
        var command = new Command("ingest", "Run an ingestion job on the server and follow its progress") { name, files, glob, template, start, end, every, append, group, branch, commitEvery };
        command.SetAction((parse, ct) => Run(parse, async client =>
        {
            var request = new StartIngestionRequest
            {
                Repository = parse.GetValue(name)!,
                Mode = parse.GetValue(append) ? IngestionMode.Append : IngestionMode.Create,
                Glob = parse.GetValue(glob) ?? "",
                Template = parse.GetValue(template) ?? "",
                Start = parse.GetValue(start) ?? "",
                End = parse.GetValue(end) ?? "",
                Every = parse.GetValue(every) ?? "",
                Group = parse.GetValue(group) ?? "",
                Branch = parse.GetValue(branch) ?? "",
                CommitEvery = parse.GetValue(commitEvery) ?? "",
            };
            request.Files.AddRange(parse.GetValue(files) ?? []);
            var started = await client.Ingestion.StartIngestionAsync(request, new CallOptions(CancellationToken: ct));
            Console.WriteLine($"job {started.JobId}: {started.Source}");
            using var watch = client.Ingestion.WatchIngestion(new IngestionRequest { JobId = started.JobId }, new CallOptions(CancellationToken: ct));
            IngestionStatus? last = null;
            await foreach (var status in watch.ResponseStream.ReadAllAsync(ct))
            {
                last = status;
                var total = status.FilesTotal > 0 ? $"/{status.FilesTotal}" : "";
                Console.WriteLine($"{status.State.ToString().ToLowerInvariant()}: {status.FilesDone}{total} files, {status.Refs} refs, {status.Commits} commits");
            }

            if (last is { State: not IngestionState.Succeeded })
            {
                throw new RpcException(new Status(StatusCode.Aborted, $"job {last.JobId} {last.State.ToString().ToLowerInvariant()}: {last.Error}"));
            }
        }));
        return command;
    }

    private static Command Export()
    {
        var name = new Argument<string>("repository");
        var array = new Option<string>("--array", "-a") { Description = "Arrays to export, comma-separated, sharing one grid, e.g. /tp", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Directory relative to the repository's folder of the server's export root", Required = true };
        var reference = new Option<string?>("--ref") { Description = "Branch, tag or snapshot id to export (default main)" };
        var start = new Option<string?>("--start") { Description = "First time to export (UTC, inclusive), e.g. 2020-01-01" };
        var end = new Option<string?>("--end") { Description = "End of the time range (UTC, exclusive)" };
        var bbox = new Option<string?>("--bbox") { Description = "WEST,SOUTH,EAST,NORTH in degrees; west > east crosses the antimeridian" };
        var resolution = new Option<int?>("--resolution") { Description = "H3 resolution 0..15 (default from the grid)" };
        var drop = new Option<string?>("--drop") { Description = "Drop rows whose values are all zero and/or all missing: zero, missing or zero,missing" };
        var rowGroup = new Option<int>("--row-group-rows") { Description = "Rows per row group (default 131072)" };
        var compression = new Option<string?>("--compression") { Description = "zstd (default), snappy or none" };
        var level = new Option<int?>("--level") { Description = "zstd level (default 3)" };
        var valueType = new Option<ExportValueType>("--value-type") { Description = "Type of the value columns: auto, float32, float64", DefaultValueFactory = _ => ExportValueType.Auto };
        var noMm = new Option<bool>("--no-mm") { Description = "Do not add a millimetre column beside precipitation in metres" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Rewrite files already exported from the same snapshot, and replace an export made with other options" };
        var command = new Command("export", "Run a Parquet export job on the server (docs/export.md) and follow its progress")
        {
            name, array, output, reference, start, end, bbox, resolution, drop, rowGroup, compression, level, valueType, noMm, overwrite,
        };
        command.SetAction((parse, ct) => Run(parse, async client =>
        {
            var dropped = (parse.GetValue(drop) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (dropped.FirstOrDefault(d => d is not ("zero" or "missing")) is { } unknown)
            {
                throw new ArgumentException($"--drop {parse.GetValue(drop)}: \"{unknown}\" is neither zero nor missing");
            }

            var request = new StartExportRequest
            {
                Repository = parse.GetValue(name)!,
                Reference = parse.GetValue(reference) ?? "",
                Output = parse.GetValue(output)!,
                Start = parse.GetValue(start) ?? "",
                End = parse.GetValue(end) ?? "",
                DropZero = dropped.Contains("zero"),
                DropMissing = dropped.Contains("missing"),
                RowGroupRows = parse.GetValue(rowGroup),
                Compression = parse.GetValue(compression) ?? "",
                ValueType = parse.GetValue(valueType),
                NoMm = parse.GetValue(noMm),
                Overwrite = parse.GetValue(overwrite),
            };
            request.Arrays.AddRange(parse.GetValue(array)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            if (parse.GetValue(bbox) is { } box)
            {
                request.Bbox.AddRange(Floe.Export.GeoBox.Parse(box).ToArray());
            }

            if (parse.GetValue(resolution) is { } r)
            {
                request.Resolution = r;
            }

            if (parse.GetValue(level) is { } l)
            {
                request.Level = l;
            }

            var started = await client.Exports.StartExportAsync(request, new CallOptions(CancellationToken: ct));
            Console.WriteLine($"job {started.JobId}: exporting {string.Join(", ", started.Arrays)} at {started.Reference} to {started.Output}");
            using var watch = client.Exports.WatchExport(new ExportRequest { JobId = started.JobId }, new CallOptions(CancellationToken: ct));
            ExportStatus? last = null;
            await foreach (var status in watch.ResponseStream.ReadAllAsync(ct))
            {
                last = status;
                var skipped = status.FilesSkipped > 0 ? $" ({status.FilesSkipped} already exported)" : "";
                var snapshot = status.SnapshotId.Length > 0 ? $", snapshot {status.SnapshotId}, H3 resolution {status.H3Resolution}" : "";
                Console.WriteLine($"{status.State.ToString().ToLowerInvariant()}: {status.FilesDone}/{status.FilesTotal} files{skipped}, {status.Rows:N0} rows, "
                    + $"{status.Bytes / (1024.0 * 1024):N1} MiB{snapshot}");
            }

            if (last is { State: not ExportState.Succeeded })
            {
                throw new RpcException(new Status(StatusCode.Aborted, $"job {last.JobId} {last.State.ToString().ToLowerInvariant()}: {last.Error}"));
            }
        }));
        return command;
    }

    private static async Task<int> Run(ParseResult parse, Func<FloeClient, Task> action)
    {
        using var client = new FloeClient(new Uri(parse.GetValue(ServerOption)!), parse.GetValue(TokenOption));
        try
        {
            await action(client);
            return 0;
        }
        catch (RpcException e)
        {
            await Console.Error.WriteLineAsync($"floe: error: {e.StatusCode}: {e.Status.Detail}");
            return 1;
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"floe: error: {e.Message}");
            return 1;
        }
    }
}
