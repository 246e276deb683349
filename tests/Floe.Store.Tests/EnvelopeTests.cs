using System.Buffers.Binary;
using Floe.Core;
using Floe.Storage;
using Floe.Store.Format;

namespace Floe.Store.Tests;

public sealed class EnvelopeTests
{
    private const string Key = "snapshots/TESTKEY";
    private static readonly byte[] Payload = [.. Enumerable.Range(0, 300).Select(i => (byte)(i % 7))];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_sealed_object_opens_to_its_payload(bool compress)
    {
        var sealedObject = Envelope.Seal(ObjectType.Snapshot, Payload, compress);

        Assert.Equal(Payload, Envelope.Open(Key, ObjectType.Snapshot, sealedObject));
    }

    [Fact]
    public void An_empty_payload_seals_and_opens()
    {
        var sealedObject = Envelope.Seal(ObjectType.Ref, [], compress: false);

        Assert.Equal(Envelope.HeaderLength, sealedObject.Length);
        Assert.Empty(Envelope.Open(Key, ObjectType.Ref, sealedObject));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_header_has_the_spec_layout(bool compress)
    {
        var sealedObject = Envelope.Seal(ObjectType.ManifestShard, Payload, compress);

        Assert.Equal(new byte[] { 0x46, 0x4C, 0x4F, 0x45 }, sealedObject[..4]);
        Assert.Equal(1, sealedObject[4]);
        Assert.Equal(3, sealedObject[5]);
        Assert.Equal(compress ? 1 : 0, sealedObject[6]);
        Assert.Equal(0, sealedObject[7]);
        Assert.Equal(ReferenceCrc32C.OfEnvelope(sealedObject), BinaryPrimitives.ReadUInt32LittleEndian(sealedObject.AsSpan(8)));
        Assert.Equal((uint)Payload.Length, BinaryPrimitives.ReadUInt32LittleEndian(sealedObject.AsSpan(12)));
        var stored = sealedObject[16..];
        Assert.Equal(Payload, compress ? Zstd.Decompress(stored) : stored);
    }

    [Fact]
    public void The_reference_crc_agrees_with_the_castagnoli_check_value()
    {
        // The standard check value of CRC-32C over "123456789".
        Assert.Equal(0xE3069283u, ReferenceCrc32C.Compute("123456789"u8));
    }

    [Fact]
    public async Task Objects_a_repository_writes_have_the_spec_header_and_types()
    {
        var store = new MemoryObjectStore();
        var repository = await Repository.CreateAsync(store);
        var session = await repository.WritableSessionAsync();
        session.CreateArray("/a", TestData.Int32Array([4], [2]));
        await session.WriteChunkAsync("/a", [0], TestData.Int32Bytes(1, 2));
        var commit = await session.CommitAsync("one chunk");

        var expected = new (string Key, byte Type, byte Compression)[]
        {
            ("config", 1, 0),
            (Snapshot.KeyOf(commit), 2, 1),
            (ManifestShard.KeyOf(session.BaseSnapshot.FindNode("/a")!.Shards[0].ManifestId), 3, 1),
            (TransactionLog.KeyOf(commit), 4, 1),
            ("refs/branches/main", 5, 0),
        };
        foreach (var (key, type, compression) in expected)
        {
            var data = (await store.GetAsync(key))!.Data.ToArray();
            Assert.True("FLOE"u8.SequenceEqual(data.AsSpan(0, 4)), key);
            Assert.Equal(1, data[4]);
            Assert.Equal(type, data[5]);
            Assert.Equal(compression, data[6]);
            Assert.Equal(0, data[7]);
            Assert.Equal(ReferenceCrc32C.OfEnvelope(data), BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(8)));
        }

        // A ref's payload is exactly the 12 bytes of the snapshot id.
        var refObject = (await store.GetAsync("refs/branches/main"))!.Data.ToArray();
        Assert.Equal(12u, BinaryPrimitives.ReadUInt32LittleEndian(refObject.AsSpan(12)));
        var idBytes = new byte[12];
        commit.WriteTo(idBytes);
        Assert.Equal(idBytes, refObject[16..]);
    }

    [Fact]
    public async Task The_config_payload_holds_version_creation_time_refs_per_shard_and_inline_threshold()
    {
        var store = new MemoryObjectStore();
        var repository = await Repository.CreateAsync(store, new RepositoryOptions { RefsPerShard = 300, InlineThreshold = 100 });

        var payload = await TestData.PayloadAsync(store, "config", ObjectType.RepositoryConfig);

        var w = new PayloadWriter();
        w.WriteVarint(1L);
        w.WriteVarint(repository.Config.CreatedAt.ToUnixTimeMilliseconds());
        w.WriteVarint(300L);
        w.WriteVarint(100L);
        Assert.Equal(w.ToArray(), payload);
    }

