using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Google.Protobuf;

namespace Floe.Rpc;

/// <summary>The parts of gRPC's HTTP/2 mapping that client and server share (PROTOCOL-HTTP2.md).</summary>
internal static class RpcWire
{
    public const string ContentType = "application/grpc";
    public const string StatusHeader = "grpc-status";
    public const string MessageHeader = "grpc-message";
    public const string TimeoutHeader = "grpc-timeout";
    public const string EncodingHeader = "grpc-encoding";
    public const string AcceptEncodingHeader = "grpc-accept-encoding";
    public const string AcceptedEncodings = "identity,gzip";
    public const int DefaultMaxReceiveMessageSize = 4 * 1024 * 1024;
    private const int PrefixLength = 5;

    /// <summary>Whether a content-type names gRPC with the protobuf message encoding.</summary>
    public static bool IsGrpcContentType(string? contentType)
    {
        if (contentType is null)
        {
            return false;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var mediaType = (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
        return mediaType.Equals("application/grpc", StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("application/grpc+proto", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether this side can decode messages sent with this grpc-encoding.</summary>
    public static bool IsSupportedEncoding(string? encoding) =>
        encoding is null or "" or "identity" or "gzip";

    /// <summary>
    /// One whole length-prefixed, uncompressed message of <paramref name="size"/> bytes (its CalculateSize) in a new
    /// array: the message is serialized straight after its prefix, so there is no intermediate copy.
    /// </summary>
    public static byte[] Frame(IMessage message, int size)
    {
        var frame = new byte[PrefixLength + size];
        WritePrefix(frame, size);
        message.WriteTo(frame.AsSpan(PrefixLength));
        return frame;
    }

    /// <summary>
    /// Writes one length-prefixed, uncompressed message of <paramref name="size"/> bytes (its CalculateSize) through a
    /// pooled buffer, and flushes it.
    /// </summary>
    public static async Task WriteMessageAsync(Stream stream, IMessage message, int size, CancellationToken cancellationToken)
    {
        var frame = ArrayPool<byte>.Shared.Rent(PrefixLength + size);
        try
        {
            WritePrefix(frame, size);
            message.WriteTo(frame.AsSpan(PrefixLength, size));
            await stream.WriteAsync(frame.AsMemory(0, PrefixLength + size), cancellationToken);
            await stream.FlushAsync(cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>
    /// Writes one length-prefixed, uncompressed message of <paramref name="size"/> bytes (its CalculateSize) by
    /// serializing it straight into the pipe (a response body), and flushes it.
    /// </summary>
    public static async Task WriteMessageAsync(PipeWriter writer, IMessage message, int size, CancellationToken cancellationToken)
    {
        // One span for the whole frame: a pipe gives a large one from its array pool, so the message is written
        // in one piece instead of across many small pool blocks.
        var frame = writer.GetSpan(PrefixLength + size)[..(PrefixLength + size)];
        WritePrefix(frame, size);
        message.WriteTo(frame[PrefixLength..]);
        writer.Advance(PrefixLength + size);
        await writer.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Reads and parses one length-prefixed message; null at a clean end of stream. A message longer than
    /// <paramref name="maxSize"/> is refused from its prefix, before its body is read. The body is read into a pooled
    /// buffer and parsed from there; <paramref name="what"/> ("request", "response") names it in errors.
    /// </summary>
    public static async Task<T?> ReadMessageAsync<T>(Stream stream, MessageParser<T> parser, int? maxSize, string? encoding, string what, CancellationToken cancellationToken)
        where T : IMessage<T>
    {
        var prefix = new byte[PrefixLength];
        var read = await ReadFullyAsync(stream, prefix, cancellationToken);
        if (read == 0)
        {
            return default;
        }

        if (read < PrefixLength)
        {
            throw new RpcException(new Status(StatusCode.Internal, "The stream ended inside a message's length prefix."));
        }

        var compressed = prefix[0] switch
        {
            0 => false,
            1 => true,
            _ => throw new RpcException(new Status(StatusCode.Internal, $"Invalid message flags {prefix[0]}.")),
        };
        var length = BinaryPrimitives.ReadUInt32BigEndian(prefix.AsSpan(1));
        if (length > (uint)(maxSize ?? int.MaxValue))
        {
            throw TooLarge(length, maxSize!.Value, "Received");
        }

        if (compressed)
        {
            if (encoding is null or "" or "identity")
            {
                throw new RpcException(new Status(StatusCode.Internal, "A message is marked compressed but the call has no grpc-encoding."));
            }

            if (encoding != "gzip")
            {
                throw new RpcException(new Status(StatusCode.Unimplemented, $"Message encoding \"{encoding}\" is not supported; supported: {AcceptedEncodings}."));
            }
        }

        var payload = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            var body = payload.AsMemory(0, (int)length);
            if (await ReadFullyAsync(stream, body, cancellationToken) < length)
            {
                throw new RpcException(new Status(StatusCode.Internal, $"The stream ended inside a message of {length} bytes."));
            }

            return compressed ? Parse(parser, Gunzip(payload, (int)length, maxSize), what) : Parse(parser, body.Span, what);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
        }
    }

    public static RpcException TooLarge(long length, int limit, string direction) =>
        new(new Status(StatusCode.ResourceExhausted, $"{direction} message of {length} bytes exceeds the limit of {limit} bytes."));

    /// <summary>The serialized size of a message; RESOURCE_EXHAUSTED when it is over <paramref name="maxSize"/>.</summary>
    public static int CheckedSize(IMessage message, int? maxSize)
    {
        var size = message.CalculateSize();
        return size > (maxSize ?? int.MaxValue) ? throw TooLarge(size, maxSize!.Value, "Sending") : size;
    }

    private static void WritePrefix(Span<byte> destination, int size)
    {
        destination[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)size);
    }

    private static T Parse<T>(MessageParser<T> parser, ReadOnlySpan<byte> payload, string what)
        where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"Could not parse the {what} message: {e.Message}"));
        }
    }

    private static byte[] Gunzip(byte[] payload, int length, int? maxSize)
    {
        using var input = new GZipStream(new MemoryStream(payload, 0, length, writable: false), CompressionMode.Decompress);
        using var output = new MemoryStream();
        var buffer = new byte[81920];
        int n;
        try
        {
            while ((n = input.Read(buffer)) > 0)
            {
                output.Write(buffer, 0, n);
                if (output.Length > (maxSize ?? int.MaxValue))
                {
                    throw TooLarge(output.Length, maxSize!.Value, "Received (decompressed)");
                }
            }
        }
        catch (InvalidDataException e)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"A gzip-compressed message is corrupt: {e.Message}"));
        }

        return output.ToArray();
    }

