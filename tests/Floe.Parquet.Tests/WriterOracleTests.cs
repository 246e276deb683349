using System.Text.Json;
using Floe.Tests.Shared;

namespace Floe.Parquet.Tests;

/// <summary>Files we write are read by DuckDB and hyparquet with exactly the values written.</summary>
public sealed class WriterOracleTests
{
    [Theory]
    [InlineData(ParquetCompression.Zstd)]
    [InlineData(ParquetCompression.Snappy)]
    [InlineData(ParquetCompression.Uncompressed)]
    public void Every_type_reads_back_exactly_in_DuckDB_and_hyparquet(ParquetCompression compression)
    {
        using var directory = new TempDirectory();
        var path = directory.File("all.parquet");
        var table = Data.KitchenSink(rows: 2500, seed: (int)compression);
        var options = new ParquetWriterOptions
        {
            Compression = compression,
            DataPageBytes = 2048, // several pages per column chunk
            KeyValueMetadata = new Dictionary<string, string> { ["origin"] = "floe tests", ["unicode"] = "ü ✓" },
            CreatedBy = "floe-tests version 1",
        };
        var groups = table.Write(path, options, rowGroupRows: 1000);
        Assert.Equal(3, groups.Count);

        // Our own reader first: the oracles below would only repeat a failure here less clearly.
        using (var reader = ParquetReader.Open(path))
        {
            Assert.Equal(table.Schema.Fields, reader.Schema.Fields);
            for (var g = 0; g < groups.Count; g++)
            {
                foreach (var column in table.Columns)
                {
                    column.AssertRead(reader.ReadColumn(g, column.Field.Name), groups[g].Start);
                }
            }
        }

        var duck = Oracle.DuckDbRead(path)[0];
        table.AssertOracle(duck, "DuckDB", (column, row) => column.DuckDbValue(row));
        var types = duck.GetProperty("columns").EnumerateArray().Select(c => c.GetProperty("type").GetString()).ToArray();
        Assert.Equal(table.Columns.Select(c => $"{c.Field.Name}: {c.DuckDbType()}"), table.Columns.Select((c, i) => $"{c.Field.Name}: {types[i]}"));

        var hyparquet = Oracle.Hyparquet(path)[0];
        table.AssertOracle(hyparquet, "hyparquet", (column, row) => column.Raw(row));
        Assert.Equal("floe-tests version 1", hyparquet.GetProperty("createdBy").GetString());
        Assert.Equal("ü ✓", hyparquet.GetProperty("kv").GetProperty("unicode").GetString());
        Assert.Equal("2500", hyparquet.GetProperty("numRows").GetString());
        foreach (var (column, element) in table.Columns.Zip(hyparquet.GetProperty("columns").EnumerateArray()))
        {
            Assert.Equal(column.Field.Nullable ? "OPTIONAL" : "REQUIRED", element.GetProperty("repetition").GetString());
        }
    }

