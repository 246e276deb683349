using Floe.Core;
using Floe.Storage;
using Floe.Store.Format;

namespace Floe.Store.Tests;

/// <summary>
/// Random histories of chunk writes (inline, native, virtual), deletions, appends, resizes, commits, branches,
/// tags and concurrent sessions, checked after every commit against a plain in-memory model: every snapshot made
/// so far is re-read by id through a fresh <see cref="Repository"/> and compared chunk by chunk.
/// </summary>
public sealed class PropertyTests : IDisposable
{
    private const int Steps = 300;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task Random_histories_match_an_in_memory_model_at_every_snapshot(int seed)
    {
        var run = new ModelRun(seed, _dir.Combine($"source-{seed}.bin"));
        await run.RunAsync(Steps);

        // The histories reach the interesting paths: many commits, commits that rebased, commits that conflicted.
        Assert.True(run.Commits >= 20, $"seed {seed}: only {run.Commits} commits were checked");
        Assert.True(run.Rebased >= 1, $"seed {seed}: no commit rebased");
        Assert.True(run.Conflicts >= 1, $"seed {seed}: no commit conflicted");
    }

    /// <summary>What a chunk should hold: its reference and its decoded bytes.</summary>
    private sealed record Expected(ChunkRef Ref, byte[] Decoded);

    private sealed class ModelArray(long[] shape, ArrayMetadata metadata)
    {
        public long[] Shape { get; set; } = shape;

        public ArrayMetadata Metadata { get; } = metadata;

        public Dictionary<(long, long), Expected> Chunks { get; init; } = [];

        public long[] Grid => [.. Shape.Select((s, d) => s == 0 ? 0 : ((s - 1) / Metadata.ChunkShape[d]) + 1)];

        public ModelArray Clone() => new((long[])Shape.Clone(), Metadata) { Chunks = new(Chunks) };
    }

    private sealed class ModelState
    {
        public SortedDictionary<string, ModelArray> Arrays { get; init; } = new(StringComparer.Ordinal);

        public ModelState Clone()
        {
            var clone = new ModelState();
            foreach (var (path, array) in Arrays)
            {
                clone.Arrays[path] = array.Clone();
            }

            return clone;
        }
    }

    /// <summary>One change a session made, replayable on any model state.</summary>
    private abstract record Op(string Path)
    {
        public abstract void Apply(ModelState state);
    }

    private sealed record SetOp(string Path, (long, long) Coords, Expected? Value) : Op(Path)
    {
        public override void Apply(ModelState state)
        {
            if (Value is null)
            {
                state.Arrays[Path].Chunks.Remove(Coords);
            }
            else
            {
                state.Arrays[Path].Chunks[Coords] = Value;
            }
        }
    }

    private sealed record ResizeOp(string Path, long[] Shape) : Op(Path)
    {
        public override void Apply(ModelState state)
        {
            var array = state.Arrays[Path];
            array.Shape = (long[])Shape.Clone();
            var grid = array.Grid;
            foreach (var coords in array.Chunks.Keys.Where(c => c.Item1 >= grid[0] || c.Item2 >= grid[1]).ToList())
            {
                array.Chunks.Remove(coords);
            }
        }
    }

    private sealed class ModelRun(int seed, string sourcePath)
    {
        private static readonly (string Path, ArrayMetadata Metadata)[] ArrayDefinitions =
        [
            ("/a", TestData.Int32Array([6, 5], [2, 2], fill: -1)), // 16-byte chunks: inline
            ("/g/b", ArrayMetadata.Create([4, 200], DataType.UInt8, [1, 100]) with { FillValue = FillValue.FromDouble(DataType.UInt8, 7) }), // 100 bytes: native
        ];

        private static readonly DateTime SourceModified = new(2023, 3, 4, 5, 6, 7, 89, DateTimeKind.Utc);

        private readonly Random _random = new(seed);
        private readonly MemoryObjectStore _store = new();
        private readonly Dictionary<ObjectId, ModelState> _snapshots = [];
        private readonly Dictionary<ObjectId, ObjectId?> _parents = [];
        private readonly Dictionary<string, ObjectId> _branches = new(StringComparer.Ordinal);
        private readonly Dictionary<string, ObjectId> _tags = new(StringComparer.Ordinal);
        private readonly List<string> _trace = [];

