using Floe.Store.Format;

namespace Floe.Store;

/// <summary>Where a chunk's encoded bytes are: inline in the manifest, a native object in the store, or a range of a source file.</summary>
public abstract record ChunkRef;

/// <summary>Small chunks kept in the manifest itself.</summary>
public sealed record InlineChunkRef(ReadOnlyMemory<byte> Data) : ChunkRef
{
    public bool Equals(InlineChunkRef? other) => other is not null && Data.Span.SequenceEqual(other.Data.Span);

    public override int GetHashCode() => Data.Length;
}

/// <summary>A chunk written by Floe to <c>chunks/{id}</c>.</summary>
public sealed record NativeChunkRef(ObjectId Id, long Length) : ChunkRef;

/// <summary>
/// A byte range of a file elsewhere. <paramref name="Etag"/> and <paramref name="LastModified"/>, when given,
/// are the source's version when recorded; a read of a changed source fails instead of returning other bytes.
/// </summary>
public sealed record VirtualChunkRef(string Location, long Offset, long Length, string? Etag = null, DateTimeOffset? LastModified = null) : ChunkRef;
