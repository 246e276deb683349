using System.Text;

namespace Floe.Formats.Hdf5;

public sealed partial class Hdf5File
{
    private const int HeaderPrefetchBytes = 512;

    private async ValueTask<Hdf5Object> LoadObjectAsync(long address, string path, string name, int depth, CancellationToken cancellationToken)
    {
        if (_byAddress.TryGetValue(address, out var existing))
        {
            return existing;
        }

        if (depth > MaxGroupDepth)
        {
            throw _context.NotSupported(path, _context.BaseAddress + address, $"groups nested deeper than {MaxGroupDepth}");
        }

        var header = await ObjectHeader.ReadAsync(_context, address, path, cancellationToken);
        Hdf5Object result;
        if (header.Has(MessageType.Layout))
        {
            result = await BuildDatasetAsync(header, path, name, cancellationToken);
            _byAddress[address] = result;
        }
        else if (header.Has(MessageType.SymbolTable) || header.Has(MessageType.LinkInfo) || header.Has(MessageType.Link))
        {
            var group = new Hdf5Group(path, name, address, header.Version);
            _byAddress[address] = group;
            result = group;
        }
        else if (header.First(MessageType.Datatype) is { } typeMessage)
        {
            var datatype = await ResolveDatatypeAsync(typeMessage, path, cancellationToken);
            result = new Hdf5NamedDatatype(path, name, address, header.Version, datatype);
            _byAddress[address] = result;
        }
        else
        {
            throw _context.Error(path, _context.BaseAddress + address, "object header holds no group, dataset or datatype messages");
        }

        var types = new int[header.Messages.Count];
        for (var i = 0; i < types.Length; i++)
        {
            types[i] = header.Messages[i].Type;
        }

        result.MessageTypes = types;
        if (header.First(MessageType.Comment) is { } comment)
        {
            var text = comment.Data.Span;
            var end = text.IndexOf((byte)0);
            result.Comment = Encoding.UTF8.GetString(end < 0 ? text : text[..end]);
        }

        await LoadAttributesAsync(result, header, cancellationToken);
        if (result is Hdf5Group g)
        {
            await LoadLinksAsync(g, header, depth, cancellationToken);
        }

        return result;
    }

    private static string ChildPath(string parent, string name) => parent == "/" ? "/" + name : parent + "/" + name;

    // ---- messages shared in other object headers or in the shared message heap ----

    /// <summary>The bytes of a message, following a shared message to the committed object or the shared heap.</summary>
    private async ValueTask<(ReadOnlyMemory<byte> Data, long Offset, long CommittedAddress)> ResolveMessageAsync(int type, HeaderMessage message, string? path,
        CancellationToken cancellationToken)
    {
        if (!message.IsShared)
        {
            return (message.Data, message.Offset, Hdf5Context.UndefinedAddress);
        }

        return await ResolveSharedAsync(type, message.Data, message.Offset, path, 0, cancellationToken);
    }

    private async ValueTask<(ReadOnlyMemory<byte> Data, long Offset, long CommittedAddress)> ResolveSharedAsync(int type, ReadOnlyMemory<byte> data, long offset,
        string? path, int depth, CancellationToken cancellationToken)
    {
        if (depth > 8)
        {
            throw _context.Error(path, offset, "shared messages refer to each other too deeply");
        }

        var r = new FieldReader(data.Span, offset, _context, path, "shared message");
        var shared = Messages.ParseShared(ref r, _context);
        if (shared.InSharedHeap)
        {
            if (_sharedMessages is null)
            {
                throw _context.Error(path, offset, "message is shared in a heap but the file has no shared message table");
            }

            var (heapData, heapOffset) = await _sharedMessages.ReadAsync(type, shared.HeapId, path, offset, cancellationToken);
            return (heapData, heapOffset, Hdf5Context.UndefinedAddress);
        }

        var header = await ObjectHeader.ReadAsync(_context, shared.Address, path, cancellationToken);
        if (header.First(type) is not { } target)
        {
            throw _context.Error(path, offset, $"shared message points at object header {shared.Address}, which has no message of type {type}");
        }

        if (target.IsShared)
        {
            var inner = await ResolveSharedAsync(type, target.Data, target.Offset, path, depth + 1, cancellationToken);
            return (inner.Data, inner.Offset, shared.Address);
        }

        return (target.Data, target.Offset, shared.Address);
    }

