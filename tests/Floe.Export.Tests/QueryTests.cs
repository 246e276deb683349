using System.Globalization;
using System.Text.Json;
using H3Index = Floe.H3.H3;

namespace Floe.Export.Tests;

/// <summary>floe query against DuckDB (and h3-js for cell membership) on the same exported files; row-group skipping counted.</summary>
public sealed class QueryTests(ExportFixtures fixtures) : IClassFixture<ExportFixtures>
{
    private static readonly DateTimeOffset Day2 = new(2021, 2, 28, 0, 0, 0, TimeSpan.Zero);

    private async Task<(string Directory, int Resolution)> ExportAsync(string name, int rowGroupRows)
    {
        var output = fixtures.NewDirectory(name);
        var result = await new ParquetExporter(fixtures.Era5Repository, new ExportOptions { Arrays = ["/tp"], OutputDirectory = output, RowGroupRows = rowGroupRows, Resolution = 3 }).RunAsync();
        return (output, result.Resolution);
    }

    [Fact]
    public async Task A_coarse_cell_and_a_day_read_only_the_row_groups_that_can_hold_them()
    {
        var (output, resolution) = await ExportAsync("cells", 480);
        // A resolution-0 cell over central Africa (not a pentagon): its resolution-3 descendants are one range.
        var cell = H3Index.LatLngToCell(0, 20, 0);
        Assert.False(H3Index.IsPentagon(cell));
        var (first, last) = H3Index.ChildRange(cell, resolution);
        var (aggregates, statistics) = new ExportQuery(new QueryOptions
        {
            Directory = output,
            Start = Day2,
            End = Day2.AddDays(1),
            Cells = [cell],
            Where = [new ValuePredicate("tp_mm", Comparison.Greater, 0)],
            Aggregate = true,
        }).Run();

        var hex = H3Index.ToHex(cell);
        var duck = ExportFixtures.DuckDb(output, resolution,
            sql: new Dictionary<string, string>
            {
                // Row groups whose h3 and time statistics overlap the query, as DuckDB reads the footers.
                ["groups"] = $"""
                    select count(*) as n from (
                      select file_name, row_group_id,
                        max(case when path_in_schema = 'h3' then stats_min_value end)::bigint as h3_min,
                        max(case when path_in_schema = 'h3' then stats_max_value end)::bigint as h3_max,
                        max(case when path_in_schema = 'tp_mm' then stats_max_value end)::double as v_max
                      from parquet_metadata($FILES) group by all)
                    where file_name like '%date=2021-02-28%' and h3_max >= {(long)first} and h3_min <= {(long)last} and v_max > 0
                    """,
                ["day_groups"] = "select count(distinct row_group_id) as n from parquet_metadata($FILES) where file_name like '%date=2021-02-28%'",
            },
            cellQueries: [new { name = "q", cells = new[] { hex }, start_us = Micros(Day2), end_us = Micros(Day2.AddDays(1)), column = "tp_mm", above = 0.0 }]);
        var expected = duck.GetProperty("cell_queries").GetProperty("q");
        var row = Assert.Single(aggregates);
        Assert.True(expected.GetProperty("count").GetInt64() > 0);
        Assert.Equal(expected.GetProperty("count").GetInt64(), row.Rows);
        Assert.Equal(expected.GetProperty("sum").GetDouble(), row.Columns["tp_mm"].Sum, 1e-6 * Math.Max(1, expected.GetProperty("sum").GetDouble()));

        // The other two days' files are skipped by their date partition, unopened; the day's file by its row groups.
        var total = long.Parse(duck.GetProperty("sql").GetProperty("day_groups")[0].GetProperty("n").GetString()!, CultureInfo.InvariantCulture);
        var overlapping = long.Parse(duck.GetProperty("sql").GetProperty("groups")[0].GetProperty("n").GetString()!, CultureInfo.InvariantCulture);
        Assert.Equal(total, statistics.RowGroups);
        Assert.Equal(overlapping, statistics.RowGroupsRead);
        Assert.True(statistics.RowGroupsRead * 4 < total, $"read {statistics.RowGroupsRead} of {total} row groups");
        Assert.Equal(1, statistics.FilesRead);
        Assert.Equal(3, statistics.Files);
        Assert.True(statistics.BytesRead > 0);
    }

