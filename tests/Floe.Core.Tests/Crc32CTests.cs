using System.Text;

namespace Floe.Core.Tests;

public sealed class Crc32CTests
{
    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("123456789", 0xE3069283u)]
    [InlineData("a", 0xC1D04330u)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x22620404u)]
    public void Compute_matches_published_check_values(string text, uint expected)
    {
        Assert.Equal(expected, Crc32C.Compute(Encoding.ASCII.GetBytes(text)));
        Assert.Equal(expected, Crc32C.AppendTable(0, Encoding.ASCII.GetBytes(text)));
    }

    [Fact]
    public void Rfc3720_iscsi_vectors_match()
    {
        // RFC 3720 appendix B.4: 32 bytes of zeros, of 0xFF, and an ascending sequence.
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, Crc32C.Compute([.. Enumerable.Range(0, 32).Select(i => (byte)i)]));
        Assert.Equal(0x113FDB5Cu, Crc32C.Compute([.. Enumerable.Range(0, 32).Select(i => (byte)(31 - i))]));
    }

    [Fact]
    public void Hardware_and_table_paths_agree_on_random_data_of_every_alignment()
    {
        var data = TestData.RandomBytes(5000, seed: 7);
        if (!Crc32C.IsHardwareAccelerated)
        {
            Assert.Throws<PlatformNotSupportedException>(() => Crc32C.AppendHardware(0, data));
            return;
        }

        for (var length = 0; length < 70; length++)
        {
            for (var offset = 0; offset < 9; offset++)
            {
                var slice = data.AsSpan(offset, length);
                Assert.Equal(Crc32C.AppendTable(0, slice), Crc32C.AppendHardware(0, slice));
            }
        }

        Assert.Equal(Crc32C.AppendTable(0x12345678, data), Crc32C.AppendHardware(0x12345678, data));
    }

    [Fact]
    public void Append_continues_a_finished_crc()
    {
        var data = TestData.RandomBytes(1000, seed: 8);
        var whole = Crc32C.Compute(data);

        Assert.Equal(whole, Crc32C.Append(Crc32C.Compute(data.AsSpan(0, 333)), data.AsSpan(333)));
        Assert.Equal(whole, Crc32C.AppendTable(Crc32C.AppendTable(0, data.AsSpan(0, 3)), data.AsSpan(3)));
    }
}