    private async ValueTask<Hdf5Datatype> ResolveDatatypeAsync(HeaderMessage message, string? path, CancellationToken cancellationToken)
    {
        if (message.IsShared)
        {
            var probe = new FieldReader(message.Data.Span, message.Offset, _context, path, "shared message");
            var shared = Messages.ParseShared(ref probe, _context);
            if (!shared.InSharedHeap && _committedTypes.TryGetValue(shared.Address, out var cached))
            {
                return cached;
            }
        }

        var (data, offset, committed) = await ResolveMessageAsync(MessageType.Datatype, message, path, cancellationToken);
        var r = new FieldReader(data.Span, offset, _context, path, "datatype message");
        var type = Hdf5Datatype.Parse(ref r);
        if (committed != Hdf5Context.UndefinedAddress)
        {
            type.CommittedAddress = committed;
            _committedTypes[committed] = type;
        }

        return type;
    }

    // ---- datasets ----

    private async ValueTask<Hdf5Dataset> BuildDatasetAsync(ObjectHeader header, string path, string name, CancellationToken cancellationToken)
    {
        var typeMessage = header.First(MessageType.Datatype) ?? throw _context.Error(path, _context.BaseAddress + header.Address, "dataset has no datatype message");
        var spaceMessage = header.First(MessageType.Dataspace) ?? throw _context.Error(path, _context.BaseAddress + header.Address, "dataset has no dataspace message");
        var datatype = await ResolveDatatypeAsync(typeMessage, path, cancellationToken);
        var (spaceData, spaceOffset, _) = await ResolveMessageAsync(MessageType.Dataspace, spaceMessage, path, cancellationToken);
        var sr = new FieldReader(spaceData.Span, spaceOffset, _context, path, "dataspace message");
        var dataspace = Messages.ParseDataspace(ref sr, _context);

        var layoutMessage = header.First(MessageType.Layout)!.Value;
        var lr = layoutMessage.Cursor(_context, path, "data layout message");
        var layout = Messages.ParseLayout(ref lr, layoutMessage.Offset, _context);
        if (layout is Hdf5ContiguousLayout { Size: -2 } contiguous)
        {
            var bytes = dataspace.ElementCount > long.MaxValue / Math.Max(datatype.Size, 1) ? long.MaxValue : dataspace.ElementCount * datatype.Size;
            layout = contiguous with { Size = bytes };
        }

        IReadOnlyList<Hdf5Filter> filters = [];
        if (header.First(MessageType.FilterPipeline) is { } pipeline)
        {
            var (data, offset, _) = await ResolveMessageAsync(MessageType.FilterPipeline, pipeline, path, cancellationToken);
            var fr = new FieldReader(data.Span, offset, _context, path, "filter pipeline message");
            filters = Messages.ParseFilterPipeline(ref fr);
        }

        var fill = Hdf5FillValue.Default;
        if (header.First(MessageType.FillValue) is { } fillMessage)
        {
            var (data, offset, _) = await ResolveMessageAsync(MessageType.FillValue, fillMessage, path, cancellationToken);
            var fv = new FieldReader(data.Span, offset, _context, path, "fill value message");
            fill = Messages.ParseFillValue(ref fv);
        }
        else if (header.First(MessageType.FillValueOld) is { } oldFill)
        {
            var fv = oldFill.Cursor(_context, path, "fill value (old) message");
            fill = Messages.ParseOldFillValue(ref fv);
        }

        if (fill.Value is { } value && value.Length != datatype.Size)
        {
            throw _context.Error(path, _context.BaseAddress + header.Address, $"fill value of {value.Length} bytes does not match the {datatype.Size}-byte datatype");
        }

        return new Hdf5Dataset(path, name, header.Address, header.Version, datatype, dataspace, layout, filters, fill)
        {
            HasExternalStorage = header.Has(MessageType.ExternalFiles),
        };
    }

    // ---- attributes ----

