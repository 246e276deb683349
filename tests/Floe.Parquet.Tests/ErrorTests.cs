using System.Buffers.Binary;

namespace Floe.Parquet.Tests;

/// <summary>Bad input gives clear errors that name the file and column.</summary>
public sealed class ErrorTests
{
    private static byte[] GoodFile(ParquetCompression compression = ParquetCompression.Zstd)
    {
        var table = Data.KitchenSink(rows: 200);
        using var stream = new MemoryStream();
        using (var writer = new ParquetWriter(stream, table.Schema, new ParquetWriterOptions { Compression = compression }))
        {
            writer.WriteRowGroup(table.Columns.Select(c => c.Slice(0, 200)).ToArray());
            writer.Finish();
        }

        return stream.ToArray();
    }

    private static ParquetFormatException OpenFails(TempDirectory directory, byte[] bytes, string name)
    {
        var path = directory.File(name);
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<ParquetFormatException>(() => ParquetReader.Open(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Equal(path, error.FileName);
        return error;
    }

    [Fact]
    public void Truncated_files_are_refused()
    {
        using var directory = new TempDirectory();
        var good = GoodFile();
        Assert.Contains("too short", OpenFails(directory, good[..7], "tiny.parquet").Message, StringComparison.Ordinal);
        Assert.Contains("truncated", OpenFails(directory, good[..(good.Length / 2)], "half.parquet").Message, StringComparison.Ordinal);
        Assert.Contains("truncated", OpenFails(directory, good[..^1], "short.parquet").Message, StringComparison.Ordinal);
        Assert.Contains("0 bytes, too short", OpenFails(directory, [], "empty.parquet").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_magic_is_refused()
    {
        using var directory = new TempDirectory();
        var bytes = GoodFile();
        bytes[0] = (byte)'X';
        var error = OpenFails(directory, bytes, "magic.parquet");
        Assert.Contains("wrong magic at the start", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"XAR1\"", error.Message, StringComparison.Ordinal);

        var csv = "a,b,c\n1,2,3\n4,5,6\n"u8.ToArray();
        Assert.Contains("not a Parquet file", OpenFails(directory, csv, "data.csv").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupt_footers_are_refused()
    {
        using var directory = new TempDirectory();
        var good = GoodFile();

        var huge = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(huge.AsSpan(huge.Length - 8), int.MaxValue);
        Assert.Contains($"corrupt footer length {int.MaxValue}", OpenFails(directory, huge, "huge.parquet").Message, StringComparison.Ordinal);

        var negative = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(negative.AsSpan(negative.Length - 8), -5);
        Assert.Contains("corrupt footer length -5", OpenFails(directory, negative, "negative.parquet").Message, StringComparison.Ordinal);

        // A footer of garbage: the thrift decoder must fail cleanly, never hang or run out of memory.
        var random = new Random(3);
        var footerLength = BinaryPrimitives.ReadInt32LittleEndian(good.AsSpan(good.Length - 8));
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var garbage = (byte[])good.Clone();
            var footer = garbage.AsSpan(garbage.Length - 8 - footerLength, footerLength);
            if (attempt % 2 == 0)
            {
                random.NextBytes(footer);
            }
            else
            {
                for (var k = 0; k < 5; k++)
                {
                    footer[random.Next(footer.Length)] = (byte)random.Next(256);
                }
            }

            using var stream = new MemoryStream(garbage);
            try
            {
                using var reader = ParquetReader.Open(stream, name: "garbage.parquet");
                for (var g = 0; g < reader.RowGroups.Count; g++)
                {
                    for (var c = 0; c < reader.Schema.Fields.Count; c++)
                    {
                        var values = reader.ReadColumn(g, c);
                        Assert.Equal(reader.RowGroups[g].RowCount, values.Count);
                    }
                }
            }
            catch (ParquetFormatException ex)
            {
                Assert.Contains("garbage.parquet", ex.Message, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Corrupt_column_chunks_name_file_row_group_and_column()
    {
        using var directory = new TempDirectory();
        foreach (var compression in new[] { ParquetCompression.Zstd, ParquetCompression.Snappy, ParquetCompression.Uncompressed })
        {
            var bytes = GoodFile(compression);
            var path = directory.File($"chunk-{compression}.parquet");
            File.WriteAllBytes(path, bytes);
            long offset, length;
            using (var reader = ParquetReader.Open(path))
            {
                var info = reader.RowGroups[0].Column("str_null");
                (offset, length) = (info.FileOffset, info.CompressedBytes);
            }

            // Zeroed: the page header is empty.
            var zeroed = (byte[])bytes.Clone();
            zeroed.AsSpan((int)offset, (int)length).Clear();
            File.WriteAllBytes(path, zeroed);
            using (var reader = ParquetReader.Open(path))
            {
                var error = Assert.Throws<ParquetFormatException>(() => reader.ReadColumn(0, "str_null"));
                Assert.Contains(path, error.Message, StringComparison.Ordinal);
                Assert.Contains("row group 0", error.Message, StringComparison.Ordinal);
                Assert.Contains("column 'str_null'", error.Message, StringComparison.Ordinal);
                Assert.Equal("str_null", error.Column);
                Assert.Equal(0, error.RowGroup);
            }

            // Random damage: an error or (for some uncompressed bytes) different values, never a crash of another kind.
            var random = new Random(1);
            for (var attempt = 0; attempt < 100; attempt++)
            {
                var damaged = (byte[])bytes.Clone();
                for (var k = 0; k < 3; k++)
                {
                    damaged[offset + random.Next((int)length)] = (byte)random.Next(256);
                }

                using var reader = ParquetReader.Open(new MemoryStream(damaged), name: "damaged");
                try
                {
                    reader.ReadColumn(0, "str_null");
                }
                catch (ParquetFormatException ex)
                {
                    Assert.Contains("column 'str_null'", ex.Message, StringComparison.Ordinal);
                }
            }
        }
    }

    [Fact]
    public void Unknown_columns_and_row_groups_are_named()
    {
        using var directory = new TempDirectory();
        var path = directory.File("good.parquet");
        File.WriteAllBytes(path, GoodFile());
        using var reader = ParquetReader.Open(path);
        var error = Assert.Throws<ArgumentException>(() => reader.ReadColumn(0, "nope"));
        Assert.Contains("'nope'", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadColumn(1, "i32"));
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadColumn(0, 99));
        Assert.Throws<ArgumentException>(() => reader.RowGroups[0].Column("nope"));
        Assert.Equal(-1, reader.Schema.IndexOf("nope"));

        var missing = directory.File("missing.parquet");
        var notFound = Assert.Throws<FileNotFoundException>(() => ParquetReader.Open(missing));
        Assert.Contains(missing, notFound.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Writer_checks_columns_with_the_column_named()
    {
        var schema = new ParquetSchema(
        [
            ParquetField.Int64("id"),
            ParquetField.String("name"),
            ParquetField.Float("value", nullable: true),
            ParquetField.Integer("small", 8),
            ParquetField.Integer("byte", 8, signed: false),
        ]);
        using var stream = new MemoryStream();
        using var writer = new ParquetWriter(stream, schema);
        ParquetColumnData[] Good() =>
        [
            ParquetColumnData.Of(new long[] { 1, 2 }),
            ParquetColumnData.Of(new[] { "a", "b" }),
            ParquetColumnData.Of(new[] { 1f, 2f }, new[] { true, false }),
            ParquetColumnData.Of(new[] { -128, 127 }),
            ParquetColumnData.Of(new[] { 0, 255 }),
        ];

        void Fails(string fragment, string column, ParquetColumnData[] columns)
        {
            var error = Assert.Throws<ArgumentException>(() => writer.WriteRowGroup(columns));
            Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
            Assert.Contains($"'{column}'", error.Message, StringComparison.Ordinal);
        }

        var columns = Good();
        columns[0] = ParquetColumnData.Of(new[] { 1, 2 });
        Fails("is INT64 but was given int values", "id", columns);

        columns = Good();
        columns[2] = ParquetColumnData.Of(new[] { 1f, 2f, 3f });
        Fails("has 3 rows", "value", columns);

        columns = Good();
        columns[1] = ParquetColumnData.Of(new[] { "a", null });
        Fails("is required (not nullable) but row 1 is null", "name", columns);

        columns = Good();
        columns[0] = ParquetColumnData.Of(new long[] { 1, 2 }, new[] { true, false });
        Fails("is required (not nullable) but row 1 is null", "id", columns);

        columns = Good();
        columns[3] = ParquetColumnData.Of(new[] { -129, 0 });
        Fails("outside [-128, 127]", "small", columns);

        columns = Good();
        columns[4] = ParquetColumnData.Of(new[] { 256, 0 });
        Fails("outside [0, 255]", "byte", columns);

        var count = Assert.Throws<ArgumentException>(() => writer.WriteRowGroup(Good()[..4]));
        Assert.Contains("needs 5 columns", count.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ParquetColumnData.Of(new[] { 1, 2 }, new[] { true }));

        // Nothing bad was written: the file still works.
        writer.WriteRowGroup(Good());
        writer.Finish();
        Assert.Throws<InvalidOperationException>(() => writer.WriteRowGroup(Good()));
        stream.Position = 0;
        using var reader = ParquetReader.Open(stream);
        Assert.Equal(2, reader.RowCount);
        Assert.Equal(new[] { -128, 127 }, reader.ReadColumn(0, "small").AsInt32());
    }

    [Fact]
    public void Schemas_are_checked()
    {
        Assert.Throws<ArgumentException>(() => new ParquetSchema([ParquetField.Int32("a"), ParquetField.Int64("a")]));
        Assert.Throws<ArgumentException>(() => new ParquetSchema([]));
        Assert.Throws<ArgumentException>(() => new ParquetSchema([ParquetField.Int32("a") with { Logical = ParquetLogicalType.String }]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ParquetField.Integer("x", 12));
        using var stream = new MemoryStream();
        Assert.Throws<NotSupportedException>(() => new ParquetWriter(stream, new ParquetSchema([ParquetField.Int32("a")]), new ParquetWriterOptions { Compression = ParquetCompression.Lz4 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ParquetWriter(stream, new ParquetSchema([ParquetField.Int32("a")]), new ParquetWriterOptions { CompressionLevel = 99 }));
    }
}
