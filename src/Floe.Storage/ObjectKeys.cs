namespace Floe.Storage;

/// <summary>
/// Validation of object keys and listing prefixes. Keys are '/'-separated relative paths of printable ASCII
/// (0x20–0x7E) without a backslash, a leading '/', or empty, "." or ".." segments, so every backend can map a key
/// to a file path or a blob name without escaping and no key can reach outside a store's root.
/// </summary>
public static class ObjectKeys
{
    /// <summary>The longest key accepted, in characters; the common limit of cloud object stores.</summary>
    public const int MaxLength = 1024;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the key when it is not a valid key.</summary>
    public static void Validate(string key, string paramName = "key")
    {
        ArgumentNullException.ThrowIfNull(key, paramName);
        var problem = FindProblem(key, isPrefix: false);
        if (problem is not null)
        {
            throw new ArgumentException($"Invalid object key \"{Printable(key)}\": {problem}.", paramName);
        }
    }

    /// <summary>True when <paramref name="key"/> is a valid key.</summary>
    public static bool IsValid(string? key) => key is not null && FindProblem(key, isPrefix: false) is null;

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> naming the prefix when it is not a valid listing prefix. A prefix may
    /// be empty, end with '/' or end in the middle of a segment ("refs/bra"); its complete segments obey the key rules.
    /// </summary>
    public static void ValidatePrefix(string prefix, string paramName = "prefix")
    {
        ArgumentNullException.ThrowIfNull(prefix, paramName);
        var problem = FindProblem(prefix, isPrefix: true);
        if (problem is not null)
        {
            throw new ArgumentException($"Invalid key prefix \"{Printable(prefix)}\": {problem}.", paramName);
        }
    }

    /// <summary>True when <paramref name="segment"/> could be one segment of a key.</summary>
    public static bool IsValidSegment(ReadOnlySpan<char> segment)
    {
        if (segment.IsEmpty || segment is "." || segment is "..")
        {
            return false;
        }

        foreach (var c in segment)
        {
            if (!IsAllowedChar(c) || c == '/')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsAllowedChar(char c) => c is >= ' ' and <= '~' and not '\\';

    private static string? FindProblem(string value, bool isPrefix)
    {
        if (value.Length == 0)
        {
            return isPrefix ? null : "a key must not be empty";
        }

        if (value.Length > MaxLength)
        {
            return $"longer than {MaxLength} characters";
        }

        if (value[0] == '/')
        {
            return "must not start with '/'";
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\\')
            {
                return $"backslash at position {i}";
            }

            if (!IsAllowedChar(c))
            {
                return $"character U+{(int)c:X4} at position {i} is not printable ASCII";
            }
        }

        var start = 0;
        while (true)
        {
            var slash = value.IndexOf('/', start);
            if (slash < 0)
            {
                // The last segment of a prefix may be partial, so "", "." and ".." are fine there ("a/." matches "a/.x").
                if (!isPrefix)
                {
                    var last = value.AsSpan(start);
                    if (last.IsEmpty)
                    {
                        return "must not end with '/'";
                    }

                    if (last is "." or "..")
                    {
                        return $"segment \"{last}\" is not allowed";
                    }
                }

                return null;
            }

            var segment = value.AsSpan(start, slash - start);
            if (segment.IsEmpty)
            {
                return "empty segment";
            }

            if (segment is "." or "..")
            {
                return $"segment \"{segment}\" is not allowed";
            }

            start = slash + 1;
        }
    }

    // Keeps exception messages readable when the key holds control characters.
    private static string Printable(string value)
    {
        var shown = value.Length > 200 ? value[..200] + "..." : value;
        return string.Create(shown.Length, shown, static (span, s) =>
        {
            for (var i = 0; i < s.Length; i++)
            {
                span[i] = s[i] is >= ' ' and <= '~' ? s[i] : '?';
            }
        });
    }
}