    private async ValueTask LoadAttributesAsync(Hdf5Object target, ObjectHeader header, CancellationToken cancellationToken)
    {
        var path = target.Path;
        List<Hdf5Attribute>? attributes = null;
        var allOrdered = true;
        foreach (var message in header.Messages)
        {
            if (message.Type != MessageType.Attribute)
            {
                continue;
            }

            var (data, offset, _) = await ResolveMessageAsync(MessageType.Attribute, message, path, cancellationToken);
            long? order = header.AttributeCreationOrderTracked && message.CreationOrder >= 0 ? message.CreationOrder : null;
            allOrdered &= order.HasValue;
            (attributes ??= []).Add(await BuildAttributeAsync(data, offset, order, path, cancellationToken));
        }

        if (header.First(MessageType.AttributeInfo) is { } infoMessage)
        {
            var ir = infoMessage.Cursor(_context, path, "attribute info message");
            var info = Messages.ParseAttributeInfo(ref ir);
            if (info.HeapAddress != Hdf5Context.UndefinedAddress && info.NameIndexAddress != Hdf5Context.UndefinedAddress)
            {
                target.HasDenseAttributes = true;
                attributes ??= [];
                var heap = await FractalHeap.ReadAsync(_context, info.HeapAddress, path, cancellationToken);
                var tree = await BTreeV2.ReadHeaderAsync(_context, info.NameIndexAddress, path, cancellationToken);
                if (tree.Type != 8 || tree.RecordSize != 17)
                {
                    throw _context.Error(path, _context.BaseAddress + info.NameIndexAddress, $"attribute name index has type {tree.Type} with {tree.RecordSize}-byte records, expected type 8 with 17");
                }

                var records = await BTreeV2.RecordsAsync(_context, tree, path, cancellationToken);
                foreach (var record in records)
                {
                    var r = new FieldReader(record.Span, 0, _context, path, "attribute name record");
                    var id = record[..8];
                    r.Skip(8, "heap ID");
                    var flags = r.U8("message flags");
                    var creationOrder = r.U32("creation order");
                    (ReadOnlyMemory<byte> Data, long Offset) message;
                    if ((flags & 0x02) != 0)
                    {
                        if (_sharedMessages is null)
                        {
                            throw _context.Error(path, _context.BaseAddress + info.HeapAddress, "dense attribute is shared but the file has no shared message table");
                        }

                        message = await _sharedMessages.ReadAsync(MessageType.Attribute, System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(id.Span), path,
                            _context.BaseAddress + info.HeapAddress, cancellationToken);
                    }
                    else
                    {
                        message = await heap.ReadObjectAsync(id, _context.BaseAddress + info.HeapAddress, path, cancellationToken);
                    }

                    long? order = info.CreationOrderTracked ? creationOrder : null;
                    allOrdered &= order.HasValue;
                    attributes.Add(await BuildAttributeAsync(message.Data, message.Offset, order, path, cancellationToken));
                }
            }
        }

        if (attributes is null)
        {
            return;
        }

        if (allOrdered)
        {
            attributes.Sort(static (a, b) => a.CreationOrder!.Value.CompareTo(b.CreationOrder!.Value));
        }
        else
        {
            attributes.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        }

        target.Attributes = attributes;
    }

    private async ValueTask<Hdf5Attribute> BuildAttributeAsync(ReadOnlyMemory<byte> data, long offset, long? creationOrder, string? path, CancellationToken cancellationToken)
    {
        var raw = Messages.ParseAttribute(data, offset, _context, path);
        Hdf5Datatype datatype;
        if (raw.DatatypeShared)
        {
            var message = new HeaderMessage(MessageType.Datatype, 0x02, raw.Datatype, raw.DatatypeOffset, -1);
            datatype = await ResolveDatatypeAsync(message, path, cancellationToken);
        }
        else
        {
            var tr = new FieldReader(raw.Datatype.Span, raw.DatatypeOffset, _context, path, "attribute datatype");
            datatype = Hdf5Datatype.Parse(ref tr);
        }

        var spaceData = raw.Dataspace;
        var spaceOffset = raw.DataspaceOffset;
        if (raw.DataspaceShared)
        {
            (spaceData, spaceOffset, _) = await ResolveSharedAsync(MessageType.Dataspace, raw.Dataspace, raw.DataspaceOffset, path, 0, cancellationToken);
        }

        var sr = new FieldReader(spaceData.Span, spaceOffset, _context, path, "attribute dataspace");
        var dataspace = Messages.ParseDataspace(ref sr, _context);
        var count = dataspace.ElementCount;
        if (datatype.Size > 0 && count > raw.Data.Length / datatype.Size)
        {
            throw _context.Error(path, raw.DataOffset, $"attribute \"{raw.Name}\" holds {raw.Data.Length} bytes, too few for {count} elements of {datatype.Size} bytes");
        }

        var valueBytes = raw.Data[..(int)(count * datatype.Size)];
        var value = await DecodeValueAsync(datatype, dataspace, valueBytes, raw.DataOffset, path, cancellationToken);
        return new Hdf5Attribute(raw.Name, datatype, dataspace, value) { CreationOrder = creationOrder, RawValue = valueBytes };
    }

