# A Floe gRPC client written with Python's grpcio (not with anything of this repository), from stubs that
# grpc_tools.protoc generated from protos/floe/v1/*.proto at test time. PythonClientTests runs one case per process:
#   python3 floe_client.py STUB_DIR HOST:PORT CASE ARGS_JSON
# and parses the one JSON document it prints. Values are checked here against numpy arrays built independently of
# the server, and the facts the C# test asserts are printed as plain JSON.
import json
import os
import sys
import time

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
import numpy as np  # noqa: E402
from floe.v1 import common_pb2, export_pb2, export_pb2_grpc, ingestion_pb2, ingestion_pb2_grpc, repository_pb2, repository_pb2_grpc, write_pb2, write_pb2_grpc  # noqa: E402

ADDRESS, CASE, ARGS = sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
T = 60  # a per-call deadline that only guards against a hung server

channel = grpc.insecure_channel(ADDRESS)
repos = repository_pb2_grpc.RepositoryServiceStub(channel)
writes = write_pb2_grpc.WriteServiceStub(channel)
ingestion = ingestion_pb2_grpc.IngestionServiceStub(channel)
exports = export_pb2_grpc.ExportServiceStub(channel)


def auth(token):
    return (("authorization", "Bearer " + token),) if token else ()


ADMIN, READER, OTHER = auth(ARGS["admin"]), auth(ARGS["reader"]), auth(ARGS["other"])


def failure(call):
    """Runs call (which must consume any stream) and returns its status code, details and trailing metadata."""
    try:
        call()
        return {"code": "OK"}
    except grpc.RpcError as e:
        trailing = [[k, v if isinstance(v, str) else v.decode("latin-1")] for k, v in (e.trailing_metadata() or ())]
        return {"code": e.code().name, "details": e.details(), "trailing": trailing}


def zarr_json(shape, chunks, dtype, fill, dims=None, attributes=None):
    doc = {
        "zarr_format": 3,
        "node_type": "array",
        "shape": list(shape),
        "data_type": dtype,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill,
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
        "attributes": attributes or {},
    }
    if dims is not None:
        doc["dimension_names"] = list(dims)
    return json.dumps(doc)


def decoded(coords, values):
    return common_pb2.ChunkRefEntry(coords=list(coords), decoded=np.ascontiguousarray(values).tobytes())


def typed(values):
    kind = values.WhichOneof("values")
    if kind == "raw":
        return list(values.raw)
    return list(getattr(values, kind).values)


def read_region(repository, path, start, count, piece_bytes, dtype, fill, reference=""):
    """Reads a region piece by piece, places every piece by its own start/count, and says what arrived."""
    out = np.full(count, fill, dtype=dtype)
    covered = np.zeros(count, dtype=np.int32)
    pieces = []
    request = repository_pb2.ReadRegionRequest(repository=repository, reference=reference, path=path, start=start, count=count, piece_bytes=piece_bytes)
    for piece in repos.ReadRegion(request, metadata=ADMIN, timeout=T):
        box = tuple(slice(s - s0, s - s0 + c) for s, s0, c in zip(piece.start, start, piece.count))
        values = np.array(typed(piece.values), dtype=dtype).reshape(tuple(piece.count))
        out[box] = values
        covered[box] += 1
        pieces.append({"start": list(piece.start), "count": list(piece.count), "n": len(values.ravel()),
                       "snapshot": piece.snapshot_id, "data_type": piece.data_type, "kind": piece.values.WhichOneof("values")})
    return out, bool((covered == 1).all()), pieces


def snapshot(info):
    return {"id": info.id, "parent": info.parent_id, "message": info.message, "metadata": dict(info.metadata), "ms": info.timestamp_ms}


def refs(response):
    return sorted([r.name, r.snapshot_id] for r in response.refs)


