using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Floe.Api.V1;
using Floe.Core;
using Floe.Export;
using Floe.Grains;
using Floe.Parquet;
using Floe.Rpc;
using Floe.Server.Stac;
using Floe.Stac;
using Floe.Store;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using ApiValueType = Floe.Api.V1.ExportValueType;
using ExportValueType = Floe.Export.ExportValueType;

namespace Floe.Server.Grains;

/// <summary>What an export grain keeps in grain storage: the job's request and its last status (protobuf JSON).</summary>
public sealed class ExportRecord
{
    public string Request { get; set; } = "";

    public string Status { get; set; } = "";
}

/// <summary>
/// The export root, and which export job writes which output directory. An output is a relative directory under its
/// repository's folder of the root (<c>ROOT/REPOSITORY/OUTPUT</c>), so writers of one repository never touch another's
/// exports. One job at a time writes an output, or a directory inside or around it (an export clears stray partial
/// files below its directory): this process keeps the claims, so servers sharing an export root must not run exports
/// into the same repository's folder at once.
/// </summary>
public sealed class ExportOutputs
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, OutputClaim> _claims = new(StringComparer.Ordinal);

    public ExportOutputs(string root)
    {
        Root = Path.GetFullPath(root);
    }

    /// <summary>The absolute export root.</summary>
    public string Root { get; }

    /// <summary>The default root: a directory "STORE-exports" beside the store directory, never inside the store.</summary>
    public static string DefaultRoot(string store)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(store));
        return Path.GetDirectoryName(full) is { } parent ? Path.Combine(parent, Path.GetFileName(full) + "-exports") : Path.Combine(full, "exports");
    }

    /// <summary>
    /// The canonical form of an output directory ("era5/2020"): relative, names separated by "/", no "." or ".." and
    /// no empty names; INVALID_ARGUMENT naming <c>output</c> otherwise.
    /// </summary>
    public static string Normalize(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (output.Length == 0)
        {
            throw Errors.InvalidArgument("output", "required: a directory relative to the export root, such as era5/2020");
        }

        if (output.StartsWith('/') || output.StartsWith('\\') || Path.IsPathRooted(output) || output.Contains(':', StringComparison.Ordinal))
        {
            throw Errors.InvalidArgument("output", $"\"{output}\" is an absolute path; give a directory relative to the export root, such as era5/2020");
        }

        if (output.Length > 1024 || output.Any(char.IsControl) || output.Contains('\\', StringComparison.Ordinal))
        {
            throw Errors.InvalidArgument("output", $"\"{output}\" is not a directory name: at most 1024 characters without control characters or \\, with / between names");
        }

        var names = output.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (names.Any(n => n is "." or ".."))
        {
            throw Errors.InvalidArgument("output", $"\"{output}\" holds \".\" or \"..\"; give a directory below the export root, such as era5/2020");
        }

        if (names.Length == 0 || names.Any(n => n.Length > 255))
        {
            throw Errors.InvalidArgument("output", $"\"{output}\" is not a directory name (names of 1-255 characters separated by /)");
        }

        return string.Join('/', names);
    }

    /// <summary>The absolute directory of a canonical output of a repository.</summary>
    public string DirectoryOf(string repository, string output)
    {
        var directory = Path.GetFullPath(Path.Combine(Root, repository, output));
        return directory.StartsWith(Path.Combine(Root, repository) + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? directory
            : throw Errors.InvalidArgument("output", $"\"{output}\" is not below the export root");
    }

    /// <summary>
    /// Claims a repository's output for a job; FAILED_PRECONDITION naming the output and the job when another job
    /// writes it, or a directory inside or around it. Dispose the claim when the job stops writing.
    /// </summary>
    public IDisposable Claim(string repository, string output, string jobId)
    {
        var key = repository + "/" + output;
        lock (_lock)
        {
            foreach (var held in _claims.Values)
            {
                if (held.Key == key)
                {
                    throw Errors.FailedPrecondition($"output: \"{output}\" is being written by export job {held.JobId}; wait for it to end or cancel it");
                }

                if (key.StartsWith(held.Key + "/", StringComparison.Ordinal) || held.Key.StartsWith(key + "/", StringComparison.Ordinal))
                {
                    throw Errors.FailedPrecondition(
                        $"output: \"{output}\" overlaps \"{held.Key[(repository.Length + 1)..]}\", which export job {held.JobId} is writing; wait for it to end or cancel it");
                }
            }

            var claim = new OutputClaim(this, key, jobId);
            _claims[key] = claim;
            return claim;
        }
    }

    private void Release(OutputClaim claim)
    {
        lock (_lock)
        {
            if (_claims.TryGetValue(claim.Key, out var held) && ReferenceEquals(held, claim))
            {
                _claims.Remove(claim.Key);
            }
        }
    }

    private sealed class OutputClaim(ExportOutputs owner, string key, string jobId) : IDisposable
    {
        public string Key { get; } = key;

        public string JobId { get; } = jobId;

        public void Dispose() => owner.Release(this);
    }
}

