namespace Floe.Storage.Azure;

/// <summary>
/// Where a storage account's Blob service is and how to sign requests to it, from an Azure-style connection string:
/// <c>DefaultEndpointsProtocol=https;AccountName=NAME;AccountKey=KEY;EndpointSuffix=core.windows.net</c>,
/// <c>BlobEndpoint=URL;SharedAccessSignature=SAS</c>, or <c>UseDevelopmentStorage=true</c> (Azurite on 127.0.0.1:10000).
/// </summary>
public sealed class AzureConnectionString
{
    /// <summary>The account name of the storage emulator.</summary>
    public const string DevelopmentAccount = "devstoreaccount1";

    /// <summary>The storage emulator's published well-known key (not a secret).</summary>
    public const string DevelopmentKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private AzureConnectionString(Uri blobEndpoint, string accountName, byte[]? accountKey, string? sharedAccessSignature)
    {
        BlobEndpoint = blobEndpoint;
        AccountName = accountName;
        AccountKey = accountKey;
        SharedAccessSignature = sharedAccessSignature;
    }

    /// <summary>The Blob service's base URL, ending in '/': https://ACCOUNT.blob.core.windows.net/ or, path-style, http://127.0.0.1:10000/ACCOUNT/.</summary>
    public Uri BlobEndpoint { get; }

    public string AccountName { get; }

    /// <summary>The decoded account key for SharedKey signing, or null.</summary>
    public byte[]? AccountKey { get; }

    /// <summary>A SAS token (query string without '?'), or null.</summary>
    public string? SharedAccessSignature { get; }

    /// <summary>How requests are authorized: "SharedKey", "SAS" or "anonymous".</summary>
    public string AuthKind => AccountKey is not null ? "SharedKey" : SharedAccessSignature is not null ? "SAS" : "anonymous";

    /// <summary>Parses a connection string; errors name the setting at fault and never echo a key or signature.</summary>
    public static AzureConnectionString Parse(string connectionString, string source = "connection string")
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new ArgumentException($"{source}: \"{Redact(part)}\" is not a NAME=VALUE setting");
            }

            var name = part[..eq].Trim();
            if (!settings.TryAdd(name, part[(eq + 1)..].Trim()))
            {
                throw new ArgumentException($"{source}: {name} is given twice");
            }
        }

        if (settings.Count == 0)
        {
            throw new ArgumentException($"{source}: empty; expected e.g. DefaultEndpointsProtocol=https;AccountName=NAME;AccountKey=KEY or UseDevelopmentStorage=true");
        }

        string? Get(string name) => settings.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

        if (Get("UseDevelopmentStorage") is { } development)
        {
            if (!development.Equals("true", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"{source}: UseDevelopmentStorage must be true when given");
            }

            var proxy = Get("DevelopmentStorageProxyUri")?.TrimEnd('/') ?? "http://127.0.0.1";
            return new AzureConnectionString(new Uri($"{proxy}:10000/{DevelopmentAccount}/"), DevelopmentAccount, Convert.FromBase64String(DevelopmentKey), null);
        }

        var account = Get("AccountName");
        Uri endpoint;
        if (Get("BlobEndpoint") is { } explicitEndpoint)
        {
            if (!Uri.TryCreate(explicitEndpoint, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
            {
                throw new ArgumentException($"{source}: BlobEndpoint \"{explicitEndpoint}\" is not an http(s) URL");
            }

            endpoint = new Uri(parsed.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/");
            account ??= AccountOf(endpoint);
        }
        else
        {
            if (account is null)
            {
                throw new ArgumentException($"{source}: AccountName (or BlobEndpoint) is required");
            }

            var protocol = Get("DefaultEndpointsProtocol") ?? "https";
            if (protocol is not ("http" or "https"))
            {
                throw new ArgumentException($"{source}: DefaultEndpointsProtocol must be http or https, not \"{protocol}\"");
            }

            endpoint = new Uri($"{protocol}://{account}.blob.{Get("EndpointSuffix") ?? "core.windows.net"}/");
        }

        if (account is null || account.Length is < 1 or > 64 || !account.All(char.IsAsciiLetterOrDigit))
        {
            throw new ArgumentException($"{source}: AccountName \"{account}\" is not a storage account name (letters and digits)");
        }

        byte[]? key = null;
        if (Get("AccountKey") is { } keyText)
        {
            try
            {
                key = Convert.FromBase64String(keyText);
            }
            catch (FormatException)
            {
                throw new ArgumentException($"{source}: AccountKey is not base64");
            }
        }

        var sas = Get("SharedAccessSignature")?.TrimStart('?');
        if (key is not null && sas is not null)
        {
            throw new ArgumentException($"{source}: give AccountKey or SharedAccessSignature, not both");
        }

        return new AzureConnectionString(endpoint, account, key, sas);
    }

    /// <summary>An anonymous (public-read) account at an endpoint.</summary>
    public static AzureConnectionString Anonymous(Uri blobEndpoint)
    {
        ArgumentNullException.ThrowIfNull(blobEndpoint);
        var endpoint = new Uri(blobEndpoint.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/");
        return new AzureConnectionString(endpoint, AccountOf(endpoint) ?? "anonymous", null, null);
    }

    public override string ToString() => $"{BlobEndpoint} ({AuthKind})";

    /// <summary>
    /// The Blob endpoint an account URL is under and the rest of its path: https://ACCOUNT.blob.SUFFIX/REST or, for
    /// path-style hosts (the emulator, custom domains), http://HOST/ACCOUNT/REST.
    /// </summary>
    public static (Uri Endpoint, string Path) SplitUrl(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var path = url.AbsolutePath.TrimStart('/');
        var account = url.Host.Contains(".blob.", StringComparison.OrdinalIgnoreCase) ? "" : path.Split('/', 2)[0] + "/";
        return (new Uri(url.GetLeftPart(UriPartial.Authority) + "/" + account), path.Length > account.Length ? path[account.Length..] : "");
    }

    // ACCOUNT.blob.SUFFIX, or the first path segment of a path-style (emulator) endpoint.
    private static string? AccountOf(Uri endpoint)
    {
        var dot = endpoint.Host.IndexOf(".blob.", StringComparison.OrdinalIgnoreCase);
        if (dot > 0)
        {
            return endpoint.Host[..dot];
        }

        var path = endpoint.AbsolutePath.Trim('/');
        return path.Length > 0 && !path.Contains('/', StringComparison.Ordinal) ? path : null;
    }

    private static string Redact(string part) => part.Length > 12 ? part[..12] + "…" : part;
}
