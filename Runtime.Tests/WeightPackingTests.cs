// WeightPacking.PackStrips lays conv weights out as the packed forward reads them: strips of W^T, each
// [depth x width] contiguous. Checked element by element against the index formula, and its refusals.
using System;
using CnnGen;
using Xunit;

namespace CnnGen.Runtime.Tests
{
    public sealed class WeightPackingTests
    {
        [Theory]
        [InlineData(64, 9, 32)]
        [InlineData(32, 27, 16)]
        [InlineData(16, 5, 8)]
        public void Packed_element_k_of_channel_m_sits_in_its_strip_row_k_lane_m_mod_width(int rows, int depth, int width)
        {
            var w = new float[rows * depth];
            for (int i = 0; i < w.Length; i++) w[i] = i; // each value names its (m, k)
            var packed = new float[w.Length];
            WeightPacking.PackStrips(w, packed, rows, depth, width);
            for (int m = 0; m < rows; m++)
                for (int k = 0; k < depth; k++)
                    Assert.Equal(m * depth + k, packed[(m / width) * depth * width + k * width + m % width]);
        }

        [Fact]
        public void Refuses_ragged_strips_and_wrong_lengths_with_the_sizes_in_the_message()
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => WeightPacking.PackStrips(new float[40 * 9], new float[40 * 9], 40, 9, 32));
            Assert.Contains("40 rows", ex.Message);
            var shortWeights = Assert.Throws<ArgumentException>(() => WeightPacking.PackStrips(new float[63 * 9], new float[64 * 9], 64, 9, 32));
            Assert.Contains("567", shortWeights.Message);
            var shortPacked = Assert.Throws<ArgumentException>(() => WeightPacking.PackStrips(new float[64 * 9], new float[100], 64, 9, 32));
            Assert.Contains("576", shortPacked.Message);
        }
    }
}
