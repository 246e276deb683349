namespace Floe.Formats.Hdf5;

/// <summary>One message of an object header: its type, flags, bytes and absolute file offset.</summary>
internal readonly record struct HeaderMessage(int Type, int Flags, ReadOnlyMemory<byte> Data, long Offset, int CreationOrder)
{
    public bool IsShared => (Flags & 0x02) != 0;

    public FieldReader Cursor(Hdf5Context context, string? path, string what) => new(Data.Span, Offset, context, path, what);
}

/// <summary>A version 1 or 2 object header with its messages gathered from every continuation chunk.</summary>
internal sealed class ObjectHeader
{
    private const int MaxChunks = 4096;
    private const int MaxMessages = 1 << 16;

    private ObjectHeader(long address, int version, int flags, List<HeaderMessage> messages)
    {
        Address = address;
        Version = version;
        Flags = flags;
        Messages = messages;
    }

    public long Address { get; }

    public int Version { get; }

    /// <summary>Version 2 header flags (bit 2: attribute creation order tracked).</summary>
    public int Flags { get; }

    public List<HeaderMessage> Messages { get; }

    public bool AttributeCreationOrderTracked => Version == 2 && (Flags & 0x04) != 0;

    public bool Has(int type)
    {
        foreach (var message in Messages)
        {
            if (message.Type == type)
            {
                return true;
            }
        }

        return false;
    }

    public HeaderMessage? First(int type)
    {
        foreach (var message in Messages)
        {
            if (message.Type == type)
            {
                return message;
            }
        }

        return null;
    }

    public static async ValueTask<ObjectHeader> ReadAsync(Hdf5Context context, long address, string? path, CancellationToken cancellationToken)
    {
        if (address < 0)
        {
            throw context.Error(path, address, "object header address is undefined");
        }

        var available = context.FileLength - context.BaseAddress - address;
        if (available < 16)
        {
            throw context.Error(path, context.BaseAddress + address, $"object header at address {address} lies outside the file ({context.FileLength} bytes)");
        }

        var prefixLength = (int)Math.Min(available, 48);
        var prefix = await context.ReadAsync(address, prefixLength, path, "object header", cancellationToken);
        var messages = new List<HeaderMessage>(16);
        var chunks = new Queue<(long Address, long Length)>();
        HashSet<long>? visited = null;
        int version, flags = 0;
        if (prefix.Data.Span[0] == 1)
        {
            version = 1;
            var r = context.Cursor(prefix, path, "object header");
            r.U8("version");
            r.U8("reserved");
            r.U16("number of messages");
            r.U32("reference count");
            var size = r.U32("header size");
            var block = await context.ReadAsync(address + 16, CheckedLength(context, path, prefix.Offset, size), path, "object header", cancellationToken);
            ParseChunkV1(context, path, block, messages, chunks);
        }
        else
        {
            version = 2;
            flags = ParsePrefixV2(context, path, prefix, out var prefixSize, out var chunkSize);
            var total = CheckedLength(context, path, prefix.Offset, (ulong)prefixSize + chunkSize + 4);
            var block = await context.ReadAsync(address, total, path, "object header", cancellationToken);
            ParseChunkV2(context, path, block, prefixSize, flags, messages, chunks, continuation: false);
        }

        while (chunks.Count > 0)
        {
            var (chunkAddress, chunkLength) = chunks.Dequeue();
            visited ??= [address];
            if (!visited.Add(chunkAddress) || visited.Count > MaxChunks)
            {
                throw context.Error(path, context.BaseAddress + chunkAddress, visited.Count > MaxChunks
                    ? $"object header has more than {MaxChunks} continuation chunks"
                    : "object header continuation chunks form a cycle");
            }

            var length = CheckedLength(context, path, context.BaseAddress + chunkAddress, (ulong)chunkLength);
            var block = await context.ReadAsync(chunkAddress, length, path, "object header continuation", cancellationToken);
            if (version == 1)
            {
                ParseChunkV1(context, path, block, messages, chunks);
            }
            else
            {
                ParseChunkV2(context, path, block, 0, flags, messages, chunks, continuation: true);
            }
        }

        return new ObjectHeader(address, version, flags, messages);
    }

