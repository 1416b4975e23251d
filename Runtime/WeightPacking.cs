// Conv weights repacked for the generated forward kernels of convs with many more output channels than output pixels
// (ResNet's 7 x 7 stages at batch 1: 512 channels, 49 pixels). Those kernels compute the transposed product
// C^T[pixel, channel] = col^T * W^T with the output channels as the vector dimension, so that 49 pixels fill register
// tiles (7 of 7 rows) where 49 columns would not fill vectors (32 + 16 + 1). Their B operand is W^T in
// strips of one panel width of output channels, each strip [depth x width] contiguous: the kernel streams it straight
// from here without packing it per call. The packing changes only when the weights do.
//
// Such a conv that is 3x3 with stride 1 and padding 1 runs its inference forward as Winograd F(2x2, 3x3) instead (Lavin &
// Gray 2015): its packed weights are the 16 transformed matrices U[xi] = (G g G^T)[xi], each as the same strips of U^T.
using System;

namespace CnnGen
{
    public static class WeightPacking
    {
        /// <summary>Transform positions of Winograd F(2x2, 3x3): 4 x 4.</summary>
        public const int WinogradPositions = 16;

        /// <summary>Winograd F(2x2, 3x3) weights in strips: packed[xi * rows * depth + (m / width) * depth * width + c * width +
        /// m % width] = (G g[m][c] G^T)[xi] for the 16 positions xi = 4i + j of the 4x4 transform, where g[m][c] is the 3x3
        /// filter from input channel c to output channel m (PyTorch's [rows, depth, 3, 3]) and G = [1 0 0; 1/2 1/2 1/2;
        /// 1/2 -1/2 1/2; 0 0 1]. Each position's matrix is laid out as <see cref="PackStrips"/> lays out W^T, with depth
        /// = input channels.</summary>
        public static void PackWinogradStrips(ReadOnlySpan<float> weights, Span<float> packed, int rows, int depth, int width)
        {
            if (rows < 1 || depth < 1 || width < 1 || rows % width != 0)
                throw new ArgumentOutOfRangeException(nameof(rows), $"WeightPacking.PackWinogradStrips needs a whole number of {width}-wide strips of output channels and at least 1 input channel (got {rows} output channels, {depth} input channels).");
            long pairs = (long)rows * depth;
            if (weights.Length != pairs * 9)
                throw new ArgumentException($"weights hold {weights.Length} floats, but {rows} x {depth} 3x3 filters are {pairs * 9}.", nameof(weights));
            if (packed.Length != pairs * WinogradPositions)
                throw new ArgumentException($"packed holds {packed.Length} floats, but the F(2x2, 3x3) weights of {rows} x {depth} filters are {pairs * WinogradPositions} (16 x {pairs}).", nameof(packed));
            Span<float> gg = stackalloc float[12];
            for (int m = 0; m < rows; m++)
            {
                long lane = (long)(m / width) * depth * width + m % width;
                for (int c = 0; c < depth; c++)
                {
                    ReadOnlySpan<float> g = weights.Slice((int)((m * (long)depth + c) * 9), 9);
                    // G g: 4 rows of 3 (G's rows applied to the filter's columns)
                    for (int k = 0; k < 3; k++)
                    {
                        float g0 = g[k], g1 = g[3 + k], g2 = g[6 + k];
                        gg[k] = g0;
                        gg[3 + k] = 0.5f * (g0 + g1 + g2);
                        gg[6 + k] = 0.5f * (g0 - g1 + g2);
                        gg[9 + k] = g2;
                    }
                    // (G g) G^T: each row r of G g through G^T into positions 4r .. 4r + 3
                    for (int r = 0; r < 4; r++)
                    {
                        float a = gg[3 * r], b = gg[3 * r + 1], d = gg[3 * r + 2];
                        long at = lane + (long)c * width;
                        packed[(int)((4 * r) * pairs + at)] = a;
                        packed[(int)((4 * r + 1) * pairs + at)] = 0.5f * (a + b + d);
                        packed[(int)((4 * r + 2) * pairs + at)] = 0.5f * (a - b + d);
                        packed[(int)((4 * r + 3) * pairs + at)] = d;
                    }
                }
            }
        }

        /// <summary>packed[(m / width) * depth * width + k * width + m % width] = weights[m * depth + k]: the row-major
        /// [rows x depth] weights (PyTorch's conv weight [cout, cin, kh, kw] is [cout x cin * kh * kw]) as column strips of
        /// W^T, <paramref name="width"/> output channels each.</summary>
        public static void PackStrips(ReadOnlySpan<float> weights, Span<float> packed, int rows, int depth, int width)
        {
            if (rows < 1 || depth < 1 || width < 1 || rows % width != 0)
                throw new ArgumentOutOfRangeException(nameof(rows), $"WeightPacking.PackStrips needs a whole number of {width}-wide strips of rows and a depth of at least 1 (got {rows} rows, depth {depth}).");
            long length = (long)rows * depth;
            if (weights.Length != length)
                throw new ArgumentException($"weights hold {weights.Length} floats, but {rows} x {depth} are {length}.", nameof(weights));
            if (packed.Length != length)
                throw new ArgumentException($"packed holds {packed.Length} floats, but {rows} x {depth} weights need {length}.", nameof(packed));
            for (int j = 0; j < rows; j += width)
            {
                Span<float> strip = packed.Slice(j * depth, depth * width);
                for (int i = 0; i < width; i++)
                {
                    ReadOnlySpan<float> row = weights.Slice((j + i) * depth, depth);
                    for (int k = 0; k < depth; k++) strip[k * width + i] = row[k];
                }
            }
        }
    }
}
