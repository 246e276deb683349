namespace Floe.Core;

/// <summary>HDF5's Fletcher-32 checksum (H5_checksum_fletcher32), which numcodecs.fletcher32 reproduces.</summary>
public static class Fletcher32
{
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        // HDF5 reads big-endian 16-bit words and folds the sums every 360 words; uint wrap-around
        // inside a block is part of the reference behaviour, so the arithmetic is kept exactly as in C.
        uint sum1 = 0, sum2 = 0;
        var words = data.Length / 2;
        var p = 0;
        while (words > 0)
        {
            var block = Math.Min(words, 360);
            words -= block;
            for (var i = 0; i < block; i++, p += 2)
            {
                sum1 += (uint)((data[p] << 8) | data[p + 1]);
                sum2 += sum1;
            }

            sum1 = (sum1 & 0xFFFF) + (sum1 >> 16);
            sum2 = (sum2 & 0xFFFF) + (sum2 >> 16);
        }

        if ((data.Length & 1) != 0)
        {
            sum1 += (uint)(data[p] << 8);
            sum2 += sum1;
            sum1 = (sum1 & 0xFFFF) + (sum1 >> 16);
            sum2 = (sum2 & 0xFFFF) + (sum2 >> 16);
        }

        sum1 = (sum1 & 0xFFFF) + (sum1 >> 16);
        sum2 = (sum2 & 0xFFFF) + (sum2 >> 16);
        return (sum2 << 16) | sum1;
    }

    /// <summary>
    /// The checksum with the bytes of each 16-bit half swapped, which HDF5 before 1.6.3 wrote on
    /// little-endian machines; HDF5 still accepts it when verifying, so we do too.
    /// </summary>
    public static uint Reversed(uint checksum) => ((checksum & 0x00FF00FF) << 8) | ((checksum >> 8) & 0x00FF00FF);
}