def case_unary():
    out = {}
    alpha = repos.CreateRepository(repository_pb2.CreateRepositoryRequest(repository="alpha", refs_per_shard=1000), metadata=ADMIN, timeout=T)
    beta = repos.CreateRepository(repository_pb2.CreateRepositoryRequest(repository="beta"), metadata=OTHER, timeout=T)
    out["alpha"] = {"name": alpha.name, "refs_per_shard": alpha.refs_per_shard, "created_at_ms": alpha.created_at_ms}
    out["beta"] = {"name": beta.name, "refs_per_shard": beta.refs_per_shard, "created_at_ms": beta.created_at_ms}
    out["again"] = failure(lambda: repos.CreateRepository(repository_pb2.CreateRepositoryRequest(repository="alpha"), metadata=ADMIN, timeout=T))
    listing = {}
    for who, md in (("admin", ADMIN), ("reader", READER), ("other", OTHER), ("anonymous", ())):
        listing[who] = sorted(r.name for r in repos.ListRepositories(repository_pb2.ListRepositoriesRequest(), metadata=md, timeout=T).repositories)
    out["list"] = listing
    out["branches_before"] = refs(repos.ListBranches(repository_pb2.ListRefsRequest(repository="alpha"), metadata=READER, timeout=T))
    created = repos.CreateBranch(repository_pb2.CreateRefRequest(repository="alpha", name="dev", **{"from": "main"}), metadata=ADMIN, timeout=T)
    out["created_branch"] = [created.name, created.snapshot_id]
    out["branch_again"] = failure(lambda: repos.CreateBranch(repository_pb2.CreateRefRequest(repository="alpha", name="dev"), metadata=ADMIN, timeout=T))
    out["branches_after"] = refs(repos.ListBranches(repository_pb2.ListRefsRequest(repository="alpha"), metadata=READER, timeout=T))
    out["log_dev"] = [snapshot(s) for s in repos.Log(repository_pb2.LogRequest(repository="alpha", reference="dev"), metadata=ADMIN, timeout=T)]
    return out


# The float32 array the write case builds: value(r, c) = 10 r + c / 4 - 7, exact in float32; the C# test writes the
# virtual chunks' source file from the same formula.
FILL = -9999.0


def expected_t(rows):
    r, c = np.meshgrid(np.arange(rows), np.arange(6), indexing="ij")
    return (10.0 * r + 0.25 * c - 7.0).astype("<f4")


