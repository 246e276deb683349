using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Floe.Parquet.Tests;

/// <summary>Column statistics: equal to the data's true min/max/null count, and reported so by DuckDB.</summary>
public sealed class StatisticsTests
{
    [Fact]
    public void Statistics_are_the_true_min_max_and_DuckDB_reports_them()
    {
        using var directory = new TempDirectory();
        var path = directory.File("stats.parquet");
        const int Rows = 3000;
        var random = new Random(5);
        float[] floats = Enumerable.Range(0, Rows).Select(i => i % 10 == 0 ? float.NaN : (float)(random.NextDouble() * 200 - 100)).ToArray();
        var table = new TestTable(
        [
            new(ParquetField.Int32("i32", nullable: true), Enumerable.Range(0, Rows).Select(_ => random.Next(-1000, 1000)).ToArray(), Enumerable.Range(0, Rows).Select(i => i % 9 != 0).ToArray()),

            // Unsigned: bit patterns that are negative as int must sort above the positive ones.
            new(ParquetField.Integer("u32", 32, signed: false), Enumerable.Range(0, Rows).Select(i => i % 3 == 0 ? -i - 1 : i + 5).ToArray()),
            new(ParquetField.Integer("u64", 64, signed: false), Enumerable.Range(0, Rows).Select(i => i % 4 == 0 ? long.MinValue + i : i * 1_000_000_007L + 3).ToArray()),
            new(ParquetField.Integer("u8", 8, signed: false), Enumerable.Range(0, Rows).Select(i => (i * 37 % 200) + 20).ToArray()),
            new(ParquetField.Integer("i8", 8), Enumerable.Range(0, Rows).Select(i => (i * 37 % 200) - 100).ToArray()),
            new(ParquetField.Int64("i64"), Enumerable.Range(0, Rows).Select(_ => random.NextInt64(long.MinValue / 2, long.MaxValue / 2)).ToArray()),
            new(ParquetField.Float("f32_nan"), floats),
            new(ParquetField.Float("f32_all_nan", nullable: true), Enumerable.Repeat(float.NaN, Rows).ToArray(), Enumerable.Range(0, Rows).Select(i => i % 2 == 0).ToArray()),

            // Zeros only at the extremes: the minimum is written as -0.0, the maximum as +0.0.
            new(ParquetField.Double("f64_zero_min"), Enumerable.Range(0, Rows).Select(i => i % 5 == 0 ? 0.0 : i * 0.25).ToArray()),
            new(ParquetField.Double("f64_zero_max"), Enumerable.Range(0, Rows).Select(i => i % 5 == 0 ? -0.0 : -i * 0.25).ToArray()),
            new(ParquetField.Boolean("bool_false", nullable: true), new bool[Rows], Enumerable.Range(0, Rows).Select(i => i % 2 == 0).ToArray()),
            new(ParquetField.Boolean("bool_both"), Enumerable.Range(0, Rows).Select(i => i % 3 == 0).ToArray()),
            new(ParquetField.String("str", nullable: true), Enumerable.Range(0, Rows).Select(i => i % 6 == 0 ? null : Data.Words[i % Data.Words.Length] + (i % 50)).ToArray()),
            new(ParquetField.String("str_plain"), Enumerable.Range(0, Rows).Select(i => $"s{random.Next():x8}").ToArray()),

            // Bytes compare unsigned: 0xFF... sorts last.
            new(ParquetField.Binary("bin"), Enumerable.Range(0, Rows).Select(i => new[] { (byte)(i * 7 % 256), (byte)'A' }).ToArray()),
            new(ParquetField.Date("date"), Enumerable.Range(0, Rows).Select(i => 10_000 + (i * 13 % 5000) - 2500).ToArray()),
            new(ParquetField.Timestamp("ts", ParquetTimeUnit.Nanos, utc: false), Enumerable.Range(0, Rows).Select(_ => random.NextInt64()).ToArray()),
            new(ParquetField.String("all_null", nullable: true), new string?[Rows]),
        ]);

        foreach (var dictionary in new[] { true, false })
        {
            File.Delete(path);
            var groups = table.Write(path, new ParquetWriterOptions { Dictionary = dictionary, DataPageBytes = 1000 }, rowGroupRows: 1200);
            using var reader = ParquetReader.Open(path);
            for (var g = 0; g < groups.Count; g++)
            {
                var (start, count) = groups[g];
                foreach (var column in table.Columns)
                {
                    var stats = reader.RowGroups[g].Column(column.Field.Name).Statistics;
                    Assert.NotNull(stats);
                    var (min, max, nulls) = Truth(column, start, count);
                    var where = $"{column.Field.Name} row group {g} (dictionary {dictionary})";
                    Assert.True(nulls == stats.NullCount, $"{where}: null count {stats.NullCount}, expected {nulls}");
                    Assert.True(Same(min, stats.Min), $"{where}: min {Show(stats.Min)}, expected {Show(min)}");
                    Assert.True(Same(max, stats.Max), $"{where}: max {Show(stats.Max)}, expected {Show(max)}");
                }
            }

            Assert.Equal(BitConverter.DoubleToInt64Bits(-0.0), BitConverter.DoubleToInt64Bits((double)reader.RowGroups[0].Column("f64_zero_min").Statistics!.Min!));
            Assert.Equal(0L, BitConverter.DoubleToInt64Bits((double)reader.RowGroups[0].Column("f64_zero_max").Statistics!.Max!));
            if (dictionary)
            {
                Assert.Equal(2, reader.RowGroups[0].Column("bool_both").Statistics!.DistinctCount ?? 2);
                var strings = (string?[])table.Columns.Single(c => c.Field.Name == "str").Values;
                Assert.Equal(strings.Take(groups[0].Count).Where(s => s is not null).Distinct().Count(), reader.RowGroups[0].Column("str").Statistics!.DistinctCount);
            }

            // DuckDB's parquet_metadata reports the same statistics.
            var chunks = Oracle.DuckDbMeta(path).GetProperty("chunks").EnumerateArray().ToArray();
            Assert.Equal(groups.Count * table.Columns.Count, chunks.Length);
            foreach (var chunk in chunks)
            {
                var g = int.Parse(chunk.Text("row_group_id")!, CultureInfo.InvariantCulture);
                var name = chunk.Text("path_in_schema")!;
                var column = table.Columns.Single(c => c.Field.Name == name);
                var (min, max, nulls) = Truth(column, groups[g].Start, groups[g].Count);
                var where = $"DuckDB {name} row group {g} (dictionary {dictionary})";
                Assert.True(nulls.ToString(CultureInfo.InvariantCulture) == chunk.Text("stats_null_count"), $"{where}: null count {chunk.Text("stats_null_count")}, expected {nulls}");
                if (column.Field.IsTimestamp)
                {
                    continue; // DuckDB prints timestamps in its session time zone; checked through our reader above.
                }

                Assert.True(DuckDbSame(min, chunk.Text("stats_min_value"), column.Field), $"{where}: min {chunk.Text("stats_min_value")}, expected {Show(min)}");
                Assert.True(DuckDbSame(max, chunk.Text("stats_max_value"), column.Field), $"{where}: max {chunk.Text("stats_max_value")}, expected {Show(max)}");
            }
        }
    }