/// <summary>
/// Runs one export job (the engine of floe export parquet) in the background and reports its progress, like
/// <see cref="IngestionGrain"/>: the job reports through the grain's own reference, so every change of status
/// happens in a turn, and the status is kept in grain storage, so a restarted server still answers for the job.
/// </summary>
public sealed partial class ExportGrain : Grain, IExportGrain
{
    private const int DefaultRowGroupRows = 131_072;
    private const int DefaultZstdLevel = 3;
    private static readonly TimeSpan ReportEvery = TimeSpan.FromMilliseconds(250);
    private readonly RepositoryCatalog _catalog;
    private readonly ExportOutputs _outputs;
    private readonly StacCatalog _stac;
    private readonly FloeOptions _options;
    private readonly ILogger<ExportGrain> _logger;
    private readonly IPersistentState<ExportRecord> _record;
    private ExportStatus _status = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _running;

    public ExportGrain(RepositoryCatalog catalog, ExportOutputs outputs, StacCatalog stac, FloeOptions options, ILogger<ExportGrain> logger)
    {
        _catalog = catalog;
        _outputs = outputs;
        _stac = stac;
        _options = options;
        _logger = logger;
        // Read by the runtime before OnActivateAsync.
        _record = GetPersistentState<ExportRecord>("export");
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (_record.RecordExists && _record.State.Status.Length > 0)
        {
            _status = ExportStatus.Parser.ParseJson(_record.State.Status);
            if (_status.State == ExportState.Running)
            {
                // The process that ran it is gone; its complete files stay listed in the manifest.
                _status = _status.Clone();
                _status.State = ExportState.Failed;
                _status.Error = "the server stopped while the job ran; start it again to resume (files already exported are skipped)";
                _status.CurrentFile = "";
                _status.Version++;
                await SaveAsync(cancellationToken);
            }
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The server stops (or the activation is collected) while the job runs: stop writing. The stored status
        // still says running, which the next activation records as failed.
        if (_running is { } running)
        {
            await running.CancelAsync();
        }
    }

    /// <summary>
    /// The id of the job for a request: the same repository, reference, arrays, output and options give the same
    /// job (empty reference and compression count as their defaults).
    /// </summary>
    public static string JobId(StartExportRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var canonical = request.Clone();
        canonical.Reference = string.IsNullOrEmpty(canonical.Reference) ? Repository.MainBranch : canonical.Reference;
        canonical.Compression = string.IsNullOrEmpty(canonical.Compression) ? "zstd" : canonical.Compression.ToLowerInvariant();
        try
        {
            canonical.Output = ExportOutputs.Normalize(canonical.Output);
            for (var i = 0; i < canonical.Arrays.Count; i++)
            {
                canonical.Arrays[i] = NodePath.Normalize(canonical.Arrays[i]);
            }
        }
        catch (Exception e) when (e is RpcException or ArgumentException)
        {
            // Left as given: starting the job refuses it.
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(canonical)));
        return "export-" + Convert.ToHexStringLower(hash)[..16];
    }

