using System.Runtime.InteropServices;
using System.Text;
using Floe.Api.V1;
using Floe.Core;
using Floe.Rpc;
using Google.Protobuf;

namespace Floe.Server.Tests;

/// <summary>Helpers the API tests share: a float32 array written through a write session.</summary>
public abstract class ApiTestBase : IAsyncLifetime
{
    protected RunningServer Server { get; private set; } = null!;

    protected FloeClient Admin { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Server = await RunningServer.StartAsync(Settings());
        Admin = Server.Client();
    }

    public async Task DisposeAsync()
    {
        Admin.Dispose();
        await Server.DisposeAsync();
    }

    protected virtual IDictionary<string, string?>? Settings() => null;

    protected static string ArrayJson(long[] shape, int[] chunks, DataType? type = null) =>
        Encoding.UTF8.GetString(ArrayMetadata.Create(shape, type ?? DataType.Float32, chunks).ToJsonBytes());

    protected static byte[] Floats(params float[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    protected static ChunkRefEntry Decoded(float[] values, params long[] coords)
    {
        var entry = new ChunkRefEntry { Decoded = ByteString.CopyFrom(Floats(values)) };
        entry.Coords.AddRange(coords);
        return entry;
    }

    protected static Change SetChunks(string path, params ChunkRefEntry[] chunks)
    {
        var set = new SetChunks { Path = path };
        set.Chunks.AddRange(chunks);
        return new Change { SetChunks = set };
    }

    /// <summary>Opens a session, sends the changes in one WriteChanges call, and commits.</summary>
    protected static async Task<CommitResponse> CommitAsync(FloeClient client, string repository, string message, params Change[] changes)
    {
        var session = await client.Writes.OpenSessionAsync(new OpenSessionRequest { Repository = repository });
        await WriteAsync(client, session.SessionId, changes);
        return await client.Writes.CommitAsync(new CommitRequest { SessionId = session.SessionId, Message = message });
    }

    protected static async Task<WriteChangesResponse> WriteAsync(FloeClient client, string sessionId, params Change[] changes)
    {
        using var call = client.Writes.WriteChanges();
        var request = new WriteChangesRequest { SessionId = sessionId };
        request.Changes.AddRange(changes);
        await call.RequestStream.WriteAsync(request);
        await call.RequestStream.CompleteAsync();
        return await call.ResponseAsync;
    }

    /// <summary>Creates "alpha" with a 4×6 float32 array /grid/t in 2×3 chunks, holding 0..23 in chunks (0,0), (0,1) and (1,0); chunk (1,1) is left missing.</summary>
    protected async Task<CommitResponse> CreateAlphaAsync()
    {
        await Admin.Repositories.CreateRepositoryAsync(new CreateRepositoryRequest { Repository = "alpha" });
        return await CommitAsync(Admin, "alpha", "grid",
            new Change { CreateGroup = new CreateGroup { Path = "/grid", AttributesJson = "{\"title\":\"test\"}" } },
            new Change { CreateArray = new CreateArray { Path = "/grid/t", ZarrJson = ArrayJson([4, 6], [2, 3]) } },
            SetChunks("/grid/t", Decoded([0, 1, 2, 6, 7, 8], 0, 0), Decoded([3, 4, 5, 9, 10, 11], 0, 1), Decoded([12, 13, 14, 18, 19, 20], 1, 0)));
    }

    protected static async Task<RpcException> FailsAsync(Func<Task> call) => await Assert.ThrowsAsync<RpcException>(call);

    protected static async Task<List<T>> ReadAllAsync<T>(AsyncServerStreamingCall<T> call)
    {
        using (call)
        {
            var list = new List<T>();
            await foreach (var item in call.ResponseStream.ReadAllAsync())
            {
                list.Add(item);
            }

            return list;
        }
    }
}
