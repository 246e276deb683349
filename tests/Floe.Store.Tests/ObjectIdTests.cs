using System.Numerics;
using Floe.Store.Format;

namespace Floe.Store.Tests;

public sealed class ObjectIdTests
{
    private const string Crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    // The spec's encoding written independently: the 96-bit big-endian value as 20 base-32 digits, most significant first.
    private static string ReferenceText(byte[] bytes)
    {
        var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        var chars = new char[20];
        for (var i = 19; i >= 0; i--)
        {
            chars[i] = Crockford[(int)(value % 32)];
            value /= 32;
        }

        return new string(chars);
    }

    [Fact]
    public void New_ids_are_twenty_crockford_characters_that_parse_back_to_the_same_id()
    {
        var seen = new HashSet<ObjectId>();
        for (var i = 0; i < 1000; i++)
        {
            var id = ObjectId.NewId();
            var text = id.ToString();

            Assert.Equal(ObjectId.TextLength, text.Length);
            Assert.All(text, c => Assert.Contains(c, Crockford));
            Assert.Equal(id, ObjectId.Parse(text));
            Assert.True(seen.Add(id), $"NewId repeated {text}");
        }
    }

    [Fact]
    public void Text_is_the_base32_of_the_twelve_bytes_most_significant_first()
    {
        var random = new Random(12);
        for (var i = 0; i < 200; i++)
        {
            var bytes = TestData.RandomBytes(random, ObjectId.ByteLength);
            var id = ObjectId.FromBytes(bytes);

            Assert.Equal(ReferenceText(bytes), id.ToString());
            var written = new byte[ObjectId.ByteLength];
            id.WriteTo(written);
            Assert.Equal(bytes, written);
        }
    }

    [Fact]
    public void Extreme_ids_have_the_expected_text()
    {
        Assert.Equal("00000000000000000000", ObjectId.FromBytes(new byte[12]).ToString());
        Assert.Equal("00000000000000000001", ObjectId.FromBytes([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]).ToString());
        Assert.Equal("00000000000000000010", ObjectId.FromBytes([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32]).ToString());
        // 96 one-bits in 20 digits of 5 bits: the top digit holds 4 zero padding bits and one 1.
        Assert.Equal("1ZZZZZZZZZZZZZZZZZZZ", ObjectId.FromBytes(Enumerable.Repeat((byte)0xFF, 12).ToArray()).ToString());
    }

    [Fact]
    public void Parse_accepts_lowercase_text()
    {
        var id = ObjectId.NewId();

        Assert.Equal(id, ObjectId.Parse(id.ToString().ToLowerInvariant()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0000000000000000000")] // 19 characters
    [InlineData("000000000000000000000")] // 21 characters
    [InlineData("0000000000000000000I")] // I, L, O and U are not in Crockford's alphabet
    [InlineData("0000000000000000000L")]
    [InlineData("0000000000000000000O")]
    [InlineData("0000000000000000000U")]
    [InlineData("000000000-0000000000")]
    [InlineData("0000000000 000000000")]
    [InlineData("20000000000000000000")] // more than 96 bits
    [InlineData("G0000000000000000000")]
    [InlineData("ZZZZZZZZZZZZZZZZZZZZ")]
    public void Bad_text_is_rejected(string text)
    {
        Assert.False(ObjectId.TryParse(text, out var id));
        Assert.Equal(default, id);
        var ex = Assert.Throws<FormatException>(() => ObjectId.Parse(text));
        Assert.Contains($"'{text}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_text_is_rejected()
    {
        Assert.False(ObjectId.TryParse(null, out _));
    }

    [Fact]
    public void FromBytes_rejects_a_wrong_length()
    {
        Assert.Throws<ArgumentException>(() => ObjectId.FromBytes(new byte[11]));
        Assert.Throws<ArgumentException>(() => ObjectId.FromBytes(new byte[13]));
    }

    [Fact]
    public void Ids_order_like_their_bytes()
    {
        var low = ObjectId.FromBytes([0, 0, 0, 0, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF]);
        var high = ObjectId.FromBytes([0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0]);

        Assert.True(low < high);
        Assert.True(high > low);
        Assert.Equal(-1, Math.Sign(string.CompareOrdinal(low.ToString(), high.ToString())));
    }
}
