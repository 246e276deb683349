using Floe.Store.Format;

namespace Floe.Store.Tests;

public sealed class ManifestShardTests
{
    private const string Key = "manifests/SHARDTEST";

    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    private static ManifestShard RoundTrip(ManifestShard shard) => ManifestShard.Decode(Key, shard.Encode());

    private static void AssertSameShard(ManifestShard expected, ManifestShard actual)
    {
        Assert.Equal(expected.Origin, actual.Origin);
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.Equal(expected.Positions, actual.Positions);
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var (want, got) = (expected.RefAt(i), actual.RefAt(i));
            if (!want.Equals(got))
            {
                Assert.Fail($"reference {i}: expected {want}, got {got}");
            }
        }

        Assert.Equal(expected.Refs, actual.Refs);
    }

    [Fact]
    public void Inline_native_and_virtual_references_mixed_round_trip()
    {
        var lastModified = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);
        var native1 = ObjectId.NewId();
        var native2 = ObjectId.NewId();
        var refs = new ChunkRef[]
        {
            new InlineChunkRef(new byte[] { 1, 2, 3 }),
            new VirtualChunkRef("s3://bucket/imerg/2020/file-0001.h5", 4096, 1000, "\"etag-1\"", lastModified),
            new NativeChunkRef(native1, 70_000),
            new VirtualChunkRef("s3://bucket/imerg/2020/file-0001.h5", 5096, 900, "\"etag-1\"", lastModified), // contiguous
            new VirtualChunkRef("s3://bucket/imerg/2020/file-0002.h5", 100, 10), // no version
            new InlineChunkRef(Array.Empty<byte>()),
            new VirtualChunkRef("s3://bucket/imerg/2020/file-0001.h5", 0, 4096, "\"etag-1\"", lastModified), // back to an earlier location, offset before its end
            new VirtualChunkRef("/local/data/file-0001.h5", long.MaxValue - 10, 10, null, DateTimeOffset.FromUnixTimeMilliseconds(1)),
            new NativeChunkRef(native2, 0),
            new VirtualChunkRef("s3://bucket/imerg/2020/file-0001.h5", 1_000_000_000_000, 1, "\"etag-2\""), // same path, other version: another location entry
            new VirtualChunkRef("https://example.org/ünïcode/☔/🌧a.nc", 7, 3),
            new VirtualChunkRef("https://example.org/ünïcode/☔/🌩b.nc", 9, 3), // shares a high surrogate with the previous one
            new InlineChunkRef(Enumerable.Range(0, 400).Select(i => (byte)i).ToArray()),
        };
        var positions = new long[] { 0, 1, 2, 5, 6, 7, 100, 101, 200, 201, 300, 301, 511 };
        var shard = new ManifestShard([8, 0], [16, 32], positions, refs);

        AssertSameShard(shard, RoundTrip(shard));
    }

    [Fact]
    public void Many_locations_sharing_prefixes_round_trip_and_are_stored_once_each()
    {
        var random = new Random(3);
        const int n = 5000;
        var positions = new long[n];
        var refs = new ChunkRef[n];
        var ends = new Dictionary<int, long>();
        for (var i = 0; i < n; i++)
        {
            positions[i] = (i * 3) + (i % 2);
            var file = random.Next(40);
            var offset = ends.GetValueOrDefault(file) + (random.Next(4) == 0 ? random.Next(-50, 50) : 0);
            offset = Math.Max(0, offset);
            var length = random.Next(1, 60_000);
            ends[file] = offset + length;
            var location = $"s3://noaa-bucket/precipitation/{2000 + (file / 10)}/3B-HHR.MS.MRG.3IMERG.{file:D4}.V07B.HDF5";
            refs[i] = new VirtualChunkRef(location, offset, length, file % 3 == 0 ? $"etag-{file}" : null,
                file % 2 == 0 ? DateTimeOffset.FromUnixTimeMilliseconds(1_600_000_000_000 + file) : null);
        }

        var shard = new ManifestShard([0], [20_000], positions, refs);
        var encoded = shard.Encode();

        AssertSameShard(shard, ManifestShard.Decode(Key, encoded));
        // The locations column holds each (location, etag, last-modified) once, however many references use it.
        var columns = Columns(Envelope.Open(Key, ObjectType.ManifestShard, encoded));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, columns.Keys);
        var distinct = refs.Cast<VirtualChunkRef>().Select(v => (v.Location, v.Etag, v.LastModified)).Distinct().Count();
        Assert.Equal(40, distinct);
        Assert.Equal((ulong)distinct, new PayloadReader(columns[3], Key).ReadVarint());
    }

    // Splits a shard payload into its columns by tag, following the spec's layout.
    private static SortedDictionary<byte, byte[]> Columns(byte[] payload)
    {
        var r = new PayloadReader(payload, Key);
        var rank = (int)r.ReadVarint();
        r.ReadCoords(rank);
        r.ReadCoords(rank);
        r.ReadVarint();
        var columns = new SortedDictionary<byte, byte[]>();
        while (r.Remaining > 0)
        {
            var tag = r.ReadByte();
            columns.Add(tag, r.ReadBytes().ToArray());
        }

        return columns;
    }

    [Fact]
    public void An_imerg_like_shard_of_virtual_references_takes_at_most_six_bytes_per_reference()
    {
        // The spec's target: 2,621 half-hourly files x 25 chunks each, in one shard of 65,525 references.
        var random = new Random(2621);
        const int files = 2621;
        const int perFile = 25;
        var positions = new long[files * perFile];
        var refs = new ChunkRef[positions.Length];
        var start = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var f = 0; f < files; f++)
        {
            var time = start.AddMinutes(30 * f);
            var location = $"s3://gesdisc-cumulus-prod-protected/GPM_L3/GPM_3IMERGHH.07/{time:yyyy}/{time.DayOfYear:D3}/" +
                           $"3B-HHR.MS.MRG.3IMERG.{time:yyyyMMdd}-S{time:HHmmss}-E{time.AddMinutes(29).AddSeconds(59):HHmmss}.{f % 48 * 30:D4}.V07B.HDF5";
            long offset = 30_000 + random.Next(2000);
            for (var c = 0; c < perFile; c++)
            {
                var i = (f * perFile) + c;
                var length = random.Next(20_000, 60_000);
                positions[i] = i;
                refs[i] = new VirtualChunkRef(location, offset, length, null, time.AddHours(12));
                offset += length;
            }
        }

        var shard = new ManifestShard([0, 0, 0], [files, perFile, 1], positions, refs);
        var encoded = shard.Encode();

        var bytesPerReference = (double)encoded.Length / positions.Length;
        Assert.True(bytesPerReference <= 6.0, $"{bytesPerReference:F2} bytes per reference");
        AssertSameShard(shard, ManifestShard.Decode(Key, encoded));
    }

    [Fact]
    public void Only_the_columns_of_kinds_that_occur_are_written()
    {
        var inline = new InlineChunkRef(new byte[] { 1 });
        var native = new NativeChunkRef(ObjectId.NewId(), 600);
        var remote = new VirtualChunkRef("s3://b/k", 0, 8);

        byte[] TagsOf(params ChunkRef[] refs) =>
            [.. Columns(Envelope.Open(Key, ObjectType.ManifestShard, new ManifestShard([0], [8], [.. Enumerable.Range(0, refs.Length).Select(i => (long)i)], refs).Encode())).Keys];

        Assert.Equal(new byte[] { 1, 2, 9, 10 }, TagsOf(inline));
        Assert.Equal(new byte[] { 1, 2, 7, 8 }, TagsOf(native));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, TagsOf(remote));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, TagsOf(remote, native, inline));
    }

    [Fact]
    public void An_inline_only_shard_has_the_spec_payload_bytes()
    {
        var shard = new ManifestShard([8], [4], [1, 3], [new InlineChunkRef(new byte[] { 0xAA }), new InlineChunkRef(new byte[] { 0xBB, 0xCC })]);

        var payload = Envelope.Open(Key, ObjectType.ManifestShard, shard.Encode());

        // rank 1, origin [8], shape [4], n 2; positions (1) deltas [1, 2]; kinds (2) [1, 1];
        // inline lengths (9) [1, 2]; inline data (10). Columns of kinds that do not occur are omitted.
        Assert.Equal(Hex("01 08 04 02  01 03 01 01 02  02 02 01 01  09 03 01 01 02  0A 03 AA BB CC"), payload);
    }

    [Fact]
    public void A_virtual_shard_has_the_spec_payload_bytes()
    {
        var shard = new ManifestShard([0], [4], [0, 1, 2],
        [
            new VirtualChunkRef("s3://b/f1", 100, 10, "e1", DateTimeOffset.FromUnixTimeMilliseconds(1000)),
            new VirtualChunkRef("s3://b/f1", 110, 10, "e1", DateTimeOffset.FromUnixTimeMilliseconds(1000)),
            new VirtualChunkRef("s3://b/f2", 5, 7),
        ]);

        var payload = Envelope.Open(Key, ObjectType.ManifestShard, shard.Encode());

        var expected = Hex(
            "01 00 04 03" +                           // rank, origin, shape, n
            "01 04 01 00 01 01" +                     // positions: deltas [0, 1, 1]
            "02 03 03 03 03" +                        // kinds: virtual x3
            "03 16 02" +                              // locations: 22 bytes, 2 locations
            "00 09 7333 3A2F 2F62 2F66 31 02 6531 E807" + // shared 0, "s3://b/f1", etag "e1", last-modified 1000
            "08 01 32 00 00" +                        // shared 8, "2", no etag, no last-modified
            "04 04 01 00 00 02" +                     // location index deltas, zigzag [0, 0, +1]
            "05 04 01 C8 00 0A" +                     // offset residuals, zigzag [100, 0 (contiguous), 5]
            "06 04 01 0A 0A 07");                     // lengths
        Assert.Equal(expected, payload);
    }

    [Fact]
    public void Chunks_with_their_own_codecs_round_trip_and_each_list_is_stored_once()
    {
        var packed = (double scale) => ChunkCodecs.From(
        [
            new Floe.Core.CodecSpec("cf_scale_offset", new System.Text.Json.Nodes.JsonObject { ["packed_type"] = "int16", ["scale_factor"] = scale }),
            new Floe.Core.CodecSpec("bytes", new System.Text.Json.Nodes.JsonObject { ["endian"] = "big" }),
        ]);
        var refs = new ChunkRef[]
        {
            new VirtualChunkRef("/era5/2020/01/01.nc", 100, 10) { Codecs = packed(0.5) },
            new VirtualChunkRef("/era5/2020/01/01.nc", 110, 10) { Codecs = packed(0.5) },
            new VirtualChunkRef("/era5/2020/01/02.nc", 100, 10), // the array's codecs
            new InlineChunkRef(new byte[] { 1, 2 }) { Codecs = packed(0.25) },
        };
        var shard = new ManifestShard([0], [8], [0, 1, 2, 5], refs);

        var decoded = RoundTrip(shard);
        AssertSameShard(shard, decoded);
        Assert.Null(decoded.RefAt(2).Codecs);
        Assert.Equal(packed(0.25), decoded.RefAt(3).Codecs);

        // The table (tag 11) holds the two distinct lists once each; the indexes (tag 12) are [1, 1, 0, 2].
        var payload = Envelope.Open(Key, ObjectType.ManifestShard, shard.Encode());
        var table = packed(0.5).Json;
        Assert.Equal(1, CountOccurrences(payload, System.Text.Encoding.UTF8.GetBytes(table)));
        Assert.EndsWith(Convert.ToHexString(Hex("0C 05 01 01 01 00 02")), Convert.ToHexString(payload), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("01 00 04 01  01 02 01 00  02 01 01  09 02 01 00  0A 00  0B 02 01 00", "codec list 0")]
    [InlineData("01 00 04 01  01 02 01 00  02 01 01  09 02 01 00  0A 00  0B 04 01 02 5B 5D", "empty")]
    [InlineData("01 00 04 01  01 02 01 00  02 01 01  09 02 01 00  0A 00  0B 04 01 02 7B 7D", "codec list 0")]
    [InlineData("01 00 04 01  01 02 01 00  02 01 01  09 02 01 00  0A 00  0C 02 01 01", "codec table without codec indexes")]
    public void Malformed_codec_columns_are_corrupt(string payloadHex, string detail)
    {
        var ex = Record.Exception(() => ManifestShard.Decode(Key, Seal(payloadHex)));

        var corrupt = Assert.IsType<CorruptObjectException>(ex);
        Assert.Contains(detail, corrupt.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_codec_index_beyond_the_table_is_corrupt()
    {
        var list = System.Text.Encoding.UTF8.GetBytes("[{\"name\":\"bytes\"}]");
        var table = $"0B {list.Length + 2:X2} 01 {list.Length:X2} {Convert.ToHexString(list)}";
        var ex = Record.Exception(() => ManifestShard.Decode(Key, Seal($"01 00 04 01  01 02 01 00  02 01 01  09 02 01 00  0A 00  {table}  0C 02 01 02")));

        Assert.Contains("names codec list 2 of 1", Assert.IsType<CorruptObjectException>(ex).Message, StringComparison.Ordinal);
    }

    private static int CountOccurrences(byte[] haystack, byte[] needle)
    {
        var count = 0;
        for (var at = haystack.AsSpan().IndexOf(needle); at >= 0;)
        {
            count++;
            var next = haystack.AsSpan(at + 1).IndexOf(needle);
            at = next < 0 ? -1 : at + 1 + next;
        }

        return count;
    }

    [Fact]
    public void A_native_shard_stores_ids_then_lengths()
    {
        var id = ObjectId.NewId();
        var shard = new ManifestShard([0], [2], [1], [new NativeChunkRef(id, 513)]);

        var payload = Envelope.Open(Key, ObjectType.ManifestShard, shard.Encode());

        var idBytes = new byte[12];
        id.WriteTo(idBytes);
        var expected = Hex("01 00 02 01  01 02 01 01  02 01 02  07 0C").Concat(idBytes).Concat(Hex("08 03 02 01 02")).ToArray();
        Assert.Equal(expected, payload);
    }

    [Fact]
    public void Coordinates_and_positions_are_row_major_inside_the_box()
    {
        var shard = new ManifestShard([4, 10, 0], [2, 5, 3], [], []);
        var coords = new long[3];
        var position = 0L;
        for (var a = 0; a < 2; a++)
        {
            for (var b = 0; b < 5; b++)
            {
                for (var c = 0; c < 3; c++)
                {
                    shard.CoordsOf(position, coords);
                    Assert.Equal(new long[] { 4 + a, 10 + b, c }, coords);
                    Assert.Equal(position, shard.PositionOf(coords));
                    Assert.Equal(position, ShardLayout.PositionIn(coords, [2, 5, 3]));
                    position++;
                }
            }
        }
    }

    [Fact]
    public void Find_returns_the_reference_at_a_position_or_null()
    {
        var shard = RoundTrip(new ManifestShard([0], [100], [3, 50, 99], [new InlineChunkRef(new byte[] { 3 }), new InlineChunkRef(new byte[] { 50 }), new InlineChunkRef(new byte[] { 99 })]));

        Assert.Equal(new InlineChunkRef(new byte[] { 50 }), shard.Find(50));
        Assert.Null(shard.Find(4));
        Assert.Null(shard.Find(0));
    }

    [Fact]
    public void An_empty_shard_round_trips()
    {
        var shard = new ManifestShard([0, 0], [3, 3], [], []);

        AssertSameShard(shard, RoundTrip(shard));
    }

    private static byte[] Seal(string payloadHex) => Envelope.Seal(ObjectType.ManifestShard, Hex(payloadHex), compress: true);

    [Theory]
    [InlineData("01 00 04 01  01 02 01 00  02 01 01  0D 00", "unknown column tag 13")]
    [InlineData("01 00 04 01  02 01 01  01 02 01 00  09 02 01 00  0A 00", "out of order")]
    [InlineData("01 00 04 01  01 02 01 00  01 02 01 00", "out of order")]
    [InlineData("01 00 04 01  01 02 01 00", "missing the positions or kinds column")]
    [InlineData("01 00 04 01  01 02 01 00  02 01 04", "unknown reference kind 4")]
    [InlineData("01 00 04 02  01 03 01 01 00  02 02 01 01  09 03 01 00 00  0A 00", "does not increase")]
    [InlineData("01 00 04 01  01 02 01 04  02 01 01  09 02 01 00  0A 00", "outside the shard box")]
    [InlineData("01 00 04 01  01 02 01 00  02 01 01  09 02 01 05  0A 02 AA BB", "inline data is shorter")]
    [InlineData("01 00 04 01  01 02 01 00  02 01 01  09 02 01 01  0A 02 AA BB", "inline data is longer")]
    [InlineData("01 00 04 01  01 02 01 00  02 01 03", "missing a virtual reference column")]
    [InlineData("01 00 04 01  01 02 01 00  02 01 02", "missing a native or inline reference column")]
    [InlineData("01 00 00 00  01 01 00  02 00", "zero dimension")]
    [InlineData("01 00 04 05  01 01 00  02 00", "reference count 5 exceeds 4")]
    [InlineData("01 00 04 01  01 02 01 00  02 01 01  09 03 01 00 00  0A 00", "unexpected bytes")]
    public void Malformed_shards_are_corrupt_naming_the_key(string payloadHex, string detail)
    {
        var ex = Record.Exception(() => ManifestShard.Decode(Key, Seal(payloadHex)));

        var corrupt = Assert.IsType<CorruptObjectException>(ex);
        Assert.Equal(Key, corrupt.Key);
        Assert.Contains(detail, corrupt.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shard_with_native_lengths_but_no_native_ids_column_is_corrupt()
    {
        // One native reference (kind 2), its lengths column (tag 8) present, its ids column (tag 7) missing.
        var ex = Record.Exception(() => ManifestShard.Decode(Key, Seal("01 00 04 01  01 02 01 00  02 01 02  08 02 01 05")));

        Assert.IsType<CorruptObjectException>(ex);
    }

    [Fact]
    public void A_shard_shape_whose_box_overflows_is_corrupt()
    {
        // rank 2, origin [0, 0], shape [2^40, 2^40]: the box holds 2^80 chunks.
        var ex = Record.Exception(() => ManifestShard.Decode(Key, Seal("02 00 00  80 80 80 80 80 20  80 80 80 80 80 20  00")));

        Assert.IsType<CorruptObjectException>(ex);
    }

    [Fact]
    public void A_reference_count_far_beyond_the_payload_is_corrupt_without_allocating_for_it()
    {
        // A box of int.MaxValue chunks and a count of int.MaxValue - 1 with a zero-width positions column: the
        // kinds column (n bytes) cannot exist in this payload, so the count is corrupt.
        var ex = Record.Exception(() => ManifestShard.Decode(Key, Seal("01 00  FF FF FF FF 07  FE FF FF FF 07  01 01 00")));

        Assert.IsType<CorruptObjectException>(ex);
    }

    [Fact]
    public void Encoding_an_unknown_reference_type_is_refused()
    {
        var shard = new ManifestShard([0], [2], [0], [new OtherRef()]);

        Assert.Throws<ArgumentException>(() => shard.Encode());
    }

    [Fact]
    public void Positions_and_refs_of_different_lengths_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new ManifestShard([0], [2], [0, 1], [new InlineChunkRef(new byte[1])]));
    }

    private sealed record OtherRef : ChunkRef;
}
