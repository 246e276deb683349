using System.Buffers.Binary;
using System.Text;
using Floe.Storage;

namespace Floe.Formats.Hdf5.Tests;

/// <summary>Structures built byte by byte from the specification, for cases h5py does not write.</summary>
public sealed class UnitTests
{
    private static Hdf5Context Context(byte[] content)
    {
        var context = new Hdf5Context(new CachingRangeReader(new MemorySource(content), "memory.h5")) { FileLength = content.Length };
        return context;
    }

    [Theory]
    [InlineData("", 0u, 0xdeadbeefu)]
    [InlineData("", 0xdeadbeefu, 0xbd5b7ddeu)]
    [InlineData("Four score and seven years ago", 0u, 0x17770551u)]
    [InlineData("Four score and seven years ago", 1u, 0xcd628161u)]
    public void Lookup3_matches_the_reference_vectors(string text, uint seed, uint expected) =>
        Assert.Equal(expected, Lookup3.Hash(Encoding.ASCII.GetBytes(text), seed));

    private static Hdf5Datatype ParseType(byte[] bytes, Hdf5Context? context = null)
    {
        var r = new FieldReader(bytes, 0, context ?? Context([0]), null, "test");
        var type = Hdf5Datatype.Parse(ref r);
        Assert.Equal(0, r.Remaining);
        return type;
    }