    [Fact]
    public void Dictionary_and_PLAIN_fallback_both_read_back_in_DuckDB_and_hyparquet()
    {
        using var directory = new TempDirectory();
        var random = new Random(7);
        const int Rows = 20_000;
        var table = new TestTable(
        [
            // 24 distinct values cycling: dictionary, bit-packed indices.
            new(ParquetField.Timestamp("time"), Enumerable.Range(0, Rows).Select(i => 1_700_000_000_000_000L + (i % 24 * 3_600_000_000L)).ToArray()),

            // Runs of 24 equal values: dictionary, RLE runs.
            new(ParquetField.Int64("cell"), Enumerable.Range(0, Rows).Select(i => 0x0831_0000_0000_0000L + (i / 24)).ToArray()),

            // Every value distinct: PLAIN.
            new(ParquetField.Double("noise"), Enumerable.Range(0, Rows).Select(_ => random.NextDouble()).ToArray()),

            // A dictionary bigger than the limit below: PLAIN.
            new(ParquetField.String("label", nullable: true), Enumerable.Range(0, Rows).Select(i => i % 10 == 0 ? null : $"label {i % 3000}").ToArray()),
            new(ParquetField.Float("small", nullable: true), Enumerable.Range(0, Rows).Select(i => (float)(i % 5)).ToArray(), Enumerable.Range(0, Rows).Select(i => i % 7 != 0).ToArray()),
        ]);

        var dictionaryPath = directory.File("dictionary.parquet");
        var groups = table.Write(dictionaryPath, new ParquetWriterOptions { DictionaryPageBytes = 16 * 1024, DataPageBytes = 4096 }, rowGroupRows: 8000);
        var plainPath = directory.File("plain.parquet");
        table.Write(plainPath, new ParquetWriterOptions { Dictionary = false, Compression = ParquetCompression.Snappy }, rowGroupRows: Rows);

        using (var reader = ParquetReader.Open(dictionaryPath))
        {
            var first = reader.RowGroups[0];
            Assert.Contains("RLE_DICTIONARY", first.Column("time").Encodings);
            Assert.Contains("RLE_DICTIONARY", first.Column("cell").Encodings);
            Assert.Contains("RLE_DICTIONARY", first.Column("small").Encodings);
            Assert.DoesNotContain("RLE_DICTIONARY", first.Column("noise").Encodings);
            Assert.DoesNotContain("RLE_DICTIONARY", first.Column("label").Encodings);
            Assert.Equal(24, first.Column("time").Statistics!.DistinctCount);

            // Runs of 24 take a few bytes each, not 8 bytes a value.
            Assert.True(first.Column("cell").CompressedBytes < 8000, $"cell chunk is {first.Column("cell").CompressedBytes} bytes");
            for (var g = 0; g < groups.Count; g++)
            {
                foreach (var column in table.Columns)
                {
                    column.AssertRead(reader.ReadColumn(g, column.Field.Name), groups[g].Start);
                }
            }
        }

        using (var reader = ParquetReader.Open(plainPath))
        {
            Assert.All(reader.RowGroups[0].Columns, c => Assert.DoesNotContain("RLE_DICTIONARY", c.Encodings));
            Assert.All(reader.RowGroups[0].Columns, c => Assert.Null(c.Statistics!.DistinctCount));
        }

        var duck = Oracle.DuckDbRead(dictionaryPath, plainPath);
        var hyparquet = Oracle.Hyparquet(dictionaryPath, plainPath);
        foreach (var (read, name) in new[] { (duck[0], "DuckDB dictionary"), (duck[1], "DuckDB plain") })
        {
            table.AssertOracle(read, name, (column, row) => column.DuckDbValue(row));
        }

        foreach (var (read, name) in new[] { (hyparquet[0], "hyparquet dictionary"), (hyparquet[1], "hyparquet plain") })
        {
            table.AssertOracle(read, name, (column, row) => column.Raw(row));
        }
    }

    [Fact]
    public void Large_row_groups_survive_a_round_trip_through_DuckDB()
    {
        // The export's shape at a size where pages and dictionaries are large: DuckDB reads our file and writes
        // its rows again; we read DuckDB's copy and compare with what we wrote.
        using var directory = new TempDirectory();
        const int Rows = 480_000;
        var random = new Random(12);
        var table = new TestTable(
        [
            new(ParquetField.Timestamp("time"), Enumerable.Range(0, Rows).Select(i => 1_704_067_200_000_000L + (i % 24 * 3_600_000_000L)).ToArray()),
            new(ParquetField.Int64("h3"), Enumerable.Range(0, Rows).Select(i => 0x0830_0000_00FF_FFFFL | ((long)(i / 24 * 7919 % 1_000_003) << 24)).ToArray()),
            new(ParquetField.Double("lat"), Enumerable.Range(0, Rows).Select(i => 90 - (i / 24 / 1440 * 0.25)).ToArray()),
            new(ParquetField.Double("lon"), Enumerable.Range(0, Rows).Select(i => i / 24 % 1440 * 0.25).ToArray()),
            new(ParquetField.Float("tp", nullable: true), Enumerable.Range(0, Rows).Select(_ => random.Next(3) == 0 ? random.Next(5000) * 1e-5f : 0f).ToArray(), Enumerable.Range(0, Rows).Select(i => i % 1000 != 7).ToArray()),
            new(ParquetField.Float("t2m", nullable: true), Enumerable.Range(0, Rows).Select(_ => 250 + (float)random.NextDouble() * 40).ToArray()),
        ]);
        var ours = directory.File("ours.parquet");
        table.Write(ours, new ParquetWriterOptions(), rowGroupRows: 250_000);
        using (var reader = ParquetReader.Open(ours))
        {
            Assert.Contains("RLE_DICTIONARY", reader.RowGroups[0].Column("tp").Encodings);
            Assert.DoesNotContain("RLE_DICTIONARY", reader.RowGroups[0].Column("t2m").Encodings);
        }

        var copy = directory.File("copy.parquet");
        var result = OracleNode.RunJson("parquet-duckdb.mjs", ["copy", ours, copy, "COMPRESSION zstd, ROW_GROUP_SIZE 100000"]);
        Assert.Equal(Rows.ToString(System.Globalization.CultureInfo.InvariantCulture), result.GetProperty("rows").GetString());
        using var duck = ParquetReader.Open(copy);
        var start = 0;
        for (var g = 0; g < duck.RowGroups.Count; g++)
        {
            foreach (var column in table.Columns)
            {
                column.AssertRead(duck.ReadColumn(g, column.Field.Name), start);
            }

            start += (int)duck.RowGroups[g].RowCount;
        }

        Assert.Equal(Rows, start);
    }

