using System.Buffers.Binary;

namespace Floe.Core.Tests;

internal static class TestData
{
    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Smooth float32 samples (compressible, like real measurements), little-endian.</summary>
    public static byte[] Float32Wave(int count, int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[count * 4];
        for (var i = 0; i < count; i++)
        {
            var value = (float)((Math.Sin(i / 25.0) * 100) + random.NextDouble());
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), value);
        }

        return bytes;
    }

    public static byte[] Int16Ramp(int count)
    {
        var bytes = new byte[count * 2];
        for (var i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(i * 2), (short)((i * 37) - 20000));
        }

        return bytes;
    }

    /// <summary>Reverses the bytes of each <paramref name="size"/>-byte element (an independent big-endian conversion).</summary>
    public static byte[] SwapEach(byte[] data, int size)
    {
        var swapped = (byte[])data.Clone();
        for (var i = 0; i < swapped.Length; i += size)
        {
            Array.Reverse(swapped, i, size);
        }

        return swapped;
    }

    /// <summary>An array of n uint8 elements in one chunk, with the given codecs after "bytes".</summary>
    public static ArrayMetadata Bytes(int n, params CodecSpec[] bytesToBytes) =>
        ArrayMetadata.Create([n], DataType.UInt8, [n], [new CodecSpec("bytes"), .. bytesToBytes]);
}
