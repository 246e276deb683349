using System.ComponentModel;
using System.Diagnostics;

namespace Floe.Benchmarks;

/// <summary>Runs Debian's /usr/bin/python3, where the peers of the format benchmarks live (h5py, netCDF4-python).</summary>
internal static class Python
{
    public const string Interpreter = "/usr/bin/python3";

    private const string InstallHint = "apt-get install -y python3-h5py python3-netcdf4 python3-numpy";

    public static string Run(IReadOnlyList<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(Interpreter) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Interpreter}");
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException($"could not start {Interpreter} ({ex.Message}); install the peers with: {InstallHint}", ex);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{Interpreter} did not finish within {timeout}");
            }

            if (process.ExitCode != 0)
            {
                var error = stderr.Result.Trim();
                var hint = error.Contains("ModuleNotFoundError", StringComparison.Ordinal) ? $" Install the peers with: {InstallHint}" : "";
                throw new InvalidOperationException($"{Interpreter} failed (exit {process.ExitCode}): {error}{hint}");
            }

            return stdout.Result;
        }
    }
}