        // The writable session under test and what the model knows about it.
        private readonly List<Op> _pending = [];
        private readonly Dictionary<string, HashSet<(long, long)>> _touched = new(StringComparer.Ordinal);
        private readonly HashSet<string> _metadataChanged = new(StringComparer.Ordinal);
        private readonly Dictionary<string, HashSet<(long, long)>> _theirs = new(StringComparer.Ordinal);
        private byte[] _source = [];
        private Repository _repository = null!;
        private Session _session = null!;
        private string _branch = Repository.MainBranch;
        private ObjectId _sessionBase;
        private ModelState _view = new();
        private int _step;

        public int Commits { get; private set; }

        public int Rebased { get; private set; }

        public int Conflicts { get; private set; }

        public async Task RunAsync(int steps)
        {
            try
            {
                await SetUpAsync();
                for (_step = 0; _step < steps; _step++)
                {
                    await StepAsync();
                }

                await CommitAsync();
            }
            catch (Exception e)
            {
                throw new InvalidOperationException(
                    $"seed {seed}, step {_step}: {e.GetType().Name}: {e.Message}\nlast operations:\n  " + string.Join("\n  ", _trace.TakeLast(25)), e);
            }
        }

        private async Task SetUpAsync()
        {
            _source = TestData.RandomBytes(new Random(seed * 7919), 4096);
            await File.WriteAllBytesAsync(sourcePath, _source);
            File.SetLastWriteTimeUtc(sourcePath, SourceModified);
            _repository = await Repository.CreateAsync(_store, new RepositoryOptions { RefsPerShard = 4, InlineThreshold = 64 });
            var (root, _) = await _repository.ReadBranchAsync(Repository.MainBranch);
            _snapshots[root] = new ModelState();
            _parents[root] = null;
            _branches[Repository.MainBranch] = root;

            var setup = await _repository.WritableSessionAsync();
            setup.CreateGroup("/g");
            var state = new ModelState();
            foreach (var (path, metadata) in ArrayDefinitions)
            {
                setup.CreateArray(path, metadata);
                state.Arrays[path] = new ModelArray((long[])metadata.Shape.Clone(), metadata);
            }

            var id = await setup.CommitAsync("arrays");
            Record(id, root, state);
            _branches[Repository.MainBranch] = id;
            await OpenSessionAsync(Repository.MainBranch);
            await VerifyAllAsync();
        }

        private void Record(ObjectId id, ObjectId parent, ModelState state)
        {
            Assert.False(_snapshots.ContainsKey(id), $"snapshot id {id} reused");
            _snapshots[id] = state;
            _parents[id] = parent;
            Commits++;
        }

        private async Task OpenSessionAsync(string branch)
        {
            _session = await _repository.WritableSessionAsync(branch);
            _branch = branch;
            _sessionBase = _branches[branch];
            Assert.Equal(_sessionBase, _session.BaseSnapshot.Id);
            _view = _snapshots[_sessionBase].Clone();
            _pending.Clear();
            _touched.Clear();
            _metadataChanged.Clear();
            _theirs.Clear();
        }

        private async Task StepAsync()
        {
            var roll = _random.Next(100);
            switch (roll)
            {
                case < 28:
                    await ChangeChunkAsync(_session, _view, _pending, ChunkKind.Written, avoidSession: false);
                    break;
                case < 42:
                    await ChangeChunkAsync(_session, _view, _pending, ChunkKind.Virtual, avoidSession: false);
                    break;
                case < 52:
                    await ChangeChunkAsync(_session, _view, _pending, ChunkKind.Deleted, avoidSession: false);
                    break;
                case < 59:
                    Append();
                    break;
                case < 64:
                    Resize();
                    break;
                case < 76:
                    await CommitAsync();
                    break;
                case < 80:
                    await BranchAsync();
                    break;
                case < 82:
                    await SwitchAsync();
                    break;
                case < 86:
                    await TagAsync();
                    break;
                case < 94:
                    await ConcurrentCommitAsync();
                    break;
                default:
                    await CheckSessionReadAsync();
                    break;
            }
        }

        private enum ChunkKind
        {
            Written,
            Virtual,
            Deleted,
        }

