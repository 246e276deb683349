# Reads Floe's Zarr v2 view over HTTP with unmodified xarray/zarr-python 2 (fsspec's HTTP file system), and the
# original files with netCDF4-python, for ZarrHttpTests. Run with Debian's /usr/bin/python3.
# usage: zarr_http.py REQUESTS_JSON
#   REQUESTS_JSON is a list of requests; prints a JSON list with one answer per request:
#   {"mode": "xarray", "url": U, "group": G?, "token": T?, "raw": bool?}
#       xarray.open_zarr(U, consolidated=True); raw: mask_and_scale=False. Answers every variable's dtype, dims,
#       shape, attributes and values.
#   {"mode": "tree", "url": U, "token": T?}
#       zarr.open_consolidated(U): every array of the hierarchy by path, with dtype, shape, fill value and values.
#   {"mode": "strict", "url": U, "array": A, "token": T?}
#       reads array A through a mapping that raises on HTTP errors other than 404 (zarr 2.13's FSStore turns every
#       failed chunk into fill values); answers the values, or the error.
#   {"mode": "netcdf", "files": [F...], "variable": V}
#       V as netCDF4-python reads it (masked and scaled), the files concatenated along the first dimension.
# Values are flattened in C order; NaN (and masked values) become null, booleans 0 and 1.
import sys, json, math
import numpy as np


def plain(value):
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def values(array):
    array = np.asarray(array)
    if array.dtype.kind == "b":
        array = array.astype(np.int64)
    return [None if isinstance(v, float) and math.isnan(v) else v for v in array.ravel().tolist()]


def options(request):
    token = request.get("token")
    return {"headers": {"Authorization": "Bearer " + token}} if token else {}


def read_xarray(request):
    import xarray
    ds = xarray.open_zarr(request["url"], group=request.get("group"), consolidated=True, decode_times=False,
                          mask_and_scale=not request.get("raw", False), storage_options=options(request))
    out = {"attrs": {k: plain(v) for k, v in ds.attrs.items()}, "variables": {}}
    for name, variable in ds.variables.items():
        out["variables"][name] = {
            "dtype": variable.dtype.str,
            "dims": list(variable.dims),
            "shape": list(variable.shape),
            "attrs": {k: plain(v) for k, v in variable.attrs.items()},
            "values": values(variable.values),
        }
    return out


def read_tree(request):
    import zarr
    root = zarr.open_consolidated(request["url"], mode="r", storage_options=options(request))
    arrays = {}
    root.visititems(lambda path, node: arrays.update({path: node}) if isinstance(node, zarr.Array) else None)
    return {path: {"dtype": a.dtype.str, "shape": list(a.shape), "fill_value": plain(a.fill_value), "values": values(a[...])}
            for path, a in arrays.items()}


def read_strict(request):
    import fsspec, zarr
    store = zarr.storage.KVStore(fsspec.get_mapper(request["url"], **options(request)))
    try:
        return {"values": values(zarr.open_consolidated(store, mode="r")[request["array"]][...])}
    except Exception as e:
        return {"error": f"{type(e).__name__}: {e}"}


def read_netcdf(request):
    import netCDF4
    parts = []
    for path in request["files"]:
        with netCDF4.Dataset(path) as ds:
            data = ds[request["variable"]][:]
            parts.append(np.ma.filled(data.astype(np.float64), np.nan) if np.ma.isMaskedArray(data) else np.asarray(data, np.float64))
    return {"values": values(np.concatenate(parts) if parts[0].ndim > 0 else parts[0])}


modes = {"xarray": read_xarray, "tree": read_tree, "strict": read_strict, "netcdf": read_netcdf}
print(json.dumps([modes[r["mode"]](r) for r in json.loads(sys.argv[1])]))
