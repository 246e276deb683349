namespace Floe.Benchmarks;

/// <summary>
/// The Python both benchmark peers share: kerchunk's SingleHdf5ToZarr method for one dataset (h5py asks HDF5 for
/// every chunk's offset and size; attributes, filters and fill value are copied). Scripts put it after their imports
/// of json, h5py and numpy as np.
/// </summary>
internal static class KerchunkPeer
{
    public const string Functions = """
def attrs(obj):
    out = {}
    for k, v in obj.attrs.items():
        if k in ("DIMENSION_LIST", "REFERENCE_LIST"):
            continue
        if isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, np.ndarray):
            v = v.tolist() if v.dtype.kind != "O" else [str(x) for x in v.ravel()]
        elif isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out
def dataset_refs(refs, key, obj, url):
    dcpl = obj.id.get_create_plist()
    refs[key + "/.zarray"] = json.dumps({"shape": obj.shape, "chunks": obj.chunks or obj.shape, "dtype": obj.dtype.str,
        "fill_value": None if obj.fillvalue is None else obj.fillvalue.item() if hasattr(obj.fillvalue, "item") else obj.fillvalue,
        "filters": [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())]})
    refs[key + "/.zattrs"] = json.dumps(attrs(obj))
    if obj.chunks is None:
        offset = obj.id.get_offset()
        if offset is not None:
            refs[key + "/0"] = [url, offset, obj.id.get_storage_size()]
        return
    for i in range(obj.id.get_num_chunks()):
        info = obj.id.get_chunk_info(i)
        refs[key + "/" + ".".join(str(o // c) for o, c in zip(info.chunk_offset, obj.chunks))] = [url, info.byte_offset, info.size]

""";
}