    [Fact]
    public void Gzip_written_files_read_in_DuckDB()
    {
        using var directory = new TempDirectory();
        var path = directory.File("gzip.parquet");
        var table = Data.KitchenSink(rows: 300, seed: 11);
        table.Write(path, new ParquetWriterOptions { Compression = ParquetCompression.Gzip, CompressionLevel = 6 }, rowGroupRows: 200);
        table.AssertOracle(Oracle.DuckDbRead(path)[0], "DuckDB", (column, row) => column.DuckDbValue(row));
        using var reader = ParquetReader.Open(path);
        Assert.All(reader.RowGroups.SelectMany(g => g.Columns), c => Assert.Equal(ParquetCompression.Gzip, c.Compression));
    }

    [Fact]
    public void Metadata_DuckDB_reports_matches_what_we_wrote()
    {
        using var directory = new TempDirectory();
        var path = directory.File("meta.parquet");
        var table = Data.KitchenSink(rows: 100, seed: 3);
        table.Write(path, new ParquetWriterOptions { KeyValueMetadata = new Dictionary<string, string> { ["a"] = "1", ["b"] = "" }, CreatedBy = "floe 0.1" }, rowGroupRows: 60);
        var meta = Oracle.DuckDbMeta(path);
        Assert.Equal("floe 0.1", meta.GetProperty("file").GetProperty("created_by").GetString());
        Assert.Equal("100", meta.GetProperty("file").GetProperty("num_rows").GetString());
        Assert.Equal("2", meta.GetProperty("file").GetProperty("num_row_groups").GetString());
        Assert.Equal("1", meta.GetProperty("kv").GetProperty("a").GetString());
        Assert.Equal("", meta.GetProperty("kv").GetProperty("b").GetString());

        using var reader = ParquetReader.Open(path);
        Assert.Equal("floe 0.1", reader.CreatedBy);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["b"] = "" }, reader.KeyValueMetadata);
        var chunks = meta.GetProperty("chunks").EnumerateArray().ToArray();
        Assert.Equal(2 * table.Columns.Count, chunks.Length);
        foreach (var chunk in chunks)
        {
            var group = int.Parse(chunk.GetProperty("row_group_id").GetString()!);
            var info = reader.RowGroups[group].Column(chunk.GetProperty("path_in_schema").GetString()!);
            Assert.Equal(info.CompressedBytes.ToString(), chunk.GetProperty("total_compressed_size").GetString());
            Assert.Equal(info.UncompressedBytes.ToString(), chunk.GetProperty("total_uncompressed_size").GetString());
            Assert.Equal(info.ValueCount.ToString(), chunk.GetProperty("num_values").GetString());
            Assert.Equal("ZSTD", chunk.GetProperty("compression").GetString());
            Assert.Equal(string.Join(", ", info.Encodings), chunk.GetProperty("encodings").GetString());
        }
    }
}

internal static class JsonExtensions
{
    public static string? Text(this JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.Null ? value.ToString() : null;
}
