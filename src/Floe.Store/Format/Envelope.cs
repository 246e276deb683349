using System.Buffers.Binary;
using Floe.Core;

namespace Floe.Store.Format;

/// <summary>The 16-byte header every stored object but native chunks starts with (spec: Envelope).</summary>
public static class Envelope
{
    public const int HeaderLength = 16;
    public const byte FormatVersion = 1;
    private const byte CompressionNone = 0;
    private const byte CompressionZstd = 1;
    private static ReadOnlySpan<byte> Magic => "FLOE"u8;

    public static byte[] Seal(ObjectType type, ReadOnlySpan<byte> payload, bool compress, int zstdLevel = 3)
    {
        var stored = compress ? Zstd.Compress(payload, zstdLevel) : payload.ToArray();
        var result = new byte[HeaderLength + stored.Length];
        Magic.CopyTo(result);
        result[4] = FormatVersion;
        result[5] = (byte)type;
        result[6] = compress ? CompressionZstd : CompressionNone;
        result[7] = 0;
        stored.CopyTo(result.AsSpan(HeaderLength));
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(12), checked((uint)payload.Length));
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(8), Checksum(result));
        return result;
    }

    // Everything but the checksum field itself: the header's version, type, compression and length are covered too.
    private static uint Checksum(ReadOnlySpan<byte> sealedObject) =>
        Crc32C.Append(Crc32C.Compute(sealedObject[..8]), sealedObject[12..]);

    /// <summary>Checks the header and checksum and returns the decompressed payload.</summary>
    public static byte[] Open(string key, ObjectType expectedType, ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderLength)
        {
            throw new CorruptObjectException(key, $"{data.Length} bytes is shorter than the {HeaderLength}-byte header (truncated?)");
        }

        if (!data[..4].SequenceEqual(Magic))
        {
            throw new CorruptObjectException(key, "wrong magic: not a Floe object");
        }

        if (data[4] != FormatVersion)
        {
            throw new UnsupportedFormatVersionException(key, data[4]);
        }

        if (data[5] != (byte)expectedType)
        {
            throw new CorruptObjectException(key, $"object type {data[5]}, expected {(byte)expectedType} ({expectedType})");
        }

        var stored = data[HeaderLength..];
        var expectedCrc = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        var actualCrc = Checksum(data);
        if (expectedCrc != actualCrc)
        {
            throw new ChecksumMismatchException(key, expectedCrc, actualCrc);
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(data[12..]);
        switch (data[6])
        {
            case CompressionNone:
                if (stored.Length != length)
                {
                    throw new CorruptObjectException(key, $"payload is {stored.Length} bytes, header says {length}");
                }

                return stored.ToArray();
            case CompressionZstd:
                long? declared;
                try
                {
                    declared = Zstd.FrameContentSize(stored);
                }
                catch (CodecException e)
                {
                    throw new CorruptObjectException(key, $"payload is not a zstd frame: {e.Message}");
                }

                if (declared != length)
                {
                    throw new CorruptObjectException(key, $"zstd frame declares {declared?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no"} bytes, header says {length}");
                }

                var payload = new byte[length];
                int written;
                try
                {
                    written = Zstd.Decompress(stored, payload);
                }
                catch (CodecException e)
                {
                    throw new CorruptObjectException(key, $"zstd payload does not decompress: {e.Message}");
                }

                if (written != length)
                {
                    throw new CorruptObjectException(key, $"payload decompresses to {written} bytes, header says {length}");
                }

                return payload;
            default:
                throw new CorruptObjectException(key, $"unknown compression {data[6]}");
        }
    }
}
