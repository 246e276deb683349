using Floe.Storage;

namespace Floe.Formats.Hdf5.Tests;

/// <summary>Files that are not HDF5, are cut short or are corrupt fail with messages naming the file and offset.</summary>
[Collection("hdf5 fixtures")]
public sealed class BadInputTests(FixtureSet fixtures)
{
    private string Write(string name, byte[] content)
    {
        var path = fixtures.PathOf(name);
        File.WriteAllBytes(path, content);
        return path;
    }

    [Fact]
    public async Task A_file_without_the_signature_is_refused_at_byte_0()
    {
        var content = new byte[5000];
        new Random(1).NextBytes(content);
        var path = Write("not-hdf5.bin", content);
        var error = await Assert.ThrowsAsync<Hdf5FormatException>(() => Hdf5File.OpenAsync(new LocalFileSource(), path));
        Assert.IsNotType<Hdf5NotSupportedException>(error);
        Assert.Equal(path, error.Location);
        Assert.Equal(0, error.Offset);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("(at byte 0)", error.Message, StringComparison.Ordinal);
        Assert.Contains("not an HDF5 file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_file_is_refused()
    {
        var path = Write("empty.h5", []);
        var error = await Assert.ThrowsAsync<Hdf5FormatException>(() => Hdf5File.OpenAsync(new LocalFileSource(), path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("latest.h5", 0.6)]
    [InlineData("earliest.h5", 0.5)]
    [InlineData("userblock.h5", 0.9)]
    public async Task A_truncated_file_names_the_file_and_where_it_ends(string name, double keep)
    {
        var content = File.ReadAllBytes(fixtures.PathOf(name));
        var length = (int)(content.Length * keep);
        var path = Write("truncated-" + name, content[..length]);
        var error = await Assert.ThrowsAsync<Hdf5FormatException>(() => Hdf5File.OpenAsync(new LocalFileSource(), path));
        Assert.Equal(path, error.Location);
        Assert.Equal(length, error.Offset);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains($"(at byte {length})", error.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_cut_inside_its_superblock_is_refused()
    {
        var content = File.ReadAllBytes(fixtures.PathOf("earliest.h5"));
        var path = Write("cut-superblock.h5", content[..40]);
        var error = await Assert.ThrowsAsync<Hdf5FormatException>(() => Hdf5File.OpenAsync(new LocalFileSource(), path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("superblock", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corrupt_superblock_checksum_is_detected()
    {
        var content = File.ReadAllBytes(fixtures.PathOf("latest.h5"));
        content[12] ^= 0x40;
        var path = Write("bad-superblock-checksum.h5", content);
        var error = await Assert.ThrowsAsync<Hdf5FormatException>(() => Hdf5File.OpenAsync(new LocalFileSource(), path));
        Assert.Contains("checksum mismatch", error.Message, StringComparison.Ordinal);
        Assert.Equal(44, error.Offset);
    }

    [Fact]
    public async Task A_corrupt_object_header_names_the_object()
    {
        var file = await fixtures.OpenAsync("latest.h5");
        var dataset = file.Find("/be_i2")!;
        var content = File.ReadAllBytes(fixtures.PathOf("latest.h5"));
        content[dataset.Address + 8] ^= 0x01;
        var path = Write("bad-object-header.h5", content);
        var error = await Assert.ThrowsAsync<Hdf5FormatException>(() => Hdf5File.OpenAsync(new LocalFileSource(), path));
        Assert.Equal("/be_i2", error.ObjectPath);
        Assert.Contains("/be_i2", error.Message, StringComparison.Ordinal);
        Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corrupt_chunk_fails_its_fletcher32_check()
    {
        var file = await fixtures.OpenAsync("earliest.h5");
        var dataset = (Hdf5Dataset)file.Find("/chunk_filters")!;
        var chunk = (await file.ReadChunksAsync(dataset))[3];
        var content = File.ReadAllBytes(fixtures.PathOf("earliest.h5"));
        content[chunk.Offset + chunk.Length - 6] ^= 0x10;
        var path = Write("bad-chunk.h5", content);
        var corrupt = await Hdf5File.OpenAsync(new LocalFileSource(), path);
        var error = await Assert.ThrowsAsync<Hdf5FormatException>(async () => await corrupt.ReadDataAsync((Hdf5Dataset)corrupt.Find("/chunk_filters")!));
        Assert.Equal(chunk.Offset, error.Offset);
        Assert.Equal("/chunk_filters", error.ObjectPath);
    }

    [Fact]
    public async Task A_missing_file_is_not_a_format_error()
    {
        await Assert.ThrowsAsync<SourceNotFoundException>(() => Hdf5File.OpenAsync(new LocalFileSource(), fixtures.PathOf("does-not-exist.h5")));
    }
}
