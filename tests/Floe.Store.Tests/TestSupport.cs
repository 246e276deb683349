using System.Buffers.Binary;
using Floe.Core;
using Floe.Storage;
using Floe.Store.Format;

namespace Floe.Store.Tests;

/// <summary>A fresh directory under the system temp directory, removed on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Join(System.IO.Path.GetTempPath(), "floe-store-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(string relative) => System.IO.Path.Join(Path, relative);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory must not fail a test.
        }
    }
}

/// <summary>Small builders shared by the tests.</summary>
internal static class TestData
{
    public static Task<Repository> NewMemoryRepositoryAsync(RepositoryOptions? options = null) =>
        Repository.CreateAsync(new MemoryObjectStore(), options);

    /// <summary>An int32 array with the default (bytes, little-endian) codec and the given fill value.</summary>
    public static ArrayMetadata Int32Array(long[] shape, int[] chunkShape, int fill = 0) =>
        ArrayMetadata.Create(shape, DataType.Int32, chunkShape) with { FillValue = FillValue.FromDouble(DataType.Int32, fill) };

    public static byte[] Int32Bytes(params int[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }

    public static int[] Int32Values(ReadOnlySpan<byte> bytes)
    {
        var values = new int[bytes.Length / 4];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(i * 4)..]);
        }

        return values;
    }

    public static double[] Float64Values(ReadOnlySpan<byte> bytes)
    {
        var values = new double[bytes.Length / 8];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes[(i * 8)..]);
        }

        return values;
    }

    /// <summary>A whole int32 chunk of <paramref name="elements"/> values all equal to <paramref name="value"/>.</summary>
    public static byte[] FilledInt32Chunk(int elements, int value) => Int32Bytes(Enumerable.Repeat(value, elements).ToArray());

    public static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Every chunk coordinate of a grid, in C order.</summary>
    public static IEnumerable<long[]> GridCoords(long[] grid)
    {
        if (grid.Any(g => g == 0))
        {
            yield break;
        }

        var coords = new long[grid.Length];
        while (true)
        {
            yield return (long[])coords.Clone();
            var d = grid.Length - 1;
            while (d >= 0 && ++coords[d] >= grid[d])
            {
                coords[d] = 0;
                d--;
            }

            if (d < 0)
            {
                yield break;
            }
        }
    }

    public static async Task<List<Snapshot>> LogAsync(Repository repository, string reference = "main")
    {
        var log = new List<Snapshot>();
        await foreach (var snapshot in repository.LogAsync(reference))
        {
            log.Add(snapshot);
        }

        return log;
    }

    public static async Task<List<string>> KeysAsync(IObjectStore store, string prefix)
    {
        var keys = new List<string>();
        string? token = null;
        do
        {
            var page = await store.ListAsync(prefix, token);
            keys.AddRange(page.Keys);
            token = page.ContinuationToken;
        }
        while (token is not null);
        return keys;
    }

    /// <summary>The payload of a stored object, through the envelope (which checks it).</summary>
    public static async Task<byte[]> PayloadAsync(IObjectStore store, string key, ObjectType type)
    {
        var stored = await store.GetAsync(key) ?? throw new InvalidOperationException($"no object {key}");
        return Envelope.Open(key, type, stored.Data.Span);
    }

    public static string Coords(long[] coords) => "[" + string.Join(", ", coords) + "]";
}

/// <summary>A bitwise CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the spec's checksum, computed independently of Floe.Core.</summary>
internal static class ReferenceCrc32C
{
    /// <summary>The envelope's checksum per the spec: bytes 0..8 followed by bytes 12..end (all but the field itself).</summary>
    public static uint OfEnvelope(ReadOnlySpan<byte> sealedObject) => Compute([.. sealedObject[..8], .. sealedObject[12..]]);

    /// <summary>Rewrites the checksum after a test edits the header, so the check behind the checksum is what fails.</summary>
    public static void Reseal(byte[] sealedObject) =>
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(sealedObject.AsSpan(8), OfEnvelope(sealedObject));

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }

        return ~crc;
    }
}
