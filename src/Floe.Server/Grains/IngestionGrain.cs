using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Floe.Api.V1;
using Floe.Grains;
using Floe.Ingest;
using Floe.Ingest.Sources;
using Floe.Server.Stac;
using Google.Protobuf;

namespace Floe.Server.Grains;

/// <summary>What an ingestion grain keeps in grain storage: the job's request and its last status (protobuf JSON).</summary>
public sealed class IngestionRecord
{
    public string Request { get; set; } = "";

    public string Status { get; set; } = "";
}

/// <summary>
/// Runs one ingestion job (the engine of floe ingest/append) in the background and reports its progress. The job
/// reports through the grain's own reference, so every change of status happens in a turn; the status is kept in
/// grain storage, so a restarted server still answers for the job.
/// </summary>
public sealed class IngestionGrain : Grain, IIngestionGrain
{
    private static readonly TimeSpan ReportEvery = TimeSpan.FromMilliseconds(250);
    private readonly RepositoryCatalog _catalog;
    private readonly SourcePolicy _sources;
    private readonly StacCatalog _stac;
    private readonly IPersistentState<IngestionRecord> _record;
    private IngestionStatus _status = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _running;

    public IngestionGrain(RepositoryCatalog catalog, SourcePolicy sources, StacCatalog stac)
    {
        _catalog = catalog;
        _sources = sources;
        _stac = stac;
        // Read by the runtime before OnActivateAsync.
        _record = GetPersistentState<IngestionRecord>("ingestion");
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (_record.RecordExists && _record.State.Status.Length > 0)
        {
            _status = IngestionStatus.Parser.ParseJson(_record.State.Status);
            if (_status.State == IngestionState.Running)
            {
                // The process that ran it is gone; its committed batches stay and a new start resumes after them.
                _status = _status.Clone();
                _status.State = IngestionState.Failed;
                _status.Error = "the server stopped while the job ran; start it again to resume after its last commit";
                _status.Version++;
                await SaveAsync(cancellationToken);
            }
        }
    }