    [Fact]
    public void Statistics_can_be_turned_off()
    {
        using var directory = new TempDirectory();
        var path = directory.File("nostats.parquet");
        var table = Data.KitchenSink(rows: 50);
        table.Write(path, new ParquetWriterOptions { Statistics = false }, rowGroupRows: 50);
        using var reader = ParquetReader.Open(path);
        Assert.All(reader.RowGroups[0].Columns, c => Assert.Null(c.Statistics));
        foreach (var column in table.Columns)
        {
            column.AssertRead(reader.ReadColumn(0, column.Field.Name), 0);
        }
    }

    /// <summary>Min, max (null when no value counts) and null count of rows [start, start + count), in the column's order.</summary>
    internal static (object? Min, object? Max, long Nulls) Truth(TestColumn column, int start, int count)
    {
        var present = Enumerable.Range(start, count).Where(r => !column.IsNull(r)).ToArray();
        var nulls = count - present.Length;
        var field = column.Field;
        object? min = null, max = null;
        switch (column.Values)
        {
            case int[] v when field.IsUnsignedInteger():
                (min, max) = MinMax(present.Select(r => (uint)v[r]), x => (object)(int)x);
                break;
            case int[] v:
                (min, max) = MinMax(present.Select(r => v[r]), x => (object)x);
                break;
            case long[] v when field.IsUnsignedInteger():
                (min, max) = MinMax(present.Select(r => (ulong)v[r]), x => (object)(long)x);
                break;
            case long[] v:
                (min, max) = MinMax(present.Select(r => v[r]), x => (object)x);
                break;
            case float[] v:
                (min, max) = MinMax(present.Select(r => v[r]).Where(x => !float.IsNaN(x)), x => (object)x);
                break;
            case double[] v:
                (min, max) = MinMax(present.Select(r => v[r]).Where(x => !double.IsNaN(x)), x => (object)x);
                break;
            case bool[] v:
                (min, max) = MinMax(present.Select(r => v[r]), x => (object)x);
                break;
            case string?[] v:
                var bytes = present.Select(r => Encoding.UTF8.GetBytes(v[r]!)).Order(ByteOrder.Instance).ToArray();
                (min, max) = bytes.Length == 0 ? (null, null) : ((object?)Encoding.UTF8.GetString(bytes[0]), (object?)Encoding.UTF8.GetString(bytes[^1]));
                break;
            case byte[]?[] v:
                var sorted = present.Select(r => v[r]!).Order(ByteOrder.Instance).ToArray();
                (min, max) = sorted.Length == 0 ? (null, null) : ((object?)sorted[0], (object?)sorted[^1]);
                break;
        }

        return (min, max, nulls);
    }