def case_write():
    out = {}
    source, offsets = ARGS["source"], ARGS["offsets"]  # offsets of chunks (2,0), (2,1) and of the appended chunk (5,1)
    with open(source, "rb") as f:
        source_bytes = f.read()
    full = expected_t(12)
    chunk = lambda a, cy, cx: a[cy * 2:(cy + 1) * 2, cx * 3:(cx + 1) * 3]  # noqa: E731

    repos.CreateRepository(repository_pb2.CreateRepositoryRequest(repository="alpha"), metadata=ADMIN, timeout=T)
    session = writes.OpenSession(write_pb2.OpenSessionRequest(repository="alpha"), metadata=ADMIN, timeout=T)
    sid = session.session_id
    ints = np.array([-32768, -1, 0, 1, 32767, 0], dtype="<i2")

    def messages():
        yield write_pb2.WriteChangesRequest(session_id=sid, changes=[
            write_pb2.Change(create_group=write_pb2.CreateGroup(path="/grid", attributes_json=json.dumps({"title": "interop"}))),
            write_pb2.Change(create_array=write_pb2.CreateArray(path="/grid/t", zarr_json=zarr_json((8, 6), (2, 3), "float32", FILL, ("y", "x"), {"units": "K"}))),
        ])
        yield write_pb2.WriteChangesRequest(session_id=sid, changes=[write_pb2.Change(set_chunks=write_pb2.SetChunks(
            path="/grid/t", chunks=[decoded((cy, cx), chunk(full, cy, cx)) for cy in (0, 1) for cx in (0, 1)]))])
        # Later messages may leave the session id out.
        yield write_pb2.WriteChangesRequest(changes=[
            write_pb2.Change(set_chunks=write_pb2.SetChunks(path="grid/t", chunks=[
                common_pb2.ChunkRefEntry(coords=[2, cx], virtual=common_pb2.VirtualRef(location=source, offset=offsets[cx], length=24)) for cx in (0, 1)])),
            write_pb2.Change(create_array=write_pb2.CreateArray(path="/grid/n", zarr_json=zarr_json((5,), (2,), "int16", 0, ("i",)))),
            write_pb2.Change(set_chunks=write_pb2.SetChunks(path="/grid/n", chunks=[decoded((i,), ints[2 * i:2 * i + 2]) for i in range(3)])),
        ])

    applied = writes.WriteChanges(messages(), metadata=ADMIN, timeout=T)
    out["applied"] = [applied.changes_applied, applied.pending_chunk_changes]
    commit = writes.Commit(write_pb2.CommitRequest(session_id=sid, message="python write", metadata={"client": "grpcio"}), metadata=ADMIN, timeout=T)
    out["session"] = {"base": session.base_snapshot_id, "id": sid}
    out["commit"] = {"id": commit.snapshot_id, "parent": commit.parent_id, "branch": commit.branch}
    out["commit_again"] = failure(lambda: writes.Commit(write_pb2.CommitRequest(session_id=sid, message="again"), metadata=ADMIN, timeout=T))

    def meta(path):
        a = repos.GetArrayMetadata(repository_pb2.ArrayRequest(repository="alpha", path=path), metadata=READER, timeout=T)
        return {"snapshot": a.snapshot_id, "path": a.path, "zarr": json.loads(a.zarr_json), "data_type": a.data_type, "shape": list(a.shape),
                "chunk_shape": list(a.chunk_shape), "dims": list(a.dimension_names), "refs": a.chunk_refs}

    out["meta_t"] = meta("grid/t")
    out["meta_n"] = meta("/grid/n")

    # Rows 6-7 (chunk row 3) were never written: they read as the fill value.
    expected = full[:8].copy()
    expected[6:8] = FILL
    values, tiled, pieces = read_region("alpha", "/grid/t", [0, 0], [8, 6], 16, "<f4", np.nan)
    out["region_full"] = {"equal": bool(np.array_equal(values, expected)), "tiled": tiled, "pieces": pieces}
    values, tiled, pieces = read_region("alpha", "/grid/t", [1, 2], [6, 3], 40, "<f4", np.nan)
    out["region_offset"] = {"equal": bool(np.array_equal(values, expected[1:7, 2:5])), "tiled": tiled, "pieces": pieces}
    values, tiled, pieces = read_region("alpha", "/grid/n", [0], [5], 0, "<i4", 0)
    out["region_ints"] = {"values": values.tolist(), "tiled": tiled, "pieces": pieces}

    asked = [[2, 0], [2, 1], [3, 1], [0, 1]]
    chunks = list(repos.ReadChunks(repository_pb2.ReadChunksRequest(repository="alpha", path="/grid/t", chunks=[common_pb2.ChunkCoords(values=c) for c in asked]),
                                   metadata=READER, timeout=T))
    out["chunks"] = [{"coords": list(c.coords), "kind": repository_pb2.ChunkKind.Name(c.kind), "hex": c.data.hex(), "codecs": json.loads(c.codecs_json) if c.codecs_json else None}
                     for c in chunks]
    out["chunks_check"] = {
        "virtual_equals_source": [chunks[i].data == source_bytes[offsets[i]:offsets[i] + 24] for i in (0, 1)],
        "virtual_equals_numpy": [chunks[i].data == chunk(full, 2, i).tobytes() for i in (0, 1)],
        "native_equals_numpy": chunks[3].data == chunk(full, 0, 1).tobytes(),
    }

    # Append four rows (two chunk rows) in one streamed call; coordinates count from the first new chunk row.
    def appends():
        yield write_pb2.AppendRequest(target=write_pb2.AppendTarget(repository="alpha", path="/grid/t", dimension="y", message="append rows", metadata={"rows": "8-11"}),
                                      grow_by=2, chunks=[decoded((0, cx), chunk(full, 4, cx)) for cx in (0, 1)])
        yield write_pb2.AppendRequest(grow_by=2, chunks=[
            decoded((1, 0), chunk(full, 5, 0)),
            common_pb2.ChunkRefEntry(coords=[1, 1], virtual=common_pb2.VirtualRef(location=source, offset=offsets[2], length=24))])

    appended = writes.Append(appends(), metadata=ADMIN, timeout=T)
    out["append"] = {"id": appended.snapshot_id, "parent": appended.parent_id, "branch": appended.branch}
    out["meta_t_appended"] = meta("/grid/t")
    expected = full.copy()
    expected[6:8] = FILL
    values, tiled, pieces = read_region("alpha", "/grid/t", [0, 0], [12, 6], 50, "<f4", np.nan)
    out["region_appended"] = {"equal": bool(np.array_equal(values, expected)), "tiled": tiled, "pieces": pieces}
    values, tiled, _ = read_region("alpha", "/grid/t", [0, 0], [8, 6], 0, "<f4", np.nan, reference=commit.snapshot_id)
    out["region_before_append"] = {"equal": bool(np.array_equal(values, expected[:8])), "tiled": tiled}

    out["log"] = [snapshot(s) for s in repos.Log(repository_pb2.LogRequest(repository="alpha"), metadata=READER, timeout=T)]
    out["log_limit1"] = [snapshot(s) for s in repos.Log(repository_pb2.LogRequest(repository="alpha", limit=1), metadata=READER, timeout=T)]
    out["log_from_commit"] = [snapshot(s) for s in repos.Log(repository_pb2.LogRequest(repository="alpha", reference=commit.snapshot_id), metadata=READER, timeout=T)]
    return out


