using System.Collections.Concurrent;
using System.IO.Compression;
using Floe.Core;

namespace Floe.Parquet.Internal;

/// <summary>Page compression for the writer. One instance per writer; Compress is thread-safe (contexts are pooled).</summary>
internal sealed class PageCompressor(ParquetCompression compression, int level) : IDisposable
{
    private readonly ConcurrentBag<Zstd.Compressor> _zstd = [];

    public CodecKind Kind { get; } = compression switch
    {
        ParquetCompression.Uncompressed => CodecKind.Uncompressed,
        ParquetCompression.Snappy => CodecKind.Snappy,
        ParquetCompression.Zstd => CodecKind.Zstd,
        ParquetCompression.Gzip => CodecKind.Gzip,
        _ => throw new NotSupportedException($"Parquet compression {compression} cannot be written; use Uncompressed, Snappy, Zstd or Gzip."),
    };

    /// <summary>Appends the compressed form of <paramref name="data"/> to <paramref name="output"/>; returns its length.</summary>
    public int Compress(ReadOnlySpan<byte> data, ByteBuffer output)
    {
        switch (Kind)
        {
            case CodecKind.Uncompressed:
                output.Write(data);
                return data.Length;
            case CodecKind.Snappy:
                {
                    var written = Snappy.Compress(data, output.GetSpan(Snappy.MaxCompressedLength(data.Length)));
                    output.Advance(written);
                    return written;
                }

            case CodecKind.Zstd:
                {
                    if (!_zstd.TryTake(out var compressor))
                    {
                        compressor = new Zstd.Compressor(level);
                    }

                    try
                    {
                        var written = compressor.Compress(data, output.GetSpan(Zstd.CompressBound(data.Length)));
                        output.Advance(written);
                        return written;
                    }
                    finally
                    {
                        _zstd.Add(compressor);
                    }
                }

            default:
                {
                    using var stream = new MemoryStream();
                    using (var gzip = new GZipStream(stream, GzipLevel(level), leaveOpen: true))
                    {
                        gzip.Write(data);
                    }

                    output.Write(stream.GetBuffer().AsSpan(0, (int)stream.Length));
                    return (int)stream.Length;
                }
        }
    }

    private static CompressionLevel GzipLevel(int level) => level switch
    {
        <= 0 => CompressionLevel.NoCompression,
        <= 3 => CompressionLevel.Fastest,
        <= 6 => CompressionLevel.Optimal,
        _ => CompressionLevel.SmallestSize,
    };

    public void Dispose()
    {
        while (_zstd.TryTake(out var compressor))
        {
            compressor.Dispose();
        }
    }
}

/// <summary>Page decompression for the reader.</summary>
internal static class PageDecompressor
{
    [ThreadStatic]
    private static Zstd.Decompressor? _threadDecompressor;

    /// <summary>Decompresses <paramref name="data"/> into exactly <paramref name="output"/>.Length bytes; throws <see cref="InvalidDataException"/> when it cannot.</summary>
    public static void Decompress(CodecKind codec, ReadOnlySpan<byte> data, Span<byte> output)
    {
        int written;
        switch (codec)
        {
            case CodecKind.Uncompressed:
                if (data.Length != output.Length)
                {
                    throw new InvalidDataException($"uncompressed page holds {data.Length} bytes but declares {output.Length}");
                }

                data.CopyTo(output);
                return;
            case CodecKind.Snappy:
                written = Snappy.Decompress(data, output);
                break;
            case CodecKind.Zstd:
                try
                {
                    _threadDecompressor ??= new Zstd.Decompressor();
                    written = _threadDecompressor.Decompress(data, output);
                }
                catch (CodecException ex)
                {
                    throw new InvalidDataException(ex.Message, ex);
                }

                break;
            case CodecKind.Gzip:
                written = Inflate(data, output);
                break;
            default:
                throw new NotSupportedException($"compression {Names.Of(codec)} is not supported (only UNCOMPRESSED, SNAPPY, GZIP and ZSTD)");
        }

        if (written != output.Length)
        {
            throw new InvalidDataException($"page decompresses to {written} bytes but declares {output.Length}");
        }
    }

    private static unsafe int Inflate(ReadOnlySpan<byte> data, Span<byte> output)
    {
        fixed (byte* pointer = data)
        {
            using var source = new UnmanagedMemoryStream(pointer, data.Length);

            // Parquet's GZIP is the gzip format, but some writers store zlib streams; accept both.
            Stream inflater = data.Length >= 2 && data[0] == 0x1F && data[1] == 0x8B
                ? new GZipStream(source, CompressionMode.Decompress)
                : new ZLibStream(source, CompressionMode.Decompress);
            using (inflater)
            {
                var total = 0;
                while (total < output.Length)
                {
                    var read = inflater.Read(output[total..]);
                    if (read == 0)
                    {
                        break;
                    }

                    total += read;
                }

                Span<byte> probe = stackalloc byte[1];
                if (total == output.Length && inflater.Read(probe) != 0)
                {
                    throw new InvalidDataException($"gzip page decompresses to more than the {output.Length} bytes it declares");
                }

                return total;
            }
        }
    }
}
