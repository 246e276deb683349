using System.Runtime.InteropServices;

namespace Floe.Core;

/// <summary>Zstandard one-shot compression through the system's libzstd.so.1 (.NET has no built-in zstd).</summary>
public static partial class Zstd
{
    private const string Library = "libzstd.so.1";
    private const ulong ContentSizeUnknown = ulong.MaxValue;
    private const ulong ContentSizeError = ulong.MaxValue - 1;
    private const int ErrorDstSizeTooSmall = 70;
    private const int ParamCompressionLevel = 100;
    private const int ParamContentSizeFlag = 200;
    private const int ParamChecksumFlag = 201;

    // Frames without a content size are decoded by doubling a buffer; this caps the doubling so a
    // hostile frame cannot make us allocate without bound (Array.MaxLength is the hard limit anyway).
    private const int MaxUnknownSizeOutput = int.MaxValue - 64;

    public const int MinLevel = -131072;
    public const int MaxLevel = 22;

    public static byte[] Compress(ReadOnlySpan<byte> data, int level = 3) => Compress(data, level, checksum: false);

    /// <summary>Compresses one frame; <paramref name="checksum"/> adds zstd's XXH64 content checksum (Zarr's "checksum": true).</summary>
    public static byte[] Compress(ReadOnlySpan<byte> data, int level, bool checksum) =>
        Compress(data, level, checksum, includeContentSize: true);

