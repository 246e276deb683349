namespace Floe.Tests.Shared;

/// <summary>The dotnet host that tests use to start other .NET processes (workers, the floe CLI).</summary>
internal static class DotnetHost
{
    // The test host usually runs under the dotnet host; the SDK also exports its path.
    public static string Path()
    {
        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk))
        {
            return fromSdk;
        }

        var current = Environment.ProcessPath;
        return current is not null && System.IO.Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }
}