    private async ValueTask<object?> DecodeValueAsync(Hdf5Datatype type, Hdf5Dataspace space, ReadOnlyMemory<byte> data, long offset, string? path, CancellationToken cancellationToken)
    {
        var decoder = new ValueDecoder(_context, _globalHeap, path);
        for (var attempt = 0; ; attempt++)
        {
            long missing;
            try
            {
                return decoder.Decode(type, space, data.Span, offset);
            }
            catch (NeedCollectionException need)
            {
                missing = need.Address;
            }

            if (attempt > 4096 || _globalHeap.IsLoaded(missing))
            {
                throw _context.Error(path, offset, "attribute value refers to global heap collections that cannot be loaded");
            }

            await _globalHeap.LoadAsync(missing, path, cancellationToken);
        }
    }

    // ---- groups ----

    private async ValueTask LoadLinksAsync(Hdf5Group group, ObjectHeader header, int depth, CancellationToken cancellationToken)
    {
        var path = group.Path;
        List<LinkRecord> records;
        var tracked = false;
        if (header.First(MessageType.SymbolTable) is { } stab)
        {
            group.Storage = Hdf5GroupStorage.SymbolTable;
            var r = stab.Cursor(_context, path, "symbol table message");
            var btree = r.Offset("v1 B-tree address");
            var heapAddress = r.Offset("local heap address");
            records = await ReadSymbolTableAsync(btree, heapAddress, path, cancellationToken);
        }
        else
        {
            records = [];
            LinkInfo? info = null;
            if (header.First(MessageType.LinkInfo) is { } linfo)
            {
                var r = linfo.Cursor(_context, path, "link info message");
                info = Messages.ParseLinkInfo(ref r);
                tracked = info.Value.CreationOrderTracked;
            }

            if (info is { HeapAddress: >= 0 } dense)
            {
                group.Storage = Hdf5GroupStorage.Dense;
                await ReadDenseLinksAsync(dense, path, records, cancellationToken);
            }
            else
            {
                group.Storage = Hdf5GroupStorage.Compact;
            }

            foreach (var message in header.Messages)
            {
                if (message.Type == MessageType.Link)
                {
                    var r = message.Cursor(_context, path, "link message");
                    records.Add(Messages.ParseLink(ref r));
                }
            }
        }

        var ordered = tracked && records.TrueForAll(static l => l.CreationOrder.HasValue);
        if (ordered)
        {
            records.Sort(static (a, b) => a.CreationOrder!.Value.CompareTo(b.CreationOrder!.Value));
        }
        else
        {
            records.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        }

        for (var i = 1; i < records.Count; i++)
        {
            if (string.Equals(records[i].Name, records[i - 1].Name, StringComparison.Ordinal) && !ordered)
            {
                throw _context.Error(path, _context.BaseAddress + header.Address, $"group has two links named \"{records[i].Name}\"");
            }
        }

        // Fetch the children's object headers together before parsing them one by one.
        var ranges = new List<(long, int)>();
        foreach (var record in records)
        {
            if (record.LinkType == 0 && !_byAddress.ContainsKey(record.Address))
            {
                ranges.Add((record.Address, HeaderPrefetchBytes));
            }
        }

        if (ranges.Count > 1)
        {
            await _context.PrefetchAsync(ranges, cancellationToken);
        }

        var links = new Hdf5Link[records.Count];
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            var childPath = ChildPath(path, record.Name);
            var order = record.CreationOrder;
            switch (record.LinkType)
            {
                case 0:
                    {
                        var target = await LoadObjectAsync(record.Address, childPath, record.Name, depth + 1, cancellationToken);
                        links[i] = new Hdf5HardLink(record.Name, target) { CreationOrder = order };
                        break;
                    }

                case 1:
                    {
                        var soft = new Hdf5SoftLink(record.Name, record.SoftPath!) { CreationOrder = order };
                        _softLinks.Add((group, soft));
                        links[i] = soft;
                        break;
                    }

                case 64:
                    links[i] = new Hdf5ExternalLink(record.Name, record.ExternalFile!, record.ExternalPath!) { CreationOrder = order };
                    break;
                default:
                    links[i] = new Hdf5UserDefinedLink(record.Name, record.LinkType, record.UserData ?? []) { CreationOrder = order };
                    break;
            }
        }

