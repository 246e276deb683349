using Floe.Core;
using Floe.Store.Format;

namespace Floe.Store;

/// <summary>
/// Where a chunk's encoded bytes are: inline in the manifest, a native object in the store, or a range of a source
/// file. <see cref="Codecs"/>, when set, are the codecs this one chunk is stored with instead of its array's.
/// </summary>
public abstract record ChunkRef
{
    /// <summary>
    /// The chunk's own codecs, where they differ from the array's: each source file's packing parameters (ERA5
    /// files each carry their own scale_factor and add_offset), or an HDF5 chunk stored with some filters skipped.
    /// They must decode to the array's data type and chunk shape. Null: the array's codecs.
    /// </summary>
    public ChunkCodecs? Codecs { get; init; }
}

/// <summary>Small chunks kept in the manifest itself.</summary>
public sealed record InlineChunkRef(ReadOnlyMemory<byte> Data) : ChunkRef
{
    public bool Equals(InlineChunkRef? other) => other is not null && Codecs == other.Codecs && Data.Span.SequenceEqual(other.Data.Span);

    public override int GetHashCode() => Data.Length;
}

/// <summary>A chunk written by Floe to <c>chunks/{id}</c>.</summary>
public sealed record NativeChunkRef(ObjectId Id, long Length) : ChunkRef;

/// <summary>
/// A byte range of a file elsewhere. <paramref name="Etag"/> and <paramref name="LastModified"/>, when given,
/// are the source's version when recorded; a read of a changed source fails instead of returning other bytes.
/// </summary>
public sealed record VirtualChunkRef(string Location, long Offset, long Length, string? Etag = null, DateTimeOffset? LastModified = null) : ChunkRef;

/// <summary>
/// A codec list for one chunk, kept as its canonical JSON (what the manifest stores and what equality compares) with
/// the parsed specs beside it.
/// </summary>
public sealed class ChunkCodecs : IEquatable<ChunkCodecs>
{
    private ChunkCodecs(string json, IReadOnlyList<CodecSpec> specs)
    {
        Json = json;
        Specs = specs;
    }

    /// <summary>The codec list as compact JSON, as zarr.json's "codecs" is written.</summary>
    public string Json { get; }

    public IReadOnlyList<CodecSpec> Specs { get; }

    public static ChunkCodecs From(IEnumerable<CodecSpec> codecs)
    {
        ArgumentNullException.ThrowIfNull(codecs);
        var specs = codecs.ToArray();
        return specs.Length == 0
            ? throw new ArgumentException("a chunk's codec list is empty", nameof(codecs))
            : new ChunkCodecs(CodecSpec.ListToJson(specs), specs);
    }

    /// <summary>Parses a codec list's JSON; throws <see cref="FormatException"/>.</summary>
    public static ChunkCodecs Parse(string json)
    {
        var specs = CodecSpec.ParseList(json);
        return specs.Count == 0 ? throw new FormatException("a chunk's codec list is empty") : new ChunkCodecs(CodecSpec.ListToJson(specs), specs);
    }

    /// <summary>The array's metadata with these codecs in place of its own: what decodes the chunk.</summary>
    public ArrayMetadata Apply(ArrayMetadata metadata) => metadata with { Codecs = Specs };

    public bool Equals(ChunkCodecs? other) => other is not null && string.Equals(Json, other.Json, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as ChunkCodecs);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Json);

    public override string ToString() => Json;

    public static bool operator ==(ChunkCodecs? a, ChunkCodecs? b) => a is null ? b is null : a.Equals(b);

    public static bool operator !=(ChunkCodecs? a, ChunkCodecs? b) => !(a == b);
}
