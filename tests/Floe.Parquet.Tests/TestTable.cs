using System.Globalization;
using System.Text;
using System.Text.Json;
using Floe.Tests.Shared;

namespace Floe.Parquet.Tests;

/// <summary>One column of test data: the field, every row's value (typed array) and null mask.</summary>
internal sealed class TestColumn(ParquetField field, Array values, bool[]? defined = null)
{
    public ParquetField Field { get; } = field;

    /// <summary>int[], long[], float[], double[], bool[], string?[] or byte[]?[].</summary>
    public Array Values { get; } = values;

    public bool[]? Defined { get; } = defined;

    public int Count => Values.Length;

    public bool IsNull(int row) => Values switch
    {
        string?[] s => s[row] is null,
        byte[]?[] b => b[row] is null,
        _ => Defined is not null && !Defined[row],
    };

    public ParquetColumnData Slice(int start, int count)
    {
        var mask = Defined is null ? default(ReadOnlyMemory<bool>) : Defined.AsMemory(start, count);
        return Values switch
        {
            int[] v => ParquetColumnData.Of(v.AsMemory(start, count), mask),
            long[] v => ParquetColumnData.Of(v.AsMemory(start, count), mask),
            float[] v => ParquetColumnData.Of(v.AsMemory(start, count), mask),
            double[] v => ParquetColumnData.Of(v.AsMemory(start, count), mask),
            bool[] v => ParquetColumnData.Of(v.AsMemory(start, count), mask),
            string?[] v => ParquetColumnData.Of(v.AsSpan(start, count).ToArray()),
            byte[]?[] v => ParquetColumnData.Of(v.AsSpan(start, count).ToArray()),
            _ => throw new InvalidOperationException(Values.GetType().Name),
        };
    }

    /// <summary>The stored value of a row as the node oracles print it (see tests/node/parquet-*.mjs); null for null.</summary>
    public string? Raw(int row)
    {
        if (IsNull(row))
        {
            return null;
        }

        return Values switch
        {
            int[] v => Field.IsUnsignedInteger() ? ((uint)v[row]).ToString(CultureInfo.InvariantCulture) : v[row].ToString(CultureInfo.InvariantCulture),
            long[] v => Field.IsUnsignedInteger() ? ((ulong)v[row]).ToString(CultureInfo.InvariantCulture) : v[row].ToString(CultureInfo.InvariantCulture),
            float[] v => Oracle.FloatBits(v[row]),
            double[] v => Oracle.FloatBits(v[row]),
            bool[] v => v[row] ? "true" : "false",
            string?[] v => v[row],
            byte[]?[] v => Convert.ToHexStringLower(v[row]!),
            _ => throw new InvalidOperationException(),
        };
    }

    /// <summary>The value DuckDB shows: timestamps converted to the unit of the DuckDB type it maps them to.</summary>
    public string? DuckDbValue(int row)
    {
        var raw = Raw(row);
        if (raw is null || !Field.IsTimestamp)
        {
            return raw;
        }

        var value = long.Parse(raw, CultureInfo.InvariantCulture);
        return (Field.TimestampUnit, Field.IsUtc) switch
        {
            (ParquetTimeUnit.Millis, _) => (value * 1000).ToString(CultureInfo.InvariantCulture),
            (ParquetTimeUnit.Nanos, true) => (value / 1000).ToString(CultureInfo.InvariantCulture),
            _ => raw,
        };
    }

    /// <summary>The DuckDB type name the column should read as.</summary>
    public string DuckDbType() => Field switch
    {
        { IsTimestamp: true, IsUtc: true } => "TIMESTAMP WITH TIME ZONE",
        { IsTimestamp: true, TimestampUnit: ParquetTimeUnit.Nanos } => "TIMESTAMP_NS",
        { IsTimestamp: true } => "TIMESTAMP",
        { IsDate: true } => "DATE",
        { IsString: true } => "VARCHAR",
        { Logical: ParquetLogicalType.Integer } f => (f.IntegerBits, f.IsSigned) switch
        {
            (8, true) => "TINYINT",
            (8, false) => "UTINYINT",
            (16, true) => "SMALLINT",
            (16, false) => "USMALLINT",
            (32, false) => "UINTEGER",
            _ => "UBIGINT",
        },
        _ => Field.Type switch
        {
            ParquetType.Boolean => "BOOLEAN",
            ParquetType.Int32 => "INTEGER",
            ParquetType.Int64 => "BIGINT",
            ParquetType.Float => "FLOAT",
            ParquetType.Double => "DOUBLE",
            _ => "BLOB",
        },
    };

