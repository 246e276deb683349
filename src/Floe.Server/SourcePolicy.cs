namespace Floe.Server;

/// <summary>
/// Which locations clients may make the server read: chunk references they write and ingestion sources they name
/// (docs/api.md). Without it a client could point a reference at any file the server can open and read it back.
/// </summary>
public sealed class SourcePolicy
{
    private readonly List<string> _allowed;

    public SourcePolicy(IEnumerable<string> allowed)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        _allowed = allowed.Where(a => !string.IsNullOrWhiteSpace(a)).Select(Normalize).ToList();
    }

    public IReadOnlyList<string> Allowed => _allowed;

    /// <summary>Refuses (PERMISSION_DENIED, naming <paramref name="field"/>) a location outside every allowed prefix.</summary>
    public void Check(string location, string field)
    {
        if (string.IsNullOrWhiteSpace(location))
        {
            throw Errors.InvalidArgument(field, "a location is required");
        }

        var normalized = Normalize(location);
        if (_allowed.Any(prefix => normalized.StartsWith(prefix, StringComparison.Ordinal)))
        {
            return;
        }

        var hint = _allowed.Count == 0 ? "the server allows no source locations (set Floe:Sources:Allowed)" : $"allowed: {string.Join(", ", _allowed)}";
        throw new Rpc.RpcException(new Rpc.Status(Rpc.StatusCode.PermissionDenied, $"{field}: \"{location}\" is outside the allowed source locations; {hint}"));
    }

    /// <summary>
    /// Local paths become absolute with "." and ".." resolved (so "/data/../etc" cannot pass as "/data/");
    /// URLs get a lower-case scheme and host with dot segments resolved.
    /// </summary>
    private static string Normalize(string location)
    {
        location = location.Trim();
        if (location.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
        {
            location = new Uri(location).LocalPath;
        }

        if (location.Contains("://", StringComparison.Ordinal))
        {
            return Uri.TryCreate(location, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Path) : location;
        }

        var full = Path.GetFullPath(location);
        return location.EndsWith('/') && !full.EndsWith('/') ? full + "/" : full;
    }
}