    public async Task<ExportStatus> StartAsync(StartExportRequest request, CancellationToken cancellationToken)
    {
        if (_status.State == ExportState.Running)
        {
            return _status;
        }

        var (options, output) = Prepare(request);
        var repository = await _catalog.OpenAsync(request.Repository, cancellationToken);
        // An unknown branch, tag or snapshot is NOT_FOUND now rather than a failed job.
        await GrainFactory.GetGrain<IRepositoryGrain>(request.Repository).ResolveAsync(options.Ref, cancellationToken);
        var claim = _outputs.Claim(request.Repository, output, GetPrimaryKeyString());
        try
        {
            _status = new ExportStatus
            {
                JobId = GetPrimaryKeyString(),
                Repository = request.Repository,
                Reference = options.Ref,
                Output = output,
                State = ExportState.Running,
                Version = _status.Version + 1,
            };
            _status.Arrays.AddRange(options.Arrays);
            _record.State.Request = JsonFormatter.Default.Format(request);
            await SaveAsync(cancellationToken);
        }
        catch
        {
            claim.Dispose();
            throw;
        }

        _running = new CancellationTokenSource();
        var self = GrainFactory.GetGrain<IExportGrain>(GetPrimaryKeyString());
        var start = _status.Clone();
        var job = new Job(self, start, repository, options, claim, _outputs.Root, _stac, _logger);
        // The job runs outside the grain's turns, and outside this call's chain (its reports are new calls), so the
        // execution context does not flow; it talks to the grain only through its reference.
        var token = _running.Token;
        using (ExecutionContext.SuppressFlow())
        {
            _ = Task.Run(() => RunAsync(job, token), CancellationToken.None);
        }

        return _status;
    }

    public Task<ExportStatus> GetStatusAsync(CancellationToken cancellationToken) =>
        _status.JobId.Length == 0 ? throw Errors.NotFound($"job_id: no export job {GetPrimaryKeyString()}") : Task.FromResult(_status);

    public async Task<ExportStatus> WaitForChangeAsync(long afterVersion, CancellationToken cancellationToken)
    {
        while (_status.Version <= afterVersion && _status.State == ExportState.Running)
        {
            await _changed.Task.WaitAsync(cancellationToken);
        }

        return await GetStatusAsync(cancellationToken);
    }

    public async Task<ExportStatus> CancelAsync(CancellationToken cancellationToken)
    {
        var status = await GetStatusAsync(cancellationToken);
        if (status.State == ExportState.Running && _running is { } running)
        {
            await running.CancelAsync();
        }

        return _status;
    }

    public async Task ReportAsync(ExportStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (_status.State != ExportState.Running)
        {
            return;
        }

        status.Version = _status.Version + 1;
        _status = status;
        var signal = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        signal.TrySetResult();
        if (status.State != ExportState.Running)
        {
            _running?.Dispose();
            _running = null;
            await SaveAsync(cancellationToken);
        }
    }

    private async Task SaveAsync(CancellationToken cancellationToken)
    {
        _record.State.Status = JsonFormatter.Default.Format(_status);
        await _record.WriteStateAsync(cancellationToken);
    }

