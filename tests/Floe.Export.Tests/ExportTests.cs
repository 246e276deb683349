using System.Text.Json;
using Floe.Parquet;
using H3Index = Floe.H3.H3;

namespace Floe.Export.Tests;

/// <summary>
/// floe export parquet against its oracles: netCDF4-python reads the source files, DuckDB reads every exported file,
/// h3-js recomputes every grid point's cell.
/// </summary>
public sealed class ExportTests(ExportFixtures fixtures) : IClassFixture<ExportFixtures>
{
    private const long Era5Points = 19 * 36;

    [Fact]
    public async Task Era5_export_has_the_source_values_in_cell_order_with_statistics()
    {
        var output = fixtures.NewDirectory("era5");
        var result = await new ParquetExporter(fixtures.Era5Repository, new ExportOptions { Arrays = ["/tp"], OutputDirectory = output, RowGroupRows = 2000 }).RunAsync();

        Assert.Equal(3, result.FilesWritten);
        Assert.Equal(3 * 24 * Era5Points, result.Rows);
        var duck = ExportFixtures.DuckDb(output, result.Resolution, sampleModulo: 7);
        var samples = duck.GetProperty("files").EnumerateArray().SelectMany(f => f.GetProperty("sample").EnumerateArray()).ToList();
        var oracle = ExportFixtures.NetCdf(fixtures.Era5, "tp", "latitude", "longitude",
            samples: samples.Select(s => (object)new { time = long.Parse(s.GetProperty("time").GetString()!), lat = s.GetProperty("lat").GetDouble(), lon = s.GetProperty("lon").GetDouble() }));
        var days = oracle.GetProperty("days");

        Assert.Equal(3, duck.GetProperty("files").GetArrayLength());
        foreach (var file in duck.GetProperty("files").EnumerateArray())
        {
            var path = file.GetProperty("file").GetString()!;
            var date = Path.GetFileName(Path.GetDirectoryName(path))!["date=".Length..];
            var day = days.GetProperty(date);
            var aggregate = file.GetProperty("aggregate");
            Assert.Equal(day.GetProperty("rows").GetInt64(), long.Parse(aggregate.GetProperty("rows").GetString()!));
            Assert.Equal(day.GetProperty("present").GetInt64(), long.Parse(aggregate.GetProperty("count_tp").GetString()!));
            Assert.Equal(day.GetProperty("sum").GetDouble(), aggregate.GetProperty("sum_tp").GetDouble(), 1e-9 * Math.Max(1, Math.Abs(day.GetProperty("sum").GetDouble())));
            Assert.Equal(day.GetProperty("sum").GetDouble() * 1000, aggregate.GetProperty("sum_tp_mm").GetDouble(), 1e-5 * Math.Max(1, day.GetProperty("sum").GetDouble() * 1000));
            Assert.Equal(day.GetProperty("min_time").GetInt64(), long.Parse(aggregate.GetProperty("min_time").GetString()!));
            Assert.Equal(day.GetProperty("max_time").GetInt64(), long.Parse(aggregate.GetProperty("max_time").GetString()!));
            Assert.Equal(0, file.GetProperty("order_violations").GetInt32());
            Assert.Equal(0, file.GetProperty("partition_mismatches").GetInt32());
            Assert.Equal(0, file.GetProperty("h3_mismatches").GetInt32());
            Assert.Equal(Era5Points, file.GetProperty("distinct_points").GetInt64());

            // Types as DuckDB sees them: a UTC timestamp, a 64-bit cell, float values (packed from int16).
            var types = file.GetProperty("columns").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("type").GetString()!);
            Assert.Equal("TIMESTAMP WITH TIME ZONE", types["time"]);
            Assert.Equal("BIGINT", types["h3"]);
            Assert.Equal("DOUBLE", types["lat"]);
            Assert.Equal("FLOAT", types["tp"]);
            Assert.Equal("FLOAT", types["tp_mm"]);

            // Row groups cover increasing, disjoint cell ranges, each with statistics.
            var h3Groups = file.GetProperty("row_groups").EnumerateArray().Where(g => g.GetProperty("column").GetString() == "h3").ToList();
            Assert.True(h3Groups.Count > 3);
            for (var g = 0; g < h3Groups.Count; g++)
            {
                Assert.Equal("ZSTD", h3Groups[g].GetProperty("compression").GetString());
                Assert.True(long.Parse(h3Groups[g].GetProperty("min").GetString()!) <= long.Parse(h3Groups[g].GetProperty("max").GetString()!));
                if (g > 0)
                {
                    Assert.True(long.Parse(h3Groups[g - 1].GetProperty("max").GetString()!) < long.Parse(h3Groups[g].GetProperty("min").GetString()!));
                }
            }

            var keyValues = file.GetProperty("key_values").EnumerateArray().ToDictionary(k => k.GetProperty("key").GetString()!, k => k.GetProperty("value").GetString()!);
            using var units = JsonDocument.Parse(keyValues["floe.units"]);
            Assert.Equal("m", units.RootElement.GetProperty("tp").GetString());
            Assert.Equal("mm", units.RootElement.GetProperty("tp_mm").GetString());
            using var export = JsonDocument.Parse(keyValues["floe.export"]);
            Assert.Equal(result.Resolution, export.RootElement.GetProperty("h3_resolution").GetInt32());
            Assert.Equal(result.Snapshot, export.RootElement.GetProperty("snapshot").GetString());
        }

