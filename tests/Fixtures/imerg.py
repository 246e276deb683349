# Writes GPM IMERG half-hourly files in the real V07 layout with netCDF4-python (HDF5 underneath):
# group Grid with time/lon/lat coordinates, bounds, and the four (1, 3600, 1800) data variables
# chunked (1, 145, 1800) or (1, 291, 1800) with deflate level 4, plus a Grid/Intermediate group.
# usage: imerg.py OUT_DIR COUNT [FIRST_INDEX] [--small] [--tree] [--start YYYY-MM-DD] [--skip-existing]
#   file index k is the half hour starting at START + 30 min * k (START defaults to 2020-01-01)
#   --small: a 360 x 180 grid for quick tests
#   --tree: NASA's directory layout OUT_DIR/YYYY/DDD/<name> (DDD the day of the year) instead of flat in OUT_DIR
#   --skip-existing: keep files that are already there with a nonzero size, so an interrupted run resumes
# Prints the path of every file of the range, written or kept. The values depend only on the half hour, not on
# START or FIRST_INDEX, so the same half hour is the same file however it was asked for.
import sys, os, datetime
import numpy as np
import netCDF4

flags = {"--small", "--tree", "--skip-existing"}
options = {"--start"}
positional, values = [], {}
arguments = iter(sys.argv[1:])
for argument in arguments:
    if argument in options:
        values[argument] = next(arguments, None)
        if values[argument] is None:
            sys.exit(f"imerg.py: {argument} needs a value")
    elif argument.startswith("--"):
        if argument not in flags:
            sys.exit(f"imerg.py: unknown option {argument}")
    else:
        positional.append(argument)
if len(positional) < 2:
    sys.exit("usage: imerg.py OUT_DIR COUNT [FIRST_INDEX] [--small] [--tree] [--start YYYY-MM-DD] [--skip-existing]")
out_dir = positional[0]
count = int(positional[1])
first = int(positional[2]) if len(positional) > 2 else 0
small = "--small" in sys.argv
tree = "--tree" in sys.argv
skip_existing = "--skip-existing" in sys.argv
origin = datetime.datetime(2020, 1, 1)
begin = datetime.datetime.strptime(values["--start"], "%Y-%m-%d") if "--start" in values else origin
nlon, nlat = (360, 180) if small else (3600, 1800)
rows, int_rows = (15, 30) if small else (145, 291)
epoch = datetime.datetime(1970, 1, 1)
os.makedirs(out_dir, exist_ok=True)