def case_deadline():
    out = {}
    fifo = ARGS["fifo"]
    os.mkfifo(fifo)
    started = ingestion.StartIngestion(ingestion_pb2.StartIngestionRequest(repository="alpha", files=[fifo]), metadata=ADMIN, timeout=T)
    job = started.job_id
    out["started"] = {"job": job, "state": ingestion_pb2.IngestionState.Name(started.state)}
    received = []

    def watch():
        for status in ingestion.WatchIngestion(ingestion_pb2.IngestionRequest(job_id=job), metadata=ADMIN, timeout=1):
            received.append(ingestion_pb2.IngestionState.Name(status.state))

    out["watch"] = failure(watch)
    out["watch_received"] = received
    # The job is still blocked on the FIFO: the deadline ended the call, not the job.
    out["after_deadline"] = ingestion_pb2.IngestionState.Name(ingestion.GetIngestion(ingestion_pb2.IngestionRequest(job_id=job), metadata=ADMIN, timeout=T).state)
    cancelled = ingestion.CancelIngestion(ingestion_pb2.IngestionRequest(job_id=job), metadata=ADMIN, timeout=T)
    out["cancel_answer"] = ingestion_pb2.IngestionState.Name(cancelled.state)
    # Unblock the server's open() of the FIFO: open it for writing (non-blocking: fails while nobody reads it yet).
    unblocked = False
    for _ in range(1200):
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            state = ingestion.GetIngestion(ingestion_pb2.IngestionRequest(job_id=job), metadata=ADMIN, timeout=T).state
            if state != ingestion_pb2.INGESTION_STATE_RUNNING:
                break
            time.sleep(0.1)
            continue
        try:
            os.write(fd, b"not a netCDF file")
        except OSError:
            pass
        os.close(fd)
        unblocked = True
        break
    out["unblocked"] = unblocked
    final = [s for s in ingestion.WatchIngestion(ingestion_pb2.IngestionRequest(job_id=job), metadata=ADMIN, timeout=120)][-1]
    out["final"] = {"state": ingestion_pb2.IngestionState.Name(final.state), "error": final.error, "commits": final.commits}
    return out


