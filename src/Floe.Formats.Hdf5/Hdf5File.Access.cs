using System.Buffers.Binary;
using Floe.Storage;

namespace Floe.Formats.Hdf5;

/// <summary>Entry points for callers that share the file's reader or need raw bytes and single values.</summary>
public sealed partial class Hdf5File
{
    /// <summary>Opens an HDF5 file through a reader that may already hold its head (as when the format was detected from it).</summary>
    public static async Task<Hdf5File> OpenAsync(CachingRangeReader reader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var context = new Hdf5Context(reader);
        var file = new Hdf5File(context);
        await Guard(file, null, async () =>
        {
            context.FileLength = await reader.GetLengthAsync(cancellationToken);
            await file.LoadAsync(cancellationToken);
            return true;
        });
        return file;
    }

    /// <summary>Stored bytes at an absolute file offset (for inlining small chunks), read through the file's cache.</summary>
    public async ValueTask<byte[]> ReadStoredBytesAsync(long offset, int length, string? objectPath, CancellationToken cancellationToken = default)
    {
        var block = await _context.ReadAsync(offset - _context.BaseAddress, length, objectPath, "stored data", cancellationToken);
        return block.Data.ToArray();
    }

    /// <summary>One element of a fixed-size numeric, string or compound type, decoded as attribute values are.</summary>
    public static object? DecodeElement(Hdf5Datatype datatype, ReadOnlySpan<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(datatype);
        return bytes.Length < datatype.Size ? null : datatype.Class switch
        {
            Hdf5DatatypeClass.FixedPoint => ValueDecoder.DecodeInteger(datatype, bytes[..datatype.Size]),
            Hdf5DatatypeClass.Enum when datatype.BaseType is { } baseType => ValueDecoder.DecodeInteger(baseType, bytes[..datatype.Size]),
            Hdf5DatatypeClass.FloatingPoint => Float(datatype, bytes[..datatype.Size]),
            _ => null,
        };
    }

    // IEEE floats of either byte order; other layouts (VAX, custom) have no plain value.
    private static object? Float(Hdf5Datatype datatype, ReadOnlySpan<byte> bytes)
    {
        var big = datatype.IsBigEndian;
        return datatype.Size switch
        {
            2 => big ? BinaryPrimitives.ReadHalfBigEndian(bytes) : BinaryPrimitives.ReadHalfLittleEndian(bytes),
            4 => big ? BinaryPrimitives.ReadSingleBigEndian(bytes) : BinaryPrimitives.ReadSingleLittleEndian(bytes),
            8 => big ? BinaryPrimitives.ReadDoubleBigEndian(bytes) : BinaryPrimitives.ReadDoubleLittleEndian(bytes),
            _ => null,
        };
    }
}