    internal static unsafe byte[] Compress(ReadOnlySpan<byte> data, int level, bool checksum, bool includeContentSize)
    {
        if (level is < MinLevel or > MaxLevel)
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, $"zstd levels run from {MinLevel} to {MaxLevel}.");
        }

        var bound = Native.ZSTD_compressBound((nuint)data.Length);
        var output = new byte[checked((int)bound)];
        nuint written;
        byte dummy = 0;
        fixed (byte* src = data)
        fixed (byte* dst = output)
        {
            // libzstd accepts NULL only with size 0 in some versions; never hand it one.
            var s = src is null ? &dummy : src;
            if (!checksum && includeContentSize)
            {
                written = Native.ZSTD_compress(dst, (nuint)output.Length, s, (nuint)data.Length, level);
            }
            else
            {
                var cctx = Native.ZSTD_createCCtx();
                if (cctx == 0)
                {
                    throw new OutOfMemoryException("ZSTD_createCCtx failed.");
                }

                try
                {
                    Check(Native.ZSTD_CCtx_setParameter(cctx, ParamCompressionLevel, level));
                    Check(Native.ZSTD_CCtx_setParameter(cctx, ParamChecksumFlag, checksum ? 1 : 0));
                    Check(Native.ZSTD_CCtx_setParameter(cctx, ParamContentSizeFlag, includeContentSize ? 1 : 0));
                    written = Native.ZSTD_compress2(cctx, dst, (nuint)output.Length, s, (nuint)data.Length);
                }
                finally
                {
                    Native.ZSTD_freeCCtx(cctx);
                }
            }
        }

        Check(written);
        Array.Resize(ref output, (int)written);
        return output;
    }

    /// <summary>Decompresses a frame sized from its header, or by growing a buffer when the header has no size.</summary>
    public static byte[] Decompress(ReadOnlySpan<byte> frame)
    {
        var size = FrameContentSize(frame);
        if (size is { } known)
        {
            if (known > Array.MaxLength)
            {
                throw new CodecException($"zstd frame declares {known} bytes, more than an array can hold.");
            }

            var output = new byte[known];
            if (TryDecompress(frame, output, out var written))
            {
                return written == output.Length ? output : output[..written];
            }

            // Concatenated frames decode to more than the first header says; fall through and grow.
        }

        return DecompressGrowing(frame, Math.Max(frame.Length * 4, 4096));
    }

    /// <summary>Decompresses into <paramref name="destination"/> and returns the number of bytes written.</summary>
    public static int Decompress(ReadOnlySpan<byte> frame, Span<byte> destination)
    {
        if (!TryDecompress(frame, destination, out var written))
        {
            throw new CodecException($"zstd: Destination buffer is too small ({destination.Length} bytes).");
        }

        return written;
    }

    /// <summary>The decompressed size the frame header declares, or null when the frame does not record it.</summary>
    public static unsafe long? FrameContentSize(ReadOnlySpan<byte> frame)
    {
        ulong size;
        fixed (byte* src = frame)
        {
            size = frame.IsEmpty ? ContentSizeError : Native.ZSTD_getFrameContentSize(src, (nuint)frame.Length);
        }

        return size switch
        {
            ContentSizeUnknown => null,
            ContentSizeError => throw new CodecException($"zstd: not a zstd frame ({frame.Length} bytes, starting {Convert.ToHexString(frame[..Math.Min(frame.Length, 8)])})."),
            > long.MaxValue => throw new CodecException($"zstd: frame declares an impossible size {size}."),
            _ => (long)size,
        };
    }

    private static byte[] DecompressGrowing(ReadOnlySpan<byte> frame, int capacity)
    {
        while (true)
        {
            var buffer = new byte[capacity];
            if (TryDecompress(frame, buffer, out var written))
            {
                return buffer[..written];
            }

            if (capacity >= MaxUnknownSizeOutput)
            {
                throw new CodecException($"zstd: frame decompresses to more than {MaxUnknownSizeOutput} bytes.");
            }

            capacity = (int)Math.Min((long)capacity * 2, MaxUnknownSizeOutput);
        }
    }

    // False only when the destination is too small; every other zstd error throws.
    private static unsafe bool TryDecompress(ReadOnlySpan<byte> frame, Span<byte> destination, out int written)
    {
        nuint result;
        byte dummy = 0;
        fixed (byte* src = frame)
        fixed (byte* dst = destination)
        {
            result = Native.ZSTD_decompress(dst is null ? &dummy : dst, (nuint)destination.Length, src is null ? &dummy : src, (nuint)frame.Length);
        }

        if (Native.ZSTD_isError(result) != 0)
        {
            if (Native.ZSTD_getErrorCode(result) == ErrorDstSizeTooSmall)
            {
                written = 0;
                return false;
            }

            throw new CodecException($"zstd: {ErrorName(result)}.");
        }

        written = (int)result;
        return true;
    }

    private static void Check(nuint code)
    {
        if (Native.ZSTD_isError(code) != 0)
        {
            throw new CodecException($"zstd: {ErrorName(code)}.");
        }
    }

    private static unsafe string ErrorName(nuint code) =>
        Marshal.PtrToStringUTF8((nint)Native.ZSTD_getErrorName(code)) ?? $"error {code}";

    private static unsafe partial class Native
    {
        [LibraryImport(Library)]
        internal static partial nuint ZSTD_compressBound(nuint srcSize);

        [LibraryImport(Library)]
        internal static partial nuint ZSTD_compress(byte* dst, nuint dstCapacity, byte* src, nuint srcSize, int compressionLevel);

        [LibraryImport(Library)]
        internal static partial nuint ZSTD_decompress(byte* dst, nuint dstCapacity, byte* src, nuint compressedSize);

        [LibraryImport(Library)]
        internal static partial ulong ZSTD_getFrameContentSize(byte* src, nuint srcSize);

        [LibraryImport(Library)]
        internal static partial uint ZSTD_isError(nuint code);

        [LibraryImport(Library)]
        internal static partial byte* ZSTD_getErrorName(nuint code);

        [LibraryImport(Library)]
        internal static partial int ZSTD_getErrorCode(nuint functionResult);

        [LibraryImport(Library)]
        internal static partial nint ZSTD_createCCtx();

        [LibraryImport(Library)]
        internal static partial nuint ZSTD_freeCCtx(nint cctx);

        [LibraryImport(Library)]
        internal static partial nuint ZSTD_CCtx_setParameter(nint cctx, int param, int value);

        [LibraryImport(Library)]
        internal static partial nuint ZSTD_compress2(nint cctx, byte* dst, nuint dstCapacity, byte* src, nuint srcSize);
    }
}