def case_errors():
    out = {}
    repos.CreateRepository(repository_pb2.CreateRepositoryRequest(repository="alpha"), metadata=ADMIN, timeout=T)
    s = writes.OpenSession(write_pb2.OpenSessionRequest(repository="alpha"), metadata=ADMIN, timeout=T)
    writes.WriteChanges(iter([write_pb2.WriteChangesRequest(session_id=s.session_id, changes=[
        write_pb2.Change(create_array=write_pb2.CreateArray(path="/a", zarr_json=zarr_json((4, 4), (2, 2), "int32", 0, ("y", "x"))))])]), metadata=ADMIN, timeout=T)
    setup = writes.Commit(write_pb2.CommitRequest(session_id=s.session_id, message="setup"), metadata=ADMIN, timeout=T)
    out["setup"] = setup.snapshot_id

    def state():
        log = [s.id for s in repos.Log(repository_pb2.LogRequest(repository="alpha"), metadata=ADMIN, timeout=T)]
        return {"branches": refs(repos.ListBranches(repository_pb2.ListRefsRequest(repository="alpha"), metadata=ADMIN, timeout=T)),
                "tags": refs(repos.ListTags(repository_pb2.ListRefsRequest(repository="alpha"), metadata=ADMIN, timeout=T)),
                "log": log, "shape": list(repos.GetArrayMetadata(repository_pb2.ArrayRequest(repository="alpha", path="/a"), metadata=ADMIN, timeout=T).shape)}

    # NOT_FOUND
    out["unknown_repository"] = failure(lambda: repos.ListBranches(repository_pb2.ListRefsRequest(repository="nosuch"), metadata=ADMIN, timeout=T))
    out["unknown_repository_log"] = failure(lambda: list(repos.Log(repository_pb2.LogRequest(repository="nosuch"), metadata=ADMIN, timeout=T)))
    out["unknown_array"] = failure(lambda: repos.GetArrayMetadata(repository_pb2.ArrayRequest(repository="alpha", path="/missing"), metadata=ADMIN, timeout=T))
    out["unknown_branch"] = failure(lambda: writes.OpenSession(write_pb2.OpenSessionRequest(repository="alpha", branch="nosuch"), metadata=ADMIN, timeout=T))

    # INVALID_ARGUMENT, naming the field
    out["bad_name"] = failure(lambda: repos.CreateRepository(repository_pb2.CreateRepositoryRequest(repository="Bad Name!"), metadata=ADMIN, timeout=T))
    out["region_rank"] = failure(lambda: list(repos.ReadRegion(repository_pb2.ReadRegionRequest(repository="alpha", path="/a", start=[0], count=[1, 1]), metadata=ADMIN, timeout=T)))
    out["bad_zarr"] = failure(lambda: writes.WriteChanges(iter([write_pb2.WriteChangesRequest(session_id=writes.OpenSession(
        write_pb2.OpenSessionRequest(repository="alpha"), metadata=ADMIN, timeout=T).session_id, changes=[
        write_pb2.Change(create_group=write_pb2.CreateGroup(path="/g")),
        write_pb2.Change(create_array=write_pb2.CreateArray(path="/g/b", zarr_json="{\"zarr_format\": 3}"))])]), metadata=ADMIN, timeout=T))

    before = state()
    # UNAUTHENTICATED: a write without a token, and with a token the server does not know
    out["no_token_create"] = failure(lambda: repos.CreateRepository(repository_pb2.CreateRepositoryRequest(repository="gamma"), timeout=T))
    out["no_token_session"] = failure(lambda: writes.OpenSession(write_pb2.OpenSessionRequest(repository="alpha"), timeout=T))
    out["unknown_token"] = failure(lambda: writes.OpenSession(write_pb2.OpenSessionRequest(repository="alpha"), metadata=auth("floe_not_a_token"), timeout=T))
    # PERMISSION_DENIED: the reader token may read alpha but not write it; "other" may write beta only
    out["reader_session"] = failure(lambda: writes.OpenSession(write_pb2.OpenSessionRequest(repository="alpha"), metadata=READER, timeout=T))
    out["reader_branch"] = failure(lambda: repos.CreateBranch(repository_pb2.CreateRefRequest(repository="alpha", name="sneaky"), metadata=READER, timeout=T))
    out["reader_tag"] = failure(lambda: repos.CreateTag(repository_pb2.CreateRefRequest(repository="alpha", name="sneaky"), metadata=READER, timeout=T))
    out["reader_append"] = failure(lambda: writes.Append(iter([write_pb2.AppendRequest(
        target=write_pb2.AppendTarget(repository="alpha", path="/a", dimension="0"), grow_by=2,
        chunks=[decoded((0, 0), np.ones((2, 2), "<i4"))])]), metadata=READER, timeout=T))
    out["other_reset"] = failure(lambda: repos.ResetBranch(repository_pb2.ResetBranchRequest(repository="alpha", name="main", to=before["log"][-1]), metadata=OTHER, timeout=T))
    # A session opened by admin is still the admin's repository: the reader cannot commit or write to it either.
    admin_session = writes.OpenSession(write_pb2.OpenSessionRequest(repository="alpha"), metadata=ADMIN, timeout=T).session_id
    out["reader_write_changes"] = failure(lambda: writes.WriteChanges(iter([write_pb2.WriteChangesRequest(session_id=admin_session, changes=[
        write_pb2.Change(set_chunks=write_pb2.SetChunks(path="/a", chunks=[decoded((1, 1), np.full((2, 2), 7, "<i4"))]))])]), metadata=READER, timeout=T))
    out["reader_commit"] = failure(lambda: writes.Commit(write_pb2.CommitRequest(session_id=admin_session, message="sneaky"), metadata=READER, timeout=T))
    out["reader_read"] = failure(lambda: repos.ListBranches(repository_pb2.ListRefsRequest(repository="alpha"), metadata=READER, timeout=T))
    out["reader_may_not_read_beta"] = failure(lambda: repos.ListBranches(repository_pb2.ListRefsRequest(repository="beta"), metadata=READER, timeout=T))
    out["admin_session_commit_empty"] = failure(lambda: writes.Commit(write_pb2.CommitRequest(session_id=admin_session, message="nothing"), metadata=ADMIN, timeout=T))
    after = state()
    out["unchanged"] = before == after
    out["before"], out["after"] = before, after

    # OUT_OF_RANGE: chunk coordinates outside the 2x2 grid, on write and on read
    s = writes.OpenSession(write_pb2.OpenSessionRequest(repository="alpha"), metadata=ADMIN, timeout=T).session_id
    out["write_outside_grid"] = failure(lambda: writes.WriteChanges(iter([write_pb2.WriteChangesRequest(session_id=s, changes=[
        write_pb2.Change(set_chunks=write_pb2.SetChunks(path="/a", chunks=[decoded((0, 0), np.ones((2, 2), "<i4")), decoded((2, 0), np.ones((2, 2), "<i4"))]))])]),
        metadata=ADMIN, timeout=T))
    out["read_outside_grid"] = failure(lambda: repos.ReadChunk(repository_pb2.ReadChunkRequest(repository="alpha", path="/a", coords=[0, 5]), metadata=ADMIN, timeout=T))
    out["region_outside"] = failure(lambda: list(repos.ReadRegion(repository_pb2.ReadRegionRequest(repository="alpha", path="/a", start=[3, 0], count=[2, 4]), metadata=ADMIN, timeout=T)))
    # The change before the bad one stayed in the session (docs/api.md: WriteChanges).
    out["kept_before_bad"] = writes.WriteChanges(iter([write_pb2.WriteChangesRequest(session_id=s)]), metadata=ADMIN, timeout=T).pending_chunk_changes
    writes.AbandonSession(write_pb2.AbandonSessionRequest(session_id=s), metadata=ADMIN, timeout=T)
    out["abandoned_commit"] = failure(lambda: writes.Commit(write_pb2.CommitRequest(session_id=s, message="gone"), metadata=ADMIN, timeout=T))

    # ABORTED: two sessions write the same chunk; the first commit wins, the second conflicts and stays open.
    first = writes.OpenSession(write_pb2.OpenSessionRequest(repository="alpha"), metadata=ADMIN, timeout=T).session_id
    second = writes.OpenSession(write_pb2.OpenSessionRequest(repository="alpha"), metadata=ADMIN, timeout=T).session_id
    for sid, value in ((first, 1), (second, 2)):
        writes.WriteChanges(iter([write_pb2.WriteChangesRequest(session_id=sid, changes=[write_pb2.Change(set_chunks=write_pb2.SetChunks(
            path="/a", chunks=[decoded((1, 0), np.full((2, 2), value, "<i4"))]))])]), metadata=ADMIN, timeout=T)
    won = writes.Commit(write_pb2.CommitRequest(session_id=first, message="first"), metadata=ADMIN, timeout=T)
    out["first_commit"] = won.snapshot_id
    out["second_commit"] = failure(lambda: writes.Commit(write_pb2.CommitRequest(session_id=second, message="second"), metadata=ADMIN, timeout=T))
    out["second_abandon"] = failure(lambda: writes.AbandonSession(write_pb2.AbandonSessionRequest(session_id=second), metadata=ADMIN, timeout=T))
    values, tiled, _ = read_region("alpha", "/a", [0, 0], [4, 4], 0, "<i4", -1)
    out["after_conflict"] = values.tolist()
    out["log_after_conflict"] = [s.message for s in repos.Log(repository_pb2.LogRequest(repository="alpha"), metadata=ADMIN, timeout=T)]
    return out


