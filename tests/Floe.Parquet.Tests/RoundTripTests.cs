namespace Floe.Parquet.Tests;

/// <summary>Everything the writer writes reads back through our own reader.</summary>
public sealed class RoundTripTests
{
    public static TheoryData<ParquetCompression, bool, int> Configurations()
    {
        var data = new TheoryData<ParquetCompression, bool, int>();
        foreach (var compression in new[] { ParquetCompression.Uncompressed, ParquetCompression.Snappy, ParquetCompression.Zstd, ParquetCompression.Gzip })
        {
            data.Add(compression, true, 1 << 20);
            data.Add(compression, false, 700);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Kitchen_sink_round_trips(ParquetCompression compression, bool dictionary, int pageBytes)
    {
        var table = Data.KitchenSink(rows: 1500, seed: pageBytes);
        using var stream = new MemoryStream();
        var groups = new List<(int Start, int Count)>();
        using (var writer = new ParquetWriter(stream, table.Schema, new ParquetWriterOptions { Compression = compression, Dictionary = dictionary, DataPageBytes = pageBytes, Parallelism = 3 }))
        {
            foreach (var (start, count) in new[] { (0, 1), (1, 999), (1000, 500) })
            {
                writer.WriteRowGroup(table.Columns.Select(c => c.Slice(start, count)).ToArray());
                groups.Add((start, count));
            }

            writer.Finish();
        }

        stream.Position = 0;
        using var reader = ParquetReader.Open(stream, leaveOpen: true, name: "memory");
        Assert.Equal(1500, reader.RowCount);
        Assert.Equal(table.Schema.Fields, reader.Schema.Fields);
        Assert.Equal(groups.Select(g => (long)g.Count), reader.RowGroups.Select(g => g.RowCount));
        for (var g = 0; g < groups.Count; g++)
        {
            foreach (var column in table.Columns)
            {
                var values = reader.ReadColumn(g, column.Field.Name);
                Assert.Equal(groups[g].Count, values.Count);
                column.AssertRead(values, groups[g].Start);
            }
        }
    }

    [Fact]
    public void BytesRead_grows_by_exactly_the_chunks_read()
    {
        using var directory = new TempDirectory();
        var path = directory.File("bytes.parquet");
        var table = Data.KitchenSink(rows: 2000);
        table.Write(path, new ParquetWriterOptions(), rowGroupRows: 700);
        var fileLength = new FileInfo(path).Length;

        using var reader = ParquetReader.Open(path);
        var afterOpen = reader.BytesRead;
        Assert.True(afterOpen > 12 && afterOpen < fileLength / 2, $"open read {afterOpen} of {fileLength} bytes");

        var expected = afterOpen;
        foreach (var (g, name) in new[] { (0, "i64"), (2, "str"), (1, "f32_dict"), (0, "i64") })
        {
            reader.ReadColumn(g, name);
            expected += reader.RowGroups[g].Column(name).CompressedBytes;
            Assert.Equal(expected, reader.BytesRead);
        }

        // Reading every chunk reads the whole file exactly once: magic, chunks, footer.
        using var whole = ParquetReader.Open(path);
        for (var g = 0; g < whole.RowGroups.Count; g++)
        {
            for (var c = 0; c < whole.Schema.Fields.Count; c++)
            {
                whole.ReadColumn(g, c);
            }
        }

        Assert.Equal(fileLength, whole.BytesRead);
        Assert.Equal(whole.RowGroups.Sum(g => g.TotalBytes) + afterOpen, whole.BytesRead);
    }

    [Fact]
    public void Parallel_reads_of_one_reader_agree()
    {
        using var directory = new TempDirectory();
        var path = directory.File("parallel.parquet");
        var table = Data.KitchenSink(rows: 3000, seed: 9);
        var groups = table.Write(path, new ParquetWriterOptions { DataPageBytes = 4096 }, rowGroupRows: 1000);
        foreach (var open in new Func<ParquetReader>[] { () => ParquetReader.Open(path), () => ParquetReader.Open(File.OpenRead(path)) })
        {
            using var reader = open();
            var work = (from g in Enumerable.Range(0, groups.Count) from c in table.Columns select (g, c)).ToArray();
            Parallel.ForEach(work, new ParallelOptions { MaxDegreeOfParallelism = 4 }, item =>
                item.c.AssertRead(reader.ReadColumn(item.g, item.c.Field.Name), groups[item.g].Start));
        }
    }

    [Fact]
    public void Large_row_group_with_typical_shapes_round_trips()
    {
        // The benchmark's shape: a timestamp with 24 values, a cell id in runs of 24, gridded lat/lon, floats with many zeros.
        const int Rows = 300_000;
        var random = new Random(1);
        var time = new long[Rows];
        var cell = new long[Rows];
        var lat = new double[Rows];
        var lon = new double[Rows];
        var rain = new float[Rows];
        for (var i = 0; i < Rows; i++)
        {
            var c = i / 24;
            time[i] = 1_704_067_200_000_000L + (i % 24 * 3_600_000_000L);
            cell[i] = 0x0830_0000_00FF_FFFFL | ((long)c << 24);
            lat[i] = 90 - (c / 1440 * 0.25);
            lon[i] = c % 1440 * 0.25;
            rain[i] = random.Next(3) == 0 ? (float)(random.Next(1000) * 1e-5) : 0f;
        }

        var schema = new ParquetSchema([ParquetField.Timestamp("time"), ParquetField.Int64("h3"), ParquetField.Double("lat"), ParquetField.Double("lon"), ParquetField.Float("tp")]);
        using var stream = new MemoryStream();
        using (var writer = new ParquetWriter(stream, schema, new ParquetWriterOptions { DataPageBytes = 64 * 1024 }))
        {
            writer.WriteRowGroup([ParquetColumnData.Of(time), ParquetColumnData.Of(cell), ParquetColumnData.Of(lat), ParquetColumnData.Of(lon), ParquetColumnData.Of(rain)]);
            writer.Finish();
        }

        stream.Position = 0;
        using var reader = ParquetReader.Open(stream);
        Assert.Equal(time, reader.ReadColumn(0, "time").AsInt64());
        Assert.Equal(cell, reader.ReadColumn(0, "h3").AsInt64());
        Assert.Equal(lat, reader.ReadColumn(0, "lat").AsDouble());
        Assert.Equal(lon, reader.ReadColumn(0, "lon").AsDouble());
        Assert.Equal(rain, reader.ReadColumn(0, "tp").AsFloat());
        var group = reader.RowGroups[0];
        Assert.All(group.Columns, c => Assert.Contains("RLE_DICTIONARY", c.Encodings));
        Assert.True(group.Column("h3").CompressedBytes < Rows / 4, $"h3: {group.Column("h3").CompressedBytes} bytes");
        Assert.True(group.Column("time").CompressedBytes < 2000, $"time: {group.Column("time").CompressedBytes} bytes");
        Assert.Null(reader.ReadColumn(0, "tp").Defined);
    }

    [Fact]
    public void Empty_row_groups_are_skipped_and_a_file_without_rows_is_valid()
    {
        var schema = new ParquetSchema([ParquetField.Int32("a"), ParquetField.String("b", nullable: true)]);
        using var stream = new MemoryStream();
        using (var writer = new ParquetWriter(stream, schema))
        {
            writer.WriteRowGroup([ParquetColumnData.Of(Array.Empty<int>()), ParquetColumnData.Of(Array.Empty<string?>())]);
            Assert.Equal(0, writer.RowGroupCount);
            writer.Finish();
            Assert.Equal(stream.Length, writer.Position);
        }

        stream.Position = 0;
        using var reader = ParquetReader.Open(stream);
        Assert.Equal(0, reader.RowCount);
        Assert.Empty(reader.RowGroups);
        Assert.Equal(schema.Fields, reader.Schema.Fields);
    }

    [Fact]
    public void Typed_accessors_refuse_the_wrong_type_naming_the_column()
    {
        using var stream = new MemoryStream();
        var schema = new ParquetSchema([ParquetField.Timestamp("when"), ParquetField.String("label")]);
        using (var writer = new ParquetWriter(stream, schema))
        {
            writer.WriteRowGroup([ParquetColumnData.Of(new long[] { 1, 2 }), ParquetColumnData.Of(new[] { "x", "y" })]);
            writer.Finish();
        }

        stream.Position = 0;
        using var reader = ParquetReader.Open(stream);
        var when = reader.ReadColumn(0, "when");
        var error = Assert.Throws<InvalidOperationException>(() => when.AsInt32());
        Assert.Contains("'when'", error.Message, StringComparison.Ordinal);
        Assert.Contains("INT64", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => when.AsString());
        var label = reader.ReadColumn(0, 1);
        Assert.Throws<InvalidOperationException>(() => label.AsDouble());
        Assert.Equal(new string?[] { "x", "y" }, label.AsString());
        Assert.Equal("x"u8.ToArray(), label.AsBinary()[0]);
        Assert.Same(label.AsString(), label.AsString());
    }
}
