using System.Buffers.Binary;
using System.IO.Compression;
using Floe.Core;

namespace Floe.Formats.Hdf5;

public sealed partial class Hdf5File
{
    private const long PrefetchBatchBytes = 8 << 20;

    /// <summary>
    /// The whole dataset decoded: filters undone (honoring each chunk's filter mask, Fletcher-32 verified), C order,
    /// element bytes in the file's byte order (variable-length elements are their global heap IDs). Unallocated
    /// chunks and storage read as the fill value (or zeros); edge chunks are clipped to the dataset's extent.
    /// </summary>
    /// <exception cref="Hdf5NotSupportedException">The data is larger than <paramref name="maxBytes"/>, or uses an
    /// unsupported filter (szip, n-bit, scale-offset, unknown ids), external storage or a virtual layout.</exception>
    public async ValueTask<byte[]> ReadDataAsync(Hdf5Dataset dataset, long maxBytes = 256 << 20, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return await Guard(this, dataset.Path, () => ReadDataCoreAsync(dataset, maxBytes, cancellationToken));
    }

    /// <summary>
    /// The dataset's values decoded as attribute values are (see the class remarks): one .NET value for a scalar, a
    /// flat row-major array for a simple dataspace, null for a null dataspace. Variable-length strings and sequences
    /// are read from the global heap, so this suits small datasets such as string coordinates.
    /// </summary>
    public async ValueTask<object?> ReadValuesAsync(Hdf5Dataset dataset, long maxBytes = 16 << 20, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var data = await ReadDataAsync(dataset, maxBytes, cancellationToken);
        return await Guard(this, dataset.Path, () => DecodeValueAsync(dataset.Datatype, dataset.Dataspace, data, -1, dataset.Path, cancellationToken));
    }

    private async ValueTask<byte[]> ReadDataCoreAsync(Hdf5Dataset dataset, long maxBytes, CancellationToken cancellationToken)
    {
        var path = dataset.Path;
        var elementSize = dataset.Datatype.Size;
        var count = dataset.Dataspace.ElementCount;
        var total = count > long.MaxValue / Math.Max(elementSize, 1) ? long.MaxValue : count * elementSize;
        if (total > maxBytes || total > Array.MaxLength)
        {
            throw _context.NotSupported(path, -1, $"dataset holds {total} bytes, more than the {Math.Min(maxBytes, Array.MaxLength)} allowed");
        }

        var output = new byte[total];
        if (total == 0)
        {
            return output;
        }

        Fill(output, dataset.FillValue.Value);
        switch (dataset.Layout)
        {
            case Hdf5CompactLayout compact:
                compact.Data.AsSpan(0, (int)Math.Min(compact.Data.Length, total)).CopyTo(output);
                if (compact.Data.Length < total)
                {
                    throw _context.Error(path, compact.DataOffset, $"compact data holds {compact.Data.Length} bytes, the dataset needs {total}");
                }

                return output;
            case Hdf5ContiguousLayout contiguous:
                {
                    if (dataset.HasExternalStorage)
                    {
                        throw _context.NotSupported(path, -1, "raw data stored in external files");
                    }

                    if (contiguous.Address == Hdf5Context.UndefinedAddress)
                    {
                        return output;
                    }

                    if (contiguous.Size < total)
                    {
                        throw _context.Error(path, contiguous.Address, $"contiguous storage holds {contiguous.Size} bytes, the dataset needs {total}");
                    }

                    var block = await _context.ReadAbsoluteAsync(contiguous.Address, (int)total, path, "contiguous data", cancellationToken);
                    block.Data.Span.CopyTo(output);
                    return output;
                }

            case Hdf5ChunkedLayout chunked:
                await ReadChunkedAsync(dataset, chunked, output, maxBytes, cancellationToken);
                return output;
            default:
                throw _context.NotSupported(path, -1, "virtual dataset layout");
        }
    }

