// Conv weights repacked for the generated forward kernels of convs with many more output channels than output pixels
// (ResNet's 7 x 7 stages at batch 1: 512 channels, 49 pixels). Those kernels compute the transposed product
// C^T[pixel, channel] = col^T * W^T with the output channels as the vector dimension, so that 49 pixels fill register
// tiles (7 of 7 rows) where 49 columns would not fill vectors (32 + 16 + 1). Their B operand is W^T in
// strips of one panel width of output channels, each strip [depth x width] contiguous: the kernel streams it straight
// from here without packing it per call. The packing changes only when the weights do.
using System;

namespace CnnGen
{
    public static class WeightPacking
    {
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
