using System.Text.Json;
using Floe.Tests.Shared;

namespace Floe.Formats.NetCdf.Tests.Classic;

/// <summary>
/// NetCDF-3 fixtures written once per test run by netCDF4-python into a temporary directory, with what
/// netCDF4-python reports about each file (oracle.json): dimensions, attributes, dtypes, and every variable's raw
/// values (big-endian, file order) and its default masked-and-unpacked values (little-endian, NaN where masked).
/// </summary>
public sealed class NetCdf3Fixtures : IDisposable
{
    private const string Script = """
import json, math, os, sys, warnings
import numpy as np
import netCDF4

warnings.simplefilter("ignore")
out = sys.argv[1]
rng = np.random.default_rng(20261120)


def path(name):
    return os.path.join(out, name)


def era5(ds):
    # The layout of an ERA5 NetCDF-3 day from the CDS: coordinates, then packed precipitation per hour.
    ds.createDimension("longitude", 1440)
    ds.createDimension("latitude", 721)
    ds.createDimension("time", None)
    lon = ds.createVariable("longitude", "f4", ("longitude",))
    lon.units = "degrees_east"
    lon.long_name = "longitude"
    lat = ds.createVariable("latitude", "f4", ("latitude",))
    lat.units = "degrees_north"
    lat.long_name = "latitude"
    time = ds.createVariable("time", "i4", ("time",))
    time.units = "hours since 1900-01-01 00:00:00.0"
    time.long_name = "time"
    time.calendar = "gregorian"
    tp = ds.createVariable("tp", "i2", ("time", "latitude", "longitude"), fill_value=np.int16(-32767))
    precipitation = rng.gamma(0.25, 0.004, (24, 721, 1440))
    lo, hi = float(precipitation.min()), float(precipitation.max())
    scale = (hi - lo) / (2 ** 16 - 2)
    offset = (hi + lo) / 2
    tp.scale_factor = np.float64(scale)
    tp.add_offset = np.float64(offset)
    tp.missing_value = np.int16(-32767)
    tp.units = "m"
    tp.long_name = "Total precipitation"
    ds.Conventions = "CF-1.6"
    ds.history = "2026-11-20 00:00:00 GMT by grib_to_netcdf-2.25.1: /opt/ecmwf/mars-client/bin/grib_to_netcdf.bin -S param -o out.nc"
    lon[:] = np.arange(1440, dtype="f4") * np.float32(0.25)
    lat[:] = np.float32(90) - np.arange(721, dtype="f4") * np.float32(0.25)
    time[:] = 1104840 + np.arange(24, dtype="i4")
    packed = np.clip(np.round((precipitation - offset) / scale), -32766, 32767).astype("i2")
    packed[rng.random(packed.shape) < 0.01] = -32767
    tp.set_auto_maskandscale(False)
    tp[:] = packed


def classic(ds):
    ds.createDimension("time", None)
    ds.createDimension("x", 5)
    ds.createDimension("y", 3)
    ds.createDimension("z", 7)
    ds.createDimension("nchar", 4)
    ds.title = "classic fixture"
    ds.setncattr("g_byte", np.array([1, -2, 127, -128], "i1"))
    ds.setncattr("g_short", np.int16(-32768))
    ds.setncattr("g_int", np.array([2147483647, -5], "i4"))
    ds.setncattr("g_float", np.array([0.1, np.nan, np.inf, -np.inf, 3.4028235e38], "f4"))
    ds.setncattr("g_double", np.array([1e300, -0.0, np.nan, 0.1], "f8"))
    ds.setncattr("g_one_double", np.float64(2.5))
    ds.setncattr("g_unicode", "Zürich — 東京")
    b = ds.createVariable("b", "i1", ("x",))
    b[:] = np.array([-127, -128, 0, 1, 127], "i1")
    s = ds.createVariable("s", "i2", ("y", "x"))
    s[:] = rng.integers(-32768, 32767, (3, 5), dtype="i2")
    i = ds.createVariable("i", "i4", ("z",), fill_value=np.int32(17))
    i.long_name = "ints with a fill value"
    i[:] = np.array([17, -2147483647, 3, 4, 5, 6, 2147483647], "i4")
    f = ds.createVariable("f", "f4", ("y", "x"), fill_value=np.float32(np.nan))
    f[:] = np.array([[np.inf, -np.inf, 0.5, -0.0, 1e-45]] * 3, "f4")
    d = ds.createVariable("d", "f8", ("z", "y"))
    d.units = "K"
    d[:] = rng.normal(280, 10, (7, 3))
    name = ds.createVariable("name", "S1", ("x", "nchar"))
    name[:] = np.array([list("abcd")] * 5, "S1")
    scalar_i = ds.createVariable("scalar_i", "i4", ())
    scalar_i.assignValue(42)
    scalar_d = ds.createVariable("scalar_d", "f8", ())
    scalar_d.assignValue(-1.5)
    big = ds.createVariable("big", "f4", ("z", "y", "x"))
    big[:] = rng.normal(0, 1, (7, 3, 5))
    wide = ds.createVariable("wide", "i2", ("x", "z", "nchar"))
    wide[:] = rng.integers(-100, 100, (5, 7, 4), dtype="i2")
    # Record variables of several types and odd sizes: records are interleaved and padded to 4 bytes.
    rs = ds.createVariable("rs", "i2", ("time", "y"))
    rb = ds.createVariable("rb", "i1", ("time", "x"))
    rd = ds.createVariable("rd", "f8", ("time",))
    rf = ds.createVariable("rf", "f4", ("time", "y", "x"))
    rt = ds.createVariable("rtime", "i4", ("time",))
    rt.units = "days since 2000-01-01"
    pk_s = ds.createVariable("pk_s", "i2", ("time", "z", "x"), fill_value=np.int16(-999))
    pk_s.scale_factor = np.float32(0.01)
    pk_s.add_offset = np.float32(273.15)
    pk_s.missing_value = np.array([-998, -997], "i2")
    pk_s.valid_range = np.array([-900, 900], "i2")
    pk_b = ds.createVariable("pk_b", "i1", ("time", "x"))
    pk_b.scale_factor = np.float32(0.5)
    pk_d = ds.createVariable("pk_d", "i2", ("z",))
    pk_d.scale_factor = np.float64(0.125)
    # Attributes of another type than the variable's: used where the value fits exactly (netCDF4-python's safe cast).
    pk_d.setncattr("missing_value", np.float64(-1.0))
    pk_d.setncattr("valid_min", np.float64(-50.0))
    pk_d.setncattr("valid_max", np.float64(50.5))
    pk_d.set_auto_maskandscale(False)
    pk_d[:] = np.array([-1, -51, -50, 0, 50, 51, -32767], "i2")
    records = 6
    rs[:] = rng.integers(-30000, 30000, (records, 3), dtype="i2")
    rb[:] = rng.integers(-128, 127, (records, 5), dtype="i1")
    rd[:] = rng.normal(0, 1e6, records)
    rf[:] = rng.normal(0, 1, (records, 3, 5)).astype("f4")
    rt[:] = np.arange(records, dtype="i4") * 7
    pk_s.set_auto_maskandscale(False)
    values = rng.integers(-1000, 1000, (records, 7, 5), dtype="i2")
    values.flat[::11] = -999
    values.flat[1::13] = -998
    values.flat[2::17] = -997
    values.flat[3::19] = -32767
    pk_s[:] = values
    pk_b.set_auto_maskandscale(False)
    bytes_ = rng.integers(-128, 127, (records, 5), dtype="i1")
    bytes_[0, 0] = -127
    pk_b[:] = bytes_


def cdf5(ds):
    ds.createDimension("rec", None)
    ds.createDimension("n", 4)
    ds.createDimension("m", 3)
    ds.createDimension("long", 300)
    ds.title = "every CDF-5 type"
    ds.setncattr("a_i1", np.array([-128, 127], "i1"))
    ds.setncattr("a_u1", np.array([0, 255], "u1"))
    ds.setncattr("a_i2", np.array([-32768, 32767], "i2"))
    ds.setncattr("a_u2", np.array([0, 65535], "u2"))
    ds.setncattr("a_i4", np.array([-2147483648, 2147483647], "i4"))
    ds.setncattr("a_u4", np.array([0, 4294967295], "u4"))
    ds.setncattr("a_i8", np.array([-9223372036854775808, 9223372036854775807, 1], "i8"))
    ds.setncattr("a_u8", np.array([0, 18446744073709551615], "u8"))
    ds.setncattr("a_one_u8", np.uint64(18446744073709551614))
    ds.setncattr("a_f4", np.array([1.5, -np.inf], "f4"))
    ds.setncattr("a_f8", np.array([np.nan, 1e-310], "f8"))
    for code in ["i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8"]:
        v = ds.createVariable("v_" + code, code, ("n", "m"))
        info = np.iinfo(code) if code[0] in "iu" else np.finfo(code)
        v[:] = np.linspace(float(info.min) / 2, float(info.max) / 2, 12).astype(code).reshape(4, 3) if code[0] == "f" \
            else rng.integers(info.min, info.max, (4, 3), dtype=code, endpoint=True)
        v.kind = code
    fill = ds.createVariable("fill_u8", "u8", ("n",), fill_value=np.uint64(12345678901234567890))
    fill[:] = np.array([12345678901234567890, 0, 1, 18446744073709551615], "u8")
    fill_i8 = ds.createVariable("fill_i8", "i8", ("n",))
    fill_i8[:] = np.array([-9223372036854775806, 0, 1, 2], "i8")
    long_u2 = ds.createVariable("long_u2", "u2", ("long",))
    long_u2[:] = rng.integers(0, 65535, 300, dtype="u2")
    long_i8 = ds.createVariable("long_i8", "i8", ("long", "m"))
    long_i8[:] = rng.integers(-2 ** 62, 2 ** 62, (300, 3), dtype="i8")
    r_u1 = ds.createVariable("r_u1", "u1", ("rec", "m"))
    r_i8 = ds.createVariable("r_i8", "i8", ("rec",))
    r_u8 = ds.createVariable("r_u8", "u8", ("rec", "m"))
    r_u2 = ds.createVariable("r_u2", "u2", ("rec", "m"))
    r_big = ds.createVariable("r_big", "u2", ("rec", "long"))
    pk_u2 = ds.createVariable("pk_u2", "u2", ("n", "m"))
    pk_u2.scale_factor = np.float64(0.001)
    pk_u2.add_offset = np.float64(-10)
    pk_u2.set_auto_maskandscale(False)
    pk_u2[:] = np.array([0, 1, 2, 65535, 65534, 3, 4, 5, 6, 7, 8, 9], "u2").reshape(4, 3)
    pk_i4 = ds.createVariable("pk_i4", "i4", ("rec", "m"))
    pk_i4.scale_factor = np.float32(0.25)
    pk_i4.add_offset = np.float32(1000.5)
    pk_u1 = ds.createVariable("pk_u1", "u1", ("n", "m"))
    pk_u1.scale_factor = np.float32(0.2)
    pk_u1.valid_max = np.uint8(200)
    pk_u1.set_auto_maskandscale(False)
    pk_u1[:] = np.array([0, 100, 200, 201, 255, 254, 1, 2, 3, 4, 5, 6], "u1").reshape(4, 3)
    pk_i8 = ds.createVariable("pk_i8", "i8", ("long",))
    pk_i8.scale_factor = np.float64(1e-9)
    pk_i8.missing_value = np.int64(-5)
    pk_i8.set_auto_maskandscale(False)
    longs = rng.integers(-2 ** 40, 2 ** 40, 300, dtype="i8")
    longs[::7] = -5
    pk_i8[:] = longs
    pk_f4 = ds.createVariable("pk_f4", "f4", ("n",))
    pk_f4.scale_factor = np.float64(0.5)
    pk_f4.set_auto_maskandscale(False)
    pk_f4[:] = np.array([1.5, np.nan, 9.96921e36, -3], "f4")
    records = 5
    r_u1[:] = rng.integers(0, 255, (records, 3), dtype="u1")
    r_i8[:] = rng.integers(-2 ** 63, 2 ** 63 - 1, records, dtype="i8")
    r_u8[:] = rng.integers(0, 2 ** 64 - 1, (records, 3), dtype="u8")
    r_u2[:] = rng.integers(0, 65535, (records, 3), dtype="u2")
    r_big[:] = rng.integers(0, 65535, (records, 300), dtype="u2")
    pk_i4.set_auto_maskandscale(False)
    ints = rng.integers(-2 ** 31 + 1, 2 ** 31 - 1, (records, 3), dtype="i4")
    ints[1, 1] = -2147483647
    pk_i4[:] = ints


def single_byte(ds):
    # Exactly one record variable, of odd byte size: records are not padded.
    ds.createDimension("t", None)
    ds.createDimension("k", 3)
    fx = ds.createVariable("fx", "f4", ("k",))
    fx[:] = np.array([1, 2, 3], "f4")
    r = ds.createVariable("r", "i1", ("t", "k"))
    r[:] = rng.integers(-128, 127, (7, 3), dtype="i1")


def single_short(ds):
    ds.createDimension("t", None)
    ds.createDimension("k", 301)
    r = ds.createVariable("r", "i2", ("t", "k"))
    r[:] = rng.integers(-32768, 32767, (3, 301), dtype="i2")


def zero_records(ds):
    ds.createDimension("time", None)
    ds.createDimension("x", 200)
    rec = ds.createVariable("rec", "f4", ("time", "x"))
    rec.units = "1"
    fx = ds.createVariable("fx", "i4", ("x",))
    fx[:] = np.arange(200, dtype="i4")


def large(ds):
    ds.createDimension("row", 5000)
    ds.createDimension("col", 1000)
    big = ds.createVariable("big", "f4", ("row", "col"))
    big[:] = rng.normal(0, 1, (5000, 1000)).astype("f4")


def big_header(ds):
    # A header longer than the reader's 1 MiB first request.
    ds.createDimension("x", 10)
    ds.notes = "".join(chr(97 + (k % 26)) for k in range(1_500_000))
    for k in range(50):
        v = ds.createVariable("v%02d" % k, "f8", ("x",))
        v.description = "variable %d " % k * 20
        v[:] = np.arange(10) + k


FILES = [
    ("era5.nc", "NETCDF3_64BIT_OFFSET", era5),
    ("classic.nc", "NETCDF3_CLASSIC", classic),
    ("cdf5.nc", "NETCDF3_64BIT_DATA", cdf5),
    ("single_byte.nc", "NETCDF3_CLASSIC", single_byte),
    ("single_short.nc", "NETCDF3_64BIT_OFFSET", single_short),
    ("zero_records.nc", "NETCDF3_CLASSIC", zero_records),
    ("large.nc", "NETCDF3_64BIT_OFFSET", large),
    ("big_header.nc", "NETCDF3_CLASSIC", big_header),
]


def encode_value(value):
    if isinstance(value, str):
        return {"dtype": "str", "text": value}
    array = np.asarray(value)
    values = []
    for x in array.ravel().tolist():
        if isinstance(x, float) and not math.isfinite(x):
            values.append("NaN" if x != x else ("Infinity" if x > 0 else "-Infinity"))
        else:
            values.append(x)
    return {"dtype": array.dtype.name, "values": values, "scalar": array.ndim == 0}


def attributes(obj):
    return [dict(name=n, **encode_value(obj.getncattr(n))) for n in obj.ncattrs()]


def describe(name):
    file = path(name)
    ds = netCDF4.Dataset(file)
    result = {
        "file": file,
        "data_model": ds.data_model,
        "dims": [{"name": d.name, "size": len(d), "unlimited": d.isunlimited()} for d in ds.dimensions.values()],
        "attrs": attributes(ds),
        "vars": [],
    }
    for v in ds.variables.values():
        entry = {"name": v.name, "dtype": v.dtype.str[1:] if v.dtype.kind == "S" else v.dtype.name,
                 "dims": list(v.dimensions), "shape": list(v.shape), "attrs": attributes(v)}
        if v.dtype.kind != "S":
            v.set_auto_maskandscale(False)
            raw = np.ascontiguousarray(v[...])
            entry["raw"] = file + "." + v.name + ".raw"
            raw.astype(raw.dtype.newbyteorder(">")).tofile(entry["raw"])
            v.set_auto_maskandscale(True)
            # Masked and unpacked, as netCDF4-python returns by default; big variables only for a few records.
            if v.size > 5_000_000:
                entry["scaled_records"] = [0, 11, 23]
                scaled = v[[0, 11, 23], ...]
            else:
                scaled = v[...]
            scaled = np.ma.asarray(scaled)
            entry["scaled_dtype"] = scaled.dtype.name
            if scaled.dtype.kind == "f" and ("scale_factor" in v.ncattrs() or "add_offset" in v.ncattrs()):
                entry["scaled"] = file + "." + v.name + ".scaled"
                np.ascontiguousarray(scaled.filled(np.nan)).astype(scaled.dtype.newbyteorder("<")).tofile(entry["scaled"])
        result["vars"].append(entry)
    ds.close()
    return result


oracle = []
for name, fmt, build in FILES:
    ds = netCDF4.Dataset(path(name), "w", format=fmt)
    build(ds)
    ds.close()
    oracle.append(describe(name))
json.dump(oracle, open(path("oracle.json"), "w"), indent=1)
print("ok")
""";

    private readonly JsonDocument _oracle;

    public NetCdf3Fixtures()
    {
        Directory = Path.Combine(Path.GetTempPath(), "floe-netcdf3-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        OraclePython.Run(Script, Directory);
        _oracle = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Directory, "oracle.json")));
    }

    public string Directory { get; }

    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>What netCDF4-python reports about one fixture.</summary>
    public JsonElement Oracle(string name) =>
        _oracle.RootElement.EnumerateArray().Single(f => Path.GetFileName(f.GetProperty("file").GetString()) == name);

    public void Dispose()
    {
        _oracle.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory is harmless.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class NetCdf3Collection : ICollectionFixture<NetCdf3Fixtures>
{
    public const string Name = "NetCDF-3 fixtures";
}
