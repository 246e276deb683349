namespace Floe.Store;

/// <summary>The base of every error the versioned store raises on purpose.</summary>
public class FloeStoreException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A stored object is truncated, malformed or of the wrong type.</summary>
public class CorruptObjectException(string key, string detail)
    : FloeStoreException($"corrupt object '{key}': {detail}")
{
    public string Key { get; } = key;
}

/// <summary>A stored object names a format version this build does not read.</summary>
public sealed class UnsupportedFormatVersionException(string key, int version)
    : CorruptObjectException(key, $"unsupported format version {version} (this build reads version {Format.Envelope.FormatVersion})")
{
    public int Version { get; } = version;
}

/// <summary>A stored object's CRC-32C does not match its bytes.</summary>
public sealed class ChecksumMismatchException(string key, uint expected, uint actual)
    : CorruptObjectException(key, $"checksum mismatch: header says {expected:x8}, bytes give {actual:x8}");

/// <summary>An object the repository points at is missing from the store.</summary>
public sealed class MissingObjectException(string key, string referencedBy)
    : FloeStoreException($"object '{key}' is missing (referenced by {referencedBy})");

/// <summary>No repository exists (or one already exists) where one was expected.</summary>
public sealed class RepositoryException(string message) : FloeStoreException(message);

public sealed class BranchNotFoundException(string name) : FloeStoreException($"branch '{name}' does not exist")
{
    public string Name { get; } = name;
}

public sealed class TagNotFoundException(string name) : FloeStoreException($"tag '{name}' does not exist")
{
    public string Name { get; } = name;
}

public sealed class SnapshotNotFoundException(string id) : FloeStoreException($"snapshot '{id}' does not exist")
{
    public string Id { get; } = id;
}

/// <summary>A commit kept losing the race for its branch to other writers and stopped retrying; nothing was committed.</summary>
public sealed class BranchContentionException(string branch, int attempts)
    : FloeStoreException($"commit to branch '{branch}' gave up after {attempts} attempts: the branch kept moving")
{
    public string Branch { get; } = branch;
}

/// <summary>A reference that names no branch, tag or snapshot.</summary>
public sealed class ReferenceNotFoundException(string reference) : FloeStoreException($"'{reference}' is not a branch, tag or snapshot id")
{
    public string Reference { get; } = reference;
}

/// <summary>A branch or tag of that name exists already; tags are immutable.</summary>
public sealed class RefExistsException(string kind, string name)
    : FloeStoreException($"{kind} '{name}' already exists" + (kind == "tag" ? " (tags are immutable)" : ""));

public sealed class NodeNotFoundException(string path, string? detail = null)
    : FloeStoreException($"no node at '{path}'" + (detail is null ? "" : $": {detail}"))
{
    public string Path { get; } = path;
}

public sealed class NodeExistsException(string path) : FloeStoreException($"a node already exists at '{path}'")
{
    public string Path { get; } = path;
}

/// <summary>Chunk coordinates outside the array's chunk grid, or of the wrong rank.</summary>
public sealed class ChunkOutOfRangeException(string arrayPath, IReadOnlyList<long> coords, IReadOnlyList<long> gridShape)
    : FloeStoreException($"chunk [{string.Join(", ", coords)}] is outside the chunk grid [{string.Join(", ", gridShape)}] of array '{arrayPath}'")
{
    public string ArrayPath { get; } = arrayPath;
}

/// <summary>Data handed to or read from an array does not fit its data type or shape.</summary>
public sealed class ChunkDataException(string arrayPath, string detail)
    : FloeStoreException($"array '{arrayPath}': {detail}")
{
    public string ArrayPath { get; } = arrayPath;
}

/// <summary>A virtual chunk's source is missing, unreadable, too short or changed since it was recorded.</summary>
public sealed class VirtualChunkException(string location, string detail, Exception? inner = null)
    : FloeStoreException($"virtual chunk source '{location}': {detail}", inner)
{
    public string Location { get; } = location;
}

/// <summary>A commit lost the race for its branch and its changes overlap the winner's.</summary>
public sealed class ConflictException(string branch, IReadOnlyList<Conflict> conflicts)
    : FloeStoreException($"commit to branch '{branch}' conflicts with a concurrent commit: " +
        string.Join("; ", conflicts.Take(10).Select(c => c.ToString())) + (conflicts.Count > 10 ? $"; and {conflicts.Count - 10} more" : ""))
{
    public string Branch { get; } = branch;

    public IReadOnlyList<Conflict> Conflicts { get; } = conflicts;
}

/// <summary>One reason a rebase is impossible: a node or the chunks of an array both sides changed.</summary>
public sealed record Conflict(string Path, string Reason, IReadOnlyList<long[]>? Chunks = null)
{
    public override string ToString() => Chunks is { Count: > 0 }
        ? $"{Path}: {Reason} ({Chunks.Count} chunk(s), first [{string.Join(", ", Chunks[0])}])"
        : $"{Path}: {Reason}";
}