    private static async Task<int> ReadFullyAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer[total..], cancellationToken);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    /// <summary>grpc-timeout for a remaining time: the finest unit whose value fits in the 8 digits allowed, rounded up.</summary>
    public static string EncodeTimeout(TimeSpan remaining)
    {
        const long MaxValue = 99_999_999;
        var nanoseconds = (Int128)Math.Max(remaining.Ticks, 0) * 100;
        (long NanosecondsPerUnit, char Unit)[] units = [(1, 'n'), (1_000, 'u'), (1_000_000, 'm'), (1_000_000_000, 'S'), (60_000_000_000, 'M'), (3_600_000_000_000, 'H')];
        foreach (var (perUnit, unit) in units)
        {
            var value = (nanoseconds + perUnit - 1) / perUnit;
            if (value <= MaxValue)
            {
                return ((long)value).ToString(CultureInfo.InvariantCulture) + unit;
            }
        }

        return MaxValue.ToString(CultureInfo.InvariantCulture) + "H";
    }

    /// <summary>Parses grpc-timeout (1 to 8 digits and one of H M S m u n); null when malformed.</summary>
    public static TimeSpan? ParseTimeout(string? value)
    {
        if (value is null || value.Length < 2 || value.Length > 9)
        {
            return null;
        }

        var digits = value.AsSpan(0, value.Length - 1);
        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                return null;
            }
        }

        var amount = long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        return value[^1] switch
        {
            'H' => TimeSpan.FromHours(amount),
            'M' => TimeSpan.FromMinutes(amount),
            'S' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMilliseconds(amount),
            'u' => TimeSpan.FromTicks(amount * 10),
            'n' => TimeSpan.FromTicks(amount / 100),
            _ => null,
        };
    }

    /// <summary>Percent-encodes grpc-message: UTF-8, with bytes outside printable ASCII and '%' itself as %XX.</summary>
    public static string EncodeMessage(string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        var builder = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    /// <summary>Decodes grpc-message; a '%' not followed by two hex digits is kept as it is.</summary>
    public static string DecodeMessage(string? wire)
    {
        if (string.IsNullOrEmpty(wire) || !wire.Contains('%', StringComparison.Ordinal))
        {
            return wire ?? "";
        }

        var bytes = new List<byte>(wire.Length);
        for (var i = 0; i < wire.Length; i++)
        {
            if (wire[i] == '%' && i + 2 < wire.Length
                && byte.TryParse(wire.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(wire.Substring(i, 1)));
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>The gRPC code for an HTTP status other than 200, per the protocol's mapping table.</summary>
    public static StatusCode FromHttpStatus(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest => StatusCode.Internal,
        HttpStatusCode.Unauthorized => StatusCode.Unauthenticated,
        HttpStatusCode.Forbidden => StatusCode.PermissionDenied,
        HttpStatusCode.NotFound => StatusCode.Unimplemented,
        HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable
            or HttpStatusCode.GatewayTimeout => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };

    /// <summary>Parses grpc-status; null when absent or not a number.</summary>
    public static StatusCode? ParseStatus(string? value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var code)
            ? code <= (int)StatusCode.Unauthenticated ? (StatusCode)code : StatusCode.Unknown
            : null;
}