    [Fact]
    public void An_object_shorter_than_the_header_is_corrupt_naming_the_key()
    {
        var sealedObject = Envelope.Seal(ObjectType.Snapshot, Payload, compress: false);

        foreach (var length in new[] { 0, 1, 4, 15 })
        {
            var ex = Assert.Throws<CorruptObjectException>(() => Envelope.Open(Key, ObjectType.Snapshot, sealedObject.AsSpan(0, length)));
            Assert.Equal(Key, ex.Key);
            Assert.Contains(Key, ex.Message, StringComparison.Ordinal);
            Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_object_truncated_inside_its_payload_is_corrupt_naming_the_key(bool compress)
    {
        var sealedObject = Envelope.Seal(ObjectType.Snapshot, Payload, compress);

        foreach (var length in new[] { 16, 17, sealedObject.Length / 2, sealedObject.Length - 1 })
        {
            var ex = Assert.ThrowsAny<CorruptObjectException>(() => Envelope.Open(Key, ObjectType.Snapshot, sealedObject.AsSpan(0, length)));
            Assert.Equal(Key, ex.Key);
            Assert.Contains(Key, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_wrong_magic_is_corrupt_naming_the_key()
    {
        var sealedObject = Envelope.Seal(ObjectType.Snapshot, Payload, compress: false);
        sealedObject[0] = (byte)'X';

        var ex = Assert.Throws<CorruptObjectException>(() => Envelope.Open(Key, ObjectType.Snapshot, sealedObject));

        Assert.Equal(Key, ex.Key);
        Assert.Contains("magic", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(255)]
    public void An_unknown_format_version_is_unsupported_naming_key_and_version(byte version)
    {
        var sealedObject = Envelope.Seal(ObjectType.Snapshot, Payload, compress: false);
        sealedObject[4] = version;

        var ex = Assert.Throws<UnsupportedFormatVersionException>(() => Envelope.Open(Key, ObjectType.Snapshot, sealedObject));

        Assert.Equal(Key, ex.Key);
        Assert.Equal(version, ex.Version);
        Assert.Contains($"unsupported format version {version}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_object_of_another_type_than_the_key_implies_is_corrupt()
    {
        var sealedObject = Envelope.Seal(ObjectType.ManifestShard, Payload, compress: true);

        var ex = Assert.Throws<CorruptObjectException>(() => Envelope.Open(Key, ObjectType.Snapshot, sealedObject));

        Assert.Equal(Key, ex.Key);
        Assert.Contains("object type 3, expected 2", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Any_flipped_payload_byte_is_a_checksum_mismatch(bool compress)
    {
        var sealedObject = Envelope.Seal(ObjectType.Snapshot, Payload, compress);
        for (var i = Envelope.HeaderLength; i < sealedObject.Length; i++)
        {
            var corrupt = (byte[])sealedObject.Clone();
            corrupt[i] ^= 0x10;

            var ex = Assert.Throws<ChecksumMismatchException>(() => Envelope.Open(Key, ObjectType.Snapshot, corrupt));
            Assert.Equal(Key, ex.Key);
            Assert.Contains("checksum mismatch", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_flipped_checksum_byte_is_a_checksum_mismatch()
    {
        var sealedObject = Envelope.Seal(ObjectType.Snapshot, Payload, compress: false);
        sealedObject[9] ^= 1;

        Assert.Equal(Key, Assert.Throws<ChecksumMismatchException>(() => Envelope.Open(Key, ObjectType.Snapshot, sealedObject)).Key);
    }

    [Theory]
    [InlineData(false, -1)]
    [InlineData(false, 1)]
    [InlineData(true, -1)]
    [InlineData(true, 1)]
    [InlineData(true, 1000)]
    public void A_wrong_payload_length_in_the_header_is_corrupt(bool compress, int delta)
    {
        var sealedObject = Envelope.Seal(ObjectType.Snapshot, Payload, compress);
        BinaryPrimitives.WriteUInt32LittleEndian(sealedObject.AsSpan(12), (uint)(Payload.Length + delta));
        ReferenceCrc32C.Reseal(sealedObject);

        var ex = Assert.Throws<CorruptObjectException>(() => Envelope.Open(Key, ObjectType.Snapshot, sealedObject));

        Assert.Equal(Key, ex.Key);
        Assert.Contains(Key, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_absurd_payload_length_in_the_header_is_corrupt_and_allocates_nothing()
    {
        // Even with a checksum that agrees, an absurd length must be a typed error, not an allocation.
        var sealedObject = Envelope.Seal(ObjectType.Snapshot, Payload, compress: true);
        BinaryPrimitives.WriteUInt32LittleEndian(sealedObject.AsSpan(12), uint.MaxValue);
        ReferenceCrc32C.Reseal(sealedObject);

        var ex = Record.Exception(() => Envelope.Open(Key, ObjectType.Snapshot, sealedObject));

        var corrupt = Assert.IsType<CorruptObjectException>(ex);
        Assert.Equal(Key, corrupt.Key);
    }

    [Fact]
    public void An_unknown_compression_is_corrupt()
    {
        var sealedObject = Envelope.Seal(ObjectType.Snapshot, Payload, compress: false);
        sealedObject[6] = 2;
        ReferenceCrc32C.Reseal(sealedObject);

        var ex = Assert.Throws<CorruptObjectException>(() => Envelope.Open(Key, ObjectType.Snapshot, sealedObject));

        Assert.Equal(Key, ex.Key);
        Assert.Contains("unknown compression 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_compressed_payload_that_is_not_zstd_is_corrupt()
    {
        // Valid checksum over bytes that are no zstd frame.
        var sealedObject = Envelope.Seal(ObjectType.Snapshot, Payload, compress: false);
        sealedObject[6] = 1;
        ReferenceCrc32C.Reseal(sealedObject);

        var ex = Assert.Throws<CorruptObjectException>(() => Envelope.Open(Key, ObjectType.Snapshot, sealedObject));

        Assert.Equal(Key, ex.Key);
    }

    [Fact]
    public async Task A_corrupt_snapshot_in_the_store_fails_opening_with_the_snapshot_key()
    {
        var store = new MemoryObjectStore();
        var repository = await Repository.CreateAsync(store);
        var (id, _) = await repository.ReadBranchAsync("main");
        var key = Snapshot.KeyOf(id);
        var data = (await store.GetAsync(key))!.Data.ToArray();
        data[^1] ^= 0xFF;
        await store.PutAsync(key, data);

        var fresh = await Repository.OpenAsync(store);
        var ex = await Assert.ThrowsAsync<ChecksumMismatchException>(() => fresh.WritableSessionAsync());

        Assert.Equal(key, ex.Key);
    }
}