def export_status(status):
    return {
        "job": status.job_id, "state": export_pb2.ExportState.Name(status.state), "repository": status.repository, "reference": status.reference,
        "arrays": list(status.arrays), "output": status.output, "files_done": status.files_done, "files_total": status.files_total,
        "files_skipped": status.files_skipped, "rows": status.rows, "bytes": status.bytes, "snapshot": status.snapshot_id,
        "h3_resolution": status.h3_resolution, "error": status.error, "version": status.version,
    }


def case_export():
    out = {}
    repos.CreateRepository(repository_pb2.CreateRepositoryRequest(repository="alpha"), metadata=ADMIN, timeout=T)
    job = ingestion.StartIngestion(ingestion_pb2.StartIngestionRequest(repository="alpha", files=ARGS["files"]), metadata=ADMIN, timeout=T).job_id
    out["ingested"] = ingestion_pb2.IngestionState.Name(list(ingestion.WatchIngestion(ingestion_pb2.IngestionRequest(job_id=job), metadata=ADMIN, timeout=120))[-1].state)
    out["main"] = refs(repos.ListBranches(repository_pb2.ListRefsRequest(repository="alpha"), metadata=ADMIN, timeout=T))[0][1]

    # resolution is a proto3 optional: 0 set explicitly is resolution 0, not the default.
    request = export_pb2.StartExportRequest(repository="alpha", arrays=["/tp"], output="py/era5", bbox=[-180, -90, 170, 90], resolution=0,
                                            value_type=export_pb2.EXPORT_VALUE_TYPE_FLOAT64, compression="none")
    out["has_resolution"] = request.HasField("resolution")
    started = exports.StartExport(request, metadata=ADMIN, timeout=T)
    # The reader may follow a job of a repository it reads.
    statuses = list(exports.WatchExport(export_pb2.ExportRequest(job_id=started.job_id), metadata=READER, timeout=120))
    out["started"] = export_status(started)
    out["statuses"] = [export_status(s) for s in statuses]
    out["get_equals_final"] = exports.GetExport(export_pb2.ExportRequest(job_id=started.job_id), metadata=READER, timeout=T) == statuses[-1]

    # The files on disk, as the manifest lists them, read with nothing but the standard library.
    directory = os.path.join(ARGS["root"], "alpha", "py", "era5")
    with open(os.path.join(directory, "_floe_export.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    files = []
    for entry in manifest["files"]:
        path = os.path.join(directory, entry["path"])
        with open(path, "rb") as f:
            data = f.read()
        files.append({"path": entry["path"], "rows": entry["rows"], "size_matches": len(data) == entry["bytes"], "magic": data[:4] == b"PAR1" and data[-4:] == b"PAR1"})
    out["files"] = files
    out["columns"] = {c["name"]: c["type"] for c in manifest["columns"]}
    out["manifest_resolution"] = manifest["h3_resolution"]

    again = exports.StartExport(request, metadata=ADMIN, timeout=T)
    out["again"] = export_status(list(exports.WatchExport(export_pb2.ExportRequest(job_id=again.job_id), metadata=ADMIN, timeout=120))[-1])

    job_request = export_pb2.ExportRequest(job_id=started.job_id)
    out["dotdot"] = failure(lambda: exports.StartExport(export_pb2.StartExportRequest(repository="alpha", arrays=["/tp"], output="../x"), metadata=ADMIN, timeout=T))
    out["absolute"] = failure(lambda: exports.StartExport(export_pb2.StartExportRequest(repository="alpha", arrays=["/tp"], output="/x"), metadata=ADMIN, timeout=T))
    out["resolution16"] = failure(lambda: exports.StartExport(export_pb2.StartExportRequest(repository="alpha", arrays=["/tp"], output="x", resolution=16), metadata=ADMIN, timeout=T))
    out["reversed"] = failure(lambda: exports.StartExport(export_pb2.StartExportRequest(repository="alpha", arrays=["/tp"], output="x", start="2020-01-02", end="2020-01-01"), metadata=ADMIN, timeout=T))
    out["reader_start"] = failure(lambda: exports.StartExport(request, metadata=READER, timeout=T))
    out["reader_cancel"] = failure(lambda: exports.CancelExport(job_request, metadata=READER, timeout=T))
    out["other_get"] = failure(lambda: exports.GetExport(job_request, metadata=OTHER, timeout=T))
    out["unknown_job"] = failure(lambda: exports.GetExport(export_pb2.ExportRequest(job_id="export-0123456789abcdef"), metadata=ADMIN, timeout=T))
    return out


CASES = {"unary": case_unary, "write": case_write, "deadline": case_deadline, "errors": case_errors, "export": case_export}
print(json.dumps(CASES[CASE](), separators=(",", ":")))
channel.close()
