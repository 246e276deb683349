using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Floe.Benchmarks.Fixtures;

namespace Floe.Cli;

/// <summary>
/// `floe dev`: tools for developing Floe itself. `make-imerg` and `make-era5` write archives of real-layout source
/// files with netCDF4-python, to ingest and benchmark against at scale.
/// </summary>
internal static class DevCommand
{
    private static readonly DateOnly DefaultStart = new(2020, 1, 1);

    public static Command Create()
    {
        var command = new Command("dev", "Tools for developing Floe: write archives of real-layout source files");
        command.Subcommands.Add(MakeImerg());
        command.Subcommands.Add(MakeEra5());
        return command;
    }

    private static Command MakeImerg()
    {
        var days = DaysOption();
        var output = OutOption();
        var start = StartOption();
        var flat = new Option<bool>("--flat") { Description = "Write every file directly in DIR instead of NASA's tree DIR/YYYY/DDD/" };
        var small = new Option<bool>("--small") { Description = "A 360 × 180 grid instead of 3600 × 1800, for quick tests" };
        var command = new Command("make-imerg", "Write GPM IMERG V07-layout half-hourly NetCDF4 files, 48 a day, with netCDF4-python; existing files are kept")
        {
            days, output, start, flat, small,
        };
        command.SetAction((parse, ct) => Commands.Run(() => Task.Run(() =>
        {
            var writer = parse.InvocationConfiguration.Output;
            var directory = parse.GetValue(output)!;
            var paths = WithPythonErrors(() => FixtureWriter.WriteImerg(directory, parse.GetValue(days) * FixtureWriter.ImergFilesPerDay,
                parse.GetValue(start) ?? DefaultStart, tree: !parse.GetValue(flat), parse.GetValue(small), writer, ct));
            writer.WriteLine($"wrote {paths.Count} IMERG-layout files in {directory}");
        }, ct)));
        return command;
    }

    private static Command MakeEra5()
    {
        var days = DaysOption();
        var output = OutOption();
        var start = StartOption();
        var small = new Option<bool>("--small") { Description = "A 19 × 36 grid (10°) instead of 721 × 1440 (0.25°), for quick tests" };
        var command = new Command("make-era5", "Write ERA5 total-precipitation days (NetCDF-3, DIR/YYYY/MM/DD/total_precipitation/surface.nc) with netCDF4-python; existing files are kept")
        {
            days, output, start, small,
        };
        command.SetAction((parse, ct) => Commands.Run(() => Task.Run(() =>
        {
            var writer = parse.InvocationConfiguration.Output;
            var directory = parse.GetValue(output)!;
            var paths = WithPythonErrors(() => FixtureWriter.WriteEra5(directory, parse.GetValue(days), parse.GetValue(start) ?? DefaultStart, parse.GetValue(small), writer, ct));
            writer.WriteLine($"wrote {paths.Count} ERA5-layout files in {directory}");
        }, ct)));
        return command;
    }

    private static Option<int> DaysOption() => new("--days") { Description = "Days to write", Required = true, CustomParser = ParseDays };

    private static Option<string> OutOption() => new("--out") { Description = "Directory to write into (created if missing)", Required = true };

    // Nullable with no default value, so help prints the date as the description says it rather than in the culture's format.
    private static Option<DateOnly?> StartOption() => new("--start") { Description = "First day, YYYY-MM-DD (default 2020-01-01)", CustomParser = ParseDate };

    private static int ParseDays(ArgumentResult result)
    {
        var text = Token(result);
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var days) && days >= 1)
        {
            return days;
        }

        result.AddError($"--days must be a whole number of at least 1, got '{text}'");
        return 0;
    }

    private static DateOnly? ParseDate(ArgumentResult result)
    {
        var text = Token(result);
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }

        result.AddError($"--start must be a date YYYY-MM-DD, got '{text}'");
        return null;
    }

    private static string Token(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[0].Value : "";

    // Python's failures (a missing module, a script error) are one-line errors like the others, not a stack trace.
    private static IReadOnlyList<string> WithPythonErrors(Func<IReadOnlyList<string>> write)
    {
        try
        {
            return write();
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            throw new IOException(e.Message, e);
        }
    }
}
