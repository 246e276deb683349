using System.Text.Json.Nodes;
using Floe.Stac;
using Floe.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Floe.Server.Stac;

/// <summary>
/// The server's STAC index (docs/stac.md: Index and updates): the static catalogs of the exports under the export
/// root and a datacube item per repository branch. A refresh rereads only what changed (a collection file with a new
/// write time, a branch with a new head), builds a new <see cref="StacIndex"/> and swaps it in with one reference
/// write, so a search sees all of an update or none of it.
/// </summary>
public sealed class StacCatalog(RepositoryCatalog repositories, string exportRoot, Func<string> grpcUrl, ILogger<StacCatalog> logger)
{
    /// <summary>Prefix of export asset hrefs in the index, resolved against the server's public URL when served.</summary>
    public const string ExportsPath = "exports/";

    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly Dictionary<string, (DateTime Written, StacCollection Collection)> _exports = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Repository, string Branch), (string Snapshot, JsonObject Item)> _branches = [];
    private StacIndex _index = StacIndex.Empty;
    private int _pending;

    public StacIndex Index => Volatile.Read(ref _index);

    public string ExportRoot { get; } = Path.GetFullPath(exportRoot);

    /// <summary>Asks for a refresh soon (after a commit or an export); requests while one runs fold into one more.</summary>
    public void RequestRefresh()
    {
        if (Interlocked.Exchange(ref _pending, 1) == 0)
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await RefreshAsync(CancellationToken.None);
                }
                catch (Exception e)
                {
                    logger.LogWarning(e, "STAC catalog refresh failed: {Message}", e.Message);
                }
            });
        }
    }

    /// <summary>Rereads what changed and swaps in a new index.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            Interlocked.Exchange(ref _pending, 0);
            var collections = new List<StacCollection>();
            collections.AddRange(await DatacubeCollectionsAsync(cancellationToken));
            collections.AddRange(ExportCollections());
            var index = new StacIndex(collections);
            foreach (var duplicate in index.Duplicates)
            {
                logger.LogWarning("STAC: {Source} repeats a collection id already served; it is left out", duplicate);
            }

            Volatile.Write(ref _index, index);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private async Task<List<StacCollection>> DatacubeCollectionsAsync(CancellationToken cancellationToken)
    {
        var collections = new List<StacCollection>();
        var live = new HashSet<(string, string)>();
        foreach (var name in await repositories.ListAsync(cancellationToken))
        {
            Repository repository;
            IReadOnlyList<string> branches;
            try
            {
                repository = await repositories.OpenAsync(name, cancellationToken);
                branches = await repository.ListBranchesAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("STAC: repository {Repository} left out: {Message}", name, e.Message);
                continue;
            }

            var items = new List<JsonObject>();
            foreach (var branch in branches.Order(StringComparer.Ordinal))
            {
                try
                {
                    var head = (await repository.ReadBranchAsync(branch, cancellationToken)).Snapshot.ToString();
                    live.Add((name, branch));
                    if (!_branches.TryGetValue((name, branch), out var cached) || cached.Snapshot != head)
                    {
                        var item = await DatacubeCatalog.BranchItemAsync(repository, name, branch, $"zarr/{Uri.EscapeDataString(name)}/{Uri.EscapeDataString(branch)}/", grpcUrl(), cancellationToken);
                        cached = (item["properties"]!["floe:snapshot"]!.GetValue<string>(), item);
                        _branches[(name, branch)] = cached;
                    }

                    items.Add(cached.Item);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning("STAC: branch {Branch} of {Repository} left out: {Message}", branch, name, e.Message);
                }
            }

            collections.Add(new StacCollection(DatacubeCatalog.Collection(name, items), items, $"repository {name}"));
        }

        foreach (var gone in _branches.Keys.Where(k => !live.Contains(k)).ToList())
        {
            _branches.Remove(gone);
        }

        return collections;
    }

    /// <summary>Every stac/collection.json below the export root (not descending into date partitions or stac folders).</summary>
    private List<StacCollection> ExportCollections()
    {
        var found = new List<StacCollection>();
        var live = new HashSet<string>(StringComparer.Ordinal);
        if (!Directory.Exists(ExportRoot))
        {
            _exports.Clear();
            return found;
        }

        var pending = new Stack<(string Path, int Depth)>();
        pending.Push((ExportRoot, 0));
        while (pending.Count > 0)
        {
            var (directory, depth) = pending.Pop();
            var collectionPath = Path.Combine(directory, ExportCatalog.DirectoryName, ExportCatalog.CollectionFile);
            if (File.Exists(collectionPath))
            {
                live.Add(collectionPath);
                var written = File.GetLastWriteTimeUtc(collectionPath);
                if (!_exports.TryGetValue(collectionPath, out var cached) || cached.Written != written)
                {
                    try
                    {
                        cached = (written, ServedHrefs(ExportCatalog.Load(collectionPath)));
                        _exports[collectionPath] = cached;
                    }
                    catch (StacCatalogException e)
                    {
                        logger.LogWarning("STAC: export catalog left out: {Message}", e.Message);
                        continue;
                    }
                }

                found.Add(cached.Collection);
                continue;
            }

            if (depth >= 8)
            {
                continue;
            }

            foreach (var child in Directory.EnumerateDirectories(directory))
            {
                var name = Path.GetFileName(child);
                if (!name.StartsWith("date=", StringComparison.Ordinal) && !name.StartsWith('.'))
                {
                    pending.Push((child, depth + 1));
                }
            }
        }

        foreach (var gone in _exports.Keys.Where(k => !live.Contains(k)).ToList())
        {
            _exports.Remove(gone);
        }

        return found;
    }

    /// <summary>Asset file paths become hrefs below <see cref="ExportsPath"/> (served by the exports endpoint).</summary>
    private StacCollection ServedHrefs(StacCollection collection)
    {
        foreach (var item in collection.Items)
        {
            foreach (var (_, asset) in item["assets"]?.AsObject() ?? [])
            {
                if (asset?["href"]?.GetValue<string>() is { } href && Path.IsPathRooted(href))
                {
                    var relative = Path.GetRelativePath(ExportRoot, href);
                    if (!relative.StartsWith("..", StringComparison.Ordinal))
                    {
                        // '=' may stay in a path segment, so Hive partitions (date=...) stay readable to tools that parse them.
                        asset["href"] = ExportsPath + string.Join('/', relative.Split(Path.DirectorySeparatorChar)
                            .Select(part => Uri.EscapeDataString(part).Replace("%3D", "=", StringComparison.Ordinal)));
                    }
                }
            }
        }

        return collection;
    }
}

/// <summary>Refreshes the STAC index at start and then every <c>Floe:Server:StacRefreshSeconds</c>, for changes other processes make.</summary>
public sealed class StacRefresher(StacCatalog catalog, FloeOptions options, ILogger<StacRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(Math.Max(1, options.Server.StacRefreshSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await catalog.RefreshAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "STAC catalog refresh failed: {Message}", e.Message);
            }

            try
            {
                await Task.Delay(period, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
