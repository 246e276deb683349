using System.Text.Json;
using Floe.H3;
using Floe.Tests.Shared;

namespace Floe.H3.Tests;

/// <summary>Batches calls to h3-js 4.5.0 through tests/node/h3-oracle.mjs, one Node process per batch.</summary>
internal static class H3Js
{
    /// <summary>Runs every call of every request; returns one JSON array of results per request.</summary>
    public static JsonElement[] Run(params (string Function, IEnumerable<object?[]> Calls)[] requests)
    {
        var payload = JsonSerializer.Serialize(requests.Select(r => new { fn = r.Function, calls = r.Calls.ToArray() }));
        var root = OracleNode.RunJson("h3-oracle.mjs", [], payload);
        return [.. root.EnumerateArray()];
    }

    public static JsonElement Call(string function, IEnumerable<object?[]> calls) => Run((function, calls))[0];

    public static ulong Cell(JsonElement value) => H3.ParseHex(value.GetString()!);

    /// <summary>A cell list result as a set, failing on an h3-js error.</summary>
    public static HashSet<ulong> Cells(JsonElement value)
    {
        Assert.True(value.ValueKind == JsonValueKind.Array, $"h3-js returned {value}");
        return [.. value.EnumerateArray().Select(Cell)];
    }
}

/// <summary>Shared inputs for the oracle tests.</summary>
internal static class Samples
{
    /// <summary>The resolution 0 cell of a base cell.</summary>
    public static ulong BaseCell(int number) => (1UL << 59) | ((ulong)number << 45) | ((1UL << 45) - 1);

    public static IEnumerable<ulong> BaseCells() => Enumerable.Range(0, 122).Select(BaseCell);

    /// <summary>The 12 pentagons at a resolution.</summary>
    public static IEnumerable<ulong> Pentagons(int resolution) =>
        BaseCells().Where(H3.IsPentagon).Select(b => H3.CellToCenterChild(b, resolution));

    /// <summary>A point uniformly distributed on the sphere.</summary>
    public static (double Lat, double Lng) Point(Random random) =>
        (Math.Asin((2 * random.NextDouble()) - 1) * 180 / Math.PI, (random.NextDouble() * 360) - 180);

    /// <summary>Cells at random places and resolutions.</summary>
    public static List<ulong> RandomCells(Random random, int count, int minResolution = 0, int maxResolution = 15)
    {
        var cells = new List<ulong>(count);
        for (var i = 0; i < count; i++)
        {
            var (lat, lng) = Point(random);
            cells.Add(H3.LatLngToCell(lat, lng, random.Next(minResolution, maxResolution + 1)));
        }

        return cells;
    }

    public static object[] Hex(ulong cell) => [H3.ToHex(cell)];
}
