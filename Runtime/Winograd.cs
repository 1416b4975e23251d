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
        public static void TransformWeights(ReadOnlySpan<float> weight, int outChannels, int inChannels, Span<float> transformed, bool transposeFlip = false) =>
            TransformWeights(weight, outChannels, inChannels, transformed, transposeFlip, 0, transposeFlip ? inChannels : outChannels);

        /// <summary><see cref="TransformWeights(ReadOnlySpan{float}, int, int, Span{float}, bool)"/> for the rows [rowBegin,
        /// rowEnd) of U only (output channels forward, input channels with <paramref name="transposeFlip"/>): the share of one
        /// worker when a network's workers transform the weights together. The same values as the whole call, bit for bit.</summary>
        public static void TransformWeights(ReadOnlySpan<float> weight, int outChannels, int inChannels, Span<float> transformed, bool transposeFlip, int rowBegin, int rowEnd)
        {
            long plane = (long)outChannels * inChannels;
            if (outChannels < 1 || inChannels < 1)
                throw new ArgumentOutOfRangeException(nameof(outChannels), $"Winograd.TransformWeights needs at least one input and one output channel (got {outChannels} x {inChannels}).");
            if (weight.Length != plane * 9)
                throw new ArgumentException($"weight holds {weight.Length} floats, but {outChannels} x {inChannels} 3x3 filters are {plane * 9}.", nameof(weight));
            if (transformed.Length != Positions * plane)
                throw new ArgumentException($"transformed holds {transformed.Length} floats, but the Winograd F(4x4, 3x3) weights of {outChannels} x {inChannels} filters are {Positions * plane} (36 x {plane}).", nameof(transformed));
            int rows = transposeFlip ? inChannels : outChannels, columns = transposeFlip ? outChannels : inChannels;
            if (rowBegin < 0 || rowEnd > rows || rowBegin > rowEnd)
                throw new ArgumentOutOfRangeException(nameof(rowBegin), $"rows [{rowBegin}, {rowEnd}) are not inside U's {rows} rows.");
            // Filters in blocks of one vector (Vector<float>.Count filters side by side), through G g (6 x 3) and then
            // (G g) G^T (6 x 6), stored as 36 rows of the block. Filter f of the block is U's column at + f:
            // m * inChannels + c forward; c * outChannels + m for the input gradient. Row() is one row of G applied to three
            // vectors, unrolled with G's zeros left out (the sums in the order of the scalar definition).
            int width = Vector<float>.Count;
            Span<float> block = stackalloc float[9 * width]; // [a * 3 + b][filter]
            Span<float> tail = stackalloc float[36];
            ref float blk = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(block);
            ref float u = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(transformed);
            for (int r = rowBegin; r < rowEnd; r++)
            {
                int j = 0;
                for (; j + width <= columns; j += width)
                {
                    for (int f = 0; f < width; f++) Gather(weight, Filter(r, j + f), transposeFlip, block, f, width);
                    nuint at = (nuint)((long)r * columns + j), step = (nuint)plane;
                    Vector<float> g0 = Vector.LoadUnsafe(ref blk), g1 = Vector.LoadUnsafe(ref blk, (nuint)width), g2 = Vector.LoadUnsafe(ref blk, (nuint)(2 * width));
                    Vector<float> g3 = Vector.LoadUnsafe(ref blk, (nuint)(3 * width)), g4 = Vector.LoadUnsafe(ref blk, (nuint)(4 * width)), g5 = Vector.LoadUnsafe(ref blk, (nuint)(5 * width));
                    Vector<float> g6 = Vector.LoadUnsafe(ref blk, (nuint)(6 * width)), g7 = Vector.LoadUnsafe(ref blk, (nuint)(7 * width)), g8 = Vector.LoadUnsafe(ref blk, (nuint)(8 * width));
                    for (int k = 0; k < 6; k++)
                    {
                        // row k of G g (one per column of g), then row k of (G g) G^T: U[6k + l]
                        Vector<float> h0 = Row(g0, g3, g6, k), h1 = Row(g1, g4, g7, k), h2 = Row(g2, g5, g8, k);
                        nuint row = at + (nuint)(6 * k) * step;
                        Row(h0, h1, h2, 0).StoreUnsafe(ref u, row);
                        Row(h0, h1, h2, 1).StoreUnsafe(ref u, row + step);
                        Row(h0, h1, h2, 2).StoreUnsafe(ref u, row + 2 * step);
                        Row(h0, h1, h2, 3).StoreUnsafe(ref u, row + 3 * step);
                        Row(h0, h1, h2, 4).StoreUnsafe(ref u, row + 4 * step);
                        Row(h0, h1, h2, 5).StoreUnsafe(ref u, row + 5 * step);
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

        // G as floats (the vector path multiplies by (float)G[k, a], as the definition's scalar loop did).
        private static readonly float G00 = (float)G[0, 0], G10 = (float)G[1, 0], G11 = (float)G[1, 1], G12 = (float)G[1, 2],
            G20 = (float)G[2, 0], G21 = (float)G[2, 1], G22 = (float)G[2, 2], G30 = (float)G[3, 0], G31 = (float)G[3, 1],
            G32 = (float)G[3, 2], G40 = (float)G[4, 0], G41 = (float)G[4, 1], G42 = (float)G[4, 2], G52 = (float)G[5, 2];

        /// <summary>Row k of G times (p, q, r): ((0 + p G[k,0]) + q G[k,1]) + r G[k,2], without G's zero terms.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static Vector<float> Row(Vector<float> p, Vector<float> q, Vector<float> r, int k) => k switch
        {
            0 => Vector<float>.Zero + p * G00,
            1 => Vector<float>.Zero + p * G10 + q * G11 + r * G12,
            2 => Vector<float>.Zero + p * G20 + q * G21 + r * G22,
            3 => Vector<float>.Zero + p * G30 + q * G31 + r * G32,
            4 => Vector<float>.Zero + p * G40 + q * G41 + r * G42,
            _ => Vector<float>.Zero + r * G52,
        };

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
