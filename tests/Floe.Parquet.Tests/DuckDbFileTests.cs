using System.Globalization;
using System.Text.Json;

namespace Floe.Parquet.Tests;

/// <summary>Files DuckDB writes are read by our reader with exactly DuckDB's values and statistics.</summary>
public sealed class DuckDbFileTests
{
    private const string Query = """
        SELECT
            i::INTEGER AS i32,
            CASE WHEN i % 7 = 0 THEN NULL ELSE i * 1000003 END::BIGINT AS i64_nulls,
            (i % 100)::BIGINT AS i64_dict,
            (hash(i) % 9223372036854775807)::BIGINT - 4611686018427387904 AS i64_plain,
            (i * 0.5)::DOUBLE AS f64,
            ((i % 13) / 4)::FLOAT AS f32_dict,
            CASE WHEN i % 11 = 0 THEN 'NaN'::DOUBLE WHEN i % 17 = 0 THEN '-inf'::DOUBLE WHEN i % 19 = 0 THEN -0.0::DOUBLE ELSE i / 3.0 END AS f64_special,
            (sin(i) * 1000)::FLOAT AS f32_plain,
            CASE WHEN i % 5 = 0 THEN NULL ELSE 'str' || (i % 50) END AS s_dict,
            md5(i::VARCHAR) AS s_plain,
            CASE WHEN i % 4 = 0 THEN '' ELSE 'ü' || i END AS s_unicode,
            i % 2 = 0 AS b,
            CASE WHEN i % 3 = 0 THEN NULL ELSE i % 5 = 1 END AS b_nulls,
            DATE '2000-01-01' + (i % 1000)::INTEGER AS d,
            TIMESTAMP '2020-01-01' + INTERVAL (i) SECOND AS ts,
            TIMESTAMPTZ '2020-01-01 00:00:00+00' + INTERVAL (i * 7) MINUTE AS tstz,
            (TIMESTAMP '1969-12-31 23:00:00' + INTERVAL (i * 1001) MILLISECOND)::TIMESTAMP_MS AS ts_ms,
            (TIMESTAMP '2024-02-29' + INTERVAL (i * 37) MICROSECOND)::TIMESTAMP_NS AS ts_ns,
            (i % 256)::UTINYINT AS u8,
            (i % 200 - 100)::TINYINT AS i8,
            (i * 7 % 65536)::USMALLINT AS u16,
            (i * 3 % 60000 - 30000)::SMALLINT AS i16,
            (hash(i) % 4294967296)::UINTEGER AS u32,
            hash(i * 31) AS u64,
            CASE WHEN i % 9 = 0 THEN NULL ELSE encode('blob' || (i % 20)) END AS bin,
            NULL::INTEGER AS all_null
        FROM range(0, 5000) t(i)
        """;