    private static int CheckedLength(Hdf5Context context, string? path, long offset, ulong length) =>
        context.StructureSize(length > long.MaxValue ? -1 : (long)length, path, offset, "object header chunk");

    private static int ParsePrefixV2(Hdf5Context context, string? path, FieldBlock prefix, out int prefixSize, out ulong chunkSize)
    {
        var r = context.Cursor(prefix, path, "object header");
        r.Signature("OHDR");
        var version = r.U8("version");
        if (version != 2)
        {
            throw r.Error($"object header version {version} is not 2");
        }

        var flags = r.U8("flags");
        if ((flags & 0x20) != 0)
        {
            r.Skip(16, "times");
        }

        if ((flags & 0x10) != 0)
        {
            r.U16("maximum compact attributes");
            r.U16("minimum dense attributes");
        }

        chunkSize = r.UInt(1 << (flags & 3), "size of chunk 0");
        prefixSize = r.Position;
        return flags;
    }

    private static void ParseChunkV1(Hdf5Context context, string? path, FieldBlock block, List<HeaderMessage> messages, Queue<(long, long)> chunks)
    {
        var r = context.Cursor(block, path, "object header");
        while (r.Remaining >= 8)
        {
            var type = r.U16("message type");
            var size = r.U16("message size");
            var flags = r.U8("message flags");
            r.Skip(3, "reserved");
            var offset = r.Position;
            r.Skip(size, "message data");
            Add(context, path, block, messages, chunks, type, flags, offset, size, -1);
        }
    }

    private static void ParseChunkV2(Hdf5Context context, string? path, FieldBlock block, int start, int headerFlags,
        List<HeaderMessage> messages, Queue<(long, long)> chunks, bool continuation)
    {
        var r = context.Cursor(block, path, continuation ? "object header continuation" : "object header");
        if (continuation)
        {
            r.Signature("OCHK");
        }
        else
        {
            r.Position = start;
        }

        var end = r.Length - 4;
        var messageHeader = (headerFlags & 0x04) != 0 ? 6 : 4;
        while (end - r.Position >= messageHeader)
        {
            var type = r.U8("message type");
            var size = r.U16("message size");
            var flags = r.U8("message flags");
            var order = (headerFlags & 0x04) != 0 ? r.U16("message creation order") : -1;
            if (size > end - r.Position)
            {
                throw r.Error($"message of {size} bytes runs past the end of its chunk");
            }

            var offset = r.Position;
            r.Skip(size, "message data");
            Add(context, path, block, messages, chunks, type, flags, offset, size, order);
        }

        r.Position = end;
        r.Checksum(0);
    }

    private static void Add(Hdf5Context context, string? path, FieldBlock block, List<HeaderMessage> messages, Queue<(long, long)> chunks,
        int type, int flags, int offset, int size, int order)
    {
        if (messages.Count >= MaxMessages)
        {
            throw context.Error(path, block.Offset + offset, $"object header has more than {MaxMessages} messages");
        }

        var data = block.Data.Slice(offset, size);
        if (type == MessageType.Continuation)
        {
            var r = new FieldReader(data.Span, block.Offset + offset, context, path, "continuation message");
            var address = r.Offset("continuation address");
            var length = r.LengthField("continuation length");
            if (address < 0 || length <= 0)
            {
                throw r.Error($"continuation block at address {address} of {length} bytes is invalid");
            }

            chunks.Enqueue((address, length));
        }
        else if (type > MessageType.Last && (flags & 0x80) != 0)
        {
            throw context.NotSupported(path, block.Offset + offset, $"unknown object header message type {type} is marked \"fail if unknown\"");
        }

        if (type != MessageType.Nil)
        {
            messages.Add(new HeaderMessage(type, flags, data, block.Offset + offset, order));
        }
    }
}
