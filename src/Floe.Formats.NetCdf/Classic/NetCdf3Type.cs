using System.Buffers.Binary;
using Floe.Core;

namespace Floe.Formats.NetCdf;

/// <summary>The external types of NetCDF-3 files (nc_type). The last five exist only in CDF-5 files.</summary>
public enum NetCdf3Type
{
    Byte = 1,
    Char = 2,
    Short = 3,
    Int = 4,
    Float = 5,
    Double = 6,
    UByte = 7,
    UShort = 8,
    UInt = 9,
    Int64 = 10,
    UInt64 = 11,
}

/// <summary>Sizes, names, Floe data types and default fill values of <see cref="NetCdf3Type"/>.</summary>
public static class NetCdf3Types
{
    /// <summary>True when <paramref name="code"/> is a type the given format version may use.</summary>
    public static bool IsDefined(int code, NetCdf3Version version) =>
        code >= (int)NetCdf3Type.Byte && code <= (version == NetCdf3Version.Data64 ? (int)NetCdf3Type.UInt64 : (int)NetCdf3Type.Double);

    /// <summary>Bytes per value in the file.</summary>
    public static int SizeOf(NetCdf3Type type) => type switch
    {
        NetCdf3Type.Byte or NetCdf3Type.Char or NetCdf3Type.UByte => 1,
        NetCdf3Type.Short or NetCdf3Type.UShort => 2,
        NetCdf3Type.Int or NetCdf3Type.UInt or NetCdf3Type.Float => 4,
        NetCdf3Type.Double or NetCdf3Type.Int64 or NetCdf3Type.UInt64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a NetCDF-3 type"),
    };

    /// <summary>The CDL name ("byte", "short", "ubyte", ...).</summary>
    public static string NameOf(NetCdf3Type type) => type switch
    {
        NetCdf3Type.Byte => "byte",
        NetCdf3Type.Char => "char",
        NetCdf3Type.Short => "short",
        NetCdf3Type.Int => "int",
        NetCdf3Type.Float => "float",
        NetCdf3Type.Double => "double",
        NetCdf3Type.UByte => "ubyte",
        NetCdf3Type.UShort => "ushort",
        NetCdf3Type.UInt => "uint",
        NetCdf3Type.Int64 => "int64",
        NetCdf3Type.UInt64 => "uint64",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a NetCDF-3 type"),
    };

    /// <summary>The Floe data type of a numeric type; null for <see cref="NetCdf3Type.Char"/>.</summary>
    public static DataType? ToDataType(NetCdf3Type type) => type switch
    {
        NetCdf3Type.Byte => DataType.Int8,
        NetCdf3Type.Short => DataType.Int16,
        NetCdf3Type.Int => DataType.Int32,
        NetCdf3Type.Float => DataType.Float32,
        NetCdf3Type.Double => DataType.Float64,
        NetCdf3Type.UByte => DataType.UInt8,
        NetCdf3Type.UShort => DataType.UInt16,
        NetCdf3Type.UInt => DataType.UInt32,
        NetCdf3Type.Int64 => DataType.Int64,
        NetCdf3Type.UInt64 => DataType.UInt64,
        NetCdf3Type.Char => null,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a NetCDF-3 type"),
    };

    /// <summary>
    /// NetCDF's default fill value (NC_FILL_*) as the type's big-endian bytes: -127, -32767, -2147483647,
    /// 9.9692099683868690e+36, 255, 65535, 4294967295, -9223372036854775806, 18446744073709551614, and NUL for char.
    /// </summary>
    public static byte[] DefaultFillBigEndian(NetCdf3Type type)
    {
        var bytes = new byte[SizeOf(type)];
        switch (type)
        {
            case NetCdf3Type.Byte: bytes[0] = unchecked((byte)(sbyte)-127); break;
            case NetCdf3Type.Char: break;
            case NetCdf3Type.Short: BinaryPrimitives.WriteInt16BigEndian(bytes, -32767); break;
            case NetCdf3Type.Int: BinaryPrimitives.WriteInt32BigEndian(bytes, -2147483647); break;
            case NetCdf3Type.Float: BinaryPrimitives.WriteSingleBigEndian(bytes, 9.9692099683868690e+36f); break;
            case NetCdf3Type.Double: BinaryPrimitives.WriteDoubleBigEndian(bytes, 9.9692099683868690e+36); break;
            case NetCdf3Type.UByte: bytes[0] = 255; break;
            case NetCdf3Type.UShort: BinaryPrimitives.WriteUInt16BigEndian(bytes, 65535); break;
            case NetCdf3Type.UInt: BinaryPrimitives.WriteUInt32BigEndian(bytes, 4294967295); break;
            case NetCdf3Type.Int64: BinaryPrimitives.WriteInt64BigEndian(bytes, -9223372036854775806); break;
            case NetCdf3Type.UInt64: BinaryPrimitives.WriteUInt64BigEndian(bytes, 18446744073709551614); break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, "not a NetCDF-3 type");
        }

        return bytes;
    }
}