    /// <summary>The exporter's options for a request, and its canonical output; INVALID_ARGUMENT naming the field at fault.</summary>
    private (ExportOptions Options, string Output) Prepare(StartExportRequest request)
    {
        RepositoryCatalog.ValidateName(request.Repository);
        var output = ExportOutputs.Normalize(request.Output);
        if (request.Arrays.Count == 0)
        {
            throw Errors.InvalidArgument("arrays", "give at least one array to export, such as /tp");
        }

        var arrays = new string[request.Arrays.Count];
        for (var i = 0; i < arrays.Length; i++)
        {
            try
            {
                arrays[i] = NodePath.Normalize(request.Arrays[i]);
            }
            catch (ArgumentException e)
            {
                throw Errors.InvalidArgument($"arrays[{i}]", e.Message.Replace(" (Parameter 'path')", "", StringComparison.Ordinal));
            }
        }

        var start = Instant(request.Start, "start");
        var end = Instant(request.End, "end");
        if (start is { } from && end is { } to && to <= from)
        {
            throw Errors.InvalidArgument("end", $"{ExportManifest.Iso(to)} is not after start {ExportManifest.Iso(from)}: the time range is empty");
        }

        GeoBox? box = null;
        if (request.Bbox.Count > 0)
        {
            if (request.Bbox.Count != 4)
            {
                throw Errors.InvalidArgument("bbox", $"give 4 numbers, west, south, east, north in degrees (got {request.Bbox.Count})");
            }

            try
            {
                box = new GeoBox(request.Bbox[0], request.Bbox[1], request.Bbox[2], request.Bbox[3]);
            }
            catch (ArgumentException e)
            {
                throw Errors.InvalidArgument("bbox", e.Message.StartsWith("bbox ", StringComparison.Ordinal) ? e.Message[5..] : e.Message);
            }
        }

        if (request.HasResolution && request.Resolution is < 0 or > 15)
        {
            throw Errors.InvalidArgument("resolution", $"{request.Resolution} is not an H3 resolution (0..15)");
        }

        if (request.RowGroupRows < 0)
        {
            throw Errors.InvalidArgument("row_group_rows", $"{request.RowGroupRows}: give at least 1 (0: the default, {DefaultRowGroupRows})");
        }

        var compression = request.Compression.ToLowerInvariant() switch
        {
            "" or "zstd" => ParquetCompression.Zstd,
            "snappy" => ParquetCompression.Snappy,
            "none" or "uncompressed" => ParquetCompression.Uncompressed,
            _ => throw Errors.InvalidArgument("compression", $"\"{request.Compression}\": choose zstd, snappy or none"),
        };
        if (compression == ParquetCompression.Zstd && request.HasLevel && request.Level is < Zstd.MinLevel or > Zstd.MaxLevel)
        {
            throw Errors.InvalidArgument("level", $"{request.Level} is outside zstd's [{Zstd.MinLevel}, {Zstd.MaxLevel}]");
        }

        var valueType = request.ValueType switch
        {
            ApiValueType.Auto => ExportValueType.Auto,
            ApiValueType.Float32 => ExportValueType.Float32,
            ApiValueType.Float64 => ExportValueType.Float64,
            _ => throw Errors.InvalidArgument("value_type", $"{(int)request.ValueType} is not an ExportValueType"),
        };

        var options = new ExportOptions
        {
            Arrays = arrays,
            OutputDirectory = _outputs.DirectoryOf(request.Repository, output),
            Ref = string.IsNullOrEmpty(request.Reference) ? Repository.MainBranch : request.Reference,
            Start = start,
            End = end,
            Box = box,
            Resolution = request.HasResolution ? request.Resolution : null,
            DropZero = request.DropZero,
            DropMissing = request.DropMissing,
            RowGroupRows = request.RowGroupRows > 0 ? request.RowGroupRows : DefaultRowGroupRows,
            Compression = compression,
            CompressionLevel = request.HasLevel ? request.Level : DefaultZstdLevel,
            ValueType = valueType,
            Millimetres = !request.NoMm,
            MemoryBytes = _options.Server.ExportMemoryBytes,
            Overwrite = request.Overwrite,
            RepositoryName = request.Repository,
        };
        return (options, output);
    }