    private static void Fill(byte[] output, byte[]? value)
    {
        if (value is null || !value.AsSpan().ContainsAnyExcept((byte)0))
        {
            return;
        }

        if (value.Length == 1)
        {
            output.AsSpan().Fill(value[0]);
            return;
        }

        for (var i = 0; i + value.Length <= output.Length; i += value.Length)
        {
            value.CopyTo(output, i);
        }
    }

    private async ValueTask ReadChunkedAsync(Hdf5Dataset dataset, Hdf5ChunkedLayout layout, byte[] output, long maxBytes, CancellationToken cancellationToken)
    {
        var path = dataset.Path;
        var elementSize = dataset.Datatype.Size;
        if (layout.ElementSize != elementSize)
        {
            throw _context.Error(path, layout.IndexAddress, $"chunk element size {layout.ElementSize} differs from the datatype size {elementSize}");
        }

        var chunkBytes = layout.ChunkBytes;
        if (chunkBytes > maxBytes || chunkBytes > Array.MaxLength)
        {
            throw _context.NotSupported(path, layout.IndexAddress, $"chunks of {chunkBytes} bytes are larger than the {maxBytes} allowed");
        }

        var chunks = await ChunkIndex.ReadAsync(_context, dataset, layout, cancellationToken);
        var dims = dataset.Dataspace.Dimensions;
        var ranges = new List<(long, int)>();
        var batchStart = 0;
        long batchBytes = 0;
        for (var i = 0; i < chunks.Count; i++)
        {
            var chunk = chunks[i];
            // A stored chunk is at most a little larger than a raw one (filters such as Fletcher-32 add bytes).
            if (chunk.Length > _context.FileLength || chunk.Length > chunkBytes * 2 + (1 << 20))
            {
                throw _context.Error(path, chunk.Offset, $"chunk of {chunk.Length} bytes is larger than the file or than a {chunkBytes}-byte chunk can encode to");
            }

            // Fetch the next batch of chunks together.
            if (i == batchStart)
            {
                ranges.Clear();
                batchBytes = 0;
                var j = i;
                for (; j < chunks.Count && batchBytes < PrefetchBatchBytes; j++)
                {
                    ranges.Add((chunks[j].Offset - _context.BaseAddress, (int)Math.Min(chunks[j].Length, int.MaxValue)));
                    batchBytes += chunks[j].Length;
                }

                batchStart = j;
                if (ranges.Count > 1)
                {
                    await _context.PrefetchAsync(ranges, cancellationToken);
                }
            }

            var stored = await _context.ReadAbsoluteAsync(chunk.Offset, (int)chunk.Length, path, "chunk", cancellationToken);
            var skipFilters = layout.DontFilterPartialEdgeChunks && IsPartialEdge(chunk.Index, layout.ChunkShape, dims);
            var decoded = Unfilter(dataset, stored, skipFilters ? uint.MaxValue : chunk.FilterMask, chunkBytes);
            CopyChunk(output, dims, decoded, layout.ChunkShape, chunk.Index, elementSize);
        }
    }

    private static bool IsPartialEdge(long[] index, int[] shape, long[] dims)
    {
        for (var i = 0; i < index.Length; i++)
        {
            if ((index[i] + 1) * shape[i] > dims[i])
            {
                return true;
            }
        }

        return false;
    }

