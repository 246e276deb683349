using System.Runtime.InteropServices;

namespace Floe.Core;

public static partial class Zstd
{
    /// <summary>The largest frame <see cref="Compressor.Compress"/> can produce for <paramref name="length"/> input bytes.</summary>
    public static int CompressBound(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return checked((int)Native.ZSTD_compressBound((nuint)length));
    }

    /// <summary>
    /// A reusable compression context: compressing many buffers through one context avoids allocating
    /// zstd's working memory per call. Not thread-safe; use one per thread.
    /// </summary>
    public sealed class Compressor : IDisposable
    {
        private nint _context;

        public Compressor(int level = 3)
        {
            if (level is < MinLevel or > MaxLevel)
            {
                throw new ArgumentOutOfRangeException(nameof(level), level, $"zstd levels run from {MinLevel} to {MaxLevel}.");
            }

            Level = level;
            _context = Native.ZSTD_createCCtx();
            if (_context == 0)
            {
                throw new OutOfMemoryException("ZSTD_createCCtx failed.");
            }
        }

        public int Level { get; }

        /// <summary>Compresses one frame (with its content size) into <paramref name="destination"/>, which must hold <see cref="CompressBound"/> bytes; returns the frame's length.</summary>
        public unsafe int Compress(ReadOnlySpan<byte> data, Span<byte> destination)
        {
            ObjectDisposedException.ThrowIf(_context == 0, this);
            nuint written;
            byte dummy = 0;
            fixed (byte* src = data)
            fixed (byte* dst = destination)
            {
                written = Native.ZSTD_compressCCtx(
                    _context, dst is null ? &dummy : dst, (nuint)destination.Length, src is null ? &dummy : src, (nuint)data.Length, Level);
            }

            Check(written);
            return (int)written;
        }

        public void Dispose()
        {
            if (_context != 0)
            {
                Native.ZSTD_freeCCtx(_context);
                _context = 0;
            }
        }
    }

    /// <summary>A reusable decompression context. Not thread-safe; use one per thread.</summary>
    public sealed class Decompressor : IDisposable
    {
        private nint _context;

        public Decompressor()
        {
            _context = Native.ZSTD_createDCtx();
            if (_context == 0)
            {
                throw new OutOfMemoryException("ZSTD_createDCtx failed.");
            }
        }

        /// <summary>Decompresses <paramref name="frame"/> (one or more frames) into <paramref name="destination"/> and returns the number of bytes written.</summary>
        public unsafe int Decompress(ReadOnlySpan<byte> frame, Span<byte> destination)
        {
            ObjectDisposedException.ThrowIf(_context == 0, this);
            nuint result;
            byte dummy = 0;
            fixed (byte* src = frame)
            fixed (byte* dst = destination)
            {
                result = Native.ZSTD_decompressDCtx(
                    _context, dst is null ? &dummy : dst, (nuint)destination.Length, src is null ? &dummy : src, (nuint)frame.Length);
            }

            if (Native.ZSTD_isError(result) != 0)
            {
                throw new CodecException(Native.ZSTD_getErrorCode(result) == ErrorDstSizeTooSmall
                    ? $"zstd: Destination buffer is too small ({destination.Length} bytes)."
                    : $"zstd: {ErrorName(result)}.");
            }

            return (int)result;
        }

        public void Dispose()
        {
            if (_context != 0)
            {
                Native.ZSTD_freeDCtx(_context);
                _context = 0;
            }
        }
    }

    private static unsafe partial class Native
    {
        [LibraryImport(Library)]
        internal static partial nuint ZSTD_compressCCtx(nint cctx, byte* dst, nuint dstCapacity, byte* src, nuint srcSize, int compressionLevel);

        [LibraryImport(Library)]
        internal static partial nint ZSTD_createDCtx();

        [LibraryImport(Library)]
        internal static partial nuint ZSTD_freeDCtx(nint dctx);

        [LibraryImport(Library)]
        internal static partial nuint ZSTD_decompressDCtx(nint dctx, byte* dst, nuint dstCapacity, byte* src, nuint srcSize);
    }
}