        group.Links = links;
    }

    private async ValueTask<List<LinkRecord>> ReadSymbolTableAsync(long btree, long heapAddress, string path, CancellationToken cancellationToken)
    {
        var heap = await LocalHeap.ReadAsync(_context, heapAddress, path, cancellationToken);
        var records = new List<LinkRecord>();
        if (btree == Hdf5Context.UndefinedAddress)
        {
            return records;
        }

        var entries = await BTreeV1.LeafEntriesAsync(_context, btree, 0, _context.LengthSize, 2 * _context.GroupInternalK, path, cancellationToken);
        var o = _context.OffsetSize;
        var entrySize = 2 * o + 24;
        var ranges = new List<(long, int)>(entries.Count);
        foreach (var entry in entries)
        {
            ranges.Add((entry.Child, 8 + 2 * _context.GroupLeafK * entrySize));
        }

        if (ranges.Count > 1)
        {
            await _context.PrefetchAsync(ranges, cancellationToken);
        }

        var visited = new HashSet<long>();
        foreach (var entry in entries)
        {
            if (!visited.Add(entry.Child))
            {
                throw _context.Error(path, entry.KeyOffset, "symbol table node is listed twice");
            }

            var head = await _context.ReadAsync(entry.Child, 8, path, "symbol table node", cancellationToken);
            var h = _context.Cursor(head, path, "symbol table node");
            h.Signature("SNOD");
            var version = h.U8("version");
            if (version != 1)
            {
                throw h.Error($"symbol table node version {version} is not 1");
            }

            h.U8("reserved");
            var count = h.U16("number of symbols");
            if ((long)count * entrySize > _context.FileLength)
            {
                throw h.Error($"{count} symbols do not fit in the file");
            }

            var body = await _context.ReadAsync(entry.Child + 8, count * entrySize, path, "symbol table node", cancellationToken);
            var r = _context.Cursor(body, path, "symbol table entry");
            for (var i = 0; i < count; i++)
            {
                var nameOffset = r.Offset("link name offset");
                var address = r.Offset("object header address");
                var cacheType = r.U32("cache type");
                r.U32("reserved");
                var scratch = r.Position;
                r.Skip(16, "scratch pad");
                var name = heap.String(nameOffset, path);
                if (cacheType == 2)
                {
                    var valueOffset = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(body.Data.Span.Slice(scratch, 4));
                    records.Add(new LinkRecord(name, 1, Hdf5Context.UndefinedAddress, heap.String(valueOffset, path), null, null, null, null));
                }
                else
                {
                    if (address == Hdf5Context.UndefinedAddress)
                    {
                        throw r.Error($"symbol table entry \"{name}\" has no object header address");
                    }

                    records.Add(new LinkRecord(name, 0, address, null, null, null, null, null));
                }
            }
        }

        return records;
    }

    private async ValueTask ReadDenseLinksAsync(LinkInfo info, string path, List<LinkRecord> records, CancellationToken cancellationToken)
    {
        if (info.NameIndexAddress == Hdf5Context.UndefinedAddress)
        {
            throw _context.Error(path, _context.BaseAddress + info.HeapAddress, "dense link storage has no name index");
        }

        var heap = await FractalHeap.ReadAsync(_context, info.HeapAddress, path, cancellationToken);
        var tree = await BTreeV2.ReadHeaderAsync(_context, info.NameIndexAddress, path, cancellationToken);
        if (tree.Type != 5 || tree.RecordSize < 5)
        {
            throw _context.Error(path, _context.BaseAddress + info.NameIndexAddress, $"link name index has type {tree.Type}, expected 5");
        }

        var entries = await BTreeV2.RecordsAsync(_context, tree, path, cancellationToken);
        foreach (var entry in entries)
        {
            var id = entry[4..];
            var (data, offset) = await heap.ReadObjectAsync(id, _context.BaseAddress + info.HeapAddress, path, cancellationToken);
            var r = new FieldReader(data.Span, offset, _context, path, "link message");
            records.Add(Messages.ParseLink(ref r));
        }
    }
}
