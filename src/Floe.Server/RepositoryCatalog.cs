using System.Collections.Concurrent;
using System.Text;
using Floe.Storage;
using Floe.Store;
using Floe.Store.Format;

namespace Floe.Server;

/// <summary>
/// The repositories of one object store: each lives under <c>repos/{name}/</c> in the on-store format, and a marker
/// <c>catalog/{name}</c> lists it without listing every object. Opened repositories are shared by every grain of
/// this process; the store's conditional writes keep several processes consistent.
/// </summary>
public sealed class RepositoryCatalog
{
    private const string CatalogPrefix = "catalog/";
    private const string RepositoryPrefix = "repos/";
    private readonly ConcurrentDictionary<string, Lazy<Task<Repository>>> _open = new(StringComparer.Ordinal);

    public RepositoryCatalog(IObjectStore store, RepositoryOptions options)
    {
        Store = store;
        Options = options;
    }

    public IObjectStore Store { get; }

    public RepositoryOptions Options { get; }

    /// <summary>1–63 characters of a-z 0-9 . _ -, starting with a letter or digit.</summary>
    public static void ValidateName(string name, string field = "repository")
    {
        if (string.IsNullOrEmpty(name))
        {
            throw Errors.InvalidArgument(field, "a repository name is required");
        }

        if (name.Length > 63 || !char.IsAsciiLetterLower(name[0]) && !char.IsAsciiDigit(name[0])
            || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-'))
        {
            throw Errors.InvalidArgument(field, $"\"{name}\" is not a repository name (1-63 characters of a-z 0-9 . _ -, starting with a letter or digit)");
        }
    }

    public IObjectStore StoreOf(string name) => new PrefixedObjectStore(Store, RepositoryPrefix + name + "/");

    public async Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken)
    {
        var names = new List<string>();
        string? token = null;
        do
        {
            var page = await Store.ListAsync(CatalogPrefix, token, 1000, cancellationToken);
            names.AddRange(page.Keys.Select(k => k[CatalogPrefix.Length..]));
            token = page.ContinuationToken;
        }
        while (token is not null);
        return names;
    }

    /// <summary>The open repository; <see cref="RepositoryNotFoundException"/> when there is none of that name.</summary>
    public async Task<Repository> OpenAsync(string name, CancellationToken cancellationToken)
    {
        ValidateName(name);
        var lazy = _open.GetOrAdd(name, n => new Lazy<Task<Repository>>(() => OpenStoredAsync(n)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (lazy.Value.IsFaulted)
        {
            // A failed open is not cached: the repository may be created a moment later.
            _open.TryRemove(KeyValuePair.Create(name, lazy));
            throw;
        }
    }

    /// <summary>Creates a repository. The catalog marker goes first, so two creators of one name cannot both win.</summary>
    public async Task<Repository> CreateAsync(string name, int refsPerShard, CancellationToken cancellationToken)
    {
        ValidateName(name);
        if (await Store.PutIfAbsentAsync(CatalogPrefix + name, Encoding.UTF8.GetBytes(name), cancellationToken) is null)
        {
            // A marker without a repository is the trace of a creation that died half-way: finish it.
            if (await StoreOf(name).GetAsync(RepositoryConfig.Key, cancellationToken) is not null)
            {
                throw new RepositoryExistsException(name);
            }
        }

        var options = refsPerShard > 0 ? Options with { RefsPerShard = refsPerShard } : Options;
        Repository repository;
        try
        {
            repository = await Repository.CreateAsync(StoreOf(name), options, cancellationToken);
        }
        catch (RepositoryException)
        {
            throw new RepositoryExistsException(name);
        }

        _open[name] = new Lazy<Task<Repository>>(Task.FromResult(repository));
        return repository;
    }

    /// <summary>
    /// Deletes every object of a repository: the configuration first, so that nobody opens a half-deleted one, then
    /// the rest, then the catalog marker. Returns the number of objects deleted.
    /// </summary>
    public async Task<long> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        ValidateName(name);
        var store = StoreOf(name);
        if (!await store.DeleteAsync(RepositoryConfig.Key, cancellationToken) && await Store.GetAsync(CatalogPrefix + name, cancellationToken) is null)
        {
            throw new RepositoryNotFoundException(name);
        }

        _open.TryRemove(name, out _);
        long deleted = 1;
        while (true)
        {
            var page = await store.ListAsync("", null, 1000, cancellationToken);
            if (page.Keys.Count == 0)
            {
                break;
            }

            foreach (var key in page.Keys)
            {
                if (await store.DeleteAsync(key, cancellationToken))
                {
                    deleted++;
                }
            }
        }

        await Store.DeleteAsync(CatalogPrefix + name, cancellationToken);
        return deleted;
    }

    private async Task<Repository> OpenStoredAsync(string name)
    {
        try
        {
            return await Repository.OpenAsync(StoreOf(name), Options, CancellationToken.None);
        }
        catch (RepositoryException)
        {
            throw new RepositoryNotFoundException(name);
        }
    }
}