    /// <summary>Checks what our reader returns for rows [start, start + count) against this column.</summary>
    public void AssertRead(ParquetColumnValues read, int start)
    {
        var name = Field.Name;
        for (var i = 0; i < read.Count; i++)
        {
            var row = start + i;
            var isNull = read.Defined is not null && !read.Defined[i];
            Assert.True(IsNull(row) == isNull, $"{name} row {row}: null expected {IsNull(row)}, read {isNull}");
        }

        if (Values is string?[])
        {
            Assert.Equal(((string?[])Values).AsSpan(start, read.Count).ToArray(), read.AsString());
            return;
        }

        for (var i = 0; i < read.Count; i++)
        {
            var row = start + i;
            if (IsNull(row))
            {
                continue;
            }

            var ok = Values switch
            {
                int[] v => v[row] == read.AsInt32()[i],
                long[] v => v[row] == read.AsInt64()[i],
                float[] v => BitConverter.SingleToInt32Bits(v[row]) == BitConverter.SingleToInt32Bits(read.AsFloat()[i]),
                double[] v => BitConverter.DoubleToInt64Bits(v[row]) == BitConverter.DoubleToInt64Bits(read.AsDouble()[i]),
                bool[] v => v[row] == read.AsBoolean()[i],
                byte[]?[] v => v[row].AsSpan().SequenceEqual(read.AsBinary()[i]),
                _ => false,
            };
            Assert.True(ok, $"{name} row {row}: expected {Raw(row)}, read {read.GetValue(i)}");
        }
    }
}

/// <summary>A table of test columns written as a Parquet file in row groups.</summary>
internal sealed class TestTable(IReadOnlyList<TestColumn> columns)
{
    public IReadOnlyList<TestColumn> Columns { get; } = columns;

    public int Rows => Columns[0].Count;

    public ParquetSchema Schema => new(Columns.Select(c => c.Field).ToArray());

    /// <summary>Writes the table in row groups of <paramref name="rowGroupRows"/>; returns the row group boundaries.</summary>
    public List<(int Start, int Count)> Write(string path, ParquetWriterOptions options, int rowGroupRows)
    {
        var groups = new List<(int, int)>();
        using var stream = File.Create(path);
        using var writer = new ParquetWriter(stream, Schema, options);
        for (var start = 0; start < Rows; start += rowGroupRows)
        {
            var count = Math.Min(rowGroupRows, Rows - start);
            writer.WriteRowGroup(Columns.Select(c => c.Slice(start, count)).ToArray());
            groups.Add((start, count));
        }

        writer.Finish();
        Assert.Equal(Rows, writer.RowCount);
        Assert.Equal(stream.Position, writer.Position);
        return groups;
    }

    /// <summary>Checks a DuckDB or hyparquet read (one element of the oracle's output) value by value.</summary>
    public void AssertOracle(JsonElement read, string oracle, Func<TestColumn, int, string?> expected)
    {
        var names = read.GetProperty("columns").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToArray();
        Assert.Equal(Columns.Select(c => c.Field.Name), names);
        var values = read.GetProperty("values").EnumerateArray().ToArray();
        for (var c = 0; c < Columns.Count; c++)
        {
            var column = Columns[c];
            var actual = values[c].EnumerateArray().ToArray();
            Assert.True(actual.Length == Rows, $"{oracle}: column {column.Field.Name} has {actual.Length} rows, expected {Rows}");
            for (var row = 0; row < Rows; row++)
            {
                var want = expected(column, row);
                var got = actual[row];
                var text = got.ValueKind switch
                {
                    JsonValueKind.Null => null,
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    _ => got.GetString(),
                };
                if (want != text)
                {
                    Assert.Fail($"{oracle}: column {column.Field.Name} ({column.Field.Describe()}) row {row}: expected {want ?? "null"}, got {text ?? "null"}");
                }
            }
        }
    }
}

