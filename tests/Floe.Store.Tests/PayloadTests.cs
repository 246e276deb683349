using Floe.Store.Format;

namespace Floe.Store.Tests;

public sealed class PayloadTests
{
    private const string Key = "manifests/PAYLOADTEST";

    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    [Theory]
    [InlineData(0UL, "00")]
    [InlineData(1UL, "01")]
    [InlineData(127UL, "7F")]
    [InlineData(128UL, "80 01")]
    [InlineData(300UL, "AC 02")]
    [InlineData(16383UL, "FF 7F")]
    [InlineData(16384UL, "80 80 01")]
    [InlineData(2097151UL, "FF FF 7F")]
    [InlineData(2097152UL, "80 80 80 01")]
    [InlineData(uint.MaxValue, "FF FF FF FF 0F")]
    [InlineData(long.MaxValue, "FF FF FF FF FF FF FF FF 7F")]
    [InlineData(1UL << 63, "80 80 80 80 80 80 80 80 80 01")]
    [InlineData(ulong.MaxValue, "FF FF FF FF FF FF FF FF FF 01")]
    public void Varints_are_unsigned_leb128(ulong value, string hex)
    {
        var w = new PayloadWriter();
        w.WriteVarint(value);

        Assert.Equal(Hex(hex), w.ToArray());
        var r = new PayloadReader(w.WrittenSpan, Key);
        Assert.Equal(value, r.ReadVarint());
        Assert.Equal(0, r.Remaining);
    }

    [Theory]
    [InlineData(0L, 0UL)]
    [InlineData(-1L, 1UL)]
    [InlineData(1L, 2UL)]
    [InlineData(-2L, 3UL)]
    [InlineData(2147483647L, 4294967294UL)]
    [InlineData(-2147483648L, 4294967295UL)]
    [InlineData(long.MaxValue, ulong.MaxValue - 1)]
    [InlineData(long.MinValue, ulong.MaxValue)]
    public void Signed_varints_are_zigzag(long value, ulong zigzag)
    {
        Assert.Equal(zigzag, PayloadWriter.ZigZag(value));
        var w = new PayloadWriter();
        w.WriteSignedVarint(value);
        var expected = new PayloadWriter();
        expected.WriteVarint(zigzag);

        Assert.Equal(expected.ToArray(), w.ToArray());
        var r = new PayloadReader(w.WrittenSpan, Key);
        Assert.Equal(value, r.ReadSignedVarint());
    }

    [Fact]
    public void A_negative_value_is_refused_as_a_varint()
    {
        var w = new PayloadWriter();

        Assert.Throws<ArgumentOutOfRangeException>(() => w.WriteVarint(-1L));
    }

    [Theory]
    [InlineData("FF FF FF FF FF FF FF FF FF 02")] // 10th byte carries bits past 64
    [InlineData("FF FF FF FF FF FF FF FF FF 81 00")] // 11 bytes
    [InlineData("80 80 80 80 80 80 80 80 80 80 80 01")]
    public void Overlong_varints_are_corrupt(string hex)
    {
        var bytes = Hex(hex);

        var ex = Assert.Throws<CorruptObjectException>(() => new PayloadReader(bytes, Key).ReadVarint());

        Assert.Equal(Key, ex.Key);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Uint_columns_use_the_smallest_width_and_byte_planes_least_significant_first(int width)
    {
        var max = width == 0 ? 0UL : width == 8 ? ulong.MaxValue : (1UL << (8 * width)) - 1;
        var random = new Random(width);
        var values = new ulong[37];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = width == 0 ? 0 : (ulong)random.NextInt64() & max;
        }

        values[5] = max;
        var w = new PayloadWriter();
        w.WriteUIntColumn(values);
        var bytes = w.ToArray();

        Assert.Equal(width, bytes[0]);
        Assert.Equal(1 + (width * values.Length), bytes.Length);
        for (var plane = 0; plane < width; plane++)
        {
            for (var i = 0; i < values.Length; i++)
            {
                Assert.Equal((byte)(values[i] >> (8 * plane)), bytes[1 + (plane * values.Length) + i]);
            }
        }

        var r = new PayloadReader(bytes, Key);
        Assert.Equal(values, r.ReadUIntColumn(values.Length));
        Assert.Equal(0, r.Remaining);
    }

    [Fact]
    public void A_small_uint_column_has_the_spec_bytes()
    {
        var w = new PayloadWriter();
        w.WriteUIntColumn([0x0102, 0x0304, 0x05]);

        Assert.Equal(Hex("02 02 04 05 01 03 00"), w.ToArray());
    }

    [Fact]
    public void An_empty_uint_column_is_a_zero_width()
    {
        var w = new PayloadWriter();
        w.WriteUIntColumn([]);

        Assert.Equal(new byte[] { 0 }, w.ToArray());
        Assert.Empty(new PayloadReader(w.WrittenSpan, Key).ReadUIntColumn(0));
    }

