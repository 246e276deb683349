namespace Floe.Store;

/// <summary>How an array's chunk grid is cut into manifest shards: fixed boxes of chunk coordinates.</summary>
public static class ShardLayout
{
    /// <summary>
    /// Keeps every dimension but the first as wide as the grid is at creation and gives the first dimension
    /// (the one appended along) what is left of the target, so appends fill whole new shards.
    /// </summary>
    public static long[] DefaultShape(IReadOnlyList<long> gridShape, int refsPerShard)
    {
        var rank = gridShape.Count;
        var shape = new long[Math.Max(rank, 0)];
        if (rank == 0)
        {
            return shape;
        }

        long remaining = Math.Max(1, refsPerShard);
        for (var d = rank - 1; d >= 1; d--)
        {
            shape[d] = Math.Clamp(gridShape[d], 1, remaining);
            remaining = Math.Max(1, remaining / shape[d]);
        }

        shape[0] = remaining;
        return shape;
    }

    public static void Validate(long[] shardShape, int rank, string arrayPath)
    {
        if (shardShape.Length != rank || shardShape.Any(s => s < 1))
        {
            throw new ArgumentException($"array '{arrayPath}': shard shape [{string.Join(", ", shardShape)}] must have {rank} dimensions of at least 1", nameof(shardShape));
        }

        long box = 1;
        foreach (var s in shardShape)
        {
            box = s > int.MaxValue / box ? long.MaxValue : box * s;
        }

        if (box > int.MaxValue)
        {
            throw new ArgumentException($"array '{arrayPath}': shard shape [{string.Join(", ", shardShape)}] holds more than {int.MaxValue} chunks", nameof(shardShape));
        }
    }

    /// <summary>Every coordinate vector from <paramref name="first"/> to <paramref name="last"/> inclusive, row-major; none when a dimension is empty.</summary>
    public static IEnumerable<long[]> CoordsBetween(long[] first, long[] last)
    {
        for (var d = 0; d < first.Length; d++)
        {
            if (last[d] < first[d])
            {
                yield break;
            }
        }

        var coords = (long[])first.Clone();
        while (true)
        {
            yield return (long[])coords.Clone();
            var d = coords.Length - 1;
            while (d >= 0 && ++coords[d] > last[d])
            {
                coords[d] = first[d];
                d--;
            }

            if (d < 0)
            {
                yield break;
            }
        }
    }

    public static long[] ShardOf(ReadOnlySpan<long> chunkCoords, long[] shardShape)
    {
        var shard = new long[shardShape.Length];
        for (var d = 0; d < shard.Length; d++)
        {
            shard[d] = chunkCoords[d] / shardShape[d];
        }

        return shard;
    }

    public static long[] OriginOf(long[] shardCoords, long[] shardShape)
    {
        var origin = new long[shardShape.Length];
        for (var d = 0; d < origin.Length; d++)
        {
            origin[d] = shardCoords[d] * shardShape[d];
        }

        return origin;
    }

    /// <summary>The chunk coordinates of a row-major position inside the shard box at <paramref name="origin"/>.</summary>
    public static void CoordsAt(long position, ReadOnlySpan<long> origin, ReadOnlySpan<long> shardShape, Span<long> chunkCoords)
    {
        for (var d = shardShape.Length - 1; d >= 0; d--)
        {
            chunkCoords[d] = origin[d] + (position % shardShape[d]);
            position /= shardShape[d];
        }
    }

    public static long PositionIn(ReadOnlySpan<long> chunkCoords, long[] shardShape)
    {
        long position = 0;
        for (var d = 0; d < shardShape.Length; d++)
        {
            position = (position * shardShape[d]) + (chunkCoords[d] % shardShape[d]);
        }

        return position;
    }
}

/// <summary>Value equality for coordinate arrays, to key dictionaries by shard or chunk.</summary>
public sealed class CoordsComparer : IEqualityComparer<long[]>, IComparer<long[]>
{
    public static readonly CoordsComparer Instance = new();

    public bool Equals(long[]? x, long[]? y) => x is not null && y is not null && x.AsSpan().SequenceEqual(y);

    public int GetHashCode(long[] obj)
    {
        var hash = new HashCode();
        foreach (var v in obj)
        {
            hash.Add(v);
        }

        return hash.ToHashCode();
    }

    public int Compare(long[]? x, long[]? y) => x.AsSpan().SequenceCompareTo(y);
}
