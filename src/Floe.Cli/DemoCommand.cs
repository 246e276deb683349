using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Floe.Core;
using Floe.Storage;
using Floe.Store;

namespace Floe.Cli;

/// <summary>
/// `floe demo`: the main job end to end on the embedded filesystem store: a native array written, committed,
/// appended to, a virtual array referencing a local file in place, a tag, values read back and checked, the log.
/// </summary>
internal static class DemoCommand
{
    private const string Temperature = "/weather/temperature";
    private const string Pressure = "/weather/pressure";

    public static async Task RunAsync(string? directory, TextWriter output, CancellationToken cancellationToken)
    {
        directory ??= Path.Combine(Path.GetTempPath(), "floe-demo-" + Guid.NewGuid().ToString("N")[..8]);
        directory = Path.GetFullPath(directory);
        var repositoryDirectory = Path.Combine(directory, "repo");
        var repository = await Repository.CreateAsync(new FileSystemObjectStore(repositoryDirectory), cancellationToken: cancellationToken);
        output.WriteLine($"created repository in {repositoryDirectory}");

        // 1. A native float32 array (time, lat, lon), zstd-compressed, written chunk by chunk.
        var session = await repository.WritableSessionAsync(cancellationToken: cancellationToken);
        session.CreateGroup("/weather", new JsonObject { ["title"] = "Floe demo" });
        var temperature = new ArrayMetadata([4, 6, 8], DataType.Float32, [2, 3, 4], FillValue.FromDouble(DataType.Float32, float.NaN),
            [new CodecSpec("bytes", new() { ["endian"] = "little" }), new CodecSpec("zstd", new() { ["level"] = 3, ["checksum"] = false })],
            ["time", "lat", "lon"], new JsonObject { ["units"] = "K" });
        session.CreateArray(Temperature, temperature);
        await WriteTemperatureAsync(session, temperature, timeFrom: 0, cancellationToken);
        var first = await session.CommitAsync("Initial 4 time steps", new Dictionary<string, string> { ["source"] = "floe demo" }, cancellationToken);
        output.WriteLine($"committed {first}: {Temperature} [4, 6, 8]");

        // 2. Append two time steps, and a virtual array whose chunks stay in a raw file beside the repository.
        session.AppendAlong(Temperature, 0, 2);
        await WriteTemperatureAsync(session, session.GetArrayMetadata(Temperature), timeFrom: 4, cancellationToken);
        var rawFile = Path.Combine(directory, "pressure.f64");
        var pressureValues = Enumerable.Range(0, 12).Select(i => 1000.0 + i).ToArray();
        await File.WriteAllBytesAsync(rawFile, MemoryMarshal.AsBytes(pressureValues.AsSpan()).ToArray(), cancellationToken);
        var pressure = new ArrayMetadata([12], DataType.Float64, [4], FillValue.FromDouble(DataType.Float64, -1),
            [new CodecSpec("bytes", new() { ["endian"] = "little" })], ["time"], new JsonObject { ["units"] = "hPa" });
        session.CreateArray(Pressure, pressure);
        var modified = File.GetLastWriteTimeUtc(rawFile);
        for (var c = 0; c < 3; c++)
        {
            session.SetChunkRef(Pressure, [c], new VirtualChunkRef(rawFile, c * 32, 32, LastModified: modified));
        }

        var second = await session.CommitAsync("Append 2 time steps; add virtual pressure", cancellationToken: cancellationToken);
        await repository.CreateTagAsync("v1", second, cancellationToken);
        output.WriteLine($"committed {second}: appended 2 time steps, added {Pressure} (3 virtual chunks in {rawFile}); tagged v1");

        // 3. Read everything back through a fresh view of the tag and check every value.
        var reader = await repository.ReadOnlyAsync("tag:v1", cancellationToken);
        var values = MemoryMarshal.Cast<byte, float>(await reader.ReadRegionAsync(Temperature, [0, 0, 0], [6, 6, 8], cancellationToken)).ToArray();
        var mismatches = 0;
        for (var t = 0; t < 6; t++)
        {
            for (var y = 0; y < 6; y++)
            {
                for (var x = 0; x < 8; x++)
                {
                    mismatches += values[(((t * 6) + y) * 8) + x] == Expected(t, y, x) ? 0 : 1;
                }
            }
        }

        var readPressure = MemoryMarshal.Cast<byte, double>(await reader.ReadRegionAsync(Pressure, [0], [12], cancellationToken)).ToArray();
        mismatches += readPressure.SequenceEqual(pressureValues) ? 0 : 1;
        if (mismatches > 0)
        {
            throw new FloeStoreException($"demo read back {mismatches} wrong value(s)");
        }

        output.WriteLine($"read back {values.Length} temperature values and {readPressure.Length} pressure values from tag v1: all equal what was written");
        output.WriteLine($"temperature[5, 2, 0:8] = {string.Join(" ", values.Skip(((5 * 6) + 2) * 8).Take(8))}");
        output.WriteLine();
        output.WriteLine("nodes:");
        foreach (var node in reader.Walk())
        {
            output.WriteLine("  " + Commands.DescribeNode(node));
        }

        output.WriteLine();
        output.WriteLine($"diff {first} -> {second}:");
        Commands.PrintDiff(output, await repository.DiffAsync(first, second, cancellationToken));
        output.WriteLine();
        output.WriteLine("log (main):");
        await foreach (var snapshot in repository.LogAsync(Repository.MainBranch, cancellationToken))
        {
            Commands.PrintSnapshot(output, snapshot);
        }

        output.WriteLine();
        output.WriteLine($"try: floe log --repo {repositoryDirectory}   floe ls -R --repo {repositoryDirectory}");
    }

    private static float Expected(int t, int y, int x) => 270f + t + (y * 0.5f) + (x * 0.25f);

    // Fills every chunk from time step `timeFrom` to the end of the array with Expected() values.
    private static async Task WriteTemperatureAsync(Session session, ArrayMetadata metadata, int timeFrom, CancellationToken cancellationToken)
    {
        var grid = metadata.GridShape;
        var chunk = metadata.ChunkShape;
        for (var ct = timeFrom / chunk[0]; ct < grid[0]; ct++)
        {
            for (var cy = 0; cy < grid[1]; cy++)
            {
                for (var cx = 0; cx < grid[2]; cx++)
                {
                    var data = new float[chunk[0] * chunk[1] * chunk[2]];
                    for (var i = 0; i < data.Length; i++)
                    {
                        var (t, y, x) = (i / (chunk[1] * chunk[2]), i / chunk[2] % chunk[1], i % chunk[2]);
                        data[i] = Expected((int)(ct * chunk[0]) + t, (cy * chunk[1]) + y, (cx * chunk[2]) + x);
                    }

                    await session.WriteChunkAsync(Temperature, [ct, cy, cx], MemoryMarshal.AsBytes(data.AsSpan()).ToArray(), cancellationToken);
                }
            }
        }
    }
}
