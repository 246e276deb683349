using System.Globalization;
using System.Text.Json;

namespace Floe.Formats.Hdf5.Tests;

/// <summary>Compares decoded .NET values with the JSON encoding the oracle script writes.</summary>
internal static class Expect
{
    public static void Value(Hdf5File file, JsonElement expected, object? actual, string where)
    {
        switch (expected.ValueKind)
        {
            case JsonValueKind.Number:
                {
                    var want = expected.GetDecimal();
                    var got = actual switch
                    {
                        sbyte v => v,
                        byte v => v,
                        short v => v,
                        ushort v => v,
                        int v => v,
                        uint v => v,
                        long v => v,
                        ulong v => (decimal)v,
                        _ => throw new Xunit.Sdk.XunitException($"{where}: expected integer {want}, got {Describe(actual)}"),
                    };
                    Assert.True(want == got, $"{where}: expected {want}, got {got}");
                    break;
                }

            case JsonValueKind.String when actual is string s:
                Assert.True(expected.GetString() == s, $"{where}: expected \"{expected.GetString()}\", got \"{s}\"");
                break;
            case JsonValueKind.String:
                {
                    // Floats are written as Python repr strings.
                    var want = double.Parse(expected.GetString()!.Replace("inf", "Infinity", StringComparison.Ordinal), CultureInfo.InvariantCulture);
                    var got = actual switch
                    {
                        Half h => (double)h,
                        float f => f,
                        double d => d,
                        _ => throw new Xunit.Sdk.XunitException($"{where}: expected float {want}, got {Describe(actual)}"),
                    };
                    Assert.True(want.Equals(got), $"{where}: expected {want}, got {got}");
                    break;
                }

            case JsonValueKind.Array:
                {
                    var array = Assert.IsAssignableFrom<Array>(actual);
                    Assert.True(expected.GetArrayLength() == array.Length, $"{where}: expected {expected.GetArrayLength()} elements, got {array.Length}");
                    var i = 0;
                    foreach (var item in expected.EnumerateArray())
                    {
                        Value(file, item, array.GetValue(i), $"{where}[{i}]");
                        i++;
                    }

                    break;
                }

            case JsonValueKind.Object when expected.TryGetProperty("compound", out var members):
                {
                    var dict = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(actual);
                    foreach (var member in members.EnumerateObject())
                    {
                        Assert.True(dict.ContainsKey(member.Name), $"{where}: compound lacks member {member.Name}");
                        Value(file, member.Value, dict[member.Name], $"{where}.{member.Name}");
                    }

                    Assert.Equal(members.EnumerateObject().Count(), dict.Count);
                    break;
                }

            case JsonValueKind.Object when expected.TryGetProperty("ref", out var path):
                {
                    var reference = Assert.IsType<Hdf5ObjectReference>(actual);
                    Assert.True(path.GetString() == file.FindByAddress(reference.Address)?.Path, $"{where}: reference to {reference.Address} is not {path}");
                    break;
                }

            case JsonValueKind.Object when expected.TryGetProperty("region", out var path):
                {
                    var reference = Assert.IsType<Hdf5RegionReference>(actual);
                    Assert.True(path.GetString() == file.FindByAddress(reference.ObjectAddress)?.Path, $"{where}: region reference to {reference.ObjectAddress} is not {path}");
                    break;
                }

            case JsonValueKind.Object when expected.TryGetProperty("hex", out var hex):
                {
                    var bytes = Assert.IsType<byte[]>(actual);
                    Assert.True(hex.GetString() == Convert.ToHexStringLower(bytes), $"{where}: expected bytes {hex}, got {Convert.ToHexStringLower(bytes)}");
                    break;
                }

            default:
                throw new Xunit.Sdk.XunitException($"{where}: unexpected oracle value {expected}");
        }
    }

    private static string Describe(object? value) => value is null ? "null" : $"{value} ({value.GetType().Name})";
}
