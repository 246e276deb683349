using System.Buffers.Binary;

namespace Floe.Formats.Hdf5.Tests;

/// <summary>
/// The specific structures each fixture was written to exercise are really there (index types, paging, B-tree
/// depths, dense storage, shared messages), and the API reports them.
/// </summary>
[Collection("hdf5 fixtures")]
public sealed class FeatureTests(FixtureSet fixtures)
{
    private async Task<(Hdf5File File, Hdf5Dataset Dataset, Hdf5ChunkedLayout Layout)> Chunked(string file, string path)
    {
        var h5 = await fixtures.OpenAsync(file);
        var dataset = Assert.IsType<Hdf5Dataset>(h5.Find(path));
        return (h5, dataset, Assert.IsType<Hdf5ChunkedLayout>(dataset.Layout));
    }

    [Theory]
    [InlineData("latest.h5", "/fa_paged", Hdf5ChunkIndexType.FixedArray)]
    [InlineData("latest.h5", "/fa_partial", Hdf5ChunkIndexType.FixedArray)]
    [InlineData("latest.h5", "/fa_filtered", Hdf5ChunkIndexType.FixedArray)]
    [InlineData("latest.h5", "/fa_maxshape", Hdf5ChunkIndexType.FixedArray)]
    [InlineData("latest.h5", "/ea_small", Hdf5ChunkIndexType.ExtensibleArray)]
    [InlineData("latest.h5", "/ea_paged", Hdf5ChunkIndexType.ExtensibleArray)]
    [InlineData("latest.h5", "/ea_filtered_2d", Hdf5ChunkIndexType.ExtensibleArray)]
    [InlineData("latest.h5", "/ea_swizzled", Hdf5ChunkIndexType.ExtensibleArray)]
    [InlineData("latest.h5", "/bt2", Hdf5ChunkIndexType.BTreeV2)]
    [InlineData("latest.h5", "/bt2_filtered", Hdf5ChunkIndexType.BTreeV2)]
    [InlineData("latest.h5", "/single", Hdf5ChunkIndexType.SingleChunk)]
    [InlineData("latest.h5", "/single_filtered", Hdf5ChunkIndexType.SingleChunk)]
    [InlineData("latest.h5", "/implicit", Hdf5ChunkIndexType.Implicit)]
    [InlineData("earliest.h5", "/chunk_filters", Hdf5ChunkIndexType.BTreeV1)]
    [InlineData("v108.h5", "/chunk_filters", Hdf5ChunkIndexType.BTreeV1)]
    [InlineData("superblock1.h5", "/chunked", Hdf5ChunkIndexType.BTreeV1)]
    public async Task Each_chunk_index_type_is_recognised(string file, string path, Hdf5ChunkIndexType type)
    {
        var (_, _, layout) = await Chunked(file, path);
        Assert.Equal(type, layout.IndexType);
        Assert.Equal(type == Hdf5ChunkIndexType.BTreeV1 ? 3 : 4, layout.LayoutVersion);
    }

    [Fact]
    public async Task Fixed_arrays_page_and_skip_uninitialized_pages()
    {
        var (file, dataset, layout) = await Chunked("latest.h5", "/fa_paged");
        Assert.Equal(10, layout.FixedArrayPageBits);
        Assert.True((await file.ReadChunksAsync(dataset)).Count > 1 << layout.FixedArrayPageBits);

        var partial = (Hdf5Dataset)file.Find("/fa_partial")!;
        var chunks = await file.ReadChunksAsync(partial);
        // Rows 0-19 (600 chunks of 1×2) and the very last chunk, in the last page; the pages between are never written.
        Assert.Equal(601, chunks.Count);
        Assert.Equal([59, 29], chunks[^1].Index);
        var data = await file.ReadDataAsync(partial);
        Assert.Equal(9, BinaryPrimitives.ReadInt16LittleEndian(data.AsSpan(2 * 60 * 30)));
        Assert.Equal(2, BinaryPrimitives.ReadInt16LittleEndian(data.AsSpan(data.Length - 2)));
    }

