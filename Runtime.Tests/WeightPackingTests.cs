// WeightPacking.PackStrips lays conv weights out as the packed forward reads them: strips of W^T, each
// [depth x width] contiguous. Checked element by element against the index formula, and its refusals. PackWinogradStrips
// (the F(2x2, 3x3) weights of the packed 3x3 convs) is checked by the tile products it exists for.
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

        // The packed F(2x2, 3x3) weights, checked through what they are for: for every filter, Y = A^T [U .* (B^T d B)] A on a
        // random 4x4 input tile d (with U read from its 16 strips) equals the direct 2x2 correlation of d with the filter.
        [Theory]
        [InlineData(32, 3, 16)]
        [InlineData(64, 5, 32)]
        public void Packed_Winograd_weights_turn_a_4x4_tile_into_its_2x2_correlation(int rows, int depth, int width)
        {
            var rng = new Random(7);
            var w = new float[rows * depth * 9];
            for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1);
            var packed = new float[16 * rows * depth];
            WeightPacking.PackWinogradStrips(w, packed, rows, depth, width);
            double[,] bt = { { 1, 0, -1, 0 }, { 0, 1, 1, 0 }, { 0, -1, 1, 0 }, { 0, 1, 0, -1 } };
            double[,] at = { { 1, 1, 1, 0 }, { 0, 1, -1, -1 } };
            long pairs = (long)rows * depth;
            for (int m = 0; m < rows; m++)
                for (int c = 0; c < depth; c++)
                {
                    var d = new double[4, 4];
                    for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) d[i, j] = rng.NextDouble() * 2 - 1;
                    // V = B^T d B, then M = U .* V
                    var v = new double[4, 4];
                    for (int i = 0; i < 4; i++)
                        for (int j = 0; j < 4; j++)
                            for (int a = 0; a < 4; a++)
                                for (int b = 0; b < 4; b++) v[i, j] += bt[i, a] * d[a, b] * bt[j, b];
                    var mm = new double[4, 4];
                    for (int i = 0; i < 4; i++)
                        for (int j = 0; j < 4; j++)
                            mm[i, j] = v[i, j] * packed[(4 * i + j) * pairs + (m / width) * depth * width + c * width + m % width];
                    for (int oy = 0; oy < 2; oy++)
                        for (int ox = 0; ox < 2; ox++)
                        {
                            double y = 0, direct = 0, scale = 0;
                            for (int a = 0; a < 4; a++)
                                for (int b = 0; b < 4; b++) y += at[oy, a] * mm[a, b] * at[ox, b];
                            for (int kh = 0; kh < 3; kh++)
                                for (int kw = 0; kw < 3; kw++)
                                {
                                    double term = w[(m * depth + c) * 9 + kh * 3 + kw] * d[oy + kh, ox + kw];
                                    direct += term;
                                    scale += Math.Abs(term);
                                }
                            Assert.True(Math.Abs(y - direct) <= 1e-5 * (1 + scale), $"filter ({m}, {c}), output ({oy}, {ox}): Winograd {y}, direct {direct}");
                        }
                }
        }

        [Fact]
        public void Winograd_packing_refuses_ragged_strips_and_wrong_lengths_with_the_sizes_in_the_message()
        {
            var ragged = Assert.Throws<ArgumentOutOfRangeException>(() => WeightPacking.PackWinogradStrips(new float[40 * 4 * 9], new float[40 * 4 * 16], 40, 4, 32));
            Assert.Contains("40 output channels", ragged.Message);
            var shortWeights = Assert.Throws<ArgumentException>(() => WeightPacking.PackWinogradStrips(new float[64 * 4 * 9 - 1], new float[64 * 4 * 16], 64, 4, 32));
            Assert.Contains("2304", shortWeights.Message);
            var shortPacked = Assert.Throws<ArgumentException>(() => WeightPacking.PackWinogradStrips(new float[64 * 4 * 9], new float[64 * 4 * 9], 64, 4, 32));
            Assert.Contains("4096", shortPacked.Message);
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