        var expected = oracle.GetProperty("samples").EnumerateArray().ToList();
        Assert.True(samples.Count > 50);
        Assert.Equal(samples.Count, expected.Count);
        for (var k = 0; k < samples.Count; k++)
        {
            Assert.Equal(expected[k].GetDouble(), samples[k].GetProperty("tp").GetDouble());
            Assert.Equal((double)(float)(expected[k].GetDouble() * 1000), samples[k].GetProperty("tp_mm").GetDouble(), 1e-6);
        }

        // The manifest lists the three files with the same figures.
        var manifest = ExportManifest.Load(output)!;
        Assert.Equal(3, manifest.Files.Count);
        foreach (var file in manifest.Files.Values)
        {
            var day = days.GetProperty(file.Date);
            Assert.Equal(day.GetProperty("rows").GetInt64(), file.Rows);
            Assert.Equal(day.GetProperty("sum").GetDouble(), file.Values["tp"].Sum, 1e-9 * Math.Max(1, Math.Abs(day.GetProperty("sum").GetDouble())));
            Assert.Equal(day.GetProperty("wet").GetInt64(), file.Values["tp"].Wet);
            Assert.Equal([-180, -90, 170, 90], file.Bbox);
        }
    }

    [Fact]
    public async Task Default_resolution_follows_the_grid_spacing()
    {
        // 10° ERA5-layout grid: 1,236,000 km² per grid cell at the equator; resolution 1 cells average 610,000 km².
        var output = fixtures.NewDirectory("resolution");
        var result = await new ParquetExporter(fixtures.Era5Repository, new ExportOptions { Arrays = ["/tp"], OutputDirectory = output, End = new DateTimeOffset(2021, 2, 28, 0, 0, 0, TimeSpan.Zero) }).RunAsync();
        Assert.Equal(1, result.Resolution);
        var at7 = await new ParquetExporter(fixtures.Era5Repository, new ExportOptions { Arrays = ["/tp"], OutputDirectory = output + "-7", Resolution = 7, End = new DateTimeOffset(2021, 2, 28, 0, 0, 0, TimeSpan.Zero) }).RunAsync();
        Assert.Equal(7, at7.Resolution);
        var duck = ExportFixtures.DuckDb(output + "-7", 7);
        Assert.Equal(0, duck.GetProperty("files")[0].GetProperty("h3_mismatches").GetInt32());
    }

    [Fact]
    public async Task Drop_zero_and_a_box_across_the_antimeridian()
    {
        var output = fixtures.NewDirectory("box");
        var box = new GeoBox(150, -40, -150, 40);
        var result = await new ParquetExporter(fixtures.Era5Repository, new ExportOptions { Arrays = ["/tp"], OutputDirectory = output, Box = box, DropZero = true, RowGroupRows = 500 }).RunAsync();

        var oracle = ExportFixtures.NetCdf(fixtures.Era5, "tp", "latitude", "longitude", box: [150, -40, -150, 40], dropZero: true).GetProperty("days");
        var duck = ExportFixtures.DuckDb(output, result.Resolution, sql: new Dictionary<string, string>
        {
            ["outside"] = "select count(*) as n from read_parquet($FILES) where not (lat between -40 and 40 and (lon >= 150 or lon <= -150))",
            ["zeros"] = "select count(*) as n from read_parquet($FILES) where tp = 0",
            ["lons"] = "select min(lon) as west, max(lon) as east from read_parquet($FILES) where lon > 0",
        });
        Assert.Equal("0", duck.GetProperty("sql").GetProperty("outside")[0].GetProperty("n").GetString());
        Assert.Equal("0", duck.GetProperty("sql").GetProperty("zeros")[0].GetProperty("n").GetString());
        Assert.Equal(150, duck.GetProperty("sql").GetProperty("lons")[0].GetProperty("west").GetDouble());
        var expectedRows = oracle.EnumerateObject().Sum(d => d.Value.GetProperty("rows").GetInt64());
        Assert.True(expectedRows > 0);
        Assert.Equal(expectedRows, result.Rows);
        Assert.Equal(expectedRows, duck.GetProperty("files").EnumerateArray().Sum(f => long.Parse(f.GetProperty("aggregate").GetProperty("rows").GetString()!)));
        var manifest = ExportManifest.Load(output)!;
        Assert.All(manifest.Files.Values, f => Assert.Equal([150, -40, -150, 40], f.Bbox));
    }

    [Fact]
    public async Task Imerg_layout_with_longitude_before_latitude()
    {
        var output = fixtures.NewDirectory("imerg");
        var result = await new ParquetExporter(fixtures.ImergRepository, new ExportOptions { Arrays = ["/Grid/precipitation"], OutputDirectory = output, RowGroupRows = 20_000 }).RunAsync();

        Assert.Equal(6 * 360 * 180, result.Rows);
        var duck = ExportFixtures.DuckDb(output, result.Resolution, sampleModulo: 13);
        var file = Assert.Single(duck.GetProperty("files").EnumerateArray());
        Assert.Equal(0, file.GetProperty("h3_mismatches").GetInt32());
        Assert.Equal(0, file.GetProperty("order_violations").GetInt32());
        var types = file.GetProperty("columns").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("type").GetString()!);
        Assert.False(types.ContainsKey("precipitation_mm")); // mm/hr already
        var samples = file.GetProperty("sample").EnumerateArray().ToList();
        var oracle = ExportFixtures.NetCdf(fixtures.Imerg, "precipitation", "lat", "lon", group: "Grid",
            samples: samples.Select(s => (object)new { time = long.Parse(s.GetProperty("time").GetString()!), lat = s.GetProperty("lat").GetDouble(), lon = s.GetProperty("lon").GetDouble() }));
        var day = Assert.Single(oracle.GetProperty("days").EnumerateObject()).Value;
        Assert.Equal(day.GetProperty("present").GetInt64(), long.Parse(file.GetProperty("aggregate").GetProperty("count_precipitation").GetString()!));
        Assert.Equal(day.GetProperty("sum").GetDouble(), file.GetProperty("aggregate").GetProperty("sum_precipitation").GetDouble(), 1e-6 * Math.Max(1, day.GetProperty("sum").GetDouble()));
        var expected = oracle.GetProperty("samples").EnumerateArray().ToList();
        Assert.True(samples.Count > 100);
        for (var k = 0; k < samples.Count; k++)
        {
            if (expected[k].ValueKind == JsonValueKind.Null)
            {
                Assert.Equal(JsonValueKind.Null, samples[k].GetProperty("precipitation").ValueKind);
            }
            else
            {
                Assert.Equal(expected[k].GetDouble(), samples[k].GetProperty("precipitation").GetDouble());
            }
        }
    }

    [Fact]
    public async Task An_interrupted_export_leaves_only_complete_files_and_resumes()
    {
        var output = fixtures.NewDirectory("resume");
        using var cancel = new CancellationTokenSource();
        var options = new ExportOptions { Arrays = ["/tp"], OutputDirectory = output, RowGroupRows = 100 };
        var progress = new Inline(p =>
        {
            if (p.FilesDone == 1 && p.CurrentFile is not null)
            {
                cancel.Cancel(); // while the second file is being written
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new ParquetExporter(fixtures.Era5Repository, options).RunAsync(progress, cancel.Token));

        var files = Directory.GetFiles(output, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(output, f)).Order().ToList();
        Assert.Equal(["_floe_export.json", Path.Combine("date=2021-02-27", "tp-20210227T000000Z.parquet")], files);
        Assert.Single(ExportManifest.Load(output)!.Files);

        // A killed run can leave a hidden partial file; the next run removes it and writes the rest.
        File.WriteAllText(Path.Combine(output, "date=2021-02-27", ".tp-20210228T000000Z.parquet.partial"), "half");
        var result = await new ParquetExporter(fixtures.Era5Repository, options).RunAsync();
        Assert.Equal(1, result.FilesSkipped);
        Assert.Equal(2, result.FilesWritten);
        Assert.Empty(Directory.GetFiles(output, "*.partial", SearchOption.AllDirectories));
        var duck = ExportFixtures.DuckDb(output, result.Resolution);
        Assert.Equal(3 * 24 * Era5Points, duck.GetProperty("files").EnumerateArray().Sum(f => long.Parse(f.GetProperty("aggregate").GetProperty("rows").GetString()!)));

        var again = await new ParquetExporter(fixtures.Era5Repository, options).RunAsync();
        Assert.Equal(3, again.FilesSkipped);
        Assert.Equal(0, again.FilesWritten);
    }

    [Theory]
    [InlineData(16, null, null, "--resolution 16 is not an H3 resolution (0..15)")]
    [InlineData(-1, null, null, "--resolution -1")]
    [InlineData(null, "2021-03-01", "2021-02-28", "the end must be after the start")]
    [InlineData(null, "2030-01-01", "2030-02-01", "its time steps run from 2021-02-27T00:00:00Z to 2021-03-01T23:00:00Z")]
    public async Task Bad_options_are_refused_with_a_clear_message(int? resolution, string? start, string? end, string message)
    {
        var options = new ExportOptions
        {
            Arrays = ["/tp"],
            OutputDirectory = fixtures.NewDirectory("bad"),
            Resolution = resolution,
            Start = start is null ? null : DateTimeOffset.Parse(start, System.Globalization.CultureInfo.InvariantCulture),
            End = end is null ? null : DateTimeOffset.Parse(end, System.Globalization.CultureInfo.InvariantCulture),
        };
        var error = await Assert.ThrowsAsync<ExportException>(() => new ParquetExporter(fixtures.Era5Repository, options).RunAsync());
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(options.OutputDirectory) && Directory.EnumerateFiles(options.OutputDirectory, "*.parquet", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public async Task Unknown_arrays_and_changed_options_are_refused()
    {
        var output = fixtures.NewDirectory("options");
        var missing = await Assert.ThrowsAsync<ExportException>(() => new ParquetExporter(fixtures.Era5Repository, new ExportOptions { Arrays = ["/nope"], OutputDirectory = output }).RunAsync());
        Assert.Contains("--array /nope: no such array", missing.Message, StringComparison.Ordinal);

        var end = new DateTimeOffset(2021, 2, 28, 0, 0, 0, TimeSpan.Zero);
        await new ParquetExporter(fixtures.Era5Repository, new ExportOptions { Arrays = ["/tp"], OutputDirectory = output, End = end }).RunAsync();
        var changed = await Assert.ThrowsAsync<ExportException>(() => new ParquetExporter(fixtures.Era5Repository, new ExportOptions { Arrays = ["/tp"], OutputDirectory = output, End = end, Resolution = 3 }).RunAsync());
        Assert.Contains("holds an export made with other options", changed.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1,2,3", "must be WEST,SOUTH,EAST,NORTH")]
    [InlineData("0,50,10,40", "south 50 is north of north 40")]
    [InlineData("0,-95,10,40", "south -95 is outside [-90, 90]")]
    [InlineData("0,x,10,40", "\"x\" is not a number")]
    public void Bad_boxes_name_the_problem(string text, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => GeoBox.Parse(text));
        Assert.Contains("--bbox", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parquet_statistics_of_the_exported_file_are_read_back_by_our_reader()
    {
        // Our reader sees the same statistics DuckDB does (checked above): a guard for the query's skipping.
        var output = fixtures.NewDirectory("reader");
        var result = await new ParquetExporter(fixtures.Era5Repository, new ExportOptions { Arrays = ["/tp"], OutputDirectory = output, RowGroupRows = 3000, End = new DateTimeOffset(2021, 2, 28, 0, 0, 0, TimeSpan.Zero) }).RunAsync();
        var file = Directory.GetFiles(output, "*.parquet", SearchOption.AllDirectories).Single();
        using var reader = ParquetReader.Open(file);
        Assert.Equal(result.Rows, reader.RowCount);
        long previous = -1;
        foreach (var group in reader.RowGroups)
        {
            var h3 = group.Column("h3").Statistics!;
            Assert.True((long)h3.Min! > previous);
            previous = (long)h3.Max!;
            Assert.Equal(H3Index.GetResolution((ulong)(long)h3.Min!), result.Resolution);
        }
    }

    private sealed class Inline(Action<ExportProgress> report) : IProgress<ExportProgress>
    {
        public void Report(ExportProgress value) => report(value);
    }
}