        // A chunk of the state's grid; avoiding the main session's changes (for the concurrent session) or the
        // concurrent commits' chunks (for the main session), so that most commits rebase instead of conflicting.
        private (string Path, (long, long) Coords)? PickChunk(ModelState state, bool avoidSession, bool avoidTheirs = false)
        {
            for (var attempt = 0; attempt < 20; attempt++)
            {
                var (path, array) = state.Arrays.ElementAt(_random.Next(state.Arrays.Count));
                var grid = array.Grid;
                if (grid[0] == 0 || grid[1] == 0)
                {
                    continue;
                }

                var coords = (_random.NextInt64(grid[0]), _random.NextInt64(grid[1]));
                if (avoidSession && (_metadataChanged.Contains(path) || (_touched.TryGetValue(path, out var mine) && mine.Contains(coords))))
                {
                    continue;
                }

                if (avoidTheirs && _theirs.TryGetValue(path, out var theirs) && theirs.Contains(coords))
                {
                    continue;
                }

                return (path, coords);
            }

            return null;
        }

        // An array for the main session to resize: mostly one no concurrent commit has written to.
        private (string Path, ModelArray Array)? PickArrayToResize()
        {
            var (path, array) = _view.Arrays.ElementAt(_random.Next(_view.Arrays.Count));
            return _theirs.ContainsKey(path) && _random.Next(5) != 0 ? null : (path, array);
        }

        // Makes one chunk change in a session and records it as an op on the model state the session sees.
        private async Task<SetOp?> ChangeChunkAsync(Session session, ModelState state, List<Op> ops, ChunkKind kind, bool avoidSession)
        {
            var isMain = ReferenceEquals(session, _session);
            if (PickChunk(state, avoidSession, avoidTheirs: isMain && _random.Next(5) != 0) is not { } picked)
            {
                return null;
            }

            var (path, coords) = picked;
            var metadata = state.Arrays[path].Metadata;
            long[] chunk = [coords.Item1, coords.Item2];
            Expected? value;
            switch (kind)
            {
                case ChunkKind.Written:
                    var data = TestData.RandomBytes(_random, metadata.ChunkByteLength);
                    var written = await session.WriteChunkAsync(path, chunk, data);
                    Assert.IsType(metadata.ChunkByteLength <= 64 ? typeof(InlineChunkRef) : typeof(NativeChunkRef), written);
                    value = new Expected(written, data);
                    break;
                case ChunkKind.Virtual:
                    var length = metadata.ChunkByteLength;
                    var offset = _random.Next(_source.Length - length + 1);
                    DateTimeOffset? modified = _random.Next(2) == 0 ? new DateTimeOffset(SourceModified) : null;
                    var reference = new VirtualChunkRef(sourcePath, offset, length, null, modified);
                    session.SetChunkRef(path, chunk, reference);
                    value = new Expected(reference, _source[offset..(offset + length)]);
                    break;
                default:
                    session.DeleteChunk(path, chunk);
                    value = null;
                    break;
            }

            var op = new SetOp(path, coords, value);
            op.Apply(state);
            ops.Add(op);
            if (isMain)
            {
                NoteSessionOp(op, coords);
            }
            _trace.Add($"{(isMain ? "S" : "S2")} {kind} {path}[{coords.Item1}, {coords.Item2}] {value?.Ref}");
            return op;
        }

        private void NoteSessionOp(Op op, (long, long)? coords)
        {
            if (coords is { } c)
            {
                if (!_touched.TryGetValue(op.Path, out var set))
                {
                    _touched[op.Path] = set = [];
                }

                set.Add(c);
            }
            else
            {
                _metadataChanged.Add(op.Path);
            }
        }

        private void Append()
        {
            if (PickArrayToResize() is not { } picked)
            {
                return;
            }

            var (path, array) = picked;
            var count = _random.Next(4);
            var start = _session.AppendAlong(path, 0, count);
            Assert.Equal(array.Shape[0], start);
            var op = new ResizeOp(path, [array.Shape[0] + count, array.Shape[1]]);
            op.Apply(_view);
            _pending.Add(op);
            NoteSessionOp(op, null);
            _trace.Add($"S append {count} to {path} -> [{string.Join(", ", op.Shape)}]");
        }

