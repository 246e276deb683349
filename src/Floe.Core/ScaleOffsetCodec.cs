using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Floe.Core;

/// <summary>
/// CF packing ("cf_scale_offset"): chunks are stored as packed integers (or floats) and decode to floats as
/// <c>packed * scale_factor + add_offset</c>, computed in the decoded type's precision exactly as netCDF4-python
/// computes it, with packed values listed in <c>mask</c> or outside <c>valid_min</c>/<c>valid_max</c> decoding to NaN.
/// Encoding rounds half to even, as netCDF4-python packs, and writes NaN as the first mask value.
/// </summary>
/// <remarks>
/// Configuration: <c>packed_type</c> (a data type name, required), <c>scale_factor</c> and <c>add_offset</c>
/// (numbers; each applied only when present, like netCDF4-python), <c>mask</c> (packed values), <c>valid_min</c>,
/// <c>valid_max</c> (packed units). The array's data type is the decoded type and must be float32 or float64.
/// </remarks>
internal sealed class ScaleOffsetCodec : IArrayToArrayCodec
{
    public const string CodecName = "cf_scale_offset";

    private readonly DataType _packed;
    private readonly DataType _unpacked;
    private readonly double? _scale;
    private readonly double? _offset;
    private readonly double[] _mask;
    private readonly double _validMin;
    private readonly double _validMax;

    public ScaleOffsetCodec(DataType packed, DataType unpacked, double? scale, double? offset, double[] mask, double? validMin, double? validMax)
    {
        if (unpacked != DataType.Float32 && unpacked != DataType.Float64)
        {
            throw new ArgumentException($"codec {CodecName} decodes to float32 or float64, but the array's data type is {unpacked}.", "Codecs");
        }

        if (packed.IsComplex || packed.IsBool || packed == DataType.Float16)
        {
            throw new ArgumentException($"codec {CodecName} cannot unpack {packed}.", "Codecs");
        }

        if (scale == 0)
        {
            throw new ArgumentException($"codec {CodecName} configuration \"scale_factor\" must not be 0.", "Codecs");
        }

        _packed = packed;
        _unpacked = unpacked;
        _scale = scale;
        _offset = offset;
        _mask = mask;
        _validMin = validMin ?? double.NegativeInfinity;
        _validMax = validMax ?? double.PositiveInfinity;
    }

    public string Name => CodecName;

    public DataType EncodedType => _packed;

    public int[] EncodedShape(int[] decodedShape) => decodedShape;

    public byte[] Decode(ReadOnlySpan<byte> data, int[] decodedShape, int elementSize)
    {
        var count = data.Length / _packed.Size;
        var output = new byte[count * _unpacked.Size];
        if (_unpacked == DataType.Float32)
        {
            var values = MemoryMarshal.Cast<byte, float>(output.AsSpan());
            float scale = (float)(_scale ?? 1), offset = (float)(_offset ?? 0);
            for (var i = 0; i < count; i++)
            {
                var packed = ReadPacked(data, i);
                if (IsMasked(packed))
                {
                    values[i] = float.NaN;
                    continue;
                }

                var value = (float)packed;
                if (_scale.HasValue)
                {
                    value *= scale;
                }

                if (_offset.HasValue)
                {
                    value += offset;
                }

                values[i] = value;
            }
        }
        else
        {
            var values = MemoryMarshal.Cast<byte, double>(output.AsSpan());
            double scale = _scale ?? 1, offset = _offset ?? 0;
            for (var i = 0; i < count; i++)
            {
                var packed = ReadPacked(data, i);
                if (IsMasked(packed))
                {
                    values[i] = double.NaN;
                    continue;
                }

                var value = packed;
                if (_scale.HasValue)
                {
                    value *= scale;
                }

                if (_offset.HasValue)
                {
                    value += offset;
                }

                values[i] = value;
            }
        }

        return output;
    }

    public byte[] Encode(ReadOnlySpan<byte> data, int[] decodedShape, int elementSize)
    {
        var count = data.Length / _unpacked.Size;
        var output = new byte[count * _packed.Size];
        for (var i = 0; i < count; i++)
        {
            var value = _unpacked == DataType.Float32
                ? MemoryMarshal.Cast<byte, float>(data)[i]
                : MemoryMarshal.Cast<byte, double>(data)[i];
            double packed;
            if (double.IsNaN(value))
            {
                packed = _mask.Length > 0
                    ? _mask[0]
                    : throw new CodecException($"{CodecName}: element {i} is NaN but no mask value is configured to store it.");
            }
            else
            {
                packed = (value - (_offset ?? 0)) / (_scale ?? 1);
                if (_packed.IsInteger)
                {
                    packed = Math.Round(packed, MidpointRounding.ToEven);
                }
            }

            WritePacked(output, i, packed);
        }

        return output;
    }

    private bool IsMasked(double packed)
    {
        foreach (var masked in _mask)
        {
            if (packed == masked)
            {
                return true;
            }
        }

        return packed < _validMin || packed > _validMax;
    }

    private double ReadPacked(ReadOnlySpan<byte> data, int i)
    {
        var at = data.Slice(i * _packed.Size, _packed.Size);
        return _packed.Name switch
        {
            "int8" => (sbyte)at[0],
            "uint8" => at[0],
            "int16" => BinaryPrimitives.ReadInt16LittleEndian(at),
            "uint16" => BinaryPrimitives.ReadUInt16LittleEndian(at),
            "int32" => BinaryPrimitives.ReadInt32LittleEndian(at),
            "uint32" => BinaryPrimitives.ReadUInt32LittleEndian(at),
            "int64" => BinaryPrimitives.ReadInt64LittleEndian(at),
            "uint64" => BinaryPrimitives.ReadUInt64LittleEndian(at),
            "float32" => BinaryPrimitives.ReadSingleLittleEndian(at),
            "float64" => BinaryPrimitives.ReadDoubleLittleEndian(at),
            _ => throw new InvalidOperationException($"{CodecName} cannot read {_packed}."),
        };
    }

    private void WritePacked(Span<byte> output, int i, double value)
    {
        var at = output.Slice(i * _packed.Size, _packed.Size);
        if (_packed.IsInteger && (value < MinOf(_packed) || value > MaxOf(_packed)))
        {
            throw new CodecException($"{CodecName}: element {i} packs to {value}, outside the range of {_packed}.");
        }

        switch (_packed.Name)
        {
            case "int8": at[0] = (byte)(sbyte)value; break;
            case "uint8": at[0] = (byte)value; break;
            case "int16": BinaryPrimitives.WriteInt16LittleEndian(at, (short)value); break;
            case "uint16": BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)value); break;
            case "int32": BinaryPrimitives.WriteInt32LittleEndian(at, (int)value); break;
            case "uint32": BinaryPrimitives.WriteUInt32LittleEndian(at, (uint)value); break;
            case "int64": BinaryPrimitives.WriteInt64LittleEndian(at, (long)value); break;
            case "uint64": BinaryPrimitives.WriteUInt64LittleEndian(at, (ulong)value); break;
            case "float32": BinaryPrimitives.WriteSingleLittleEndian(at, (float)value); break;
            case "float64": BinaryPrimitives.WriteDoubleLittleEndian(at, value); break;
            default: throw new InvalidOperationException($"{CodecName} cannot write {_packed}.");
        }
    }

    private static double MinOf(DataType type) => type.IsSignedInteger ? -Math.Pow(2, (type.Size * 8) - 1) : 0;

    private static double MaxOf(DataType type) => type.IsSignedInteger ? Math.Pow(2, (type.Size * 8) - 1) - 1 : Math.Pow(2, type.Size * 8) - 1;
}
