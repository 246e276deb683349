using Floe.Rpc.Tests.Protos;

namespace Floe.Rpc.Tests;

public class MetadataTests
{
    [Fact]
    public void Keys_are_lower_cased_and_entries_keep_their_order()
    {
        var metadata = new Metadata().Add("X-Trace", "1").Add("x-other", "2").Add("x-trace", "3");
        Assert.Equal(["x-trace", "x-other", "x-trace"], metadata.Select(e => e.Key));
        Assert.Equal("3", metadata.GetValue("X-TRACE"));
        Assert.Equal(["1", "3"], metadata.GetAll("x-trace").Select(e => e.Value));
    }

    [Theory]
    [InlineData("grpc-status")]
    [InlineData("grpc-anything")]
    [InlineData("content-type")]
    [InlineData("te")]
    [InlineData("connection")]
    [InlineData(":path")]
    [InlineData("bad key")]
    [InlineData("ключ")]
    public void Reserved_or_invalid_keys_are_refused(string key)
    {
        Assert.Throws<ArgumentException>(() => new Metadata().Add(key, "v"));
    }

    [Fact]
    public void Binary_keys_carry_bytes_and_other_keys_printable_ascii()
    {
        Assert.Throws<ArgumentException>(() => new Metadata().Add("data-bin", "text"));
        Assert.Throws<ArgumentException>(() => new Metadata().Add("data", [1, 2]));
        Assert.Throws<ArgumentException>(() => new Metadata().Add("data", "line\nbreak"));
        Assert.Throws<ArgumentException>(() => new Metadata().Add("data", "é"));
        var entry = new Metadata.Entry("Data-Bin", [0, 1, 2, 255]);
        Assert.True(entry.IsBinary);
        Assert.Equal("AAEC/w", entry.WireValue);
        Assert.Throws<InvalidOperationException>(() => entry.Value);
    }

    [Theory]
    [InlineData("AAEC/w")]
    [InlineData("AAEC/w==")]
    [InlineData("AAE, Av8")]
    public void Binary_values_decode_padded_unpadded_and_comma_separated(string wire)
    {
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, Metadata.DecodeBinaryValue(wire));
    }

    [Fact]
    public void Received_headers_skip_protocol_headers()
    {
        Assert.Null(Metadata.Entry.FromWire("grpc-timeout", "1S"));
        Assert.Null(Metadata.Entry.FromWire("te", "trailers"));
        Assert.Equal("v", Metadata.Entry.FromWire("X-Custom", "v")!.Value);
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, Metadata.Entry.FromWire("x-bin", "AAEC/w")!.ValueBytes);
    }
}

public class RpcDescriptorCheckTests
{
    [Fact]
    public void The_echo_stubs_agree_with_echo_proto()
    {
        Assert.Empty(RpcDescriptorCheck.Mismatches(Echo.Descriptor, Echo.Methods));
    }

    [Fact]
    public void A_missing_method_is_reported()
    {
        var problems = RpcDescriptorCheck.Mismatches(Echo.Descriptor, Echo.Methods.Where(m => m.Name != "Collect"));
        Assert.Equal(["/floe.test.v1.Echo/Collect: declared in the proto but has no hand-written method"], problems);
    }

    [Fact]
    public void Wrong_streaming_kind_wrong_messages_and_extra_methods_are_reported()
    {
        IMethod[] methods =
        [
            new Method<EchoRequest, EchoReply>(MethodType.ServerStreaming, Echo.ServiceName, "Say"),
            new Method<EchoReply, EchoReply>(MethodType.ServerStreaming, Echo.ServiceName, "Repeat"),
            new Method<EchoRequest, EchoRequest>(MethodType.ClientStreaming, Echo.ServiceName, "Collect"),
            Echo.ChatMethod,
            Echo.WaitMethod,
            new Method<EchoRequest, EchoReply>(MethodType.Unary, Echo.ServiceName, "Extra"),
            new Method<EchoRequest, EchoReply>(MethodType.Unary, "other.Service", "Say"),
        ];
        var problems = RpcDescriptorCheck.Mismatches(Echo.Descriptor, methods);
        Assert.Contains("/floe.test.v1.Echo/Say: the proto declares Unary, the hand-written method is ServerStreaming", problems);
        Assert.Contains("/floe.test.v1.Echo/Repeat: request is floe.test.v1.EchoRequest in the proto, floe.test.v1.EchoReply in the hand-written method", problems);
        Assert.Contains("/floe.test.v1.Echo/Collect: response is floe.test.v1.EchoReply in the proto, floe.test.v1.EchoRequest in the hand-written method", problems);
        Assert.Contains("/floe.test.v1.Echo/Extra: hand-written but not declared in the proto", problems);
        Assert.Contains("/other.Service/Say: belongs to service other.Service, not floe.test.v1.Echo", problems);
        Assert.Equal(5, problems.Count);
    }
}
