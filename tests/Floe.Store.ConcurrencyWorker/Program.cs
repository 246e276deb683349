using System.Buffers.Binary;
using System.Globalization;
using Floe.Storage;
using Floe.Storage.Azure;
using Floe.Store;

// Commits to one Floe repository (a directory or an Azure container) from its own process, so a test can run several at
// once and check that branch moves stay linear across processes. Usage: <root> <worker-id> <commits>.
// The repository must hold an int32 array "/grid" with at least <commits> rows, one column per worker and
// 1 x 1 chunks. The worker prints "ready", waits for a line on stdin (so all workers start together), then
// writes chunk [i, worker-id] with the value worker-id * 1000 + i and commits it, for i in 0..commits-1,
// printing "commit <snapshot id>" after each, and finally "done worker=<id> commits=<n>".
if (args.Length != 3 || !int.TryParse(args[1], CultureInfo.InvariantCulture, out var workerId)
    || !int.TryParse(args[2], CultureInfo.InvariantCulture, out var commits))
{
    await Console.Error.WriteLineAsync("usage: Floe.Store.ConcurrencyWorker <root> <worker-id> <commits>");
    return 2;
}

// A directory, or an Azure container (az://…) on the account of $AZURE_STORAGE_CONNECTION_STRING.
var repository = await Repository.OpenAsync(ObjectStoreLocation.IsAzure(args[0]) ? ObjectStoreLocation.Open(args[0]) : new FileSystemObjectStore(args[0], flushToDisk: false));
await Console.Out.WriteLineAsync("ready");
await Console.Out.FlushAsync();
_ = await Console.In.ReadLineAsync();

var session = await repository.WritableSessionAsync();
for (var i = 0; i < commits; i++)
{
    var value = new byte[4];
    BinaryPrimitives.WriteInt32LittleEndian(value, (workerId * 1000) + i);
    await session.WriteChunkAsync("/grid", [i, workerId], value);
    var id = await session.CommitAsync($"worker {workerId} commit {i}");
    await Console.Out.WriteLineAsync($"commit {id}");
}

await Console.Out.WriteLineAsync($"done worker={workerId} commits={commits}");
return 0;
