using System.CommandLine;
using System.Globalization;
using Floe.Tests.Shared;

namespace Floe.Cli.Tests;

/// <summary>
/// `floe dev make-imerg` and `make-era5`, run through the real command line, with netCDF4-python as the oracle of what
/// the files hold.
/// </summary>
public sealed class DevCommandTests : IDisposable
{
    private const string Era5Oracle = """
import sys, json, netCDF4, numpy as np
out = []
for path in sys.argv[1:]:
    ds = netCDF4.Dataset(path)
    tp = ds["tp"]
    values = tp[:]
    tp.set_auto_maskandscale(False)
    packed = tp[:]
    out.append({
        "data_model": ds.data_model,
        "shape": list(tp.shape),
        "dtype": tp.dtype.name,
        "scale_factor": float(tp.scale_factor),
        "add_offset": float(tp.add_offset),
        "fill_value": int(tp._FillValue),
        "missing_value": int(tp.missing_value),
        "units": tp.units,
        "time_units": ds["time"].units,
        "calendar": ds["time"].calendar,
        "time": [int(t) for t in ds["time"][:]],
        "latitude": [float(ds["latitude"][0]), float(ds["latitude"][-1])],
        "longitude": [float(ds["longitude"][0]), float(ds["longitude"][-1])],
        "masked": int(np.ma.count_masked(values)),
        "min": float(values.min()),
        "max": float(values.max()),
        "wet": float((values > 1e-4).mean()),
        "packed_min": int(packed.min()),
        "packed_max": int(packed.max()),
        "unpacked_equal": bool(np.allclose(np.ma.getdata(values), packed * tp.scale_factor + tp.add_offset)),
    })
    ds.close()
print(json.dumps(out))
""";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "floe-dev-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Make_imerg_writes_a_day_of_48_half_hours_in_nasas_year_and_day_of_year_tree()
    {
        var (code, output, error) = await FloeAsync("dev", "make-imerg", "--days", "1", "--small", "--out", _directory);

        Assert.True(code == 0, error);
        Assert.Equal($"wrote 48 IMERG-layout files in {_directory}", LastLine(output));
        var day = Path.Combine(_directory, "2020", "001");
        var names = Directory.GetFiles(_directory, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(day, p)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(48, names.Count);
        Assert.All(names, n => Assert.Matches(@"^3B-HHR\.MS\.MRG\.3IMERG\.20200101-S\d{6}-E\d{6}\.\d{4}\.V07B\.HDF5$", n));
        Assert.Equal("3B-HHR.MS.MRG.3IMERG.20200101-S000000-E002959.0000.V07B.HDF5", names[0]);
        Assert.Contains("3B-HHR.MS.MRG.3IMERG.20200101-S123000-E125959.0750.V07B.HDF5", names);
        Assert.Equal("3B-HHR.MS.MRG.3IMERG.20200101-S233000-E235959.1410.V07B.HDF5", names[^1]);
    }

    [Fact]
    public async Task Make_imerg_counts_days_of_the_year_from_start_and_writes_flat_when_asked()
    {
        var tree = Path.Combine(_directory, "tree");
        var flat = Path.Combine(_directory, "flat");

        var (code, _, error) = await FloeAsync("dev", "make-imerg", "--days", "2", "--start", "2020-12-31", "--small", "--out", tree);
        Assert.True(code == 0, error);
        (code, _, error) = await FloeAsync("dev", "make-imerg", "--days", "1", "--start", "2020-12-31", "--small", "--flat", "--out", flat);
        Assert.True(code == 0, error);

        // 2020 is a leap year: its last day is day 366, and the next day starts 2021's numbering again.
        Assert.Equal(48, Directory.GetFiles(Path.Combine(tree, "2020", "366")).Length);
        Assert.Equal(48, Directory.GetFiles(Path.Combine(tree, "2021", "001")).Length);
        Assert.True(File.Exists(Path.Combine(tree, "2021", "001", "3B-HHR.MS.MRG.3IMERG.20210101-S000000-E002959.0000.V07B.HDF5")));
        var flatFiles = Directory.GetFiles(flat);
        Assert.Equal(48, flatFiles.Length);
        Assert.Empty(Directory.GetDirectories(flat));
        // The same half hour is the same file whichever layout holds it.
        var name = "3B-HHR.MS.MRG.3IMERG.20201231-S233000-E235959.1410.V07B.HDF5";
        Assert.Equal(File.ReadAllBytes(Path.Combine(tree, "2020", "366", name)), File.ReadAllBytes(Path.Combine(flat, name)));
    }

    [Fact]
    public async Task Make_era5_writes_netcdf3_days_each_packed_with_its_own_scale_and_offset()
    {
        var (code, output, error) = await FloeAsync("dev", "make-era5", "--days", "3", "--start", "2020-02-28", "--small", "--out", _directory);

        Assert.True(code == 0, error);
        Assert.Equal($"wrote 3 ERA5-layout files in {_directory}", LastLine(output));
        var days = new[] { new DateOnly(2020, 2, 28), new DateOnly(2020, 2, 29), new DateOnly(2020, 3, 1) };
        var paths = days.Select(Era5Path).ToArray();
        Assert.Equal(paths.Order(StringComparer.Ordinal), Directory.GetFiles(_directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));

        var files = OraclePython.RunJson(Era5Oracle, paths).EnumerateArray().ToList();
        for (var i = 0; i < files.Count; i++)
        {
            var file = files[i];
            Assert.Equal("NETCDF3_64BIT_OFFSET", file.GetProperty("data_model").GetString());
            Assert.Equal([24, 19, 36], file.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal("int16", file.GetProperty("dtype").GetString());
            Assert.Equal(-32767, file.GetProperty("fill_value").GetInt32());
            Assert.Equal(-32767, file.GetProperty("missing_value").GetInt32());
            Assert.Equal("m", file.GetProperty("units").GetString());
            Assert.Equal("hours since 1900-01-01 00:00:00.0", file.GetProperty("time_units").GetString());
            Assert.Equal("gregorian", file.GetProperty("calendar").GetString());
            var firstHour = (int)(days[i].ToDateTime(TimeOnly.MinValue) - new DateTime(1900, 1, 1)).TotalHours;
            Assert.Equal(Enumerable.Range(firstHour, 24), file.GetProperty("time").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal([90.0, -90.0], file.GetProperty("latitude").EnumerateArray().Select(e => e.GetDouble()));
            Assert.Equal([0.0, 350.0], file.GetProperty("longitude").EnumerateArray().Select(e => e.GetDouble()));

            // Packed over the day's whole range with -32767 left for missing; unpacked, dry ground and rain in metres.
            Assert.Equal(-32766, file.GetProperty("packed_min").GetInt32());
            Assert.Equal(32767, file.GetProperty("packed_max").GetInt32());
            Assert.True(file.GetProperty("unpacked_equal").GetBoolean());
            Assert.Equal(0, file.GetProperty("masked").GetInt32());
            var scale = file.GetProperty("scale_factor").GetDouble();
            Assert.InRange(file.GetProperty("min").GetDouble(), -scale, scale);
            Assert.InRange(file.GetProperty("max").GetDouble(), 1e-3, 0.05 + scale);
            Assert.InRange(file.GetProperty("wet").GetDouble(), 0.02, 0.5);
        }

        Assert.Equal(3, files.Select(f => f.GetProperty("scale_factor").GetDouble()).Distinct().Count());
        Assert.Equal(3, files.Select(f => f.GetProperty("add_offset").GetDouble()).Distinct().Count());
    }

    [Fact]
    public async Task Rerunning_keeps_existing_files_and_rewrites_missing_or_empty_ones_byte_for_byte()
    {
        var first = Path.Combine(_directory, "first");
        var (code, _, error) = await FloeAsync("dev", "make-era5", "--days", "3", "--small", "--out", first);
        Assert.True(code == 0, error);
        var paths = Enumerable.Range(0, 3).Select(d => Era5Path(first, new DateOnly(2020, 1, 1).AddDays(d))).ToArray();
        var original = paths.Select(File.ReadAllBytes).ToArray();

        // A marker the writer would overwrite, a file lost, and an empty file (as a crash could leave).
        var kept = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(paths[0], kept);
        File.Delete(paths[1]);
        File.WriteAllBytes(paths[2], []);
        (code, _, error) = await FloeAsync("dev", "make-era5", "--days", "3", "--small", "--out", first);
        Assert.True(code == 0, error);

        Assert.Equal(kept, File.GetLastWriteTimeUtc(paths[0]));
        Assert.All(paths.Zip(original), p => Assert.Equal(p.Second, File.ReadAllBytes(p.First)));

        // Same inputs, same bytes: a second archive written elsewhere is identical.
        var second = Path.Combine(_directory, "second");
        (code, _, error) = await FloeAsync("dev", "make-era5", "--days", "3", "--small", "--out", second);
        Assert.True(code == 0, error);
        Assert.All(original.Select((bytes, d) => (bytes, path: Era5Path(second, new DateOnly(2020, 1, 1).AddDays(d)))),
            f => Assert.Equal(f.bytes, File.ReadAllBytes(f.path)));
        Assert.Empty(Directory.GetFiles(_directory, "*.part", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Rerunning_make_imerg_keeps_the_files_already_written()
    {
        var (code, _, error) = await FloeAsync("dev", "make-imerg", "--days", "1", "--small", "--out", _directory);
        Assert.True(code == 0, error);
        var kept = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var files = Directory.GetFiles(_directory, "*.HDF5", SearchOption.AllDirectories);
        foreach (var file in files)
        {
            File.SetLastWriteTimeUtc(file, kept);
        }

        string output;
        (code, output, error) = await FloeAsync("dev", "make-imerg", "--days", "1", "--small", "--out", _directory);

        Assert.True(code == 0, error);
        Assert.Equal($"wrote 48 IMERG-layout files in {_directory}", LastLine(output));
        Assert.All(files, f => Assert.Equal(kept, File.GetLastWriteTimeUtc(f)));
    }

    [Theory]
    [InlineData("--days", "make-imerg", "--days", "0", "--out", "OUT")]
    [InlineData("--days", "make-era5", "--days", "-2", "--out", "OUT")]
    [InlineData("--days", "make-era5", "--days", "two", "--out", "OUT")]
    [InlineData("--days", "make-era5", "--out", "OUT")]
    [InlineData("--out", "make-imerg", "--days", "1")]
    [InlineData("--start", "make-imerg", "--days", "1", "--out", "OUT", "--start", "2020-02-30")]
    [InlineData("--start", "make-era5", "--days", "1", "--out", "OUT", "--start", "01/02/2020")]
    public async Task Bad_options_fail_with_an_error_naming_the_option(string option, params string[] arguments)
    {
        var (code, _, error) = await FloeAsync(["dev", .. arguments.Select(a => a == "OUT" ? _directory : a)]);

        Assert.Equal(1, code);
        Assert.Contains(option, error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_directory));
    }

    private string Era5Path(DateOnly day) => Era5Path(_directory, day);

    private static string Era5Path(string root, DateOnly day) =>
        Path.Combine(root, day.ToString("yyyy", CultureInfo.InvariantCulture), day.ToString("MM", CultureInfo.InvariantCulture),
            day.ToString("dd", CultureInfo.InvariantCulture), "total_precipitation", "surface.nc");

    private static string LastLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];

    // The command tree `floe` itself builds, so the test also proves `dev` is registered.
    private static async Task<(int Code, string Output, string Error)> FloeAsync(params string[] arguments)
    {
        var root = new RootCommand();
        foreach (var command in Commands.All())
        {
            root.Subcommands.Add(command);
        }

        var output = new StringWriter();
        var error = new StringWriter();
        var code = await root.Parse(arguments).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }
}
