using System.Globalization;

namespace Floe.Benchmarks.Fixtures;

/// <summary>
/// Writes archives of real-layout source files with netCDF4-python, by running the fixture scripts the tests use
/// (tests/Fixtures/imerg.py and era5.py, embedded here): GPM IMERG half-hourly NetCDF4 files and ERA5 daily NetCDF-3
/// files. Files already there with a nonzero size are kept, so an interrupted run resumes where it stopped.
/// </summary>
public static class FixtureWriter
{
    /// <summary>IMERG files in one day, the half hours.</summary>
    public const int ImergFilesPerDay = 48;

    // Files per python run: each run reports progress when it ends, and a full-size IMERG day or a few ERA5 days
    // take seconds; small files are cheap enough that more per run saves the interpreter's start-up.
    private const int ImergBatch = ImergFilesPerDay;
    private const int SmallImergBatch = 10 * ImergFilesPerDay;
    private const int Era5Batch = 4;
    private const int SmallEra5Batch = 120;

    private static readonly TimeSpan BatchTimeout = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Writes <paramref name="count"/> IMERG V07-layout half-hourly files, the first starting at 00:00 on
    /// <paramref name="start"/>: flat in <paramref name="outDir"/>, or in NASA's tree YYYY/DDD/ when
    /// <paramref name="tree"/>; a 360 × 180 grid when <paramref name="small"/>. Returns every file's path, in time order.
    /// </summary>
    public static IReadOnlyList<string> WriteImerg(string outDir, int count, DateOnly start, bool tree, bool small, TextWriter? progress,
        CancellationToken cancellationToken = default)
    {
        var directory = Path.GetFullPath(outDir);
        var batch = small ? SmallImergBatch : ImergBatch;
        return WriteInBatches("imerg.py", count, batch, progress, cancellationToken, (script, first, n) =>
        {
            List<string> arguments = [script, directory, Number(n), Number(first), "--start", Date(start), "--skip-existing"];
            if (tree)
            {
                arguments.Add("--tree");
            }

            if (small)
            {
                arguments.Add("--small");
            }

            return arguments;
        });
    }

    /// <summary>
    /// Writes <paramref name="days"/> ERA5 total-precipitation days from <paramref name="start"/>, each at
    /// YYYY/MM/DD/total_precipitation/surface.nc under <paramref name="outDir"/> (NetCDF-3 64-bit offset, int16 packed
    /// with its own scale_factor/add_offset); a 19 × 36 grid when <paramref name="small"/>. Returns every file's path, in time order.
    /// </summary>
    public static IReadOnlyList<string> WriteEra5(string outDir, int days, DateOnly start, bool small, TextWriter? progress,
        CancellationToken cancellationToken = default)
    {
        var directory = Path.GetFullPath(outDir);
        var batch = small ? SmallEra5Batch : Era5Batch;
        return WriteInBatches("era5.py", days, batch, progress, cancellationToken, (script, first, n) =>
        {
            List<string> arguments = [script, directory, Number(n), "--start", Date(start.AddDays(first)), "--skip-existing"];
            if (small)
            {
                arguments.Add("--small");
            }

            return arguments;
        });
    }

    private static List<string> WriteInBatches(string scriptName, int count, int batch, TextWriter? progress, CancellationToken cancellationToken,
        Func<string, int, int, List<string>> arguments)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var paths = new List<string>(count);
        if (count == 0)
        {
            return paths;
        }

        var script = Extract(scriptName);
        try
        {
            for (var first = 0; first < count; first += batch)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var n = Math.Min(batch, count - first);
                var written = Python.Run(arguments(script, first, n), BatchTimeout)
                    .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (written.Length != n)
                {
                    throw new InvalidOperationException($"{scriptName} printed {written.Length} path(s) for {n} file(s)");
                }

                paths.AddRange(written);
                progress?.WriteLine($"wrote {paths.Count}/{count} files");
            }
        }
        finally
        {
            File.Delete(script);
        }

        return paths;
    }

    private static string Extract(string scriptName)
    {
        var script = Path.Combine(Path.GetTempPath(), $"floe-{Guid.NewGuid():N}-{scriptName}");
        using var resource = typeof(FixtureWriter).Assembly.GetManifestResourceStream(scriptName)
            ?? throw new InvalidOperationException($"{scriptName} is not embedded");
        using var file = File.Create(script);
        resource.CopyTo(file);
        return script;
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
