using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;

namespace Floe.Tests.Shared;

/// <summary>
/// Runs Node.js scripts from tests/node, where the npm oracles are installed (h3-js, DuckDB, hyparquet).
/// A script fails the test with its stderr; missing packages fail it with the command that installs them.
/// </summary>
internal static class OracleNode
{
    public const string InstallHint = "The Node oracles need Node.js 20 and the packages of tests/node: cd tests/node && npm install";

    /// <summary>tests/node in the repository, found by walking up from the test assembly.</summary>
    public static string Directory { get; } = FindDirectory();

    /// <summary>Runs tests/node/<paramref name="script"/> with <paramref name="arguments"/>, optionally writing <paramref name="input"/> to stdin, and returns stdout.</summary>
    public static string Run(string script, IReadOnlyList<string> arguments, string? input = null, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromMinutes(5);
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };
        start.ArgumentList.Add(Path.Combine(Directory, script));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception ex)
        {
            Assert.Fail($"Could not start node: {ex.Message}. {InstallHint}");
            throw;
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (input is not null)
            {
                process.StandardInput.Write(input);
                process.StandardInput.Close();
            }

            if (!process.WaitForExit(limit))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"node oracle {script} timed out after {limit}.");
            }

            if (process.ExitCode != 0)
            {
                var error = stderr.Result.Trim();
                var hint = error.Contains("ERR_MODULE_NOT_FOUND", StringComparison.Ordinal) ? " " + InstallHint : "";
                Assert.Fail($"node oracle {script} failed (exit {process.ExitCode}): {error}{hint}");
            }

            return stdout.Result;
        }
    }

    /// <summary>Runs a script that prints one JSON document and parses it.</summary>
    public static JsonElement RunJson(string script, IReadOnlyList<string> arguments, string? input = null)
    {
        using var document = JsonDocument.Parse(Run(script, arguments, input));
        return document.RootElement.Clone();
    }

    private static string FindDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "tests", "node");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"tests/node/package.json not found above {AppContext.BaseDirectory}. {InstallHint}");
    }
}
