namespace Floe.Rechunk.Tests;

public sealed class BoxCopyTests
{
    // The oracle: one element at a time, index arithmetic written out.
    private static void NaiveCopy(byte[] source, long[] sourceShape, long[] sourceStart, byte[] destination, long[] destinationShape, long[] destinationStart, long[] extent, int elementSize)
    {
        var rank = extent.Length;
        var count = extent.Aggregate(1L, (a, b) => a * b);
        var index = new long[rank];
        for (long k = 0; k < count; k++)
        {
            var rest = k;
            for (var d = rank - 1; d >= 0; d--)
            {
                index[d] = rest % extent[d];
                rest /= extent[d];
            }

            long s = 0, t = 0;
            for (var d = 0; d < rank; d++)
            {
                s = (s * sourceShape[d]) + sourceStart[d] + index[d];
                t = (t * destinationShape[d]) + destinationStart[d] + index[d];
            }

            Array.Copy(source, s * elementSize, destination, t * elementSize, elementSize);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(3, 8)]
    [InlineData(4, 1)]
    [InlineData(3, 3)]
    [InlineData(2, 16)]
    public void Random_boxes_copy_exactly_as_element_by_element(int rank, int elementSize)
    {
        var random = new Random((rank * 31) + elementSize);
        for (var trial = 0; trial < 300; trial++)
        {
            var sourceShape = Enumerable.Range(0, rank).Select(_ => (long)random.Next(1, 9)).ToArray();
            var destinationShape = Enumerable.Range(0, rank).Select(_ => (long)random.Next(1, 9)).ToArray();
            // Some trials copy whole trailing dimensions, which the copy merges into one run.
            if (trial % 3 == 0)
            {
                destinationShape[^1] = sourceShape[^1];
            }

            var extent = new long[rank];
            var sourceStart = new long[rank];
            var destinationStart = new long[rank];
            for (var d = 0; d < rank; d++)
            {
                var max = Math.Min(sourceShape[d], destinationShape[d]);
                extent[d] = trial % 3 == 0 && d == rank - 1 ? max : random.Next(1, (int)max + 1);
                sourceStart[d] = random.Next(0, (int)(sourceShape[d] - extent[d]) + 1);
                destinationStart[d] = random.Next(0, (int)(destinationShape[d] - extent[d]) + 1);
            }

            var source = new byte[BoxCopy.Volume(sourceShape) * elementSize];
            random.NextBytes(source);
            var expected = new byte[BoxCopy.Volume(destinationShape) * elementSize];
            random.NextBytes(expected);
            var actual = (byte[])expected.Clone();
            NaiveCopy(source, sourceShape, sourceStart, expected, destinationShape, destinationStart, extent, elementSize);
            BoxCopy.Copy(source, sourceShape, sourceStart, actual, destinationShape, destinationStart, extent, elementSize);
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void A_box_outside_either_array_is_refused()
    {
        var buffer = new byte[64];
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => BoxCopy.Copy(buffer, [4, 4], [2, 0], buffer, [4, 4], [0, 0], [3, 4], 4));
        Assert.Contains("dimension 0", error.Message, StringComparison.Ordinal);
    }
}

public sealed class UnitPlanTests
{
    [Fact]
    public void A_unit_covers_whole_source_chunks_where_they_are_longer_than_target_chunks()
    {
        // IMERG-like: one time step per source chunk of 15 x 180; time-series target chunks.
        var unit = UnitPlan.ChooseUnitShape([100, 360, 180], [1, 15, 180], [50, 10, 10], 4, 1L << 30);

        Assert.Equal([50, 30, 180], unit!);
    }

    [Fact]
    public void A_tight_budget_halves_the_widest_dimension_in_whole_target_chunks()
    {
        var unit = UnitPlan.ChooseUnitShape([100, 360, 180], [1, 15, 180], [50, 10, 10], 4, 50 * 30 * 90 * 4);

        Assert.NotNull(unit);
        Assert.True(BoxCopy.Volume(unit) * 4 <= 50 * 30 * 90 * 4);
        Assert.Equal(50, unit![0]);
        Assert.All(unit.Zip(new long[] { 50, 10, 10 }), p => Assert.Equal(0, p.First % p.Second));
    }

    [Fact]
    public void No_unit_when_one_target_chunk_does_not_fit()
    {
        Assert.Null(UnitPlan.ChooseUnitShape([100, 10], [1, 10], [100, 10], 8, (100 * 10 * 8) - 1));
    }

    [Fact]
    public void Units_are_numbered_row_major_and_clipped_at_the_edges()
    {
        var plan = new UnitPlan([10, 7], [4, 3], [2, 3]);

        Assert.Equal([3, 3], plan.Grid);
        Assert.Equal(9, plan.UnitCount);
        Assert.Equal([1, 2], plan.UnitCoords(5));
        Assert.Equal(5, plan.UnitIndex([1, 2]));
        var (origin, extent) = plan.Box([2, 2]);
        Assert.Equal([8, 6], origin);
        Assert.Equal([2, 1], extent);
    }
}