    private static (object?, object?) MinMax<T>(IEnumerable<T> values, Func<T, object> box)
        where T : IComparable<T>
    {
        var list = values.ToList();
        return list.Count == 0 ? (null, null) : (box(list.Min()!), box(list.Max()!));
    }

    private static bool Same(object? expected, object? actual) => (expected, actual) switch
    {
        (null, null) => true,
        (byte[] a, byte[] b) => a.AsSpan().SequenceEqual(b),

        // Zeros compare equal whatever their sign (the writer stores -0.0 as a minimum, +0.0 as a maximum).
        (float a, float b) => a == b,
        (double a, double b) => a == b,
        _ => Equals(expected, actual),
    };

    /// <summary>Compares a true statistic with DuckDB's text for it.</summary>
    private static bool DuckDbSame(object? expected, string? text, ParquetField field)
    {
        if (expected is null || text is null)
        {
            return expected is null && text is null;
        }

        return expected switch
        {
            float f => float.Parse(text, CultureInfo.InvariantCulture) == f,
            double d => double.Parse(text, CultureInfo.InvariantCulture) == d,
            bool b => text == (b ? "true" : "false"),
            int i when field.IsDate => DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + i).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) == text,
            int i when field.IsUnsignedInteger() => ((uint)i).ToString(CultureInfo.InvariantCulture) == text,
            long l when field.IsUnsignedInteger() => ((ulong)l).ToString(CultureInfo.InvariantCulture) == text,
            byte[] bytes => BlobText(bytes) == text,
            IFormattable number => number.ToString(null, CultureInfo.InvariantCulture) == text,
            _ => expected.ToString() == text,
        };
    }

    /// <summary>DuckDB's BLOB-to-text form: printable ASCII as is, other bytes as \xHH.</summary>
    private static string BlobText(byte[] bytes)
    {
        var builder = new StringBuilder();
        foreach (var b in bytes)
        {
            builder.Append(b is >= 0x20 and < 0x7F && b != (byte)'\\' ? ((char)b).ToString() : $"\\x{b:X2}");
        }

        return builder.ToString();
    }

    private static string Show(object? value) => value switch
    {
        null => "none",
        byte[] b => Convert.ToHexString(b),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString()!,
    };

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
