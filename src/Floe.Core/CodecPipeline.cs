namespace Floe.Core;

/// <summary>
/// Encodes and decodes whole chunks through an array's codecs. The decoded form is the chunk's
/// elements in C order, little-endian, exactly <see cref="ArrayMetadata.ChunkByteLength"/> bytes.
/// Immutable, so one instance can serve concurrent readers and writers.
/// </summary>
public sealed class CodecPipeline
{
    private readonly CodecChain _chain;
    private readonly DataType _dataType;
    private readonly long _elementCount;
    private readonly int?[] _decodedLengths;

    // Length of the chunk between the array -> array codecs and the bytes codec (differs when packing converts types).
    private readonly int _arrayBytesLength;

    private CodecPipeline(CodecChain chain, DataType dataType, long elementCount, int decodedLength)
    {
        _chain = chain;
        _dataType = dataType;
        _elementCount = elementCount;
        DecodedLength = decodedLength;
        _arrayBytesLength = checked((int)(elementCount * chain.ArrayTypes[^1].Size));

        // What each bytes -> bytes codec must decode to, where the codecs below it have fixed sizes.
        _decodedLengths = new int?[chain.BytesToBytes.Count];
        int? length = _arrayBytesLength;
        for (var i = 0; i < _decodedLengths.Length; i++)
        {
            _decodedLengths[i] = length;
            length = chain.BytesToBytes[i].EncodedLength(length);
        }
    }

    /// <summary>Length in bytes of a decoded chunk.</summary>
    public int DecodedLength { get; }

    /// <summary>Builds the pipeline; unknown codecs throw <see cref="NotSupportedException"/> naming them.</summary>
    public static CodecPipeline Create(ArrayMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        metadata.ValidateStructure();
        var chain = CodecFactory.Build(metadata.Codecs, metadata.DataType, metadata.ChunkShape);
        return new CodecPipeline(chain, metadata.DataType, metadata.ChunkElementCount, metadata.ChunkByteLength);
    }

    public byte[] Encode(ReadOnlySpan<byte> decodedChunk)
    {
        if (decodedChunk.Length != DecodedLength)
        {
            throw new ArgumentException(
                $"A decoded chunk is {DecodedLength} bytes ({_elementCount} × {_dataType}), got {decodedChunk.Length}.", nameof(decodedChunk));
        }

        byte[]? owned = null;
        for (var i = 0; i < _chain.ArrayToArray.Count; i++)
        {
            owned = _chain.ArrayToArray[i].Encode(owned ?? decodedChunk, _chain.ArrayShapes[i], _chain.ArrayTypes[i].Size);
        }

        if (!_chain.Bytes.IsIdentity)
        {
            owned ??= decodedChunk.ToArray();
            _chain.Bytes.SwapInPlace(owned);
        }

        foreach (var codec in _chain.BytesToBytes)
        {
            owned = codec.Encode(owned ?? decodedChunk);
        }

        return owned ?? decodedChunk.ToArray();
    }

    /// <summary>Decodes a stored chunk; corrupt data or a wrong decoded length throws <see cref="CodecException"/> naming the codec.</summary>
    public byte[] Decode(ReadOnlySpan<byte> storedChunk)
    {
        byte[]? owned = null;
        for (var i = _chain.BytesToBytes.Count - 1; i >= 0; i--)
        {
            var codec = _chain.BytesToBytes[i];
            try
            {
                owned = codec.Decode(owned ?? storedChunk, _decodedLengths[i]);
            }
            catch (ArgumentException ex)
            {
                throw new CodecException($"{codec.Name}: {ex.Message}", ex);
            }
        }

        var length = owned?.Length ?? storedChunk.Length;
        if (length != _arrayBytesLength)
        {
            var producer = _chain.BytesToBytes.Count > 0 ? _chain.BytesToBytes[0].Name : BytesCodec.CodecName;
            throw new CodecException(
                $"{producer}: decoded chunk is {length} bytes but {_arrayBytesLength} were expected ({_elementCount} × {_chain.ArrayTypes[^1]}).");
        }

        owned ??= storedChunk.ToArray();
        _chain.Bytes.SwapInPlace(owned);
        for (var i = _chain.ArrayToArray.Count - 1; i >= 0; i--)
        {
            owned = _chain.ArrayToArray[i].Decode(owned, _chain.ArrayShapes[i], _chain.ArrayTypes[i].Size);
        }

        return owned;
    }
}
