using System.Globalization;
using System.Text;
using Floe.Storage;

// Hammers a FileSystemObjectStore from one process so a test can run several at once and check that the
// conditional writes hold across processes. Usage: <root> <counter-key> <worker-id> <n>.
// Prints "ready", waits for a line on stdin (so all workers start together), then prints one result line:
// "worker=<id> increments=<n> retries=<r> unique=<won> shared=<0|1> races=<won>".
if (args.Length != 4 || !int.TryParse(args[2], CultureInfo.InvariantCulture, out var workerId)
    || !int.TryParse(args[3], CultureInfo.InvariantCulture, out var n))
{
    await Console.Error.WriteLineAsync("usage: Floe.Storage.ConcurrencyWorker <root> <counter-key> <worker-id> <n>");
    return 2;
}

var store = new FileSystemObjectStore(args[0]);
var counterKey = args[1];
await Console.Out.WriteLineAsync("ready");
await Console.Out.FlushAsync();
_ = await Console.In.ReadLineAsync();

// Read-modify-write increments: a lost update would leave the counter below workers * n.
var retries = 0;
for (var i = 0; i < n; i++)
{
    while (true)
    {
        var current = await store.GetAsync(counterKey);
        if (current is null)
        {
            if (await store.PutIfAbsentAsync(counterKey, Encoding.ASCII.GetBytes("1")) is not null)
            {
                break;
            }
        }
        else
        {
            var value = long.Parse(Encoding.ASCII.GetString(current.Data.Span), CultureInfo.InvariantCulture);
            var next = Encoding.ASCII.GetBytes((value + 1).ToString(CultureInfo.InvariantCulture));
            if (await store.PutIfMatchAsync(counterKey, next, current.Etag) is not null)
            {
                break;
            }
        }

        retries++;
    }
}

// Keys only this worker writes: every put-if-absent must win.
var unique = 0;
for (var i = 0; i < n; i++)
{
    if (await store.PutIfAbsentAsync($"unique/{workerId}/{i}", Encoding.ASCII.GetBytes($"{workerId}")) is not null)
    {
        unique++;
    }
}

// Keys every worker races for: each must have exactly one winner over all workers.
var races = 0;
for (var i = 0; i < n; i++)
{
    if (await store.PutIfAbsentAsync($"race/{i}", Encoding.ASCII.GetBytes($"{workerId}")) is not null)
    {
        races++;
    }
}

var shared = await store.PutIfAbsentAsync("shared", Encoding.ASCII.GetBytes($"{workerId}")) is not null ? 1 : 0;

await Console.Out.WriteLineAsync(
    $"worker={workerId} increments={n} retries={retries} unique={unique} shared={shared} races={races}");
return 0;