    [Fact]
    public async Task A_box_across_the_antimeridian_with_rows_and_a_limit()
    {
        var (output, resolution) = await ExportAsync("box", 300);
        var box = new GeoBox(160, -35, -170, 25);
        var rows = new List<object?[]>();
        var query = new ExportQuery(new QueryOptions { Directory = output, Box = box, Where = [new ValuePredicate("tp", Comparison.GreaterOrEqual, 0)] });
        var (_, statistics) = query.Run(rows.Add);
        var duck = ExportFixtures.DuckDb(output, resolution, sql: new Dictionary<string, string>
        {
            ["box"] = "select count(*) as n, sum(tp)::double as s from read_parquet($FILES) where lat between -35 and 25 and (lon >= 160 or lon <= -170) and tp >= 0",
        });
        var expected = duck.GetProperty("sql").GetProperty("box")[0];
        Assert.Equal(long.Parse(expected.GetProperty("n").GetString()!, CultureInfo.InvariantCulture), rows.Count);
        var column = query.RowColumns.ToList().IndexOf("tp");
        Assert.Equal(expected.GetProperty("s").GetDouble(), rows.Sum(r => (double)r[column]!), 1e-9);
        Assert.True(statistics.RowGroupsRead < statistics.RowGroups);

        var limited = new List<object?[]>();
        var (_, limitedStatistics) = new ExportQuery(new QueryOptions { Directory = output, Box = box, Limit = 10, Columns = ["time", "h3", "tp"] }).Run(limited.Add);
        Assert.Equal(10, limited.Count);
        Assert.Equal(10, limitedStatistics.RowsMatched);
        Assert.All(limited, r => Assert.Equal(3, r.Length));
    }

    [Fact]
    public async Task Aggregates_by_date_and_by_cell_match_duckdb()
    {
        var (output, resolution) = await ExportAsync("groups", 1000);
        var (byDate, _) = new ExportQuery(new QueryOptions { Directory = output, Aggregate = true, GroupBy = QueryGrouping.Date, Where = [new ValuePredicate("tp_mm", Comparison.Greater, 1)] }).Run();
        var (byCell, _) = new ExportQuery(new QueryOptions { Directory = output, Aggregate = true, GroupBy = QueryGrouping.Cell, GroupResolution = 0 }).Run();
        var duck = ExportFixtures.DuckDb(output, resolution, sql: new Dictionary<string, string>
        {
            ["dates"] = "select strftime(time, '%Y-%m-%d') as d, count(*) as n, sum(tp_mm)::double as s, max(tp_mm)::double as m from read_parquet($FILES) where tp_mm > 1 group by 1 order by 1",
            ["cells"] = "select count(*) as n from read_parquet($FILES)",
        });
        var dates = duck.GetProperty("sql").GetProperty("dates").EnumerateArray().ToList();
        Assert.Equal(dates.Count, byDate.Count);
        for (var k = 0; k < dates.Count; k++)
        {
            Assert.Equal(dates[k].GetProperty("d").GetString(), byDate[k].Key);
            Assert.Equal(long.Parse(dates[k].GetProperty("n").GetString()!, CultureInfo.InvariantCulture), byDate[k].Rows);
            Assert.Equal(dates[k].GetProperty("s").GetDouble(), byDate[k].Columns["tp_mm"].Sum, 1e-6 * Math.Max(1, dates[k].GetProperty("s").GetDouble()));
            Assert.Equal(dates[k].GetProperty("m").GetDouble(), byDate[k].Columns["tp_mm"].Max);
        }

        // Resolution-0 groups: every key is a base cell, and they add up to every row.
        Assert.All(byCell, g => Assert.Equal(0, H3Index.GetResolution(H3Index.ParseHex(g.Key))));
        Assert.Equal(long.Parse(duck.GetProperty("sql").GetProperty("cells")[0].GetProperty("n").GetString()!, CultureInfo.InvariantCulture), byCell.Sum(g => g.Rows));
    }

    [Theory]
    [InlineData("tp_mm >", "is not COLUMN OP NUMBER")]
    [InlineData("tp_mm > ten", "\"ten\" in \"tp_mm > ten\" is not a number")]
    [InlineData("> 3", "is not COLUMN OP NUMBER")]
    public void Bad_predicates_name_the_problem(string text, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => ValuePredicate.ParseAll(text));
        Assert.Contains("--where", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_columns_and_reversed_ranges_are_refused()
    {
        var (output, _) = await ExportAsync("errors", 5000);
        var column = Assert.Throws<ExportException>(() => new ExportQuery(new QueryOptions { Directory = output, Where = [new ValuePredicate("rain", Comparison.Greater, 1)] }).Run());
        Assert.Contains("no value column \"rain\"", column.Message, StringComparison.Ordinal);
        var range = Assert.Throws<ExportException>(() => new ExportQuery(new QueryOptions { Directory = output, Start = Day2, End = Day2 }).Run());
        Assert.Contains("the end must be after the start", range.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<ExportException>(() => new ExportQuery(new QueryOptions { Directory = output + "-nope" }).Run());
        Assert.Contains("is not a directory", missing.Message, StringComparison.Ordinal);
    }

    private static long Micros(DateTimeOffset time) => (time - DateTimeOffset.UnixEpoch).Ticks / 10;
}