    private static byte[] Header(int typeClass, int version, int bits, int size)
    {
        var b = new byte[8];
        b[0] = (byte)(version << 4 | typeClass);
        b[1] = (byte)bits;
        b[2] = (byte)(bits >> 8);
        b[3] = (byte)(bits >> 16);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(4), size);
        return b;
    }

    private static byte[] IntType(int size, bool signed, bool big) =>
        [.. Header(0, 1, (big ? 1 : 0) | (signed ? 8 : 0), size), 0, 0, (byte)(size * 8), 0];

    private static byte[] Padded(string name)
    {
        var bytes = Encoding.ASCII.GetBytes(name + "\0");
        return [.. bytes, .. new byte[(8 - bytes.Length % 8) % 8]];
    }

    [Fact]
    public void Compound_version_1_members_with_dimensions_become_arrays()
    {
        // Version 1 member: padded name, offset, dimensionality, reserved, permutation, reserved, 4 dimension sizes, type.
        byte[] member(string name, int offset, int rank, int[] dims, byte[] type)
        {
            var fixedPart = new byte[4 + 1 + 3 + 4 + 4 + 16];
            BinaryPrimitives.WriteInt32LittleEndian(fixedPart, offset);
            fixedPart[4] = (byte)rank;
            for (var i = 0; i < dims.Length; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(fixedPart.AsSpan(16 + 4 * i), dims[i]);
            }

            return [.. Padded(name), .. fixedPart, .. type];
        }

        var bytes = (byte[])[.. Header(6, 1, 2, 14), .. member("count", 0, 0, [], IntType(2, true, false)), .. member("pair", 2, 2, [2, 3], IntType(2, false, true))];
        var type = ParseType(bytes);
        Assert.Equal(["count", "pair"], type.Members.Select(m => m.Name));
        var pair = type.Members[1].Datatype;
        Assert.Equal(Hdf5DatatypeClass.Array, pair.Class);
        Assert.Equal([2, 3], pair.ArrayDimensions);
        Assert.Equal(">u2", pair.BaseType!.NumpyTypeString);
        Assert.Equal("|V14", type.NumpyTypeString);
    }

    [Fact]
    public void Compound_version_3_offsets_use_the_fewest_bytes()
    {
        // A 300-byte compound encodes member offsets in 2 bytes; names are not padded.
        byte[] bytes = [.. Header(6, 3, 2, 300), .. "a\0"u8, 0, 0, .. IntType(4, true, false), .. "b\0"u8, 0x00, 0x01, .. IntType(1, false, false)];
        var type = ParseType(bytes);
        Assert.Equal([0, 256], type.Members.Select(m => m.Offset));
        Assert.Equal(["<i4", "|u1"], type.Members.Select(m => m.Datatype.NumpyTypeString));
    }

    [Fact]
    public void Enumerations_of_version_3_have_unpadded_names()
    {
        byte[] bytes = [.. Header(8, 3, 2, 2), .. IntType(2, true, true), .. "NO\0"u8, .. "YES\0"u8, 0xff, 0xff, 0x00, 0x01];
        var type = ParseType(bytes);
        Assert.Equal(">i2", type.NumpyTypeString);
        Assert.Equal([("NO", (object)(short)-1), ("YES", (short)1)], type.EnumMembers.Select(m => (m.Name, m.Value)));
    }

    [Theory]
    [InlineData(0, "ab\0cd\0\0\0", "ab")]
    [InlineData(1, "ab\0cd\0\0\0", "ab\0cd")]
    [InlineData(2, "ab cd   ", "ab cd")]
    public void Fixed_strings_strip_their_padding(int padding, string stored, string expected)
    {
        var context = Context([0]);
        var type = ParseType(Header(3, 1, padding | 0x10, 8), context);
        Assert.Equal(Hdf5CharacterSet.Utf8, type.CharacterSet);
        var decoder = new ValueDecoder(context, new GlobalHeap(context), null);
        var value = decoder.Decode(type, Hdf5Dataspace.ScalarSpace, Encoding.ASCII.GetBytes(stored), 0);
        Assert.Equal(expected, value);
    }

    [Fact]
    public void Odd_sized_integers_decode_with_sign_extension()
    {
        var type = ParseType(IntType(3, true, true));
        Assert.Equal(-2L, ValueDecoder.DecodeInteger(type, [0xff, 0xff, 0xfe]));
        var unsigned = ParseType(IntType(3, false, false));
        Assert.Equal(0xfeffffUL, ValueDecoder.DecodeInteger(unsigned, [0xff, 0xff, 0xfe]));
    }

    [Fact]
    public void Filter_pipeline_version_1_has_padded_names_and_values()
    {
        byte[] bytes =
        [
            1, 2, 0, 0, 0, 0, 0, 0,
            1, 0, 8, 0, 0, 0, 1, 0, .. "deflate\0"u8, 6, 0, 0, 0, 0, 0, 0, 0,
            0x10, 0x01, 0, 0, 1, 0, 2, 0, 7, 0, 0, 0, 9, 0, 0, 0,
        ];
        var r = new FieldReader(bytes, 0, Context([0]), null, "test");
        var filters = Messages.ParseFilterPipeline(ref r);
        Assert.Equal(0, r.Remaining);
        Assert.Equal(("deflate", (ushort)1, "deflate"), (filters[0].Name, filters[0].Id, filters[0].StoredName));
        Assert.Equal([6u], filters[0].ClientData);
        Assert.Equal(("unknown", (ushort)272, true), (filters[1].Name, filters[1].Id, filters[1].Optional));
        Assert.Equal([7u, 9u], filters[1].ClientData);
    }

    [Fact]
    public void Filter_pipeline_version_2_names_only_user_filters()
    {
        byte[] bytes = [2, 2, 2, 0, 0, 0, 1, 0, 4, 0, 0, 0, 0x0f, 0x7d, 4, 0, 1, 0, 1, 0, .. "zst\0"u8, 3, 0, 0, 0];
        var r = new FieldReader(bytes, 0, Context([0]), null, "test");
        var filters = Messages.ParseFilterPipeline(ref r);
        Assert.Equal(0, r.Remaining);
        Assert.Equal(["shuffle", "zstd"], filters.Select(f => f.Name));
        Assert.Equal([4u], filters[0].ClientData);
        Assert.Equal("zst", filters[1].StoredName);
    }

    [Theory]
    [InlineData(new byte[] { 1, 1, 0, 1, 2, 0, 0, 0, 0x34, 0x12 }, true, "3412", 1, 0)]
    [InlineData(new byte[] { 2, 3, 2, 0 }, false, null, 3, 2)]
    [InlineData(new byte[] { 2, 2, 1, 1, 0, 0, 0, 0 }, true, null, 2, 1)]
    [InlineData(new byte[] { 3, 0x10 | 0x04 | 0x02 }, false, null, 2, 1)]
    [InlineData(new byte[] { 3, 0x20 | 0x03, 2, 0, 0, 0, 7, 0 }, true, "0700", 3, 0)]
    public void Fill_value_messages_of_every_version(byte[] bytes, bool defined, string? value, int allocation, int write)
    {
        var r = new FieldReader(bytes, 0, Context([0]), null, "test");
        var fill = Messages.ParseFillValue(ref r);
        Assert.Equal(defined, fill.IsDefined);
        Assert.Equal(value, fill.Value is null ? null : Convert.ToHexStringLower(fill.Value));
        Assert.Equal((Hdf5AllocationTime)allocation, fill.AllocationTime);
        Assert.Equal((Hdf5FillWriteTime)write, fill.WriteTime);
    }

    [Fact]
    public void Old_fill_value_message_holds_just_the_value()
    {
        var r = new FieldReader([4, 0, 0, 0, 1, 2, 3, 4], 0, Context([0]), null, "test");
        var fill = Messages.ParseOldFillValue(ref r);
        Assert.Equal([1, 2, 3, 4], fill.Value!);
        Assert.Equal(4, fill.MessageType);
    }

    [Fact]
    public void Layout_version_1_chunked_keeps_the_element_size_dimension()
    {
        byte[] bytes = [1, 3, 2, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 7, 0, 0, 0, 4, 0, 0, 0];
        var r = new FieldReader(bytes, 0, Context([0]), null, "test");
        var layout = Assert.IsType<Hdf5ChunkedLayout>(Messages.ParseLayout(ref r, 0, Context([0])));
        Assert.Equal([5, 7], layout.ChunkShape);
        Assert.Equal(4, layout.ElementSize);
        Assert.Equal(16, layout.IndexAddress);
        Assert.Equal(Hdf5ChunkIndexType.BTreeV1, layout.IndexType);
        Assert.Equal(140, layout.ChunkBytes);
    }

    [Fact]
    public void Dataspace_version_1_with_unlimited_maximum()
    {
        byte[] bytes = [1, 1, 1, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        var r = new FieldReader(bytes, 0, Context([0]), null, "test");
        var space = Messages.ParseDataspace(ref r, Context([0]));
        Assert.Equal([3L], space.Dimensions);
        Assert.Equal([Hdf5Dataspace.Unlimited], space.MaxDimensions!);
    }

    [Fact]
    public void External_link_messages_carry_file_and_path()
    {
        byte[] bytes = [1, 0x08, 64, 3, .. "ext"u8, 14, 0, 0, .. "f.h5\0"u8, .. "/a/b\0"u8, 0, 0, 0];
        bytes[7] = (byte)(1 + 5 + 5);
        var r = new FieldReader(bytes.AsSpan(0, 4 + 3 + 2 + 11), 0, Context([0]), null, "test");
        var link = Messages.ParseLink(ref r);
        Assert.Equal(("ext", 64, "f.h5", "/a/b"), (link.Name, link.LinkType, link.ExternalFile, link.ExternalPath));
    }

    private static byte[] FractalHeapHeader(int heapIdLength)
    {
        var bytes = new List<byte>();
        void U(ulong value, int size)
        {
            for (var i = 0; i < size; i++)
            {
                bytes.Add((byte)(value >> (8 * i)));
            }
        }

        bytes.AddRange("FRHP"u8.ToArray());
        U(0, 1);
        U((ulong)heapIdLength, 2);
        U(0, 2);
        U(0, 1);
        U(4096, 4);
        U(0, 8);
        U(ulong.MaxValue, 8);
        U(0, 8);
        U(ulong.MaxValue, 8);
        for (var i = 0; i < 8; i++)
        {
            U(0, 8);
        }

        U(4, 2);
        U(512, 8);
        U(65536, 8);
        U(32, 2);
        U(0, 2);
        U(ulong.MaxValue, 8);
        U(0, 2);
        U(Lookup3.Hash(bytes.ToArray()), 4);
        return [.. bytes];
    }

    [Fact]
    public async Task Tiny_fractal_heap_objects_live_in_their_heap_ids()
    {
        var heap = await FractalHeap.ReadAsync(Context(FractalHeapHeader(8)), 0, null, default);
        var (data, _) = await heap.ReadObjectAsync(new byte[] { 0x20 | 4, 1, 2, 3, 4, 5, 0, 0 }, 0, null, default);
        Assert.Equal([1, 2, 3, 4, 5], data.ToArray());

        // Heap IDs longer than 18 bytes use the extended form: a 12-bit length over two bytes.
        var wide = await FractalHeap.ReadAsync(Context(FractalHeapHeader(24)), 0, null, default);
        var id = new byte[24];
        id[0] = 0x20;
        id[1] = 19;
        for (var i = 0; i < 20; i++)
        {
            id[2 + i] = (byte)(i + 1);
        }

        var (extended, _) = await wide.ReadObjectAsync(id, 0, null, default);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (byte)i), extended.ToArray());

        await Assert.ThrowsAsync<Hdf5FormatException>(async () => await heap.ReadObjectAsync(new byte[] { 0x20 | 12, 1, 2 }, 0, null, default));
        await Assert.ThrowsAsync<Hdf5FormatException>(async () => await heap.ReadObjectAsync(new byte[] { 0, 0, 0, 0, 0, 1, 0 }, 0, null, default));
    }

    [Fact]
    public async Task A_fractal_heap_header_with_a_bad_checksum_is_refused()
    {
        var bytes = FractalHeapHeader(8);
        bytes[10] ^= 1;
        var error = await Assert.ThrowsAsync<Hdf5FormatException>(async () => await FractalHeap.ReadAsync(Context(bytes), 0, null, default));
        Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
        Assert.Contains("memory.h5", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Object_header_continuations_that_loop_are_refused()
    {
        // A version 1 header whose continuation message points back at its own message block.
        var bytes = new byte[256];
        bytes[0] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 24);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(16), 0x10);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(18), 16);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(24), 16);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(32), 24);
        var context = Context(bytes);
        var error = await Assert.ThrowsAsync<Hdf5FormatException>(async () => await ObjectHeader.ReadAsync(context, 0, "/x", default));
        Assert.Contains("cycle", error.Message, StringComparison.Ordinal);
        Assert.Equal("/x", error.ObjectPath);
    }
}