internal static class Oracle
{
    /// <summary>The hex of the IEEE double bits of a value, as the node scripts print floats ("NaN" for any NaN).</summary>
    public static string FloatBits(double value) =>
        double.IsNaN(value) ? "NaN" : ((ulong)BitConverter.DoubleToInt64Bits(value)).ToString("x16", CultureInfo.InvariantCulture);

    public static JsonElement[] DuckDbRead(params string[] files) =>
        OracleNode.RunJson("parquet-duckdb.mjs", ["read", .. files]).EnumerateArray().ToArray();

    public static JsonElement DuckDbMeta(string file) => OracleNode.RunJson("parquet-duckdb.mjs", ["meta", file]);

    /// <summary>DuckDB writes the result of <paramref name="query"/> to <paramref name="file"/>; returns { read, meta } of it.</summary>
    public static JsonElement DuckDbWrite(string file, string query, string options = "") =>
        OracleNode.RunJson("parquet-duckdb.mjs", ["write", file, options], query);

    public static JsonElement[] Hyparquet(params string[] files) =>
        OracleNode.RunJson("parquet-hyparquet.mjs", files).EnumerateArray().ToArray();

    public static bool IsUnsignedInteger(this ParquetField field) => field.Logical == ParquetLogicalType.Integer && !field.IsSigned;
}

/// <summary>A temporary directory deleted at dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "floe-parquet-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Deterministic test data.</summary>
internal static class Data
{
    public static readonly string[] Words = ["", "a", "alpha", "beta", "gamma", "δέλτα", "日本語", "emoji 😀", "x\0y", "tab\there", "quote\"'"];

