using Floe.Storage;

namespace Floe.Store.Tests;

public sealed class VirtualRefTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static byte[] Sequence(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 7))];

    private string WriteFile(string name, byte[] content, DateTime? modifiedUtc = null)
    {
        var path = _dir.Combine(name);
        File.WriteAllBytes(path, content);
        File.SetLastWriteTimeUtc(path, modifiedUtc ?? new DateTime(2024, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc));
        return path;
    }

    // A uint8 array of 4 chunks of 16 bytes.
    private static async Task<(Repository Repository, Session Session)> NewAsync(RepositoryOptions? options = null)
    {
        var repository = await TestData.NewMemoryRepositoryAsync(options);
        var session = await repository.WritableSessionAsync();
        session.CreateArray("/v", Core.ArrayMetadata.Create([64], Core.DataType.UInt8, [16]) with { FillValue = Core.FillValue.FromDouble(Core.DataType.UInt8, 200) });
        return (repository, session);
    }

    [Fact]
    public async Task A_virtual_reference_to_a_local_file_reads_back_its_bytes()
    {
        var content = Sequence(1000);
        var path = WriteFile("source.bin", content);
        var (repository, session) = await NewAsync();
        var modified = File.GetLastWriteTimeUtc(path);

        session.SetChunkRef("/v", [1], new VirtualChunkRef(path, 100, 16, null, new DateTimeOffset(modified)));
        session.SetChunkRef("/v", [2], new VirtualChunkRef(new Uri(path).AbsoluteUri, 984, 16));
        Assert.Equal(content[100..116], await session.ReadChunkAsync("/v", [1]));
        await session.CommitAsync("virtual");

        var reader = await (await Repository.OpenAsync(repository.Store)).ReadOnlyAsync("main");
        Assert.Equal(content[100..116], await reader.ReadChunkAsync("/v", [1]));
        Assert.Equal(content[984..1000], await reader.ReadChunkAsync("/v", [2]));
        Assert.Equal(content[100..116], (await reader.ReadChunkBytesAsync("/v", [1]))!.Value.ToArray());
        var read = Assert.IsType<VirtualChunkRef>(await reader.GetChunkRefAsync("/v", [1]));
        Assert.Equal(path, read.Location);
        Assert.Equal(modified, read.LastModified!.Value.UtcDateTime);
        var region = await reader.ReadRegionAsync("/v", [20], [30]);
        Assert.Equal(content[104..116], region[..12]);
        Assert.Equal(content[984..1000], region[12..28]);
        Assert.Equal(new byte[] { 200, 200 }, region[28..]);
    }

    [Fact]
    public async Task A_missing_source_file_fails_naming_the_location_never_returning_fill_values()
    {
        var path = _dir.Combine("gone.bin");
        var (repository, session) = await NewAsync();
        session.SetChunkRef("/v", [0], new VirtualChunkRef(path, 0, 16));
        await session.CommitAsync("virtual");
        var reader = await repository.ReadOnlyAsync("main");

        var ex = await Assert.ThrowsAsync<VirtualChunkException>(() => reader.ReadChunkAsync("/v", [0]));
        var region = await Assert.ThrowsAsync<VirtualChunkException>(() => reader.ReadRegionAsync("/v", [0], [64]));

        Assert.Equal(path, ex.Location);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("missing", ex.Message, StringComparison.Ordinal);
        Assert.Equal(path, region.Location);
        Assert.IsType<SourceNotFoundException>(ex.InnerException);
    }

    [Fact]
    public async Task A_source_shorter_than_the_range_fails_naming_the_location()
    {
        var path = WriteFile("short.bin", Sequence(50));
        var (repository, session) = await NewAsync();
        session.SetChunkRef("/v", [0], new VirtualChunkRef(path, 40, 16));
        session.SetChunkRef("/v", [1], new VirtualChunkRef(path, 100, 16));
        await session.CommitAsync("virtual");
        var reader = await repository.ReadOnlyAsync("main");

        foreach (var chunk in new long[] { 0, 1 })
        {
            var ex = await Assert.ThrowsAsync<VirtualChunkException>(() => reader.ReadChunkAsync("/v", [chunk]));
            Assert.Equal(path, ex.Location);
            Assert.Contains(path, ex.Message, StringComparison.Ordinal);
            Assert.Contains("16 bytes", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_rewritten_source_with_another_modification_time_fails_as_changed()
    {
        var path = WriteFile("changing.bin", Sequence(64), new DateTime(2024, 1, 1, 0, 0, 0, 500, DateTimeKind.Utc));
        var (repository, session) = await NewAsync();
        var recorded = new DateTimeOffset(File.GetLastWriteTimeUtc(path));
        session.SetChunkRef("/v", [0], new VirtualChunkRef(path, 0, 16, null, recorded));
        await session.CommitAsync("virtual");
        var reader = await repository.ReadOnlyAsync("main");
        Assert.Equal(Sequence(64)[..16], await reader.ReadChunkAsync("/v", [0]));

        // Same length, other bytes, a later modification time.
        WriteFile("changing.bin", [.. Sequence(64).Select(b => (byte)~b)], new DateTime(2024, 1, 1, 0, 0, 1, 0, DateTimeKind.Utc));

        var ex = await Assert.ThrowsAsync<VirtualChunkException>(() => reader.ReadChunkAsync("/v", [0]));
        Assert.Equal(path, ex.Location);
        Assert.Contains("changed since it was recorded", ex.Message, StringComparison.Ordinal);
        Assert.Contains("2024-01-01T00:00:00.5", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<VirtualChunkException>(() => session.ReadChunkAsync("/v", [0]));
    }

    [Fact]
    public async Task A_source_whose_modification_time_differs_by_one_millisecond_is_changed()
    {
        var path = WriteFile("ms.bin", Sequence(32), new DateTime(2024, 1, 1, 0, 0, 0, 7, DateTimeKind.Utc));
        var (repository, session) = await NewAsync();
        session.SetChunkRef("/v", [0], new VirtualChunkRef(path, 0, 16, null, new DateTimeOffset(2024, 1, 1, 0, 0, 0, 8, TimeSpan.Zero)));
        await session.CommitAsync("virtual");

        var reader = await repository.ReadOnlyAsync("main");

        await Assert.ThrowsAsync<VirtualChunkException>(() => reader.ReadChunkAsync("/v", [0]));
    }

    [Fact]
    public async Task A_recorded_etag_is_checked_against_the_sources_current_etag()
    {
        var source = new FakeSource("mem://bucket/data.nc", Sequence(256), "\"v1\"");
        var (repository, session) = await NewAsync(new RepositoryOptions { Sources = source });
        session.SetChunkRef("/v", [3], new VirtualChunkRef("mem://bucket/data.nc", 32, 16, "\"v1\""));
        await session.CommitAsync("virtual with etag");
        var reader = await (await Repository.OpenAsync(repository.Store, new RepositoryOptions { Sources = source })).ReadOnlyAsync("main");
        Assert.Equal(Sequence(256)[32..48], await reader.ReadChunkAsync("/v", [3]));
        Assert.Equal("\"v1\"", Assert.IsType<VirtualChunkRef>(await reader.GetChunkRefAsync("/v", [3])).Etag);

        source.Etag = "\"v2\"";

        var ex = await Assert.ThrowsAsync<VirtualChunkException>(() => reader.ReadChunkAsync("/v", [3]));
        Assert.Equal("mem://bucket/data.nc", ex.Location);
        Assert.Contains("changed since it was recorded", ex.Message, StringComparison.Ordinal);
        Assert.Contains("\"v1\"", ex.Message, StringComparison.Ordinal);
        Assert.Contains("\"v2\"", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_recorded_etag_fails_against_a_local_file_that_has_none()
    {
        var path = WriteFile("noetag.bin", Sequence(32));
        var (repository, session) = await NewAsync();
        session.SetChunkRef("/v", [0], new VirtualChunkRef(path, 0, 16, "\"abc\""));
        await session.CommitAsync("virtual");

        var ex = await Assert.ThrowsAsync<VirtualChunkException>(async () => await (await repository.ReadOnlyAsync("main")).ReadChunkAsync("/v", [0]));

        Assert.Contains("now none", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_virtual_chunk_longer_than_one_read_allows_fails_naming_the_location()
    {
        var path = WriteFile("huge.bin", Sequence(16));
        var (repository, session) = await NewAsync();
        session.SetChunkRef("/v", [0], new VirtualChunkRef(path, 0, 3_000_000_000));
        await session.CommitAsync("virtual");

        var ex = await Assert.ThrowsAsync<VirtualChunkException>(async () => await (await repository.ReadOnlyAsync("main")).ReadChunkAsync("/v", [0]));

        Assert.Equal(path, ex.Location);
        Assert.Contains("3000000000 bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_location_no_source_can_read_fails_naming_it()
    {
        var (repository, session) = await NewAsync();
        session.SetChunkRef("/v", [0], new VirtualChunkRef("gopher://old/file", 0, 16));
        await session.CommitAsync("virtual");

        var ex = await Assert.ThrowsAsync<VirtualChunkException>(async () => await (await repository.ReadOnlyAsync("main")).ReadChunkAsync("/v", [0]));

        Assert.Equal("gopher://old/file", ex.Location);
    }

    [Fact]
    public async Task A_virtual_chunk_of_the_wrong_decoded_length_fails_naming_array_and_chunk()
    {
        var path = WriteFile("len.bin", Sequence(100));
        var (repository, session) = await NewAsync();
        session.SetChunkRef("/v", [2], new VirtualChunkRef(path, 0, 10));
        await session.CommitAsync("virtual");

        var ex = await Assert.ThrowsAsync<ChunkDataException>(async () => await (await repository.ReadOnlyAsync("main")).ReadChunkAsync("/v", [2]));

        Assert.Equal("/v", ex.ArrayPath);
        Assert.Contains("[2]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chunks_with_their_own_packing_decode_each_with_it_after_commit()
    {
        // Two "files" of big-endian int16 values, each packed with its own scale and offset, in one float64 array.
        short[] raw = [-3, 0, 7, 100];
        var bytes = raw.SelectMany(v => new[] { (byte)(v >> 8), (byte)v }).ToArray();
        var path = WriteFile("packed.bin", [.. bytes, .. bytes]);
        var repository = await TestData.NewMemoryRepositoryAsync();
        var session = await repository.WritableSessionAsync();
        var arrayCodecs = Packed(1, 0);
        session.CreateArray("/tp", Core.ArrayMetadata.Create([8], Core.DataType.Float64, [4], arrayCodecs));

        session.SetChunkRef("/tp", [0], new VirtualChunkRef(path, 0, 8) { Codecs = ChunkCodecs.From(Packed(0.5, 10)) });
        session.SetChunkRef("/tp", [1], new VirtualChunkRef(path, 8, 8) { Codecs = ChunkCodecs.From(Packed(0.001, -2)) });
        await session.CommitAsync("two files, two packings");

        var reader = await (await Repository.OpenAsync(repository.Store)).ReadOnlyAsync("main");
        var values = TestData.Float64Values(await reader.ReadRegionAsync("/tp", [0], [8]));
        Assert.Equal(raw.Select(v => (v * 0.5) + 10).Concat(raw.Select(v => (v * 0.001) - 2)), values);
    }

    [Fact]
    public async Task A_chunk_whose_own_codecs_do_not_form_a_pipeline_is_refused_naming_the_array()
    {
        var repository = await TestData.NewMemoryRepositoryAsync();
        var session = await repository.WritableSessionAsync();
        session.CreateArray("/tp", Core.ArrayMetadata.Create([8], Core.DataType.Float64, [4], Packed(1, 0)));

        var ex = Assert.Throws<ArgumentException>(() => session.SetChunkRef("/tp", [0],
            new VirtualChunkRef("/x", 0, 8) { Codecs = ChunkCodecs.From([.. Packed(1, 0), new Core.CodecSpec("szip")]) }));

        Assert.Contains("'/tp'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("szip", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, session.PendingChunkChanges);
    }

    private static Core.CodecSpec[] Packed(double scale, double offset) =>
    [
        new("cf_scale_offset", new System.Text.Json.Nodes.JsonObject { ["packed_type"] = "int16", ["scale_factor"] = scale, ["add_offset"] = offset }),
        new("bytes", new System.Text.Json.Nodes.JsonObject { ["endian"] = "big" }),
    ];

    /// <summary>One in-memory "remote" file with an etag the test can change.</summary>
    private sealed class FakeSource(string name, byte[] content, string etag) : IByteRangeSource
    {
        public string Etag { get; set; } = etag;

        public bool CanRead(string location) => location == name;

        public ValueTask<SourceInfo> StatAsync(string location, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(new SourceInfo(content.Length, Etag, null));

        public ValueTask<SourceRead> ReadAsync(string location, long offset, int length, CancellationToken cancellationToken = default) =>
            offset + length > content.Length
                ? throw new SourceReadException(location, "past the end")
                : ValueTask.FromResult(new SourceRead(content.AsMemory((int)offset, length), new SourceInfo(content.Length, Etag, null)));

        public ValueTask<SourceRead> ReadUpToAsync(string location, long offset, int maxLength, CancellationToken cancellationToken = default) =>
            ReadAsync(location, offset, (int)Math.Min(maxLength, content.Length - offset), cancellationToken);
    }
}
