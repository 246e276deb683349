using System.IO.Enumeration;
using System.Text;
using System.Text.RegularExpressions;

namespace Floe.Ingest.Sources;

/// <summary>
/// Local files matching a glob, as absolute paths sorted ordinally. '*' and '?' match within a name, '[abc]',
/// '[a-z]' and '[!abc]' match one character of a class, and a whole '**' segment matches any number of directories
/// ('dir/**' is every file under dir). As in shells, wildcards do not match a leading '.', '**' does not enter
/// hidden or symbolically linked directories, and there is no escape character ('[*]' matches a literal '*').
/// A relative pattern is resolved against the current directory.
/// </summary>
/// <remarks>
/// The walk goes directory by directory, sorting each one's entries with directories keyed as "name/"; that keeps
/// the whole stream in ordinal order of full path without listing the tree first.
/// </remarks>
public sealed class GlobSource : SourceSet
{
    private readonly string _baseDirectory;
    private readonly Segment[] _segments;

    public GlobSource(string pattern)
        : this(pattern, Directory.GetCurrentDirectory())
    {
    }

    internal GlobSource(string pattern, string currentDirectory)
    {
        if (string.IsNullOrWhiteSpace(pattern))
        {
            throw new ArgumentException($"The glob pattern '{pattern}' is empty.", nameof(pattern));
        }

        Pattern = pattern;
        var full = Path.Combine(currentDirectory, pattern);
        var root = Path.GetPathRoot(full) ?? "";
        var names = full[root.Length..]
            .Split(['/', Path.DirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries)
            .ToList();
        if (names.Count == 0)
        {
            throw new ArgumentException($"The glob pattern '{pattern}' names no file.", nameof(pattern));
        }

        // Leading names without wildcards form the directory the walk starts in (the last name is always matched).
        var literal = names.TakeWhile(name => !HasWildcard(name)).Take(names.Count - 1).Count();
        _baseDirectory = Path.GetFullPath(Path.Join([root, .. names.Take(literal)]));
        var segments = new List<Segment>();
        foreach (var name in names.Skip(literal))
        {
            if (name == "..")
            {
                throw new ArgumentException($"The glob pattern '{pattern}' has '..' after a wildcard.", nameof(pattern));
            }

            if (name == "." || (name == "**" && segments.Count > 0 && segments[^1].IsGlobStar))
            {
                continue;
            }

            segments.Add(Segment.Parse(name, pattern));
        }

        if (segments[^1].IsGlobStar)
        {
            segments.Add(Segment.Parse("*", pattern));
        }

        _segments = [.. segments];
    }

    public string Pattern { get; }

    public override string Description => $"glob {Path.Join(_baseDirectory, string.Join('/', _segments.Select(s => s.Text)))}";

    public override IAsyncEnumerable<SourceFile> EnumerateAsync(long fromOrdinal = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromOrdinal);
        return Enumerate(fromOrdinal, cancellationToken).ToAsyncEnumerable();
    }

    /// <summary>The matching paths in order, synchronously (the walk is synchronous file-system access anyway).</summary>
    internal IEnumerable<string> EnumeratePaths(CancellationToken cancellationToken = default) =>
        Directory.Exists(_baseDirectory) ? Walk(_baseDirectory, Closure([0]), cancellationToken) : [];

    private IEnumerable<SourceFile> Enumerate(long fromOrdinal, CancellationToken cancellationToken)
    {
        long ordinal = 0;
        foreach (var path in EnumeratePaths(cancellationToken))
        {
            if (ordinal >= fromOrdinal)
            {
                yield return new SourceFile(path, ordinal);
            }

            ordinal++;
        }
    }

