using System.Buffers.Binary;
using System.Text;

namespace Floe.Formats.Hdf5;

/// <summary>
/// A little-endian cursor over bytes read from a file. Every read is bounds-checked and a short read throws
/// <see cref="Hdf5FormatException"/> naming the file, object path, structure, field and absolute offset, so no
/// parser can fail with an IndexOutOfRangeException.
/// </summary>
public ref struct FieldReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly long _fileOffset;
    private readonly Hdf5Context _context;
    private readonly string? _objectPath;
    private readonly string _what;
    private int _position;

    /// <param name="data">The bytes.</param>
    /// <param name="fileOffset">Absolute file offset of <paramref name="data"/>[0], for error messages.</param>
    /// <param name="context">The file (sizes of offsets and lengths, name).</param>
    /// <param name="objectPath">The object being read, for errors; null when not known.</param>
    /// <param name="what">The structure being read, for errors ("object header", "v1 B-tree node").</param>
    public FieldReader(ReadOnlySpan<byte> data, long fileOffset, Hdf5Context context, string? objectPath, string what)
    {
        _data = data;
        _fileOffset = fileOffset;
        _context = context ?? throw new ArgumentNullException(nameof(context));
        _objectPath = objectPath;
        _what = what;
    }

    /// <summary>Position within the bytes.</summary>
    public int Position
    {
        readonly get => _position;
        set
        {
            if (value < 0 || value > _data.Length)
            {
                throw Error($"position {value} is outside the {_data.Length}-byte {_what}");
            }

            _position = value;
        }
    }

    /// <summary>Absolute file offset of the current position.</summary>
    public readonly long FileOffset => _fileOffset + _position;

    public readonly int Remaining => _data.Length - _position;

    /// <summary>The file's size of offsets (addresses).</summary>
    public readonly int OffsetSizeOf => _context.OffsetSize;

    public readonly int Length => _data.Length;

    /// <summary>The bytes from <paramref name="start"/> to the current position (for checksums).</summary>
    public readonly ReadOnlySpan<byte> Consumed(int start) => _data[start.._position];

    public byte U8(string field) => Take(1, field)[0];

    public ushort U16(string field) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, field));

    public uint U32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, field));

    public ulong U64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, field));

    /// <summary>An unsigned little-endian integer of 1 to 8 bytes.</summary>
    public ulong UInt(int size, string field)
    {
        if (size is < 0 or > 8)
        {
            throw Error($"{field} has an invalid size of {size} bytes");
        }

        var bytes = Take(size, field);
        ulong value = 0;
        for (var i = size - 1; i >= 0; i--)
        {
            value = (value << 8) | bytes[i];
        }

        return value;
    }

    /// <summary>A file address of the superblock's offset size; the all-ones undefined address is returned as -1.</summary>
    public long Offset(string field) => ToAddress(UInt(_context.OffsetSize, field), _context.OffsetSize, field);

    /// <summary>A length of the superblock's length size; a value beyond <see cref="long.MaxValue"/> throws.</summary>
    public long LengthField(string field)
    {
        var start = FileOffset;
        var value = UInt(_context.LengthSize, field);
        return value <= long.MaxValue ? (long)value : throw _context.Error(_objectPath, start, $"{_what}: {field} is {value}, too large");
    }

    /// <summary>A non-negative integer of 1 to 8 bytes that must fit in an int (a count or size used to allocate).</summary>
    public int Count(int size, string field, int max = int.MaxValue)
    {
        var start = FileOffset;
        var value = UInt(size, field);
        return value <= (ulong)max ? (int)value : throw _context.Error(_objectPath, start, $"{_what}: {field} is {value}, more than the {max} allowed");
    }

    public ReadOnlySpan<byte> Bytes(int count, string field) => Take(count, field);

    public void Skip(int count, string field) => Take(count, field);

    /// <summary>Checks a 4-byte ASCII signature such as "OHDR".</summary>
    public void Signature(string expected)
    {
        var start = FileOffset;
        var actual = Take(expected.Length, "signature");
        if (!actual.SequenceEqual(Encoding.ASCII.GetBytes(expected)))
        {
            throw _context.Error(_objectPath, start, $"{_what}: expected signature \"{expected}\", found \"{Printable(actual)}\"");
        }
    }

    /// <summary>A NUL-terminated ASCII/UTF-8 string; with <paramref name="padTo"/>, the cursor then moves to the next multiple of it.</summary>
    public string NulTerminated(string field, int padTo = 1)
    {
        var start = _position;
        var rest = _data[_position..];
        var end = rest.IndexOf((byte)0);
        if (end < 0)
        {
            throw Error($"{field} has no terminating NUL");
        }

        var text = Encoding.UTF8.GetString(rest[..end]);
        var consumed = end + 1;
        if (padTo > 1)
        {
            consumed = (consumed + padTo - 1) / padTo * padTo;
        }

        _position = start + Math.Min(consumed, rest.Length);
        return text;
    }

    /// <summary>
    /// Reads the 4-byte lookup3 checksum at the current position and checks it against the bytes from
    /// <paramref name="start"/> up to it.
    /// </summary>
    public void Checksum(int start)
    {
        if (start < 0 || start > _position)
        {
            throw Error($"checksum start {start} is past the position {_position}");
        }

        var computed = Lookup3.Hash(_data[start.._position]);
        var at = FileOffset;
        var stored = U32("checksum");
        if (stored != computed)
        {
            throw _context.Error(_objectPath, at, $"{_what}: checksum mismatch (stored 0x{stored:x8}, computed 0x{computed:x8})");
        }
    }

    /// <summary>A byte at <paramref name="position"/> without moving the cursor.</summary>
    public readonly byte PeekAt(int position, string field) =>
        position >= 0 && position < _data.Length ? _data[position] : throw Error($"truncated: {field} at {position} is outside the {_data.Length}-byte {_what}");

    /// <summary>The bytes from the current position to the end, without moving the cursor.</summary>
    public readonly ReadOnlySpan<byte> Rest => _data[_position..];

    /// <summary>An error at the current position naming the structure.</summary>
    public readonly Hdf5FormatException Error(string message) => _context.Error(_objectPath, FileOffset, $"{_what}: {message}");

    private ReadOnlySpan<byte> Take(int count, string field)
    {
        if (count < 0 || count > _data.Length - _position)
        {
            throw Error($"truncated: {field} needs {count} bytes, {_data.Length - _position} remain");
        }

        var span = _data.Slice(_position, count);
        _position += count;
        return span;
    }

    private readonly long ToAddress(ulong value, int size, string field)
    {
        var undefined = size == 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
        if (value == undefined)
        {
            return Hdf5Context.UndefinedAddress;
        }

        return value <= long.MaxValue ? (long)value : throw Error($"{field} address {value} is too large");
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var builder = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            builder.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
        }

        return builder.ToString();
    }
}