    [Theory]
    [InlineData("")] // DuckDB's defaults: snappy, data page v1, dictionaries
    [InlineData("COMPRESSION zstd, ROW_GROUP_SIZE 2048")]
    [InlineData("COMPRESSION uncompressed, ROW_GROUP_SIZE 2048, PARQUET_VERSION V2")] // data page v2, DELTA_*, BYTE_STREAM_SPLIT
    [InlineData("COMPRESSION gzip, PARQUET_VERSION V2")]
    [InlineData("COMPRESSION zstd, PARQUET_VERSION V2, ROW_GROUP_SIZE 2048")]
    public void DuckDB_files_read_exactly(string options)
    {
        using var directory = new TempDirectory();
        var path = directory.File("duck.parquet");
        var written = Oracle.DuckDbWrite(path, Query, options);
        var expected = written.GetProperty("read");
        var chunks = written.GetProperty("meta").GetProperty("chunks").EnumerateArray().ToArray();

        using var reader = ParquetReader.Open(path);
        Assert.StartsWith("DuckDB", reader.CreatedBy, StringComparison.Ordinal);
        Assert.Equal(5000, reader.RowCount);
        if (options.Contains("ROW_GROUP_SIZE", StringComparison.Ordinal))
        {
            Assert.True(reader.RowGroups.Count > 1, $"{reader.RowGroups.Count} row groups");
        }

        // Read every chunk and lay the row groups end to end.
        var columns = reader.Schema.Fields.Select((field, c) => Concatenate(field, reader.RowGroups.Select((_, g) => reader.ReadColumn(g, c)).ToArray())).ToList();
        var table = new TestTable(columns);
        table.AssertOracle(expected, $"DuckDB ({options})", (column, row) => column.DuckDbValue(row));

        var fields = reader.Schema.Fields.ToDictionary(f => f.Name);
        Assert.Equal(ParquetLogicalType.Integer, fields["u8"].Logical);
        Assert.False(fields["u64"].IsSigned);
        Assert.Equal(ParquetTimeUnit.Millis, fields["ts_ms"].TimestampUnit);
        Assert.True(fields["tstz"].IsUtc);
        Assert.False(fields["ts"].IsUtc);
        Assert.True(fields["s_dict"].IsString);
        Assert.False(fields["bin"].IsString);
        Assert.True(fields["d"].IsDate);

        // Statistics as DuckDB's parquet_metadata reports them.
        foreach (var chunk in chunks)
        {
            var g = int.Parse(chunk.Text("row_group_id")!, CultureInfo.InvariantCulture);
            var name = chunk.Text("path_in_schema")!;
            var info = reader.RowGroups[g].Column(name);
            Assert.Equal(chunk.Text("total_compressed_size"), info.CompressedBytes.ToString(CultureInfo.InvariantCulture));
            Assert.Equal(chunk.Text("encodings"), string.Join(", ", info.Encodings));
            var stats = info.Statistics;
            Assert.Equal(chunk.Text("stats_null_count"), stats?.NullCount?.ToString(CultureInfo.InvariantCulture));
            Assert.Equal(chunk.Text("stats_distinct_count"), stats?.DistinctCount?.ToString(CultureInfo.InvariantCulture));
            var field = fields[name];
            if (field.IsTimestamp || field.IsDate || field.Type == ParquetType.ByteArray && !field.IsString)
            {
                // DuckDB formats these; their values are checked against the data below.
                continue;
            }

            AssertStat(chunk.Text("stats_min_value"), stats?.Min, $"{name} row group {g} min");
            AssertStat(chunk.Text("stats_max_value"), stats?.Max, $"{name} row group {g} max");
        }

        // And every chunk's min/max bound its values.
        for (var g = 0; g < reader.RowGroups.Count; g++)
        {
            foreach (var info in reader.RowGroups[g].Columns)
            {
                var column = new TestTable([Concatenate(fields[info.Name], [reader.ReadColumn(g, info.Name)])]).Columns[0];
                var (min, max, nulls) = StatisticsTests.Truth(column, 0, column.Count);
                Assert.Equal(nulls, info.Statistics?.NullCount);
                if (info.Statistics?.Min is { } actualMin && min is not null && info.Type != ParquetType.ByteArray)
                {
                    Assert.True(Comparer<object>.Default.Compare(min, actualMin) == 0 || (min is double d && d == (double)actualMin), $"{info.Name} row group {g}: min {actualMin}, values' min {min}");
                    Assert.True(Comparer<object>.Default.Compare(max, info.Statistics.Max) == 0 || (max is double e && e == (double)info.Statistics.Max!), $"{info.Name} row group {g}: max {info.Statistics.Max}, values' max {max}");
                }
            }
        }
    }