    private static async Task RunAsync(Job job, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        ExportStatus With(ExportProgress p, ExportState state)
        {
            var s = job.Start.Clone();
            s.State = state;
            s.FilesDone = p.FilesDone;
            s.FilesTotal = p.FilesTotal;
            s.FilesSkipped = p.FilesSkipped;
            s.Rows = p.Rows;
            s.Bytes = p.Bytes;
            s.CurrentFile = state == ExportState.Running ? p.CurrentFile ?? "" : "";
            s.ElapsedMs = (long)clock.Elapsed.TotalMilliseconds;
            return s;
        }

        ExportProgress? latest = null;
        var progress = new InlineProgress<ExportProgress>(p =>
        {
            latest = p;
            if (clock.Elapsed - lastReport >= ReportEvery)
            {
                lastReport = clock.Elapsed;
                // Fire and forget: a slow report never holds up writing files.
                _ = job.Self.ReportAsync(With(p, ExportState.Running), CancellationToken.None);
            }
        });

        ExportStatus final;
        try
        {
            var result = await new ParquetExporter(job.Repository, job.Options).RunAsync(progress, cancellationToken);
            // The export's static STAC catalog, then the server's index: searches find the files once the job has succeeded.
            var output = Path.GetRelativePath(job.Root, job.Options.OutputDirectory).Replace(Path.DirectorySeparatorChar, '/');
            await ExportCatalog.WriteAsync(job.Options.OutputDirectory, job.Repository,
                new ExportCatalogOptions { CollectionId = ExportCatalog.ServerCollectionId(output) }, cancellationToken);
            await job.Stac.RefreshAsync(cancellationToken);
            final = job.Start.Clone();
            final.State = ExportState.Succeeded;
            final.FilesDone = result.Files.Count;
            final.FilesTotal = result.Files.Count;
            final.FilesSkipped = result.FilesSkipped;
            final.Rows = result.Rows;
            final.Bytes = result.Bytes;
            final.SnapshotId = result.Snapshot;
            final.H3Resolution = result.Resolution;
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled, whatever the interrupted write threw on the way out.
            final = latest is null ? job.Start.Clone() : With(latest, ExportState.Cancelled);
            final.State = ExportState.Cancelled;
        }
        catch (Exception e)
        {
            final = latest is null ? job.Start.Clone() : With(latest, ExportState.Failed);
            final.State = ExportState.Failed;
            final.Error = job.Describe(e);
        }

        final.ElapsedMs = (long)clock.Elapsed.TotalMilliseconds;
        // The files are complete (or abandoned as partial files) before the status says so: a job started on
        // seeing the final state finds the output free.
        job.Claim.Dispose();
        try
        {
            await job.Self.ReportAsync(final, CancellationToken.None);
        }
        catch (Exception e)
        {
            // The grain runtime stopped with the server; the next activation records the job as interrupted.
            job.Logger.LogWarning(e, "export job {Job} ended {State} but could not record it", job.Start.JobId, final.State);
        }
    }

    private static DateTimeOffset? Instant(string text, string field)
    {
        if (text.Length == 0)
        {
            return null;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
            ? value
            : throw Errors.InvalidArgument(field, $"\"{text}\" is not an ISO 8601 date or instant, such as 2020-01-01 or 2020-01-01T06:00:00Z");
    }

    [GeneratedRegex("--([a-z][a-z0-9-]*)")]
    private static partial Regex OptionName();

    /// <summary>An export's work, passed to the background job.</summary>
    private sealed record Job(IExportGrain Self, ExportStatus Start, Repository Repository, ExportOptions Options, IDisposable Claim, string Root, StacCatalog Stac, ILogger Logger)
    {
        /// <summary>
        /// The message of a failure, for the caller: the exporter's messages name command-line options and the
        /// server's directories, so options become request fields and directories the relative output.
        /// </summary>
        public string Describe(Exception error)
        {
            if (error is not (ExportException or ArgumentException or FormatException or IOException or UnauthorizedAccessException or FloeStoreException))
            {
                Logger.LogError(error, "export job {Job} failed", Start.JobId);
            }

            var message = error.Message
                .Replace(Options.OutputDirectory, Start.Output, StringComparison.Ordinal)
                .Replace(Root, "(export root)", StringComparison.Ordinal);
            return error is ExportException ? OptionName().Replace(message, m => Field(m.Groups[1].Value)) : message;
        }

        private static string Field(string option) => option switch
        {
            "array" => "arrays",
            "out" => "output",
            "ref" => "reference",
            "no-mm" => "no_mm",
            _ => option.Replace('-', '_'),
        };
    }
}