    [Fact]
    public async Task Extensible_arrays_use_super_blocks_and_paged_data_blocks()
    {
        var (file, dataset, layout) = await Chunked("latest.h5", "/ea_paged");
        Assert.Equal(4, layout.ExtensibleArrayIndexElements);
        // Data blocks of super block 13 hold 2048 elements, more than a 1024-element page: they are paged.
        var chunks = await file.ReadChunksAsync(dataset);
        Assert.Equal(132100 + 4000, chunks.Count);
        Assert.DoesNotContain(chunks, c => c.Index[0] is >= 132100 and < 136000);

        var (file2, swizzled, _) = await Chunked("latest.h5", "/ea_swizzled");
        var placed = await file2.ReadChunksAsync(swizzled);
        Assert.Equal(5 * 50, placed.Count);
        Assert.All(placed, c => Assert.True(c.Index[0] < 5 && c.Index[1] < 50));
    }

    [Theory]
    [InlineData("/bt2", 2, 10)]
    [InlineData("/bt2_filtered", 1, 11)]
    public async Task Version_2_btree_chunk_indexes_have_depth(string path, int minDepth, int recordType)
    {
        var (file, _, layout) = await Chunked("latest.h5", path);
        var header = await BTreeV2.ReadHeaderAsync(file.Context, layout.IndexAddress - file.BaseAddress, path, default);
        Assert.True(header.Depth >= minDepth, $"depth {header.Depth}");
        Assert.Equal(recordType, header.Type);
    }

    [Theory]
    [InlineData("earliest.h5", "/chunk_filters")]
    [InlineData("superblock1.h5", "/chunked")]
    public async Task Version_1_btree_chunk_indexes_have_internal_nodes(string name, string path)
    {
        var (file, dataset, layout) = await Chunked(name, path);
        var bytes = File.ReadAllBytes(fixtures.PathOf(name));
        Assert.Equal("TREE"u8.ToArray(), bytes.AsSpan((int)layout.IndexAddress, 4).ToArray());
        Assert.True(bytes[layout.IndexAddress + 5] >= 1, "root node level");
        Assert.NotEmpty(await file.ReadChunksAsync(dataset));
    }

    [Fact]
    public async Task Superblock_1_carries_its_btree_k_values()
    {
        var file = await fixtures.OpenAsync("superblock1.h5");
        Assert.Equal(1, file.SuperblockVersion);
        Assert.Equal(64, file.Context.ChunkBTreeK);
        Assert.Equal(6, file.Context.GroupLeafK);
        Assert.Equal(8, file.Context.GroupInternalK);
        Assert.Equal(40, file.Root.Links.Count(l => l.Name.StartsWith('g')));
    }

    [Theory]
    [InlineData("earliest.h5")]
    [InlineData("latest.h5")]
    public async Task A_chunk_written_unfiltered_keeps_its_filter_mask(string name)
    {
        var (file, dataset, _) = await Chunked(name, "/direct");
        var chunks = await file.ReadChunksAsync(dataset);
        Assert.Equal(1u, chunks[1].FilterMask);
        Assert.All(chunks.Where((_, i) => i != 1), c => Assert.Equal(0u, c.FilterMask));
        var data = await file.ReadDataAsync(dataset);
        Assert.Equal(100, BinaryPrimitives.ReadInt16LittleEndian(data.AsSpan(20)));
    }

    [Fact]
    public async Task Single_chunk_index_reports_filtered_size_and_mask()
    {
        var (file, dataset, layout) = await Chunked("latest.h5", "/single_filtered");
        Assert.True((layout.Flags & 2) != 0);
        var chunk = Assert.Single(await file.ReadChunksAsync(dataset));
        Assert.Equal(layout.SingleChunkFilteredSize, chunk.Length);
        Assert.True(chunk.Length < layout.ChunkBytes);
        Assert.Equal(layout.IndexAddress, chunk.Offset);
    }