    // States are indexes of the segment still to match, as in a small NFA, so overlapping '**' never yields twice.
    private IEnumerable<string> Walk(string directory, List<int> states, CancellationToken cancellationToken)
    {
        foreach (var entry in Entries(directory, states))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = Path.Join(directory, entry.Name);
            if (!entry.IsDirectory)
            {
                if (states.Any(s => s == _segments.Length - 1 && _segments[s].Matches(entry.Name)))
                {
                    yield return path;
                }

                continue;
            }

            var next = new List<int>();
            foreach (var s in states.Where(s => s < _segments.Length - 1))
            {
                if (_segments[s].IsGlobStar)
                {
                    if (!entry.IsLink && entry.Name[0] != '.')
                    {
                        next.Add(s);
                    }
                }
                else if (_segments[s].Matches(entry.Name))
                {
                    next.Add(s + 1);
                }
            }

            if (next.Count > 0)
            {
                foreach (var match in Walk(path, Closure(next), cancellationToken))
                {
                    yield return match;
                }
            }
        }
    }

    /// <summary>A '**' state also stands for the segment after it (zero directories).</summary>
    private List<int> Closure(List<int> states)
    {
        var closed = new List<int>();
        foreach (var state in states)
        {
            for (var s = state; ; s++)
            {
                if (!closed.Contains(s))
                {
                    closed.Add(s);
                }

                if (!_segments[s].IsGlobStar)
                {
                    break;
                }
            }
        }

        return closed;
    }

    private readonly record struct Entry(string Name, bool IsDirectory, bool IsLink);

    private List<Entry> Entries(string directory, List<int> states)
    {
        List<Entry> entries;
        if (states.All(s => _segments[s].Literal is not null))
        {
            // Only exact names are wanted here: look them up instead of listing a possibly huge directory.
            entries = [];
            foreach (var name in states.Select(s => _segments[s].Literal!).Distinct())
            {
                var path = Path.Join(directory, name);
                if (Directory.Exists(path))
                {
                    entries.Add(new Entry(name, IsDirectory: true, IsLink: false));
                }
                else if (File.Exists(path))
                {
                    entries.Add(new Entry(name, IsDirectory: false, IsLink: false));
                }
            }
        }
        else
        {
            var options = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false };
            try
            {
                entries = [.. new FileSystemEnumerable<Entry>(
                    directory,
                    (ref FileSystemEntry e) => new Entry(e.FileName.ToString(), e.IsDirectory, (e.Attributes & FileAttributes.ReparsePoint) != 0),
                    options)];
            }
            catch (DirectoryNotFoundException)
            {
                // Removed while we walked: it has no files now.
                return [];
            }
        }

        entries.Sort((a, b) => string.CompareOrdinal(SortKey(a), SortKey(b)));
        return entries;
    }

    private static string SortKey(Entry entry) => entry.IsDirectory ? entry.Name + "/" : entry.Name;

    private static bool HasWildcard(string name) => name.AsSpan().IndexOfAny('*', '?', '[') >= 0;

    private sealed class Segment
    {
        private readonly Regex? _regex;

        private Segment(string text, string? literal, Regex? regex)
        {
            Text = text;
            Literal = literal;
            _regex = regex;
        }

        public string Text { get; }

        /// <summary>The exact name to match, for a segment without wildcards.</summary>
        public string? Literal { get; }

        public bool IsGlobStar => Text == "**";

        public static Segment Parse(string text, string pattern)
        {
            if (text == "**")
            {
                return new Segment(text, null, null);
            }

            if (!HasWildcard(text))
            {
                return new Segment(text, text, null);
            }

            var regex = new StringBuilder("^");
            for (var i = 0; i < text.Length; i++)
            {
                switch (text[i])
                {
                    case '*':
                        regex.Append(".*");
                        break;
                    case '?':
                        regex.Append('.');
                        break;
                    case '[':
                        i = AppendClass(text, i, regex, pattern);
                        break;
                    default:
                        regex.Append(Regex.Escape(text[i].ToString()));
                        break;
                }
            }

            try
            {
                return new Segment(text, null, new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant | RegexOptions.Singleline));
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"The glob pattern '{pattern}' has an invalid character class in '{text}': {ex.Message}", nameof(pattern), ex);
            }
        }

        public bool Matches(string name)
        {
            if (Literal is not null)
            {
                return name == Literal;
            }

            // Hidden names match only a segment that itself starts with '.'.
            return (name[0] != '.' || Text[0] == '.') && _regex!.IsMatch(name);
        }

        /// <summary>Appends the class starting at <paramref name="open"/> and returns the index of its ']'.</summary>
        private static int AppendClass(string text, int open, StringBuilder regex, string pattern)
        {
            var i = open + 1;
            var negate = i < text.Length && text[i] is '!' or '^';
            if (negate)
            {
                i++;
            }

            // A ']' right after the opening is a member, as in shells.
            var close = text.IndexOf(']', i < text.Length && text[i] == ']' ? i + 1 : i);
            if (close < 0)
            {
                throw new ArgumentException($"The glob pattern '{pattern}' has an unclosed '[' in '{text}'.", nameof(pattern));
            }

            regex.Append(negate ? "[^" : "[");
            for (var j = i; j < close; j++)
            {
                var c = text[j];
                var isRange = c == '-' && j > i && j < close - 1;
                regex.Append(isRange || c is not ('\\' or ']' or '[' or '^' or '-') ? c.ToString() : "\\" + c);
            }

            regex.Append(']');
            return close;
        }
    }
}
