namespace Floe.Server;

/// <summary>The "Floe" configuration section (docs/api.md: Server configuration).</summary>
public sealed class FloeOptions
{
    /// <summary>
    /// The object store: a directory holding the embedded filesystem store, or an Azure Blob container
    /// (<c>az://CONTAINER[/PREFIX]</c> or <c>https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX]</c>).
    /// </summary>
    public string Store { get; set; } = "floe-data";

    /// <summary>The Azure connection string of an az:// store (from a Secret); empty: $AZURE_STORAGE_CONNECTION_STRING.</summary>
    public string? StoreConnectionString { get; set; }

    public ServerSection Server { get; set; } = new();

    public SourcesSection Sources { get; set; } = new();

    public AuthSection Auth { get; set; } = new();
}

public sealed class ServerSection
{
    /// <summary>gRPC addresses (HTTP/2; comma-separated).</summary>
    public string Listen { get; set; } = "http://127.0.0.1:7700";

    /// <summary>A plain HTTP/1.1 address for health probes (and later the Zarr view and STAC API); empty: none.</summary>
    public string HttpListen { get; set; } = "http://127.0.0.1:7701";

    public int MaxReceiveMessageBytes { get; set; } = 16 << 20;

    public int MaxSendMessageBytes { get; set; } = 16 << 20;

    public double SessionIdleMinutes { get; set; } = 30;

    public long ShardCacheBytes { get; set; } = 512L << 20;

    public double ShardIdleMinutes { get; set; } = 10;

    /// <summary>Bytes that ReadChunks and ReadRegion streams may fetch ahead of their writers, all streams together.</summary>
    public long ReadAheadBytes { get; set; } = 64L << 20;

    /// <summary>A PEM certificate; when set (with its key) the server listens with TLS.</summary>
    public string? Certificate { get; set; }

    public string? CertificateKey { get; set; }

    /// <summary>Where export jobs write (one folder per repository); empty: a directory "STORE-exports" beside the store.</summary>
    public string? ExportRoot { get; set; }

    /// <summary>The URL clients reach the HTTP port at (behind a proxy or ingress); empty: taken from each request's scheme and host.</summary>
    public string PublicUrl { get; set; } = "";

    /// <summary>The gRPC address STAC datacube items name; empty: the first address the server listens on.</summary>
    public string PublicGrpcUrl { get; set; } = "";

    /// <summary>Seconds between rereads of the STAC catalog for changes other processes made (exports, commits).</summary>
    public double StacRefreshSeconds { get; set; } = 60;

    /// <summary>The memory budget of one export job (a day's values and the row groups in flight).</summary>
    public long ExportMemoryBytes { get; set; } = 2L << 30;
}

public sealed class SourcesSection
{
    /// <summary>Location prefixes that chunk references and ingestion sources may name.</summary>
    public List<string> Allowed { get; set; } = [];

    /// <summary>Connection strings for Azure source locations, per prefix (the longest matching prefix wins).</summary>
    public List<SourceCredentialEntry> Credentials { get; set; } = [];
}

/// <summary>Source locations starting with <see cref="Prefix"/> are read with this connection string (never stored in a repository).</summary>
public sealed class SourceCredentialEntry
{
    /// <summary>az://CONTAINER/… or https://ACCOUNT.blob.core.windows.net/CONTAINER/….</summary>
    public string Prefix { get; set; } = "";

    public string ConnectionString { get; set; } = "";
}

public sealed class AuthSection
{
    /// <summary>Repositories (or "*") that callers without a token may read.</summary>
    public List<string> AnonymousRead { get; set; } = [];

    public List<TokenEntry> Tokens { get; set; } = [];
}

/// <summary>A bearer token, kept as the hex SHA-256 of the token, and what it may do.</summary>
public sealed class TokenEntry
{
    public string Name { get; set; } = "";

    public string Sha256 { get; set; } = "";

    public List<string> Read { get; set; } = [];

    public List<string> Write { get; set; } = [];
}
