using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;

namespace Floe.Tests.Shared;

/// <summary>
/// Runs Debian's /usr/bin/python3, where the independent oracles live (h5py, netCDF4-python, numpy, numcodecs).
/// A script fails the test with its stderr; a missing interpreter or module fails it with the command that installs it.
/// </summary>
internal static class OraclePython
{
    public const string Python = "/usr/bin/python3";

    public const string InstallHint =
        "The oracles need Debian's python3 with h5py, netCDF4, xarray and zarr: apt-get install -y python3-h5py python3-netcdf4 python3-numcodecs python3-numpy python3-xarray python3-zarr python3-fsspec python3-aiohttp python3-azure-storage hdf5-tools netcdf-bin";

    /// <summary>Runs <paramref name="script"/> with <paramref name="arguments"/> (sys.argv[1:]) and returns its stdout.</summary>
    public static string Run(string script, params string[] arguments) => Run(script, TimeSpan.FromMinutes(5), arguments);

    public static string Run(string script, TimeSpan timeout, params string[] arguments)
    {
        var process = Start(script, redirectInput: false, arguments);
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"python3 oracle script timed out after {timeout}.");
            }

            if (process.ExitCode != 0)
            {
                var error = stderr.Result;
                var hint = error.Contains("ModuleNotFoundError", StringComparison.Ordinal) ? " " + InstallHint : "";
                Assert.Fail($"python3 oracle script failed (exit {process.ExitCode}): {error.Trim()}{hint}");
            }

            return stdout.Result;
        }
    }

    /// <summary>Starts <paramref name="script"/> with stdout and stderr (and optionally stdin) redirected; a missing interpreter fails the test.</summary>
    public static Process Start(string script, bool redirectInput, params string[] arguments)
    {
        if (!File.Exists(Python))
        {
            Assert.Fail($"{Python} not found. {InstallHint}");
        }

        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardInput = redirectInput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (redirectInput)
        {
            start.StandardInputEncoding = new System.Text.UTF8Encoding(false);
        }

        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            return Process.Start(start)!;
        }
        catch (Win32Exception ex)
        {
            Assert.Fail($"Could not start {Python}: {ex.Message}. {InstallHint}");
            throw;
        }
    }

    /// <summary>Runs a script that prints one JSON document and parses it.</summary>
    public static JsonElement RunJson(string script, params string[] arguments)
    {
        using var document = JsonDocument.Parse(Run(script, arguments));
        return document.RootElement.Clone();
    }
}