    [Fact]
    public async Task Implicit_index_lists_every_chunk_of_the_extent()
    {
        var (file, dataset, _) = await Chunked("latest.h5", "/implicit");
        var chunks = await file.ReadChunksAsync(dataset);
        Assert.Equal(16, chunks.Count);
        Assert.All(chunks, c => Assert.Equal(36, c.Length));
        Assert.Equal(chunks[0].Offset + 36 * 4 * 3 + 36 * 3, chunks[15].Offset);
    }

    [Fact]
    public async Task Groups_report_their_storage()
    {
        var earliest = await fixtures.OpenAsync("earliest.h5");
        // The external link made HDF5 convert the old-style root group to link messages (dense: many links).
        Assert.Equal(Hdf5GroupStorage.Dense, earliest.Root.Storage);
        Assert.Equal(1, earliest.Root.ObjectHeaderVersion);
        Assert.Equal(Hdf5GroupStorage.SymbolTable, Assert.IsType<Hdf5Group>(earliest.Find("/grp")).Storage);
        var old = Assert.IsType<Hdf5Group>(earliest.Find("/old_style_many"));
        Assert.Equal(60, old.Links.Count);
        Assert.Equal(Hdf5GroupStorage.SymbolTable, old.Storage);

        var latest = await fixtures.OpenAsync("latest.h5");
        Assert.Equal(2, latest.Root.ObjectHeaderVersion);
        var dense = Assert.IsType<Hdf5Group>(latest.Find("/dense_links"));
        Assert.Equal(Hdf5GroupStorage.Dense, dense.Storage);
        Assert.Equal(42, dense.Links.Count);
        Assert.Equal(Hdf5GroupStorage.Compact, Assert.IsType<Hdf5Group>(latest.Find("/grp")).Storage);
        Assert.IsType<Hdf5ExternalLink>(dense.Link("ext_in_dense"));
        Assert.Same(latest.Find("/grp"), Assert.IsType<Hdf5SoftLink>(dense.Link("soft_in_dense")).Resolved);
    }