        private void Resize()
        {
            if (PickArrayToResize() is not { } picked)
            {
                return;
            }

            var (path, array) = picked;
            var shape = (long[])array.Shape.Clone();
            var d = _random.Next(2);
            // Mostly smaller; sometimes larger so that a shrunk dimension can grow back.
            var chunk = array.Metadata.ChunkShape[d];
            shape[d] = _random.Next(4) == 0 ? shape[d] + _random.Next(1, (3 * chunk) + 1) : _random.NextInt64(shape[d] + 1);
            _session.ResizeArray(path, shape);
            var op = new ResizeOp(path, shape);
            op.Apply(_view);
            _pending.Add(op);
            NoteSessionOp(op, null);
            _trace.Add($"S resize {path} -> [{string.Join(", ", shape)}]");
        }

        private async Task CommitAsync()
        {
            if (_pending.Count == 0)
            {
                Assert.False(_session.HasChanges);
                await Assert.ThrowsAsync<FloeStoreException>(() => _session.CommitAsync("nothing"));
                return;
            }

            Assert.True(_session.HasChanges);
            var tip = _branches[_branch];
            var predicted = _view.Arrays.Keys.Where(path =>
                _theirs.TryGetValue(path, out var theirs) &&
                (_metadataChanged.Contains(path) || (_touched.TryGetValue(path, out var mine) && mine.Overlaps(theirs)))).ToHashSet();
            if (predicted.Count > 0)
            {
                var ex = await Assert.ThrowsAsync<ConflictException>(() => _session.CommitAsync($"conflicting {_step}"));
                Assert.Equal(predicted.Order(StringComparer.Ordinal), ex.Conflicts.Select(c => c.Path).Distinct().Order(StringComparer.Ordinal));
                Assert.Equal(tip, (await _repository.ReadBranchAsync(_branch)).Snapshot);
                _trace.Add($"S commit conflicts as predicted on {string.Join(", ", predicted)}; session discarded");
                Conflicts++;
                await OpenSessionAsync(_branch);
                return;
            }

            var metadata = new Dictionary<string, string> { ["step"] = _step.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            var id = await _session.CommitAsync($"step {_step}", metadata);
            var state = _snapshots[tip].Clone();
            foreach (var op in _pending)
            {
                op.Apply(state);
            }

            Record(id, tip, state);
            _branches[_branch] = id;
            Rebased += tip != _sessionBase ? 1 : 0;
            _trace.Add($"S commit {id} on {_branch} (parent {tip}{(tip != _sessionBase ? ", rebased" : "")}, {_pending.Count} ops)");
            Assert.Equal(id, _session.BaseSnapshot.Id);
            Assert.False(_session.HasChanges);
            _sessionBase = id;
            _view = state.Clone();
            _pending.Clear();
            _touched.Clear();
            _metadataChanged.Clear();
            _theirs.Clear();
            await VerifyAllAsync();
        }

        private async Task BranchAsync()
        {
            if (_pending.Count > 0)
            {
                if (_random.Next(2) == 0)
                {
                    await CommitAsync();
                }
                else
                {
                    _trace.Add("S discarded");
                }
            }

            var name = $"b{_branches.Count}";
            Assert.Equal(_sessionBase, _session.BaseSnapshot.Id);
            await _repository.CreateBranchAsync(name, _sessionBase);
            _branches[name] = _sessionBase;
            _trace.Add($"branch {name} at {_sessionBase}, switched");
            await OpenSessionAsync(name);
        }

        private async Task SwitchAsync()
        {
            var name = _branches.Keys.ElementAt(_random.Next(_branches.Count));
            _trace.Add($"switch to {name} ({_pending.Count} ops discarded)");
            await OpenSessionAsync(name);
        }

        private async Task TagAsync()
        {
            if (_tags.Count > 0 && _random.Next(4) == 0)
            {
                var (existing, target) = _tags.ElementAt(_random.Next(_tags.Count));
                await Assert.ThrowsAsync<RefExistsException>(() => _repository.CreateTagAsync(existing, _sessionBase));
                Assert.Equal(target, await _repository.ResolveTagAsync(existing));
                return;
            }

            var name = $"t{_tags.Count}";
            Assert.Equal(_sessionBase, _session.BaseSnapshot.Id);
            await _repository.CreateTagAsync(name, _session.BaseSnapshot.Id);
            _tags[name] = _sessionBase;
            _trace.Add($"tag {name} at {_sessionBase}");
        }

        // A second session on the same branch commits a few chunk changes while the main session has pending ones.
        private async Task ConcurrentCommitAsync()
        {
            var tip = _branches[_branch];
            var other = await _repository.WritableSessionAsync(_branch);
            Assert.Equal(tip, other.BaseSnapshot.Id);
            var state = _snapshots[tip].Clone();
            var ops = new List<Op>();
            var count = _random.Next(1, 5);
            for (var i = 0; i < count; i++)
            {
                var kind = (ChunkKind)_random.Next(3);
                // Mostly changes the main session can rebase over; sometimes anything, which may conflict.
                await ChangeChunkAsync(other, state, ops, kind, avoidSession: _random.Next(5) != 0);
            }

            if (ops.Count == 0)
            {
                return;
            }

            var id = await other.CommitAsync($"concurrent {_step}");
            Record(id, tip, state);
            _branches[_branch] = id;
            foreach (var op in ops.Cast<SetOp>())
            {
                if (!_theirs.TryGetValue(op.Path, out var set))
                {
                    _theirs[op.Path] = set = [];
                }

                set.Add(op.Coords);
            }

            _trace.Add($"S2 commit {id} on {_branch} (parent {tip})");
            await VerifyAllAsync();
        }

        // The session reads its own pending state (its base plus its changes), not the branch tip.
        private async Task CheckSessionReadAsync()
        {
            if (PickChunk(_view, avoidSession: false) is not { } picked)
            {
                return;
            }

            var (path, coords) = picked;
            var array = _view.Arrays[path];
            long[] chunk = [coords.Item1, coords.Item2];
            var expected = array.Chunks.GetValueOrDefault(coords);
            Assert.Equal(expected?.Ref, await _session.GetChunkRefAsync(path, chunk));
            Assert.Equal(expected?.Decoded ?? Fill(array.Metadata), await _session.ReadChunkAsync(path, chunk));
        }

        private static byte[] Fill(ArrayMetadata metadata)
        {
            var bytes = new byte[metadata.ChunkByteLength];
            metadata.FillValue.Fill(bytes);
            return bytes;
        }

        private async Task VerifyAllAsync()
        {
            var fresh = await Repository.OpenAsync(_store);
            Assert.Equal(_branches.Keys.Order(StringComparer.Ordinal), await fresh.ListBranchesAsync());
            foreach (var (name, tip) in _branches)
            {
                Assert.Equal(tip, (await fresh.ReadBranchAsync(name)).Snapshot);
            }

            Assert.Equal(_tags.Keys.Order(StringComparer.Ordinal), await fresh.ListTagsAsync());
            foreach (var (name, target) in _tags)
            {
                Assert.Equal(target, await fresh.ResolveTagAsync(name));
            }

            foreach (var (id, state) in _snapshots)
            {
                var snapshot = await fresh.GetSnapshotAsync(id);
                Assert.Equal(_parents[id], snapshot.ParentId);
                var reader = new SnapshotReader(fresh, snapshot);
                var expectedPaths = state.Arrays.Count == 0 ? new[] { "/" } : ["/", "/a", "/g", "/g/b"];
                Assert.Equal(expectedPaths, snapshot.Nodes.Select(n => n.Path));
                foreach (var (path, array) in state.Arrays)
                {
                    var what = $"snapshot {id} array {path}";
                    Assert.True(array.Shape.AsSpan().SequenceEqual(reader.GetArrayMetadata(path).Shape), $"{what}: shape");
                    Assert.True(array.Chunks.Count == reader.GetNode(path).RefCount, $"{what}: {reader.GetNode(path).RefCount} references, model has {array.Chunks.Count}");
                    foreach (var chunk in TestData.GridCoords(array.Grid))
                    {
                        var expected = array.Chunks.GetValueOrDefault((chunk[0], chunk[1]));
                        var actual = await reader.GetChunkRefAsync(path, chunk);
                        if (!Equals(expected?.Ref, actual))
                        {
                            Assert.Fail($"{what} chunk {TestData.Coords(chunk)}: expected {expected?.Ref?.ToString() ?? "no reference"}, got {actual?.ToString() ?? "no reference"}");
                        }

                        var bytes = await reader.ReadChunkAsync(path, chunk);
                        if (!bytes.AsSpan().SequenceEqual(expected?.Decoded ?? Fill(array.Metadata)))
                        {
                            Assert.Fail($"{what} chunk {TestData.Coords(chunk)}: decoded bytes differ");
                        }
                    }
                }
            }
        }
    }
}
