using System.Buffers;
using System.IO.Compression;
using System.Net;
using Google.Protobuf;
using BytesValue = Google.Protobuf.WellKnownTypes.BytesValue;

namespace Floe.Rpc.Tests;

public class RpcWireTests
{
    [Theory]
    [InlineData(1_000, "1000000u")]
    [InlineData(100, "100000u")]
    [InlineData(0.001, "1000n")]
    [InlineData(5 * 3_600_000, "18000000m")]
    [InlineData(30L * 24 * 3_600_000, "2592000S")]
    public void Timeout_is_encoded_in_the_finest_unit_that_fits_eight_digits(double milliseconds, string expected)
    {
        Assert.Equal(expected, RpcWire.EncodeTimeout(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Fact]
    public void Timeout_rounds_up_so_the_server_never_sees_a_shorter_deadline()
    {
        // 150 s and 100 ns: too many digits in n and u, so milliseconds, rounded up.
        Assert.Equal("150001m", RpcWire.EncodeTimeout(TimeSpan.FromTicks((TimeSpan.TicksPerSecond * 150) + 1)));
    }

    [Theory]
    [InlineData("2H", 2 * 3600_000.0)]
    [InlineData("3M", 180_000.0)]
    [InlineData("4S", 4_000.0)]
    [InlineData("5m", 5.0)]
    [InlineData("7000u", 7.0)]
    [InlineData("9000000n", 9.0)]
    [InlineData("99999999S", 99_999_999_000.0)]
    public void Timeout_units_parse(string value, double milliseconds)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), RpcWire.ParseTimeout(value));
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("S")]
    [InlineData("123456789S")]
    [InlineData("5x")]
    [InlineData("-5S")]
    [InlineData("1.5S")]
    public void Malformed_timeouts_are_refused(string value)
    {
        Assert.Null(RpcWire.ParseTimeout(value));
    }

    [Fact]
    public void Grpc_message_is_percent_encoded_as_utf8_and_decodes_back()
    {
        const string Message = "bad % thing: é ✓\n";
        var wire = RpcWire.EncodeMessage(Message);
        Assert.Equal("bad %25 thing: %C3%A9 %E2%9C%93%0A", wire);
        Assert.Equal(Message, RpcWire.DecodeMessage(wire));
    }

    [Fact]
    public void Malformed_percent_sequences_are_kept_as_they_are()
    {
        Assert.Equal("50%zz and %4", RpcWire.DecodeMessage("50%zz and %4"));
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, StatusCode.Internal)]
    [InlineData(HttpStatusCode.Unauthorized, StatusCode.Unauthenticated)]
    [InlineData(HttpStatusCode.Forbidden, StatusCode.PermissionDenied)]
    [InlineData(HttpStatusCode.NotFound, StatusCode.Unimplemented)]
    [InlineData(HttpStatusCode.TooManyRequests, StatusCode.Unavailable)]
    [InlineData(HttpStatusCode.BadGateway, StatusCode.Unavailable)]
    [InlineData(HttpStatusCode.ServiceUnavailable, StatusCode.Unavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout, StatusCode.Unavailable)]
    [InlineData(HttpStatusCode.InternalServerError, StatusCode.Unknown)]
    public void Http_statuses_map_to_grpc_codes_as_the_spec_table_says(HttpStatusCode http, StatusCode expected)
    {
        Assert.Equal(expected, RpcWire.FromHttpStatus(http));
    }

    [Fact]
    public void Status_codes_have_the_protocol_numbers()
    {
        Assert.Equal(17, Enum.GetValues<StatusCode>().Length);
        Assert.Equal(0, (int)StatusCode.OK);
        Assert.Equal(4, (int)StatusCode.DeadlineExceeded);
        Assert.Equal(8, (int)StatusCode.ResourceExhausted);
        Assert.Equal(12, (int)StatusCode.Unimplemented);
        Assert.Equal(16, (int)StatusCode.Unauthenticated);
    }

    [Fact]
    public async Task An_oversized_message_is_refused_from_its_prefix_without_reading_its_body()
    {
        var frame = new byte[5 + 2000];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), 2000);
        var stream = new CountingStream(frame);
        var error = await Assert.ThrowsAsync<RpcException>(() => RpcWire.ReadMessageAsync(stream, BytesValue.Parser, 1024, null, "response", default));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("1024", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(5, stream.BytesRead);
    }

    [Fact]
    public async Task Framed_messages_round_trip_and_a_truncated_one_is_an_internal_error()
    {
        using var buffer = new MemoryStream();
        var message = new BytesValue { Value = ByteString.CopyFrom(1, 2, 3) };
        await RpcWire.WriteMessageAsync(buffer, message, message.CalculateSize(), default);
        await RpcWire.WriteMessageAsync(buffer, new BytesValue(), 0, default);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 5, 10, 3, 1, 2, 3, 0, 0, 0, 0, 0 }, buffer.ToArray());
        Assert.Equal(buffer.ToArray()[..10], RpcWire.Frame(message, message.CalculateSize()));
        var pipe = new System.IO.Pipelines.Pipe();
        await RpcWire.WriteMessageAsync(pipe.Writer, message, message.CalculateSize(), default);
        var written = await pipe.Reader.ReadAsync();
        Assert.Equal(buffer.ToArray()[..10], written.Buffer.ToArray());
        buffer.Position = 0;
        Assert.Equal(new byte[] { 1, 2, 3 }, (await Read(buffer))!.Value.ToByteArray());
        Assert.Equal(ByteString.Empty, (await Read(buffer))!.Value);
        Assert.Null(await Read(buffer));

        using var truncated = new MemoryStream([0, 0, 0, 0, 9, 1, 2]);
        var error = await Assert.ThrowsAsync<RpcException>(() => Read(truncated));
        Assert.Equal(StatusCode.Internal, error.StatusCode);
    }

    [Fact]
    public void A_message_over_the_send_limit_is_refused_with_its_size_and_the_limit()
    {
        var message = new BytesValue { Value = ByteString.CopyFrom(new byte[100]) };
        Assert.Equal(102, RpcWire.CheckedSize(message, 102));
        var error = Assert.Throws<RpcException>(() => RpcWire.CheckedSize(message, 50));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("102 bytes exceeds the limit of 50", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_that_is_not_the_message_type_is_an_internal_error_naming_the_side()
    {
        // Field 1 as a varint where BytesValue has a length-delimited field: not parseable.
        using var stream = new MemoryStream([0, 0, 0, 0, 2, 0x0F, 0xFF]);
        var error = await Assert.ThrowsAsync<RpcException>(() => RpcWire.ReadMessageAsync(stream, BytesValue.Parser, null, null, "request", default));
        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.StartsWith("Could not parse the request message", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gzip_compressed_messages_are_decompressed_and_limited_by_their_decompressed_size()
    {
        var original = new BytesValue { Value = ByteString.CopyFrom(new byte[10_000]) };
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            original.WriteTo(gzip);
        }

        var frame = new byte[5 + compressed.Length];
        frame[0] = 1;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)compressed.Length);
        compressed.ToArray().CopyTo(frame, 5);

        Assert.Equal(original, await RpcWire.ReadMessageAsync(new MemoryStream(frame), BytesValue.Parser, null, "gzip", "response", default));
        var tooLarge = await Assert.ThrowsAsync<RpcException>(() => RpcWire.ReadMessageAsync(new MemoryStream(frame), BytesValue.Parser, 5_000, "gzip", "response", default));
        Assert.Equal(StatusCode.ResourceExhausted, tooLarge.StatusCode);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => RpcWire.ReadMessageAsync(new MemoryStream(frame), BytesValue.Parser, null, "snappy", "response", default));
        Assert.Equal(StatusCode.Unimplemented, unknown.StatusCode);
        var missing = await Assert.ThrowsAsync<RpcException>(() => RpcWire.ReadMessageAsync(new MemoryStream(frame), BytesValue.Parser, null, null, "response", default));
        Assert.Equal(StatusCode.Internal, missing.StatusCode);
    }

    private static Task<BytesValue?> Read(Stream stream) => RpcWire.ReadMessageAsync(stream, BytesValue.Parser, null, null, "response", default);

    private sealed class CountingStream(byte[] data) : MemoryStream(data)
    {
        public long BytesRead { get; private set; }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await base.ReadAsync(buffer, cancellationToken);
            BytesRead += n;
            return n;
        }
    }
}