    [Fact]
    public async Task Creation_order_is_kept_for_tracked_links_and_attributes()
    {
        var file = await fixtures.OpenAsync("latest.h5");
        var ordered = Assert.IsType<Hdf5Group>(file.Find("/ordered_links"));
        Assert.Equal(["zeta", "alpha", "mid", "beta"], ordered.Links.Select(l => l.Name));
        Assert.Equal([0L, 1, 2, 3], ordered.Links.Select(l => l.CreationOrder!.Value));
        Assert.Equal(["alpha", "beta", "mid", "zeta"], ordered.Children.Select(c => c.Name).Order(StringComparer.Ordinal));

        var attrs = file.Find("/dense_attrs_ordered")!;
        Assert.True(attrs.HasDenseAttributes);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"z{20 - i:00}"), attrs.Attributes.Select(a => a.Name));
        Assert.Equal("value 3", attrs.Attribute("z17")!.Value);
    }

    [Fact]
    public async Task Dense_attributes_include_a_huge_heap_object()
    {
        var file = await fixtures.OpenAsync("latest.h5");
        var dataset = file.Find("/dense_attrs")!;
        Assert.True(dataset.HasDenseAttributes);
        Assert.Equal(31, dataset.Attributes.Count);
        var huge = Assert.IsType<double[]>(dataset.Attribute("huge")!.Value);
        Assert.Equal(20000, huge.Length);
        Assert.Equal(19999.0, huge[^1]);
        Assert.Equal(29, dataset.Attribute("a29")!.Value);
    }

    [Fact]
    public async Task Soft_and_external_links_are_reported_and_resolved()
    {
        var file = await fixtures.OpenAsync("earliest.h5");
        var sub = file.Find("/grp/sub");
        Assert.NotNull(sub);
        Assert.Same(sub, Assert.IsType<Hdf5SoftLink>(file.Root.Link("soft")).Resolved);
        Assert.Same(sub, file.Find("/soft"));
        Assert.Same(sub, Assert.IsType<Hdf5SoftLink>(((Hdf5Group)file.Find("/grp")!).Link("soft_relative")).Resolved);
        Assert.Null(Assert.IsType<Hdf5SoftLink>(file.Root.Link("dangling")).Resolved);
        Assert.Null(file.Find("/dangling"));
        var external = Assert.IsType<Hdf5ExternalLink>(file.Root.Link("external"));
        Assert.Equal(("other.h5", "/some/object"), (external.FileName, external.ObjectPath));
        Assert.Null(file.Find("/external"));

        // Two hard links to one dataset: one object, walked once, named by the first path found.
        var alias = Assert.IsType<Hdf5HardLink>(((Hdf5Group)file.Find("/grp")!).Link("alias"));
        Assert.Same(file.Find("/contig_f4"), alias.Target);
        Assert.Equal("/contig_f4", alias.Target.Path);
        Assert.Single(file.Walk(), o => ReferenceEquals(o, alias.Target));
    }

    [Fact]
    public async Task Committed_datatypes_are_shared_by_datasets_and_attributes()
    {
        var file = await fixtures.OpenAsync("latest.h5");
        var named = Assert.IsType<Hdf5NamedDatatype>(file.Find("/committed"));
        var typed = Assert.IsType<Hdf5Dataset>(file.Find("/typed"));
        Assert.Equal(named.Address, typed.Datatype.CommittedAddress);
        Assert.Equal(named.Address, typed.Attribute("typed_attr")!.Datatype.CommittedAddress);
        Assert.Equal(["x", "y"], typed.Datatype.Members.Select(m => m.Name));
        Assert.Equal([0, 2], typed.Datatype.Members.Select(m => m.Offset));
    }

    [Fact]
    public async Task Shared_messages_in_the_shared_message_heap_are_followed()
    {
        var file = await fixtures.OpenAsync("sohm.h5");
        Assert.True(file.HasSharedMessageTable);
        var d = Assert.IsType<Hdf5Dataset>(file.Find("/d2"));
        Assert.Equal(3, d.Datatype.Members.Count);
        Assert.Equal([6L], d.Dataspace.Dimensions);
        Assert.Equal("metres and more", d.Attribute("units")!.Value);
        Assert.Contains(d.MessageTypes, t => t == 3);
    }

    [Fact]
    public async Task Fill_values_report_definition_and_times()
    {
        var latest = await fixtures.OpenAsync("latest.h5");
        var undefined = (Hdf5Dataset)latest.Find("/undefined_fill")!;
        Assert.False(undefined.FillValue.IsDefined);
        Assert.Null(undefined.FillValue.Value);
        Assert.Equal(3, undefined.FillValue.MessageVersion);

        var earliest = await fixtures.OpenAsync("earliest.h5");
        var user = (Hdf5Dataset)earliest.Find("/fill_user")!;
        // Both fill value messages are there (old 0x0004 for old readers, new 0x0005); the new one wins.
        Assert.Contains(4, user.MessageTypes);
        Assert.Equal(5, user.FillValue.MessageType);
        Assert.Equal(new byte[] { 0xfd, 0xff }, user.FillValue.Value);
        Assert.Equal(Hdf5AllocationTime.Incremental, user.FillValue.AllocationTime);
        var data = await earliest.ReadDataAsync(user);
        Assert.Equal(new byte[] { 1, 0, 2, 0, 3, 0, 0xfd, 0xff, 0xfd, 0xff, 0xfd, 0xff }, data);

        var unallocated = (Hdf5Dataset)earliest.Find("/unallocated")!;
        Assert.Empty(await earliest.ReadChunksAsync(unallocated));
        var filled = await earliest.ReadDataAsync(unallocated);
        Assert.All(Enumerable.Range(0, 20), i => Assert.Equal(3.5f, BinaryPrimitives.ReadSingleLittleEndian(filled.AsSpan(i * 4))));
    }

    [Fact]
    public async Task Datatypes_describe_their_class_details()
    {
        var file = await fixtures.OpenAsync("earliest.h5");
        Hdf5Datatype Type(string path) => ((Hdf5Dataset)file.Find(path)!).Datatype;
        Assert.Equal("<f2", Type("/f2").NumpyTypeString);
        Assert.Equal(">i2", Type("/be_i2").NumpyTypeString);
        Assert.True(Type("/be_i2").IsBigEndian && Type("/be_i2").IsSigned);
        Assert.Equal("|S8", Type("/fixed_str").NumpyTypeString);
        Assert.Equal(Hdf5StringPadding.NullPad, Type("/fixed_str").StringPadding);
        var vlen = Type("/vlen_str");
        Assert.True(vlen.IsVariableLengthString);
        Assert.Equal(Hdf5CharacterSet.Utf8, vlen.CharacterSet);
        var enumType = Type("/enum_ds");
        Assert.Equal("|u1", enumType.NumpyTypeString);
        Assert.Equal([("OFF", (object)(byte)0), ("ON", (byte)1)], enumType.EnumMembers.Select(m => (m.Name, m.Value)));
        var array = Type("/array_ds");
        Assert.Equal(Hdf5DatatypeClass.Array, array.Class);
        Assert.Equal([3], array.ArrayDimensions);
        Assert.Equal("<i2", array.BaseType!.NumpyTypeString);
        var compound = Type("/compound_ds");
        Assert.Equal(["a", "b", "c"], compound.Members.Select(m => m.Name));
        Assert.Equal("|S3", compound.Members[2].Datatype.NumpyTypeString);

        var refs = file.Root.Attribute("refs")!;
        Assert.Equal(Hdf5ReferenceKind.Object, refs.Datatype.ReferenceKind);
        Assert.Equal(Hdf5ReferenceKind.DatasetRegion, file.Root.Attribute("region")!.Datatype.ReferenceKind);
        Assert.Equal(Hdf5DatatypeClass.Opaque, file.Root.Attribute("opaque")!.Datatype.Class);
        Assert.Equal(Hdf5DatatypeClass.Bitfield, file.Root.Attribute("bitfield")!.Datatype.Class);
        var sequence = file.Root.Attribute("vlen_ints")!;
        Assert.True(sequence.Datatype.IsVariableLengthSequence);
        var values = Assert.IsType<object[]>(sequence.Value);
        Assert.Equal([1, 2, 3], Assert.IsType<int[]>(values[0]));
        Assert.Empty(Assert.IsType<int[]>(values[1]));
    }

    [Fact]
    public async Task Dataspaces_and_layouts_report_their_details()
    {
        var earliest = await fixtures.OpenAsync("earliest.h5");
        var chunked = (Hdf5Dataset)earliest.Find("/chunk_filters")!;
        Assert.Equal([Hdf5Dataspace.Unlimited, Hdf5Dataspace.Unlimited], chunked.Dataspace.MaxDimensions!);
        Assert.Equal(["shuffle", "deflate", "fletcher32"], chunked.Filters.Select(f => f.Name));
        Assert.Equal([4u], chunked.Filters[1].ClientData);
        Assert.Equal(Hdf5DataspaceKind.Scalar, ((Hdf5Dataset)earliest.Find("/scalar_ds")!).Dataspace.Kind);
        Assert.Equal(Hdf5DataspaceKind.Null, ((Hdf5Dataset)earliest.Find("/null_ds")!).Dataspace.Kind);
        Assert.Empty(await earliest.ReadDataAsync((Hdf5Dataset)earliest.Find("/null_ds")!));
        var compact = Assert.IsType<Hdf5CompactLayout>(((Hdf5Dataset)earliest.Find("/compact_i4")!).Layout);
        Assert.Equal(48, compact.Data.Length);
        var contiguous = Assert.IsType<Hdf5ContiguousLayout>(((Hdf5Dataset)earliest.Find("/contig_f4")!).Layout);
        Assert.Equal(48, contiguous.Size);
    }

    [Fact]
    public async Task User_block_offsets_are_absolute()
    {
        var file = await fixtures.OpenAsync("userblock.h5");
        Assert.Equal(1024, file.BaseAddress);
        var bytes = File.ReadAllBytes(fixtures.PathOf("userblock.h5"));
        var contig = (Hdf5Dataset)file.Find("/contig")!;
        var chunk = Assert.Single(await file.ReadChunksAsync(contig));
        Assert.Equal(1f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)chunk.Offset + 4)));
        Assert.Equal("in a user-blocked file", file.Root.Attribute("vlen")!.Value);
    }

    [Fact]
    public async Task Zstd_chunks_decode_and_unsupported_filters_are_refused_only_on_read()
    {
        var file = await fixtures.OpenAsync("latest.h5");
        var zstd = (Hdf5Dataset)file.Find("/zstd")!;
        Assert.Equal("zstd", zstd.Filters[0].Name);
        var data = await file.ReadDataAsync(zstd);
        Assert.Equal(Enumerable.Range(0, 30), Enumerable.Range(0, 30).Select(i => BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(i * 4))));

        foreach (var path in new[] { "/lzf", "/scaleoffset" })
        {
            var dataset = (Hdf5Dataset)file.Find(path)!;
            Assert.NotEmpty(await file.ReadChunksAsync(dataset));
            var error = await Assert.ThrowsAsync<Hdf5NotSupportedException>(async () => await file.ReadDataAsync(dataset));
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
        }

        Assert.Equal("scaleoffset", ((Hdf5Dataset)file.Find("/scaleoffset")!).Filters[0].Name);
        Assert.Equal("lzf", ((Hdf5Dataset)file.Find("/lzf")!).Filters[0].Name);
    }

    [Fact]
    public async Task ReadData_refuses_more_than_max_bytes()
    {
        var file = await fixtures.OpenAsync("latest.h5");
        var dataset = (Hdf5Dataset)file.Find("/bt2")!;
        await Assert.ThrowsAsync<Hdf5NotSupportedException>(async () => await file.ReadDataAsync(dataset, maxBytes: 1000));
    }

    [Fact]
    public async Task Dataset_values_decode_like_attributes()
    {
        var file = await fixtures.OpenAsync("latest.h5");
        Assert.Equal(new string?[] { "alpha", "be", "" }, Assert.IsType<string?[]>(await file.ReadValuesAsync((Hdf5Dataset)file.Find("/vlen_str")!)));
        Assert.Equal(3.25, await file.ReadValuesAsync((Hdf5Dataset)file.Find("/scalar_ds")!));
        Assert.Equal(["one", "two", "three"], Assert.IsType<string[]>(await file.ReadValuesAsync((Hdf5Dataset)file.Find("/fixed_str")!)));
        var compound = Assert.IsType<IReadOnlyDictionary<string, object?>[]>(await file.ReadValuesAsync((Hdf5Dataset)file.Find("/compound_ds")!));
        Assert.Equal("k4", compound[4]["c"]);
        Assert.Null(await file.ReadValuesAsync((Hdf5Dataset)file.Find("/null_ds")!));
    }

    [Fact]
    public async Task Region_references_name_their_dataset()
    {
        var file = await fixtures.OpenAsync("latest.h5");
        var region = Assert.IsType<Hdf5RegionReference>(file.Root.Attribute("region")!.Value);
        Assert.Equal("/contig_f4", file.FindByAddress(region.ObjectAddress)!.Path);
        Assert.Equal(12, region.Raw.Length);
    }
}
