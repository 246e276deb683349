using Floe.Formats.Hdf5;
using Floe.Storage;

namespace Floe.Formats.NetCdf;

/// <summary>The kinds of file the readers recognise by their first bytes.</summary>
public enum SourceFormat
{
    Unknown,
    NetCdf3,
    Hdf5,
}

/// <summary>Reads any supported file (NetCDF-3, NetCDF4/HDF5) as virtual arrays, choosing the reader by the file's signature.</summary>
public static class VirtualFileReader
{
    private static readonly byte[] Hdf5Signature = [0x89, (byte)'H', (byte)'D', (byte)'F', (byte)'\r', (byte)'\n', 0x1a, (byte)'\n'];

    /// <summary>The format of a file's head: NetCDF-3 by "CDF" and a version byte 1, 2 or 5; HDF5 by its signature at 0, 512, 1024, ...</summary>
    public static SourceFormat Detect(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 4 && head[0] == 'C' && head[1] == 'D' && head[2] == 'F' && head[3] is 1 or 2 or 5)
        {
            return SourceFormat.NetCdf3;
        }

        for (var offset = 0; offset + Hdf5Signature.Length <= head.Length; offset = offset == 0 ? 512 : offset * 2)
        {
            if (head.Slice(offset, Hdf5Signature.Length).SequenceEqual(Hdf5Signature))
            {
                return SourceFormat.Hdf5;
            }
        }

        return SourceFormat.Unknown;
    }

    /// <summary>Reads a file as virtual arrays; a file of neither format fails with a <see cref="FormatException"/> naming it.</summary>
    public static async Task<VirtualDataset> ReadAsync(
        IByteRangeSource source, string location, CachingRangeReaderOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var reader = new CachingRangeReader(source, location, options);
        return await ReadAsync(reader, cancellationToken);
    }

    /// <summary>The format of the file a reader reads, from the head it fetches first (no extra request).</summary>
    public static async Task<SourceFormat> DetectAsync(CachingRangeReader reader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var length = await reader.GetLengthAsync(cancellationToken);
        var head = await reader.ReadAsync(0, (int)Math.Min(length, 8), cancellationToken);
        var format = Detect(head.Span);
        for (long offset = 512; format == SourceFormat.Unknown && offset + 8 <= length; offset *= 2)
        {
            var probe = await reader.ReadAsync(offset, 8, cancellationToken);
            format = probe.Span.SequenceEqual(Hdf5Signature) ? SourceFormat.Hdf5 : SourceFormat.Unknown;
        }

        return format;
    }

    /// <summary>Reads a file as virtual arrays through a reader; a file of neither format fails naming it.</summary>
    public static async Task<VirtualDataset> ReadAsync(CachingRangeReader reader, CancellationToken cancellationToken = default) =>
        await DetectAsync(reader, cancellationToken) switch
        {
            SourceFormat.NetCdf3 => NetCdf3Mapping.ToVirtualDataset(await NetCdf3Reader.ReadAsync(reader, cancellationToken)),
            SourceFormat.Hdf5 => await NetCdf4Reader.ToVirtualAsync(await Hdf5File.OpenAsync(reader, cancellationToken), cancellationToken),
            _ => throw new FormatException($"{reader.Location}: neither NetCDF-3 (\"CDF\" and version 1, 2 or 5) nor HDF5 (no signature at 0, 512, 1024, ...)"),
        };
}
