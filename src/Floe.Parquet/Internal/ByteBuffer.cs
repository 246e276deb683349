using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Floe.Parquet.Internal;

/// <summary>A growable byte buffer over pooled arrays. Dispose returns the array to the pool.</summary>
internal sealed class ByteBuffer : IDisposable
{
    private byte[] _array;
    private int _length;

    public ByteBuffer(int capacity = 4096)
    {
        _array = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 16));
    }

    public int Length => _length;

    public Span<byte> WrittenSpan => _array.AsSpan(0, _length);

    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, _length);

    public void Clear() => _length = 0;

    /// <summary>Space for at least <paramref name="size"/> more bytes, to be committed with <see cref="Advance"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> GetSpan(int size)
    {
        if (_array.Length - _length < size)
        {
            Grow(size);
        }

        return _array.AsSpan(_length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Advance(int count) => _length += count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteByte(byte value)
    {
        if (_length == _array.Length)
        {
            Grow(1);
        }

        _array[_length++] = value;
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        data.CopyTo(GetSpan(data.Length));
        _length += data.Length;
    }

    public void WriteInt32LittleEndian(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(GetSpan(4), value);
        _length += 4;
    }

    /// <summary>Writes an unsigned LEB128 varint.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteVarint(ulong value)
    {
        var span = GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        _length += i;
    }

    /// <summary>Reserves <paramref name="count"/> bytes to fill later through <see cref="WrittenSpan"/>; returns their offset.</summary>
    public int Reserve(int count)
    {
        GetSpan(count);
        var offset = _length;
        _length += count;
        return offset;
    }

    private void Grow(int size)
    {
        var needed = (long)_length + size;
        var capacity = Math.Max(needed, Math.Min((long)_array.Length * 2, Array.MaxLength));
        if (needed > Array.MaxLength)
        {
            throw new InvalidOperationException($"A Parquet buffer would exceed {Array.MaxLength} bytes.");
        }

        var next = ArrayPool<byte>.Shared.Rent((int)capacity);
        _array.AsSpan(0, _length).CopyTo(next);
        ArrayPool<byte>.Shared.Return(_array);
        _array = next;
    }

    public void Dispose()
    {
        var array = _array;
        _array = [];
        _length = 0;
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}

/// <summary>A rented array with its wanted length; Dispose returns it.</summary>
internal struct Pooled<T> : IDisposable
{
    public T[] Array;

    public Pooled(int length)
    {
        Array = length == 0 ? [] : ArrayPool<T>.Shared.Rent(length);
    }

    public void Dispose()
    {
        if (Array is { Length: > 0 } array)
        {
            ArrayPool<T>.Shared.Return(array);
        }

        Array = [];
    }
}