    [Fact]
    public void Nested_columns_are_refused_with_the_column_named()
    {
        using var directory = new TempDirectory();
        var path = directory.File("nested.parquet");
        Oracle.DuckDbWrite(path, "SELECT 1 AS id, [1, 2, 3] AS items FROM range(3)");
        var error = Assert.Throws<ParquetFormatException>(() => ParquetReader.Open(path));
        Assert.Contains("'items'", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Equal("items", error.Column);

        var structPath = directory.File("struct.parquet");
        Oracle.DuckDbWrite(structPath, "SELECT {'a': 1, 'b': 'x'} AS point, 2 AS id");
        error = Assert.Throws<ParquetFormatException>(() => ParquetReader.Open(structPath));
        Assert.Contains("'point'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Other_annotations_read_as_their_stored_values()
    {
        using var directory = new TempDirectory();
        var path = directory.File("other.parquet");
        var written = Oracle.DuckDbWrite(path, """
            SELECT
                CASE WHEN i % 10 = 3 THEN NULL ELSE gen_random_uuid() END AS u,
                (i * 1.25 - 100)::DECIMAL(9,2) AS d9,
                (i * -1.125)::DECIMAL(18,3) AS d18,
                CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 12345678901234.5 - 1e15)::DECIMAL(38,1) END AS d38,
                TIME '01:02:03' + INTERVAL (i) SECOND AS t
            FROM range(0, 3000) t(i)
            """);
        var expected = written.GetProperty("read").GetProperty("values").EnumerateArray().Select(c => c.EnumerateArray().Select(v => v.ValueKind == System.Text.Json.JsonValueKind.Null ? null : v.GetString()).ToArray()).ToArray();

        using var reader = ParquetReader.Open(path);
        var fields = reader.Schema.Fields;
        Assert.Equal(["UUID", "DECIMAL(9,2)", "DECIMAL(18,3)", "DECIMAL(38,1)", "TIME(MICROS, local)"], fields.Select(f => f.Annotation));
        Assert.All(fields, f => Assert.Equal(ParquetLogicalType.Other, f.Logical));
        Assert.Equal([ParquetType.ByteArray, ParquetType.Int32, ParquetType.Int64, ParquetType.ByteArray, ParquetType.Int64], fields.Select(f => f.Type));

        var u = Enumerable.Range(0, reader.RowGroups.Count).SelectMany(g => reader.ReadColumn(g, "u").AsBinary()).ToArray();
        var d9 = Enumerable.Range(0, reader.RowGroups.Count).SelectMany(g => reader.ReadColumn(g, "d9").AsInt32()).ToArray();
        var d18 = Enumerable.Range(0, reader.RowGroups.Count).SelectMany(g => reader.ReadColumn(g, "d18").AsInt64()).ToArray();
        var d38 = Enumerable.Range(0, reader.RowGroups.Count).SelectMany(g => reader.ReadColumn(g, "d38").AsBinary()).ToArray();
        var t = Enumerable.Range(0, reader.RowGroups.Count).SelectMany(g => reader.ReadColumn(g, "t").AsInt64()).ToArray();
        for (var row = 0; row < 3000; row++)
        {
            Assert.Equal(expected[0][row], u[row] is null ? null : Convert.ToHexStringLower(u[row]!).Insert(20, "-").Insert(16, "-").Insert(12, "-").Insert(8, "-"));
            Assert.Equal(expected[1][row], DecimalText(d9[row], 2));
            Assert.Equal(expected[2][row], DecimalText(d18[row], 3));
            Assert.Equal(expected[3][row], d38[row] is null ? null : DecimalText(new System.Numerics.BigInteger(d38[row], isBigEndian: true), 1));
            Assert.Equal(expected[4][row], t[row].ToString(CultureInfo.InvariantCulture));
        }
    }

    private static string DecimalText(System.Numerics.BigInteger unscaled, int scale)
    {
        var digits = System.Numerics.BigInteger.Abs(unscaled).ToString(CultureInfo.InvariantCulture).PadLeft(scale + 1, '0');
        return (unscaled.Sign < 0 ? "-" : "") + digits[..^scale] + "." + digits[^scale..];
    }

    private static void AssertStat(string? duckdb, object? ours, string where)
    {
        switch (ours)
        {
            case null:
                Assert.True(duckdb is null, $"{where}: DuckDB has {duckdb}, we have none");
                break;
            case float f:
                Assert.True(duckdb is not null && float.Parse(duckdb, CultureInfo.InvariantCulture) == f, $"{where}: DuckDB {duckdb}, ours {f}");
                break;
            case double d:
                Assert.True(duckdb is not null && double.Parse(duckdb, CultureInfo.InvariantCulture) == d, $"{where}: DuckDB {duckdb}, ours {d}");
                break;
            case bool b:
                Assert.Equal(duckdb, b ? "true" : "false");
                break;
            case int or long when duckdb is not null && duckdb.Length > 0 && ulong.TryParse(duckdb, CultureInfo.InvariantCulture, out var unsigned) && unsigned > long.MaxValue:
                Assert.Equal(duckdb, ((ulong)Convert.ToInt64(ours, CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture));
                break;
            case IFormattable number:
                Assert.True(duckdb == number.ToString(null, CultureInfo.InvariantCulture) || duckdb == ((ulong)Convert.ToInt64(number, CultureInfo.InvariantCulture) & (number is int ? 0xFFFF_FFFFUL : ulong.MaxValue)).ToString(CultureInfo.InvariantCulture), $"{where}: DuckDB {duckdb}, ours {number}");
                break;
            default:
                Assert.Equal(duckdb, ours.ToString());
                break;
        }
    }

    /// <summary>A test column holding the concatenation of several chunks' values.</summary>
    private static TestColumn Concatenate(ParquetField field, ParquetColumnValues[] parts)
    {
        var rows = parts.Sum(p => p.Count);
        var defined = parts.SelectMany(p => p.Defined ?? Enumerable.Repeat(true, p.Count)).ToArray();
        Array values = field.Type switch
        {
            ParquetType.Int32 => parts.SelectMany(p => p.AsInt32()).ToArray(),
            ParquetType.Int64 => parts.SelectMany(p => p.AsInt64()).ToArray(),
            ParquetType.Float => parts.SelectMany(p => p.AsFloat()).ToArray(),
            ParquetType.Double => parts.SelectMany(p => p.AsDouble()).ToArray(),
            ParquetType.Boolean => parts.SelectMany(p => p.AsBoolean()).ToArray(),
            _ when field.IsString => parts.SelectMany(p => p.AsString()).ToArray(),
            _ => parts.SelectMany(p => p.AsBinary()).ToArray(),
        };
        Assert.Equal(rows, values.Length);
        return new TestColumn(field, values, defined);
    }
}