    /// <summary>Every type, required and nullable, with the edge values the oracles must preserve.</summary>
    public static TestTable KitchenSink(int rows, int seed = 1)
    {
        var random = new Random(seed);
        var columns = new List<TestColumn>();

        bool[] Mask(double nullFraction) => Enumerable.Range(0, rows).Select(_ => random.NextDouble() >= nullFraction).ToArray();

        int[] Ints(Func<int, int> f) => Enumerable.Range(0, rows).Select(f).ToArray();
        long[] Longs(Func<int, long> f) => Enumerable.Range(0, rows).Select(f).ToArray();

        int[] extremes32 = [int.MinValue, int.MaxValue, 0, -1, 1];
        long[] extremes64 = [long.MinValue, long.MaxValue, 0, -1, 1];
        float[] specialFloats = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 0f, float.Epsilon, float.MaxValue, float.MinValue];
        double[] specialDoubles = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 0.0, double.Epsilon, double.MaxValue, double.MinValue];

        // Low-cardinality (dictionary) and high-cardinality (PLAIN fallback) integers, with extremes.
        columns.Add(new(ParquetField.Int32("i32"), Ints(i => i < extremes32.Length ? extremes32[i] : random.Next(-50, 50))));
        columns.Add(new(ParquetField.Int32("i32_plain", nullable: true), Ints(i => i < extremes32.Length ? extremes32[i] : random.Next()), Mask(0.2)));
        columns.Add(new(ParquetField.Int64("i64"), Longs(i => i < extremes64.Length ? extremes64[i] : random.NextInt64())));
        columns.Add(new(ParquetField.Int64("i64_dict", nullable: true), Longs(i => i < extremes64.Length ? extremes64[i] : random.Next(0, 7) * 1_000_000_000_000L), Mask(0.5)));
        columns.Add(new(ParquetField.Float("f32"), Enumerable.Range(0, rows).Select(i => i < specialFloats.Length ? specialFloats[i] : (float)random.NextDouble() * 100).ToArray()));
        columns.Add(new(ParquetField.Float("f32_dict", nullable: true), Enumerable.Range(0, rows).Select(i => i < specialFloats.Length ? specialFloats[i] : random.Next(0, 4) * 0.5f).ToArray(), Mask(0.3)));
        columns.Add(new(ParquetField.Double("f64"), Enumerable.Range(0, rows).Select(i => i < specialDoubles.Length ? specialDoubles[i] : random.NextDouble() * 1e6).ToArray()));
        columns.Add(new(ParquetField.Double("f64_dict", nullable: true), Enumerable.Range(0, rows).Select(i => i < specialDoubles.Length ? specialDoubles[i] : (i / 24) * 0.25).ToArray(), Mask(0.1)));
        columns.Add(new(ParquetField.Boolean("bool"), Enumerable.Range(0, rows).Select(_ => random.Next(2) == 0).ToArray()));
        columns.Add(new(ParquetField.Boolean("bool_null", nullable: true), Enumerable.Range(0, rows).Select(i => i % 3 == 0).ToArray(), Mask(0.4)));
        columns.Add(new(ParquetField.String("str"), Enumerable.Range(0, rows).Select(_ => (string?)Words[random.Next(Words.Length)]).ToArray()));
        columns.Add(new(ParquetField.String("str_null", nullable: true), Enumerable.Range(0, rows).Select(i => random.Next(4) == 0 ? null : $"value {random.Next()} {Words[i % Words.Length]}").ToArray()));
        columns.Add(new(ParquetField.String("str_all_null", nullable: true), new string?[rows]));
        columns.Add(new(ParquetField.Binary("bin", nullable: true), Enumerable.Range(0, rows).Select(i => random.Next(5) == 0 ? null : RandomBytes(random, i % 7)).ToArray()));
        columns.Add(new(ParquetField.Int32("i32_all_null", nullable: true), new int[rows], new bool[rows]));
        columns.Add(new(ParquetField.Date("date", nullable: true), Ints(i => i < 3 ? new[] { 0, -719162, 2932896 }[i] : 19000 + (i % 400) - 200), Mask(0.1)));

        // Timestamps in every unit, UTC and local. DuckDB truncates nanosecond UTC values to micros; keep the
        // negative ones whole microseconds so that truncating and flooring agree.
        foreach (var unit in new[] { ParquetTimeUnit.Millis, ParquetTimeUnit.Micros, ParquetTimeUnit.Nanos })
        {
            long[] stamps = unit switch
            {
                ParquetTimeUnit.Millis => [0, 1, -1_000, 1_700_000_000_123, -62_135_596_800_000],
                ParquetTimeUnit.Micros => [0, 1, -1_000_000, 1_700_000_000_123_456, -62_135_596_800_000_000],
                _ => [0, 1, -1_000_000_000, 1_700_000_000_123_456_789, -9_000_000_000_000_000_000],
            };
            var scale = unit switch { ParquetTimeUnit.Millis => 1L, ParquetTimeUnit.Micros => 1_000L, _ => 1_000_000L };
            foreach (var utc in new[] { true, false })
            {
                var values = Longs(i => i < stamps.Length
                    ? stamps[i]
                    : (1_600_000_000_000L * scale) + (i % 24 * 3_600_000L * scale) + (unit == ParquetTimeUnit.Nanos ? i % 1000 : 0));
                var name = $"ts_{unit.ToString().ToLowerInvariant()}_{(utc ? "utc" : "local")}";
                columns.Add(new(ParquetField.Timestamp(name, unit, utc, nullable: !utc), values, utc ? null : Mask(0.1)));
            }
        }

        // Narrow and unsigned integers, including each type's extremes.
        foreach (var (bits, signed) in new[] { (8, true), (8, false), (16, true), (16, false), (32, false), (64, false) })
        {
            var name = $"{(signed ? "int" : "uint")}{bits}";
            if (bits == 64)
            {
                long[] edge = [0, -1, long.MinValue, long.MaxValue, 1];
                columns.Add(new(ParquetField.Integer(name, bits, signed), Longs(i => i < edge.Length ? edge[i] : random.NextInt64())));
            }
            else
            {
                var (low, high) = signed ? (-(1L << (bits - 1)), (1L << (bits - 1)) - 1) : (0L, (1L << bits) - 1);
                int[] edge = [(int)low, (int)high, 0, 1];
                columns.Add(new(ParquetField.Integer(name, bits, signed, nullable: true), Ints(i => i < edge.Length ? edge[i] : (int)random.NextInt64(low, high + 1)), Mask(0.05)));
            }
        }

        return new TestTable(columns);
    }

    public static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    public static string Utf8Hex(string value) => Convert.ToHexStringLower(Encoding.UTF8.GetBytes(value));
}
