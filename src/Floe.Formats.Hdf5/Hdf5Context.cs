using Floe.Storage;

namespace Floe.Formats.Hdf5;

/// <summary>
/// What every structure parser of one open file needs: the metadata reader, the file's address and length sizes
/// from the superblock, and the file's name for errors.
/// </summary>
public sealed class Hdf5Context
{
    /// <summary>A context whose sizes are unknown yet (8-byte addresses and lengths until the superblock says otherwise).</summary>
    public Hdf5Context(CachingRangeReader reader)
    {
        Reader = reader ?? throw new ArgumentNullException(nameof(reader));
    }

    public CachingRangeReader Reader { get; }

    public string Location => Reader.Location;

    /// <summary>Size in bytes of a file address ("size of offsets").</summary>
    public int OffsetSize { get; set; } = 8;

    /// <summary>Size in bytes of an object length ("size of lengths").</summary>
    public int LengthSize { get; set; } = 8;

    /// <summary>Absolute file offset that relative addresses count from (the superblock's base address).</summary>
    public long BaseAddress { get; set; }

    /// <summary>Group B-tree leaf K (a symbol table node holds 2K entries); 4 unless the superblock says otherwise.</summary>
    public int GroupLeafK { get; set; } = 4;

    /// <summary>Group B-tree internal node K; 16 unless the superblock says otherwise.</summary>
    public int GroupInternalK { get; set; } = 16;

    /// <summary>Chunk B-tree internal node K; 32 unless the superblock (version 1) or its extension says otherwise.</summary>
    public int ChunkBTreeK { get; set; } = 32;

    /// <summary>The file's length in bytes, once known; addresses beyond it are corrupt.</summary>
    public long FileLength { get; set; } = long.MaxValue;

    /// <summary>
    /// Reads <paramref name="length"/> bytes at a file address (relative to the base address). A range outside the
    /// file throws <see cref="Hdf5FormatException"/> naming <paramref name="objectPath"/> and <paramref name="what"/>.
    /// </summary>
    public async ValueTask<FieldBlock> ReadAsync(long address, int length, string? objectPath, string what, CancellationToken cancellationToken = default)
    {
        var offset = BaseAddress + address;
        if (address < 0 || length < 0 || offset > FileLength - length)
        {
            throw new Hdf5FormatException(Location, objectPath, offset,
                $"{what}: {length} bytes at address {address} lie outside the file ({FileLength} bytes)");
        }

        try
        {
            var data = await Reader.ReadAsync(offset, length, cancellationToken);
            return new FieldBlock(data, offset);
        }
        catch (SourceReadException ex) when (ex is not SourceNotFoundException)
        {
            throw new Hdf5FormatException(Location, objectPath, offset, $"{what}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Reads <paramref name="length"/> bytes at an absolute file offset (raw data such as chunks, whose offsets are
    /// already absolute).
    /// </summary>
    public ValueTask<FieldBlock> ReadAbsoluteAsync(long offset, int length, string? objectPath, string what, CancellationToken cancellationToken = default) =>
        offset < BaseAddress
            ? throw new Hdf5FormatException(Location, objectPath, offset, $"{what}: offset {offset} is before the base address {BaseAddress}")
            : ReadAsync(offset - BaseAddress, length, objectPath, what, cancellationToken);

    /// <summary>
    /// Asks the reader to fetch these (address, length) ranges together, merging neighbours into few requests. A hint
    /// only: ranges outside the file are dropped and a failed fetch is left for the real read to report.
    /// </summary>
    public async ValueTask PrefetchAsync(List<(long Address, int Length)> ranges, CancellationToken cancellationToken = default)
    {
        if (ranges.Count == 0)
        {
            return;
        }

        var absolute = new List<(long, int)>(ranges.Count);
        foreach (var (address, length) in ranges)
        {
            var offset = BaseAddress + address;
            if (address >= 0 && length > 0 && offset < FileLength)
            {
                absolute.Add((offset, (int)Math.Min(length, FileLength - offset)));
            }
        }

        if (absolute.Count == 0)
        {
            return;
        }

        try
        {
            await Reader.PrefetchAsync(absolute, cancellationToken);
        }
        catch (SourceReadException ex) when (ex is not SourceNotFoundException)
        {
            // The reads that follow report the failure with the structure they need.
        }
    }

    /// <summary>A cursor over a block read with <see cref="ReadAsync"/>.</summary>
    public FieldReader Cursor(FieldBlock block, string? objectPath, string what) => new(block.Data.Span, block.Offset, this, objectPath, what);

    /// <summary>An error at an absolute file offset.</summary>
    public Hdf5FormatException Error(string? objectPath, long offset, string message) => new(Location, objectPath, offset, message);

    /// <summary>A refusal of a valid but unsupported feature at an absolute file offset.</summary>
    public Hdf5NotSupportedException NotSupported(string? objectPath, long offset, string message) => new(Location, objectPath, offset, message);

    /// <summary>
    /// The largest metadata structure (object header chunk, heap block, huge heap object) read in one piece; larger
    /// sizes come from corrupt fields and would only exhaust memory.
    /// </summary>
    public const int MaxStructureBytes = 256 << 20;

    /// <summary>A structure size as an int, or a format error when it is negative, larger than the file or than <see cref="MaxStructureBytes"/>.</summary>
    public int StructureSize(long size, string? objectPath, long offset, string what) =>
        size >= 0 && size <= MaxStructureBytes && size <= FileLength
            ? (int)size
            : throw Error(objectPath, offset, $"{what} of {size} bytes is larger than the file or the {MaxStructureBytes}-byte limit");

    /// <summary>True for the all-ones "undefined address".</summary>
    public static bool IsUndefined(long address) => address == UndefinedAddress;

    /// <summary>How <see cref="FieldReader.Offset"/> returns the all-ones undefined address.</summary>
    public const long UndefinedAddress = -1;
}

/// <summary>Bytes read at an absolute file offset.</summary>
public readonly record struct FieldBlock(ReadOnlyMemory<byte> Data, long Offset);