    [Fact]
    public void Strings_bytes_ids_and_coords_round_trip()
    {
        var id = ObjectId.NewId();
        var w = new PayloadWriter();
        w.WriteString("héllo/🌧");
        w.WriteBytes([1, 2, 3]);
        w.WriteId(id);
        w.WriteCoords([0, 127, 128, long.MaxValue]);
        w.WriteString("");

        var r = new PayloadReader(w.WrittenSpan, Key);
        Assert.Equal("héllo/🌧", r.ReadString());
        Assert.Equal(new byte[] { 1, 2, 3 }, r.ReadBytes().ToArray());
        Assert.Equal(id, r.ReadId());
        Assert.Equal(new long[] { 0, 127, 128, long.MaxValue }, r.ReadCoords(4));
        Assert.Equal("", r.ReadString());
        r.ExpectEnd();
    }

    [Fact]
    public void A_string_is_its_utf8_byte_length_then_the_bytes()
    {
        var w = new PayloadWriter();
        w.WriteString("é€");

        Assert.Equal(Hex("05 C3 A9 E2 82 AC"), w.ToArray());
    }

    public static TheoryData<string, string> TruncatedReads => new()
    {
        { "byte", "" },
        { "varint", "" },
        { "varint", "80" },
        { "varint", "FF FF FF" },
        { "length", "80 80" },
        { "count", "05 00 00" },
        { "raw", "01 02 03" },
        { "bytes", "04 01 02 03" },
        { "bytes", "FF FF FF FF 07 01" },
        { "string", "03 61 62" },
        { "id", "01 02 03 04 05 06 07 08 09 0A 0B" },
        { "coords", "01 02" },
        { "column", "" },
        { "column", "02 01 02 03 04 05 06 07" },
        { "column", "01 01 02" },
    };

    [Theory]
    [MemberData(nameof(TruncatedReads))]
    public void A_truncated_read_is_corrupt_naming_the_key_never_index_out_of_range(string what, string hex)
    {
        var bytes = Hex(hex);

        var ex = Record.Exception(() =>
        {
            var r = new PayloadReader(bytes, Key);
            switch (what)
            {
                case "byte": r.ReadByte(); break;
                case "varint": r.ReadVarint(); break;
                case "length": r.ReadLength("length"); break;
                case "count": r.ReadCount("count", 1); break;
                case "raw": r.ReadRaw(4); break;
                case "bytes": r.ReadBytes(); break;
                case "string": r.ReadString(); break;
                case "id": r.ReadId(); break;
                case "coords": r.ReadCoords(3); break;
                case "column": r.ReadUIntColumn(4); break;
                default: throw new InvalidOperationException(what);
            }
        });

        var corrupt = Assert.IsType<CorruptObjectException>(ex);
        Assert.Equal(Key, corrupt.Key);
        Assert.Contains(Key, corrupt.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_column_wider_than_eight_bytes_is_corrupt()
    {
        var bytes = Hex("09 00 00 00 00 00 00 00 00 00");

        Assert.Throws<CorruptObjectException>(() => new PayloadReader(bytes, Key).ReadUIntColumn(1));
    }

    [Fact]
    public void A_column_of_more_values_than_bytes_left_is_corrupt_before_allocating_them()
    {
        // Width 1 and 2 bytes left cannot hold int.MaxValue values; the reader must say so instead of allocating.
        var bytes = Hex("01 07 07");

        var ex = Record.Exception(() => new PayloadReader(bytes, Key).ReadUIntColumn(int.MaxValue));

        Assert.IsType<CorruptObjectException>(ex);
    }

    [Fact]
    public void Invalid_utf8_in_a_string_is_corrupt()
    {
        var bytes = Hex("02 C3 28");

        var ex = Assert.Throws<CorruptObjectException>(() => new PayloadReader(bytes, Key).ReadString());

        Assert.Contains("UTF-8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_length_above_its_maximum_is_corrupt()
    {
        var bytes = Hex("41");

        var ex = Assert.Throws<CorruptObjectException>(() => new PayloadReader(bytes, Key).ReadLength("rank", 64));

        Assert.Contains("rank 65 exceeds 64", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_count_the_remaining_bytes_cannot_hold_is_corrupt()
    {
        // 3 items of at least 4 bytes each do not fit in 8 bytes.
        var bytes = Hex("03 00 00 00 00 00 00 00 00");

        Assert.Throws<CorruptObjectException>(() => new PayloadReader(bytes, Key).ReadCount("items", 4));
        Assert.Equal(2, new PayloadReader(Hex("02 00 00 00 00 00 00 00 00"), Key).ReadCount("items", 4));
    }

    [Fact]
    public void Trailing_bytes_fail_ExpectEnd()
    {
        var bytes = Hex("01 02");

        var ex = Assert.Throws<CorruptObjectException>(() =>
        {
            var r = new PayloadReader(bytes, Key);
            r.ReadByte();
            r.ExpectEnd();
        });

        Assert.Contains("1 unexpected bytes", ex.Message, StringComparison.Ordinal);
    }
}
