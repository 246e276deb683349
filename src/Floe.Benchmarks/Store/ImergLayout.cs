using System.Globalization;
using Floe.Core;

namespace Floe.Benchmarks.Store;

/// <summary>
/// The GPM IMERG half-hourly record as the seed describes it: 48 files a day from 1998-01-01, named as in the
/// seed's make_url, each holding 84 chunks of four variables. Offsets and lengths are synthetic but shaped like
/// the real files: a metadata block, then deflated chunks laid end to end with occasional index blocks between.
/// </summary>
public static class ImergLayout
{
    public const int FilesInRecord = 473_328;
    public const int RefsPerFile = 84;
    public static readonly DateTime Start = new(1998, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private const string BaseUrl = "s3://gesdisc-cumulus-prod-protected/GPM_L3/GPM_3IMERGHH.07";

    /// <summary>The four data variables; chunk lengths along lon chosen so each file holds 24 + 24 + 12 + 24 chunks, as in the seed.</summary>
    public static readonly (string Name, DataType Type, int LonChunk, int MinLength, int MaxLength)[] Variables =
    [
        ("precipitation", DataType.Float32, 150, 30_000, 260_000),
        ("randomError", DataType.Float32, 150, 40_000, 300_000),
        ("probabilityLiquidPrecipitation", DataType.Int16, 300, 8_000, 90_000),
        ("precipitationQualityIndex", DataType.Float32, 150, 20_000, 200_000),
    ];

    public static DateTime TimeOf(int fileIndex) => Start.AddMinutes(30L * fileIndex);

    public static string UrlOf(int fileIndex)
    {
        var t = TimeOf(fileIndex);
        var end = t.AddMinutes(29).AddSeconds(59);
        var minutes = (int)(t - t.Date).TotalMinutes;
        return string.Create(CultureInfo.InvariantCulture,
            $"{BaseUrl}/{t:yyyy}/{t.DayOfYear:000}/3B-HHR.MS.MRG.3IMERG.{t:yyyyMMdd}-S{t:HHmmss}-E{end:HHmmss}.{minutes:0000}.V07B.HDF5");
    }

    public static ArrayMetadata ArrayOf(int variable, long files) =>
        new([files, 3600, 1800], Variables[variable].Type, [1, Variables[variable].LonChunk, 1800],
            FillValue.FromDouble(Variables[variable].Type, Variables[variable].Type == DataType.Int16 ? -9999 : (double)-9999.9f), [new CodecSpec("bytes", new() { ["endian"] = "little" }), new CodecSpec("zlib", new() { ["level"] = 4 })],
            ["time", "lon", "lat"], new() { ["units"] = Variables[variable].Name == "probabilityLiquidPrecipitation" ? "percent" : "mm/hr" });

    /// <summary>Calls <paramref name="emit"/> for each of one file's 84 chunks: variable, lon chunk index, offset, length. Deterministic per file.</summary>
    public static void ForEachChunk(int fileIndex, Action<int, int, long, long> emit)
    {
        var rng = new Random(fileIndex);
        long offset = 28_000 + rng.Next(0, 4_000);
        for (var v = 0; v < Variables.Length; v++)
        {
            var (_, _, lonChunk, min, max) = Variables[v];
            for (var c = 0; c < 3600 / lonChunk; c++)
            {
                var length = rng.Next(min, max);
                emit(v, c, offset, length);
                offset += length;
                if (rng.Next(10) == 0)
                {
                    offset += 512 + rng.Next(0, 3_584); // a B-tree node or heap block between chunks
                }
            }
        }
    }
}