    private ReadOnlySpan<byte> Unfilter(Hdf5Dataset dataset, FieldBlock stored, uint mask, long chunkBytes)
    {
        var path = dataset.Path;
        var filters = dataset.Filters;
        ReadOnlyMemory<byte> data = stored.Data;
        for (var i = filters.Count - 1; i >= 0; i--)
        {
            if (i < 32 && (mask & (1u << i)) != 0)
            {
                continue;
            }

            var filter = filters[i];
            switch (filter.Id)
            {
                case Hdf5Filter.Deflate:
                    data = Inflate(data, chunkBytes + 4096, path, stored.Offset);
                    break;
                case Hdf5Filter.Shuffle:
                    {
                        var size = filter.ClientData.Length > 0 ? (int)Math.Clamp(filter.ClientData[0], 1u, 1u << 20) : dataset.Datatype.Size;
                        var output = new byte[data.Length];
                        ByteShuffle.Unshuffle(data.Span, output, size);
                        data = output;
                        break;
                    }

                case Hdf5Filter.Fletcher32:
                    {
                        var span = data.Span;
                        if (span.Length < 4)
                        {
                            throw _context.Error(path, stored.Offset, "chunk is too short to hold its Fletcher-32 checksum");
                        }

                        var payload = span[..^4];
                        var expected = BinaryPrimitives.ReadUInt32LittleEndian(span[^4..]);
                        var computed = Fletcher32.Compute(payload);
                        if (expected != computed && expected != Fletcher32.Reversed(computed))
                        {
                            throw _context.Error(path, stored.Offset, $"Fletcher-32 checksum mismatch (stored 0x{expected:x8}, computed 0x{computed:x8})");
                        }

                        data = data[..^4];
                        break;
                    }

                case Hdf5Filter.Zstd:
                    {
                        var output = new byte[chunkBytes + 4096];
                        int written;
                        try
                        {
                            written = Zstd.Decompress(data.Span, output);
                        }
                        catch (CodecException ex)
                        {
                            throw new Hdf5FormatException(Location, path, stored.Offset, $"zstd: {ex.Message}", ex);
                        }

                        data = output.AsMemory(0, written);
                        break;
                    }

                default:
                    throw _context.NotSupported(path, stored.Offset, $"filter {filter.Id} ({filter.Name}) cannot be decoded");
            }
        }

        if (data.Length != chunkBytes)
        {
            throw _context.Error(path, stored.Offset, $"decoded chunk holds {data.Length} bytes, a chunk has {chunkBytes}");
        }

        return data.Span;
    }

    private Memory<byte> Inflate(ReadOnlyMemory<byte> data, long limit, string path, long offset)
    {
        var output = new byte[limit];
        var total = 0;
        try
        {
            using var input = new MemoryStream(data.ToArray(), writable: false);
            using var zlib = new ZLibStream(input, CompressionMode.Decompress);
            while (total < output.Length)
            {
                var read = zlib.Read(output, total, output.Length - total);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }
        }
        catch (InvalidDataException ex)
        {
            throw new Hdf5FormatException(Location, path, offset, $"deflate: {ex.Message}", ex);
        }

        return output.AsMemory(0, total);
    }

    private static void CopyChunk(byte[] output, long[] dims, ReadOnlySpan<byte> chunk, int[] shape, long[] index, int elementSize)
    {
        var rank = dims.Length;
        var origin = new long[rank];
        var extent = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            origin[i] = index[i] * shape[i];
            if (index[i] < 0 || origin[i] >= dims[i])
            {
                return;
            }

            extent[i] = Math.Min(shape[i], dims[i] - origin[i]);
        }

        // Strides in bytes of the chunk and of the output.
        var chunkStride = new long[rank];
        var outStride = new long[rank];
        chunkStride[rank - 1] = elementSize;
        outStride[rank - 1] = elementSize;
        for (var i = rank - 2; i >= 0; i--)
        {
            chunkStride[i] = chunkStride[i + 1] * shape[i + 1];
            outStride[i] = outStride[i + 1] * dims[i + 1];
        }

        var rowBytes = (int)(extent[rank - 1] * elementSize);
        var counter = new long[rank];
        while (true)
        {
            long src = 0, dst = 0;
            for (var i = 0; i < rank; i++)
            {
                src += counter[i] * chunkStride[i];
                dst += (origin[i] + counter[i]) * outStride[i];
            }

            chunk.Slice((int)src, rowBytes).CopyTo(output.AsSpan((int)dst, rowBytes));
            var d = rank - 2;
            for (; d >= 0; d--)
            {
                if (++counter[d] < extent[d])
                {
                    break;
                }

                counter[d] = 0;
            }

            if (d < 0)
            {
                return;
            }
        }
    }
}
