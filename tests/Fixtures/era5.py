# Writes ERA5 total-precipitation days in the layout the CDS delivers them ("raw" daily files) with netCDF4-python:
# OUT_DIR/YYYY/MM/DD/total_precipitation/surface.nc, NetCDF-3 64-bit offset, variable tp int16
# (time=24, latitude=721, longitude=1440) packed with a scale_factor/add_offset computed from that day's range,
# so every file has its own; _FillValue and missing_value -32767, latitude 90 to -90, longitude 0 to 359.75.
# usage: era5.py OUT_DIR DAYS [--start YYYY-MM-DD] [--small] [--skip-existing]
#   writes the days START .. START + DAYS - 1 (START defaults to 2020-01-01)
#   --small: a 19 x 36 grid (10 degrees) for quick tests
#   --skip-existing: keep files that are already there with a nonzero size, so an interrupted run resumes
# Prints the path of every file of the range, written or kept. The values depend only on the day, and nothing in a
# file depends on when it was written, so the same day is the same bytes on every run.
import sys, os, datetime
import numpy as np
import netCDF4

flags = {"--small", "--skip-existing"}
options = {"--start"}
positional, values = [], {}
arguments = iter(sys.argv[1:])
for argument in arguments:
    if argument in options:
        values[argument] = next(arguments, None)
        if values[argument] is None:
            sys.exit(f"era5.py: {argument} needs a value")
    elif argument.startswith("--"):
        if argument not in flags:
            sys.exit(f"era5.py: unknown option {argument}")
    else:
        positional.append(argument)
if len(positional) != 2:
    sys.exit("usage: era5.py OUT_DIR DAYS [--start YYYY-MM-DD] [--small] [--skip-existing]")
out_dir = positional[0]
days = int(positional[1])
small = "--small" in sys.argv
skip_existing = "--skip-existing" in sys.argv
begin = datetime.date.fromisoformat(values["--start"]) if "--start" in values else datetime.date(2020, 1, 1)
step = 10.0 if small else 0.25
nlat, nlon = int(180 / step) + 1, int(360 / step)
block = 2 if small else 24  # rain systems a few hundred km across on the full grid
hours = 24
missing = np.int16(-32767)


def precipitation(rng):
    # Hourly accumulations in metres: dry almost everywhere, blobs of rain from a coarse random field upsampled,
    # heavier towards their centres, with gamma-distributed rates (mostly 1e-4..1e-2 m). Hour by hour, float32,
    # to keep a full-size day near 100 MB of memory.
    values = np.empty((hours, nlat, nlon), dtype=np.float32)
    for hour in range(hours):
        coarse = rng.random((nlat // block + 1, nlon // block + 1), dtype=np.float32)
        field = np.repeat(np.repeat(coarse, block, axis=0), block, axis=1)[:nlat, :nlon]
        wet = np.maximum(field - np.float32(0.8), 0) / np.float32(0.2)
        rate = rng.gamma(0.8, 0.003, (nlat, nlon)).astype(np.float32)
        values[hour] = np.minimum(wet * rate, np.float32(0.05))
    return values


def pack(values):
    # 16-bit packing over the day's range, -32767 reserved for missing: the minimum packs to -32766, the maximum
    # to 32767, so scale_factor and add_offset change with every day's data.
    lo, hi = float(values.min()), float(values.max())
    scale = (hi - lo) / (2 ** 16 - 3) if hi > lo else 1.0
    offset = lo + 32766 * scale
    packed = np.clip(np.round((values - offset) / scale), -32766, 32767).astype(np.int16)
    return packed, scale, offset


epoch = datetime.date(1900, 1, 1)
paths = []
for k in range(days):
    day = begin + datetime.timedelta(days=k)
    directory = os.path.join(out_dir, f"{day:%Y}", f"{day:%m}", f"{day:%d}", "total_precipitation")
    path = os.path.join(directory, "surface.nc")
    paths.append(path)
    if skip_existing and os.path.isfile(path) and os.path.getsize(path) > 0:
        continue
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng([day.year, day.month, day.day, 5])
    packed, scale, offset = pack(precipitation(rng))
    # Written under a temporary name and renamed, so an interrupted run never leaves a partial file behind.
    partial = path + ".part"
    ds = netCDF4.Dataset(partial, "w", format="NETCDF3_64BIT_OFFSET")
    ds.createDimension("longitude", nlon)
    ds.createDimension("latitude", nlat)
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
    tp = ds.createVariable("tp", "i2", ("time", "latitude", "longitude"), fill_value=missing)
    tp.scale_factor = np.float64(scale)
    tp.add_offset = np.float64(offset)
    tp.missing_value = missing
    tp.units = "m"
    tp.long_name = "Total precipitation"
    ds.Conventions = "CF-1.6"
    # The CDS stamps the conversion time here; a time derived from the day keeps reruns byte-identical.
    ds.history = (f"{day + datetime.timedelta(days=5):%Y-%m-%d} 00:00:00 GMT by grib_to_netcdf-2.25.1: "
                  "/opt/ecmwf/mars-client/bin/grib_to_netcdf.bin -S param -o surface.nc")
    lon[:] = np.arange(nlon, dtype="f4") * np.float32(step)
    lat[:] = np.float32(90) - np.arange(nlat, dtype="f4") * np.float32(step)
    time[:] = (day - epoch).days * 24 + np.arange(hours, dtype="i4")
    tp.set_auto_maskandscale(False)
    for hour in range(hours):
        tp[hour] = packed[hour]
    ds.close()
    os.replace(partial, path)
print("\n".join(paths))
