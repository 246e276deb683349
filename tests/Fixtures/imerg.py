# Writes GPM IMERG half-hourly files in the real V07 layout with netCDF4-python (HDF5 underneath):
# group Grid with time/lon/lat coordinates, bounds, and the four (1, 3600, 1800) data variables
# chunked (1, 145, 1800) or (1, 291, 1800) with deflate level 4, plus a Grid/Intermediate group.
# usage: imerg.py OUT_DIR COUNT [FIRST_INDEX] [--small]   (--small: a 360 x 180 grid for quick tests)
import sys, os, datetime
import numpy as np
import netCDF4

out_dir = sys.argv[1]
count = int(sys.argv[2])
first = int(sys.argv[3]) if len(sys.argv) > 3 and not sys.argv[3].startswith("--") else 0
small = "--small" in sys.argv
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
    index = first + k
    start = datetime.datetime(2020, 1, 1) + datetime.timedelta(minutes=30 * index)
    end = start + datetime.timedelta(minutes=29, seconds=59)
    minute = (start - start.replace(hour=0, minute=0)).seconds // 60
    name = f"3B-HHR.MS.MRG.3IMERG.{start:%Y%m%d}-S{start:%H%M%S}-E{end:%H%M%S}.{minute:04d}.V07B.HDF5"
    path = os.path.join(out_dir, name)
    rng = np.random.default_rng(index)
    ds = netCDF4.Dataset(path, "w", format="NETCDF4")
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
    paths.append(path)
print("\n".join(paths))