    /// <summary>The id of the job for a request: the same repository, branch, mode and source give the same job.</summary>
    public static string JobId(StartIngestionRequest request)
    {
        var canonical = request.Clone();
        canonical.Branch = string.IsNullOrEmpty(canonical.Branch) ? "main" : canonical.Branch;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(canonical)));
        return "ingest-" + Convert.ToHexStringLower(hash)[..16];
    }

    public async Task<IngestionStatus> StartAsync(StartIngestionRequest request, CancellationToken cancellationToken)
    {
        if (_status.State == IngestionState.Running)
        {
            return _status;
        }

        var (sourceSet, options) = Prepare(request);
        var repository = await _catalog.OpenAsync(request.Repository, cancellationToken);
        _status = new IngestionStatus
        {
            JobId = GetPrimaryKeyString(),
            Repository = request.Repository,
            Branch = options.Branch,
            Source = sourceSet.Description,
            State = IngestionState.Running,
            Version = _status.Version + 1,
        };
        _record.State.Request = JsonFormatter.Default.Format(request);
        await SaveAsync(cancellationToken);

        _running = new CancellationTokenSource();
        var self = GrainFactory.GetGrain<IIngestionGrain>(GetPrimaryKeyString());
        var start = _status.Clone();
        // The job runs outside the grain's turns, and outside this call's chain (its reports are new calls), so the
        // execution context does not flow; it talks to the grain only through its reference.
        var token = _running.Token;
        using (ExecutionContext.SuppressFlow())
        {
            _ = Task.Run(() => RunAsync(self, start, repository, sourceSet, options, _stac, token), CancellationToken.None);
        }
        return _status;
    }

    public Task<IngestionStatus> GetStatusAsync(CancellationToken cancellationToken) =>
        _status.JobId.Length == 0 ? throw Errors.NotFound($"job_id: no ingestion job {GetPrimaryKeyString()}") : Task.FromResult(_status);

    public async Task<IngestionStatus> WaitForChangeAsync(long afterVersion, CancellationToken cancellationToken)
    {
        while (_status.Version <= afterVersion && _status.State == IngestionState.Running)
        {
            await _changed.Task.WaitAsync(cancellationToken);
        }

        return await GetStatusAsync(cancellationToken);
    }

    public async Task<IngestionStatus> CancelAsync(CancellationToken cancellationToken)
    {
        var status = await GetStatusAsync(cancellationToken);
        if (status.State == IngestionState.Running && _running is { } running)
        {
            await running.CancelAsync();
        }

        return _status;
    }

    public async Task ReportAsync(IngestionStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (_status.State != IngestionState.Running)
        {
            return;
        }

        status.Version = _status.Version + 1;
        _status = status;
        var signal = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        signal.TrySetResult();
        if (status.State != IngestionState.Running)
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

    private (SourceSet Sources, IngestOptions Options) Prepare(StartIngestionRequest request)
    {
        RepositoryCatalog.ValidateName(request.Repository);
        foreach (var (file, i) in request.Files.Select((f, i) => (f, i)))
        {
            _sources.Check(file, $"files[{i}]");
        }

        if (request.Glob.Length > 0)
        {
            _sources.Check(LiteralPrefix(request.Glob), "glob");
        }

        if (request.Template.Length > 0)
        {
            _sources.Check(LiteralPrefix(request.Template.Contains(':', StringComparison.Ordinal) && !request.Template.Contains("://", StringComparison.Ordinal)
                ? request.Template[(request.Template.IndexOf(':', StringComparison.Ordinal) + 1)..]
                : request.Template), "template");
        }

        SourceSet set;
        try
        {
            set = SourceSets.Create(request.Files.Count > 0 ? [.. request.Files] : null, null, Empty(request.Glob), Empty(request.Template),
                Instant(request.Start, "start"), Instant(request.End, "end"), request.Every.Length > 0 ? Durations.Parse(request.Every) : null, null);
        }
        catch (ArgumentException e)
        {
            throw Errors.InvalidArgument("source", e.Message.Replace("--", "", StringComparison.Ordinal));
        }

        CommitPolicy commitEvery;
        try
        {
            commitEvery = request.CommitEvery.Length > 0 ? CommitPolicy.Parse(request.CommitEvery) : CommitPolicy.Default;
        }
        catch (ArgumentException e)
        {
            throw Errors.InvalidArgument("commit_every", e.Message);
        }

        var options = new IngestOptions
        {
            Mode = request.Mode == IngestionMode.Append ? IngestMode.Append : IngestMode.Create,
            Branch = string.IsNullOrEmpty(request.Branch) ? "main" : request.Branch,
            Dimension = string.IsNullOrEmpty(request.Dimension) ? "time" : request.Dimension,
            Group = Empty(request.Group),
            Variables = request.Variables.Count > 0 ? [.. request.Variables] : null,
            CommitEvery = commitEvery,
            SkipMismatched = request.SkipMismatched,
        };
        return (set, options);
    }

    private static async Task RunAsync(IIngestionGrain self, IngestionStatus start, Store.Repository repository, SourceSet sourceSet, IngestOptions options,
        StacCatalog stac, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        IngestionStatus With(IngestProgress p, IngestionState state)
        {
            var s = start.Clone();
            s.State = state;
            s.FilesDone = p.FilesDone;
            s.FilesTotal = p.FilesTotal ?? 0;
            s.Refs = p.Refs;
            s.Skipped = p.Skipped;
            s.Commits = p.Commits;
            // LastCommit reads "SNAPSHOT from to"; the id is the first word.
            s.LastSnapshotId = p.LastCommit?.Split(' ')[0] ?? "";
            s.ElapsedMs = (long)clock.Elapsed.TotalMilliseconds;
            return s;
        }

        IngestProgress? latest = null;
        var progress = new InlineProgress<IngestProgress>(p =>
        {
            latest = p;
            if (clock.Elapsed - lastReport >= ReportEvery)
            {
                lastReport = clock.Elapsed;
                // Fire and forget: a slow report never holds up reading files.
                _ = self.ReportAsync(With(p, IngestionState.Running), CancellationToken.None);
            }
        });

        IngestionStatus final;
        try
        {
            var summary = await new Ingestor(repository, options).RunAsync(sourceSet, progress, cancellationToken);
            final = With(summary.Progress, IngestionState.Succeeded);
            if (summary.Problems.Count > 0)
            {
                final.Error = $"{summary.Problems.Count} file(s) skipped, first: {summary.Problems[0].Location}: {summary.Problems[0].Reason}";
            }
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled, whatever the interrupted read threw on the way out.
            final = latest is null ? start.Clone() : With(latest, IngestionState.Cancelled);
            final.State = IngestionState.Cancelled;
        }
        catch (Exception e)
        {
            final = latest is null ? start.Clone() : With(latest, IngestionState.Failed);
            final.State = IngestionState.Failed;
            final.Error = e.Message;
        }

        final.ElapsedMs = (long)clock.Elapsed.TotalMilliseconds;
        // The job committed straight to the repository: the branch's datacube item changes with it.
        stac.RequestRefresh();
        await self.ReportAsync(final, CancellationToken.None);
    }

    private static string LiteralPrefix(string pattern)
    {
        var cut = pattern.IndexOfAny(['*', '?', '[', '{', '%']);
        return cut < 0 ? pattern : pattern[..cut];
    }

    private static string? Empty(string text) => text.Length == 0 ? null : text;

    private static DateTimeOffset? Instant(string text, string field)
    {
        if (text.Length == 0)
        {
            return null;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)
            ? value
            : throw Errors.InvalidArgument(field, $"\"{text}\" is not an ISO 8601 instant");
    }
}
