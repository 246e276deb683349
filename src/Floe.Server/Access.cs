using System.Security.Cryptography;
using System.Text;
using Floe.Rpc;

namespace Floe.Server;

public enum Permission
{
    Read,
    Write,
}

/// <summary>Who is calling: a named token, or nobody (anonymous).</summary>
public sealed class Caller
{
    private readonly HashSet<string> _read;
    private readonly HashSet<string> _write;

    private Caller(string? name, IEnumerable<string> read, IEnumerable<string> write)
    {
        Name = name;
        _write = new HashSet<string>(write, StringComparer.Ordinal);
        _read = new HashSet<string>(read.Concat(_write), StringComparer.Ordinal);
    }

    /// <summary>The token's configured name, null for anonymous callers. Logs use this, never the token.</summary>
    public string? Name { get; }

    public bool IsAnonymous => Name is null;

    public static Caller Anonymous(IEnumerable<string> anonymousRead) => new(null, anonymousRead, []);

    public static Caller ForToken(TokenEntry token) => new(token.Name, token.Read, token.Write);

    public bool May(Permission permission, string repository)
    {
        var set = permission == Permission.Write ? _write : _read;
        return set.Contains("*") || set.Contains(repository);
    }
}

/// <summary>
/// Bearer-token authentication and per-repository permissions (docs/api.md: Access). Tokens are compared by
/// their SHA-256, so the configuration never holds a usable token.
/// </summary>
public sealed class AccessPolicy
{
    public const string CallerItem = "floe.caller";

    private readonly Dictionary<string, TokenEntry> _byHash;
    private readonly Caller _anonymous;

    public AccessPolicy(AuthSection auth)
    {
        ArgumentNullException.ThrowIfNull(auth);
        _byHash = new Dictionary<string, TokenEntry>(StringComparer.Ordinal);
        for (var i = 0; i < auth.Tokens.Count; i++)
        {
            var token = auth.Tokens[i];
            var hash = token.Sha256.Trim().ToLowerInvariant();
            if (hash.Length != 64 || !hash.All(Uri.IsHexDigit))
            {
                throw new ArgumentException($"Floe:Auth:Tokens:{i}:Sha256 ({token.Name}): expected 64 hex digits, the SHA-256 of the token (floe token create makes one)");
            }

            if (string.IsNullOrWhiteSpace(token.Name))
            {
                throw new ArgumentException($"Floe:Auth:Tokens:{i}:Name: every token needs a name (logs name tokens by it)");
            }

            if (!_byHash.TryAdd(hash, token))
            {
                throw new ArgumentException($"Floe:Auth:Tokens:{i}:Sha256 ({token.Name}): the same token is configured twice");
            }
        }

        _anonymous = Caller.Anonymous(auth.AnonymousRead);
        TokenCount = _byHash.Count;
    }

    public int TokenCount { get; }

    /// <summary>The hex SHA-256 of a token, as the configuration keeps it.</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>A new random token: 32 bytes, URL-safe base64, prefixed so that it is recognisable in a secret scanner.</summary>
    public static string NewToken() => "floe_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The caller an authorization header names; an unknown or malformed token is UNAUTHENTICATED.</summary>
    public Caller Authenticate(string? authorization)
    {
        if (string.IsNullOrEmpty(authorization))
        {
            return _anonymous;
        }

        const string scheme = "Bearer ";
        if (!authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || authorization.Length == scheme.Length)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "authorization: expected \"Bearer TOKEN\""));
        }

        return _byHash.TryGetValue(Hash(authorization[scheme.Length..].Trim()), out var token)
            ? Caller.ForToken(token)
            : throw new RpcException(new Status(StatusCode.Unauthenticated, "authorization: unknown token"));
    }

    /// <summary>Refuses the call unless <paramref name="caller"/> may read or write <paramref name="repository"/>.</summary>
    public static void Require(Caller caller, Permission permission, string repository)
    {
        if (caller.May(permission, repository))
        {
            return;
        }

        var what = permission == Permission.Write ? "write" : "read";
        throw caller.IsAnonymous
            ? new RpcException(new Status(StatusCode.Unauthenticated, $"repository '{repository}': {what} needs a token (authorization: Bearer TOKEN)"))
            : new RpcException(new Status(StatusCode.PermissionDenied, $"repository '{repository}': token '{caller.Name}' may not {what} it"));
    }
}
