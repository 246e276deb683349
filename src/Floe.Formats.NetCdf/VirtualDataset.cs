using System.Text.Json.Nodes;
using Floe.Core;
using Floe.Storage;

namespace Floe.Formats.NetCdf;

/// <summary>
/// One source file read as Floe groups and arrays whose chunks are byte ranges of that file: what ingestion
/// turns into virtual chunk references. Produced by <c>NetCdf3Reader</c> (classic and 64-bit offset files) and by the
/// NetCDF4/HDF5 mapping.
/// </summary>
/// <param name="Location">The file's location as given to the reader (path or URL).</param>
/// <param name="Source">The file's size and version when it was read; chunk refs record it.</param>
/// <param name="Format">"netcdf3-classic", "netcdf3-64bit-offset", "netcdf3-64bit-data", "netcdf4" or "hdf5".</param>
/// <param name="Groups">Every group, the root ("/") first, parents before children.</param>
/// <param name="Arrays">Every array that maps to Floe, in file order.</param>
/// <param name="Skipped">Objects that do not map to Floe arrays (for example compound or string datasets), each with the reason.</param>
/// <param name="Requests">Requests sent to the source to read the file's structure.</param>
/// <param name="BytesRead">Bytes fetched to read the file's structure.</param>
public sealed record VirtualDataset(
    string Location,
    SourceInfo Source,
    string Format,
    IReadOnlyList<VirtualGroup> Groups,
    IReadOnlyList<VirtualArray> Arrays,
    IReadOnlyList<SkippedObject> Skipped,
    int Requests,
    long BytesRead)
{
    /// <summary>Times the reader waited on the source; requests sent together count once.</summary>
    public int RoundTrips { get; init; }
}

/// <summary>A group: its absolute path ("/" for the root) and its attributes as Zarr attributes.</summary>
public sealed record VirtualGroup(string Path, JsonObject Attributes);

/// <summary>
/// An array: its absolute path, its Floe metadata (shape, data type, chunk shape, fill value, the codecs that decode
/// its stored chunks, dimension names, attributes) and its stored chunks. Chunks absent from the list read as the
/// fill value.
/// </summary>
public sealed record VirtualArray(string Path, ArrayMetadata Metadata, IReadOnlyList<VirtualChunk> Chunks)
{
    /// <summary>
    /// For HDF5 sources: the index in <see cref="ArrayMetadata.Codecs"/> of the codec standing for filter i of the
    /// file's filter pipeline, so that a chunk's <see cref="VirtualChunk.FilterMask"/> can name codecs to skip.
    /// </summary>
    public IReadOnlyList<int> FilterCodecs { get; init; } = [];

    /// <summary>
    /// The metadata that decodes one chunk: <see cref="Metadata"/> without the codecs of the filters the chunk's
    /// mask says were not applied to it.
    /// </summary>
    public ArrayMetadata MetadataFor(VirtualChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (chunk.FilterMask == 0)
        {
            return Metadata;
        }

        var skipped = new HashSet<int>();
        for (var filter = 0; filter < FilterCodecs.Count; filter++)
        {
            if ((chunk.FilterMask & (1u << filter)) != 0)
            {
                skipped.Add(FilterCodecs[filter]);
            }
        }

        return Metadata with { Codecs = [.. Metadata.Codecs.Where((_, i) => !skipped.Contains(i))] };
    }
}

/// <summary>
/// One stored chunk: its chunk-grid coordinates and either a byte range of the source file or, for small and
/// compact data, the stored bytes themselves. <paramref name="FilterMask"/> is HDF5's per-chunk mask: bit i set
/// means filter i of the file's pipeline was not applied to this chunk, so it must not be undone on read.
/// </summary>
public sealed record VirtualChunk(long[] Index, long Offset, long Length, uint FilterMask = 0, byte[]? Inline = null);

/// <summary>An object that has no Floe array form, and why.</summary>
public sealed record SkippedObject(string Path, string Reason);