def rain_field(rng):
    # Rain in blobs: a coarse random field upsampled, thresholded, with gamma-distributed rates.
    coarse = rng.random((nlon // 50 + 1, nlat // 50 + 1))
    field = np.kron(coarse, np.ones((50, 50)))[:nlon, :nlat]
    wet = field > 0.8
    rate = rng.gamma(0.6, 2.5, (nlon, nlat)).astype(np.float32)
    values = np.where(wet, np.round(rate, 2), 0).astype(np.float32)
    values[:, : nlat // 60] = -9999.9  # no retrievals near a pole
    return values


paths = []
for k in range(count):
    start = begin + datetime.timedelta(minutes=30 * (first + k))
    end = start + datetime.timedelta(minutes=29, seconds=59)
    minute = (start - start.replace(hour=0, minute=0)).seconds // 60
    name = f"3B-HHR.MS.MRG.3IMERG.{start:%Y%m%d}-S{start:%H%M%S}-E{end:%H%M%S}.{minute:04d}.V07B.HDF5"
    directory = os.path.join(out_dir, f"{start:%Y}", f"{start.timetuple().tm_yday:03d}") if tree else out_dir
    path = os.path.join(directory, name)
    paths.append(path)
    if skip_existing and os.path.isfile(path) and os.path.getsize(path) > 0:
        continue
    os.makedirs(directory, exist_ok=True)
    # Seeded by the half hour since 2020-01-01 (as before --start existed); earlier half hours get their own seeds.
    index = (start - origin) // datetime.timedelta(minutes=30)
    rng = np.random.default_rng(index if index >= 0 else [-index, 1])
    # Written under a temporary name and renamed, so an interrupted run never leaves a partial file behind.
    partial = path + ".part"
    ds = netCDF4.Dataset(partial, "w", format="NETCDF4")
    ds.FileHeader = f"DOI=10.5067/GPM/IMERG/3B-HH/07;\nAlgorithmID=3IMERGHH;\nAlgorithmVersion=3IMERGH_7.0;\nFileName={name};\n"
    ds.FileInfo = "DataFormatVersion=7b;\nTKCodeBuildVersion=0;\nMetadataVersion=7b;\nFormatPackage=HDF5-1.10.8;\n"
    grid = ds.createGroup("Grid")
    grid.GridHeader = "BinMethod=ARITHMETIC_MEAN;\nRegistration=CENTER;\nLatitudeResolution=0.1;\nLongitudeResolution=0.1;\n"
    grid.createDimension("time", None)
    grid.createDimension("lon", nlon)
    grid.createDimension("lat", nlat)
    grid.createDimension("nv", 2)
    grid.createDimension("lonv", 2)
    grid.createDimension("latv", 2)
    for dim in ("nv", "lonv", "latv"):
        v = grid.createVariable(dim, "i4", (dim,))
        v[:] = [0, 1]
    time = grid.createVariable("time", "i4", ("time",), chunksizes=(32,))
    time.units = "seconds since 1970-01-01 00:00:00 UTC"
    time.standard_name = "time"
    time.calendar = "julian"
    time.bounds = "time_bnds"
    time[0] = int((start - epoch).total_seconds())
    step = 360.0 / nlon
    lon = grid.createVariable("lon", "f4", ("lon",))
    lon.units = "degrees_east"
    lon.standard_name = "longitude"
    lon.bounds = "lon_bnds"
    lon[:] = -180 + step / 2 + step * np.arange(nlon)
    lat = grid.createVariable("lat", "f4", ("lat",))
    lat.units = "degrees_north"
    lat.standard_name = "latitude"
    lat.bounds = "lat_bnds"
    lat[:] = -90 + step / 2 + step * np.arange(nlat)
    tb = grid.createVariable("time_bnds", "i4", ("time", "nv"), chunksizes=(32, 2))
    tb.coordinates = "time nv"
    tb[0, :] = [time[0], time[0] + 1800]
    lb = grid.createVariable("lon_bnds", "f4", ("lon", "lonv"))
    lb[:] = np.stack([lon[:] - step / 2, lon[:] + step / 2], axis=1)
    ab = grid.createVariable("lat_bnds", "f4", ("lat", "latv"))
    ab[:] = np.stack([lat[:] - step / 2, lat[:] + step / 2], axis=1)
    rain = rain_field(rng)
    for var, dtype, chunk_rows, fill, units, values in (
        ("precipitation", "f4", rows, -9999.9, "mm/hr", rain),
        ("randomError", "f4", rows, -9999.9, "mm/hr", np.where(rain > 0, rain * 0.4, rain).astype(np.float32)),
        ("probabilityLiquidPrecipitation", "i2", int_rows, -9999, "percent",
         np.where(rain > 0, rng.integers(0, 101, rain.shape), np.where(rain < 0, -9999, 0)).astype(np.int16)),
        ("precipitationQualityIndex", "f4", rows, -9999.9, "",
         np.where(rain < 0, -9999.9, np.round(rng.random(rain.shape), 3)).astype(np.float32)),
    ):
        v = grid.createVariable(var, dtype, ("time", "lon", "lat"), zlib=True, complevel=4, shuffle=False,
                                chunksizes=(1, chunk_rows, nlat), fill_value=np.array(fill, dtype))
        v.units = units
        v.CodeMissingValue = str(fill)
        v.DimensionNames = "time,lon,lat"
        v.coordinates = "time lon lat"
        v[0, :, :] = values
    inter = grid.createGroup("Intermediate")
    mw = inter.createVariable("MWprecipitation", "f4", ("time", "lon", "lat"), zlib=True, complevel=4,
                              shuffle=False, chunksizes=(1, rows, nlat), fill_value=np.float32(-9999.9))
    mw.units = "mm/hr"
    mw[0, : rows * 2, :] = rain[: rows * 2, :]  # only the first chunks are written
    ds.close()
    os.replace(partial, path)
print("\n".join(paths))
