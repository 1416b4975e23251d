// Winograd F(4x4, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2015): a 3x3 stride-1
// convolution computed on 6x6 input tiles that each yield a 4x4 output tile,
//     Y = A^T [ sum_c (G g_c G^T) .* (B^T d_c B) ] A,
// 36 multiplications per tile and channel pair instead of 144. The generated kernels transform the input tiles (B^T d B)
// and the outputs (A^T M A) and run the 36 elementwise products summed over channels as 36 GEMMs; this file transforms
// the weights (G g G^T), which changes only when the weights do. Interpolation points 0, +-1, +-2 (and infinity).
using System;
using System.Numerics;

namespace CnnGen
{
    public static class Winograd
    {
        /// <summary>Transform positions per tile (6 x 6).</summary>
        public const int Positions = 36;

        // G (6 x 3): the filter transform.
        private static readonly double[,] G =
        {
            { 1.0 / 4, 0, 0 },
            { -1.0 / 6, -1.0 / 6, -1.0 / 6 },
            { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
            { 1.0 / 24, 1.0 / 12, 1.0 / 6 },
            { 1.0 / 24, -1.0 / 12, 1.0 / 6 },
            { 0, 0, 1 },
        };

        /// <summary>Floats the transformed weights of a conv with <paramref name="outChannels"/> x <paramref name="inChannels"/>
        /// 3x3 filters take: 36 matrices of outChannels x inChannels.</summary>
        public static long TransformedLength(int outChannels, int inChannels) => (long)Positions * outChannels * inChannels;

        /// <summary>U[xi][m][c] = (G g[m][c] G^T)[xi] for the forward pass: <paramref name="weight"/> is PyTorch's
        /// [outChannels, inChannels, 3, 3]; U is 36 row-major [outChannels x inChannels] matrices (the GEMMs' A operand).
        /// With <paramref name="transposeFlip"/> it transforms the weights of the input-gradient pass instead, a 3x3
        /// convolution from the outChannels of dy to the inChannels of dx with each filter rotated by 180 degrees:
        /// U[xi][c][m] = (G rot180(g[m][c]) G^T)[xi].</summary>
        public static void TransformWeights(ReadOnlySpan<float> weight, int outChannels, int inChannels, Span<float> transformed, bool transposeFlip = false)
        {
            long plane = (long)outChannels * inChannels;
            if (outChannels < 1 || inChannels < 1)
                throw new ArgumentOutOfRangeException(nameof(outChannels), $"Winograd.TransformWeights needs at least one input and one output channel (got {outChannels} x {inChannels}).");
            if (weight.Length != plane * 9)
                throw new ArgumentException($"weight holds {weight.Length} floats, but {outChannels} x {inChannels} 3x3 filters are {plane * 9}.", nameof(weight));
            if (transformed.Length != Positions * plane)
                throw new ArgumentException($"transformed holds {transformed.Length} floats, but the Winograd F(4x4, 3x3) weights of {outChannels} x {inChannels} filters are {Positions * plane} (36 x {plane}).", nameof(transformed));
            // Filters in blocks of one vector (Vector<float>.Count filters side by side), through G g (6 x 3) and then
            // (G g) G^T (6 x 6): 162 multiply-adds per filter, stored as 36 rows of the block. Filter f of the block is
            // U's column at + f: m * inChannels + c forward; c * outChannels + m for the input gradient.
            int width = Vector<float>.Count;
            Span<float> block = stackalloc float[9 * width]; // [a * 3 + b][filter]
            Span<Vector<float>> gg = stackalloc Vector<float>[18];
            Span<float> tail = stackalloc float[36];
            int rows = transposeFlip ? inChannels : outChannels, columns = transposeFlip ? outChannels : inChannels;
            for (int r = 0; r < rows; r++)
            {
                int j = 0;
                for (; j + width <= columns; j += width)
                {
                    for (int f = 0; f < width; f++) Gather(weight, Filter(r, j + f), transposeFlip, block, f, width);
                    for (int k = 0; k < 6; k++)
                        for (int b = 0; b < 3; b++)
                        {
                            Vector<float> sum = Vector<float>.Zero;
                            for (int a = 0; a < 3; a++)
                                if (G[k, a] != 0) sum += new Vector<float>(block.Slice((a * 3 + b) * width, width)) * (float)G[k, a];
                            gg[k * 3 + b] = sum;
                        }
                    long at = (long)r * columns + j;
                    for (int k = 0; k < 6; k++)
                        for (int l = 0; l < 6; l++)
                        {
                            Vector<float> u = Vector<float>.Zero;
                            for (int b = 0; b < 3; b++)
                                if (G[l, b] != 0) u += gg[k * 3 + b] * (float)G[l, b];
                            u.CopyTo(transformed.Slice((int)((k * 6 + l) * plane + at), width));
                        }
                }
                for (; j < columns; j++)
                {
                    Gather(weight, Filter(r, j), transposeFlip, block, 0, 1);
                    Transform1(block, tail);
                    long at = (long)r * columns + j;
                    for (int x = 0; x < Positions; x++) transformed[(int)(x * plane + at)] = tail[x];
                }
            }

            int Filter(int row, int column) => transposeFlip ? column * inChannels + row : row * inChannels + column;
        }

        /// <summary>The weight gradient from the gradient of the transformed weights: dW[m][c] += G^T dU[.][m][c] G (3 x 3 from
        /// 6 x 6; the transpose of <see cref="TransformWeights"/>). <paramref name="transformedGradient"/> is 36 row-major
        /// [outChannels x inChannels] matrices; <paramref name="weightGradient"/> PyTorch's [outChannels, inChannels, 3, 3].</summary>
        public static void AccumulateWeightGradient(ReadOnlySpan<float> transformedGradient, int outChannels, int inChannels, Span<float> weightGradient)
        {
            long plane = (long)outChannels * inChannels;
            if (outChannels < 1 || inChannels < 1)
                throw new ArgumentOutOfRangeException(nameof(outChannels), $"Winograd.AccumulateWeightGradient needs at least one input and one output channel (got {outChannels} x {inChannels}).");
            if (transformedGradient.Length != Positions * plane)
                throw new ArgumentException($"transformedGradient holds {transformedGradient.Length} floats, but 36 x {outChannels} x {inChannels} is {Positions * plane}.", nameof(transformedGradient));
            if (weightGradient.Length != plane * 9)
                throw new ArgumentException($"weightGradient holds {weightGradient.Length} floats, but {outChannels} x {inChannels} 3x3 filters are {plane * 9}.", nameof(weightGradient));
            // Columns c in blocks of one vector: t[k][b] = sum_l dU[k][l] G[l][b], then dW[a][b] = sum_k G[k][a] t[k][b].
            int width = Vector<float>.Count;
            Span<Vector<float>> t = stackalloc Vector<float>[18];
            Span<float> out9 = stackalloc float[9 * width];
            for (int m = 0; m < outChannels; m++)
            {
                int c = 0;
                for (; c + width <= inChannels; c += width)
                {
                    long at = (long)m * inChannels + c;
                    for (int k = 0; k < 6; k++)
                        for (int b = 0; b < 3; b++)
                        {
                            Vector<float> sum = Vector<float>.Zero;
                            for (int l = 0; l < 6; l++)
                                if (G[l, b] != 0) sum += new Vector<float>(transformedGradient.Slice((int)((k * 6 + l) * plane + at), width)) * (float)G[l, b];
                            t[k * 3 + b] = sum;
                        }
                    for (int a = 0; a < 3; a++)
                        for (int b = 0; b < 3; b++)
                        {
                            Vector<float> sum = Vector<float>.Zero;
                            for (int k = 0; k < 6; k++)
                                if (G[k, a] != 0) sum += t[k * 3 + b] * (float)G[k, a];
                            sum.CopyTo(out9.Slice((a * 3 + b) * width, width));
                        }
                    for (int f = 0; f < width; f++)
                    {
                        Span<float> dw = weightGradient.Slice((int)((at + f) * 9), 9);
                        for (int i = 0; i < 9; i++) dw[i] += out9[i * width + f];
                    }
                }
                for (; c < inChannels; c++)
                {
                    long at = (long)m * inChannels + c;
                    Span<float> dw = weightGradient.Slice((int)(at * 9), 9);
                    for (int a = 0; a < 3; a++)
                        for (int b = 0; b < 3; b++)
                        {
                            double sum = 0;
                            for (int k = 0; k < 6; k++)
                                for (int l = 0; l < 6; l++)
                                    sum += G[k, a] * transformedGradient[(int)((k * 6 + l) * plane + at)] * G[l, b];
                            dw[a * 3 + b] += (float)sum;
                        }
                }
            }
        }

        /// <summary>Copies filter <paramref name="filter"/> (rotated by 180 degrees when <paramref name="flip"/>) into
        /// column <paramref name="slot"/> of a [9][stride] block.</summary>
        private static void Gather(ReadOnlySpan<float> weight, int filter, bool flip, Span<float> block, int slot, int stride)
        {
            ReadOnlySpan<float> f = weight.Slice(filter * 9, 9);
            for (int i = 0; i < 9; i++) block[i * stride + slot] = flip ? f[8 - i] : f[i];
        }

        /// <summary>G g G^T of one filter (block[0..9), row-major 3 x 3) into 36 floats, in double.</summary>
        private static void Transform1(ReadOnlySpan<float> g, Span<float> u)
        {
            Span<double> gg = stackalloc double[18];
            for (int k = 0; k < 6; k++)
                for (int b = 0; b < 3; b++)
                    gg[k * 3 + b] = G[k, 0] * g[b] + G[k, 1] * g[3 + b] + G[k, 2] * g[6 + b];
            for (int k = 0; k < 6; k++)
                for (int l = 0; l < 6; l++)
                    u[k * 6 + l] = (float)(gg[k * 3] * G[l, 0] + gg[k * 3 + 1] * G[l, 1] + gg[k * 3 + 2] * G[l, 2]);
        }
    }
}
