namespace Floe.Store;

/// <summary>Node paths: "/" is the root group, others "/a" or "/a/b" (spec: Ids, node paths).</summary>
public static class NodePath
{
    public const string Root = "/";

    /// <summary>Returns the normalized path or throws ArgumentException naming it.</summary>
    public static string Normalize(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path == Root)
        {
            return path;
        }

        var trimmed = path.EndsWith('/') ? path[..^1] : path;
        if (!trimmed.StartsWith('/'))
        {
            trimmed = "/" + trimmed;
        }

        foreach (var name in trimmed[1..].Split('/'))
        {
            ValidateName(name, path);
        }

        return trimmed;
    }

    public static void ValidateName(string name, string path)
    {
        if (name.Length is 0 or > 255 || name is "." or ".." || name.Any(char.IsControl) || name.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"invalid node path '{path}': name '{name}' must be 1-255 characters, not '.' or '..', without '/' or control characters", nameof(path));
        }
    }

    public static string Parent(string path)
    {
        if (path == Root)
        {
            throw new ArgumentException("the root group has no parent", nameof(path));
        }

        var i = path.LastIndexOf('/');
        return i == 0 ? Root : path[..i];
    }

    public static string Name(string path) => path == Root ? "" : path[(path.LastIndexOf('/') + 1)..];

    public static string Combine(string parent, string name) => parent == Root ? "/" + name : parent + "/" + name;

    /// <summary>True when <paramref name="path"/> is strictly below <paramref name="ancestor"/>.</summary>
    public static bool IsDescendant(string path, string ancestor) =>
        ancestor == Root ? path != Root : path.Length > ancestor.Length + 1 && path.StartsWith(ancestor, StringComparison.Ordinal) && path[ancestor.Length] == '/';
}
