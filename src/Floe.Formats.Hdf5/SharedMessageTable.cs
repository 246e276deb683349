using System.Buffers.Binary;

namespace Floe.Formats.Hdf5;

/// <summary>
/// The shared object header message table ("SMTB") named by the superblock extension: for each index, the message
/// types it holds and the fractal heap storing the shared messages.
/// </summary>
internal sealed class SharedMessageTable
{
    private readonly Hdf5Context _context;
    private readonly List<(int TypeFlags, long HeapAddress)> _indexes;
    private readonly Dictionary<long, FractalHeap> _heaps = [];

    private SharedMessageTable(Hdf5Context context, List<(int, long)> indexes)
    {
        _context = context;
        _indexes = indexes;
    }

    public static async ValueTask<SharedMessageTable> ReadAsync(Hdf5Context context, long address, int count, CancellationToken cancellationToken)
    {
        var o = context.OffsetSize;
        var entry = 1 + 1 + 2 + 4 + 2 + 2 + 2 + o + o;
        var block = await context.ReadAsync(address, 4 + count * entry + 4, null, "shared message table", cancellationToken);
        var r = context.Cursor(block, null, "shared message table");
        r.Signature("SMTB");
        var indexes = new List<(int, long)>(count);
        for (var i = 0; i < count; i++)
        {
            var version = r.U8("index version");
            if (version != 0)
            {
                throw r.Error($"shared message index version {version} is not 0");
            }

            r.U8("index type");
            var flags = r.U16("message type flags");
            r.U32("minimum message size");
            r.U16("list cutoff");
            r.U16("B-tree cutoff");
            r.U16("number of messages");
            r.Offset("index address");
            var heap = r.Offset("fractal heap address");
            indexes.Add((flags, heap));
        }

        r.Checksum(0);
        return new SharedMessageTable(context, indexes);
    }

    private static int FlagOf(int messageType) => messageType switch
    {
        MessageType.Dataspace => 0x01,
        MessageType.Datatype => 0x02,
        MessageType.FillValue => 0x04,
        MessageType.FilterPipeline => 0x08,
        MessageType.Attribute => 0x10,
        _ => 0,
    };

    /// <summary>The encoded message a shared heap ID names.</summary>
    public async ValueTask<(ReadOnlyMemory<byte> Data, long Offset)> ReadAsync(int messageType, ulong heapId, string? path, long at, CancellationToken cancellationToken)
    {
        var flag = FlagOf(messageType);
        foreach (var (flags, heapAddress) in _indexes)
        {
            if ((flags & flag) == 0 || heapAddress == Hdf5Context.UndefinedAddress)
            {
                continue;
            }

            if (!_heaps.TryGetValue(heapAddress, out var heap))
            {
                heap = await FractalHeap.ReadAsync(_context, heapAddress, path, cancellationToken);
                _heaps[heapAddress] = heap;
            }

            var id = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(id, heapId);
            return await heap.ReadObjectAsync(id, at, path, cancellationToken);
        }

        throw _context.Error(path, at, $"no shared message index holds messages of type {messageType}");
    }
}
