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
        public static unsafe void TransformWeights(ReadOnlySpan<float> weight, int outChannels, int inChannels, Span<float> transformed, bool transposeFlip, int rowBegin, int rowEnd)
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
            // Per row of U, in chunks of Chunk columns: gather the chunk's filters into nine planes (plane i holds tap i of
            // every filter, so a vector load takes tap i of Vector<float>.Count filters side by side; rotated by 180 degrees
            // for the input gradient), then G g G^T for one vector of filters at a time: (G g) row by row, each row k of G g
            // through G^T into rows 6k .. 6k + 5 of a [36][Stride] staging block on the stack; then each of the 36 rows of the
            // block is copied whole into its row of U. (Storing the vectors straight into U's 36 rows, which lie a power of
            // two apart for power-of-two channel counts, maps all of them to the same L1 set: each line was evicted half
            // written, 3.5-7 GB/s. Staged: 15-17 GB/s.) Row() is one row of G applied to three vectors, unrolled with G's
            // zeros left out (the sums in the order of the scalar definition). Filter f of the chunk is U's column
            // r * columns + j0 + f: m * inChannels + c forward, c * outChannels + m for the input gradient. Columns past the
            // last whole vector go through Transform1 (double).
            int width = Vector<float>.Count;
            float* planes = stackalloc float[9 * Stride];
            float* stage = stackalloc float[Positions * Stride];
            float* tail = stackalloc float[36], filter = stackalloc float[9];
            fixed (float* wp = weight, up = transformed)
            {
                for (int r = rowBegin; r < rowEnd; r++)
                {
                    for (int j0 = 0; j0 < columns; j0 += Chunk)
                    {
                        int n = Math.Min(Chunk, columns - j0);
                        if (!transposeFlip)
                        {
                            float* src = wp + ((long)r * inChannels + j0) * 9; // the chunk's filters are contiguous
                            for (int f = 0; f < n; f++, src += 9)
                                for (int i = 0; i < 9; i++) planes[i * Stride + f] = src[i];
                        }
                        else
                        {
                            long stride = (long)inChannels * 9; // filter (m = j0 + f, c = r): one per output channel
                            float* src = wp + ((long)j0 * inChannels + r) * 9;
                            for (int f = 0; f < n; f++, src += stride)
                                for (int i = 0; i < 9; i++) planes[i * Stride + f] = src[8 - i];
                        }
                        float* dst = up + (long)r * columns + j0;
                        int j = 0;
                        for (; j + width <= n; j += width)
                        {
                            float* g = planes + j;
                            Vector<float> g0 = Load(g), g1 = Load(g + Stride), g2 = Load(g + 2 * Stride);
                            Vector<float> g3 = Load(g + 3 * Stride), g4 = Load(g + 4 * Stride), g5 = Load(g + 5 * Stride);
                            Vector<float> g6 = Load(g + 6 * Stride), g7 = Load(g + 7 * Stride), g8 = Load(g + 8 * Stride);
                            float* at = stage + j;
                            StoreRow(Row(g0, g3, g6, 0), Row(g1, g4, g7, 0), Row(g2, g5, g8, 0), at, Stride);
                            StoreRow(Row(g0, g3, g6, 1), Row(g1, g4, g7, 1), Row(g2, g5, g8, 1), at + 6 * Stride, Stride);
                            StoreRow(Row(g0, g3, g6, 2), Row(g1, g4, g7, 2), Row(g2, g5, g8, 2), at + 12 * Stride, Stride);
                            StoreRow(Row(g0, g3, g6, 3), Row(g1, g4, g7, 3), Row(g2, g5, g8, 3), at + 18 * Stride, Stride);
                            StoreRow(Row(g0, g3, g6, 4), Row(g1, g4, g7, 4), Row(g2, g5, g8, 4), at + 24 * Stride, Stride);
                            StoreRow(Row(g0, g3, g6, 5), Row(g1, g4, g7, 5), Row(g2, g5, g8, 5), at + 30 * Stride, Stride);
                        }
                        for (; j < n; j++)
                        {
                            for (int i = 0; i < 9; i++) filter[i] = planes[i * Stride + j];
                            Transform1(new ReadOnlySpan<float>(filter, 9), new Span<float>(tail, 36));
                            for (int x = 0; x < Positions; x++) stage[x * Stride + j] = tail[x];
                        }
                        for (int x = 0; x < Positions; x++) // each row's run whole, so that every cache line of U is written at once
                            new ReadOnlySpan<float>(stage + x * Stride, n).CopyTo(new Span<float>(dst + x * plane, n));
                    }
                }
            }
        }

        /// <summary>Columns of U per chunk: nine planes of gathered filters and 36 staged rows of this many floats on the stack
        /// (26 KiB together, inside L1).</summary>
        private const int Chunk = 128;

        /// <summary>Floats between two rows of those planes and staging blocks: one cache line more than the chunk, so that the
        /// rows do not fall into the same L1 sets.</summary>
        private const int Stride = Chunk + 16;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static unsafe Vector<float> Load(float* p) => Vector.Load(p);

        /// <summary>Row k of G g (h0, h1, h2: one per column of g) through G^T: rows 6k .. 6k + 5 of the staging block, from
        /// <paramref name="at"/> on, <paramref name="plane"/> floats apart.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static unsafe void StoreRow(Vector<float> h0, Vector<float> h1, Vector<float> h2, float* at, long plane)
        {
            Vector.Store(Row(h0, h1, h2, 0), at);
            Vector.Store(Row(h0, h1, h2, 1), at + plane);
            Vector.Store(Row(h0, h1, h2, 2), at + 2 * plane);
            Vector.Store(Row(h0, h1, h2, 3), at + 3 * plane);
            Vector.Store(Row(h0, h1, h2, 4), at + 4 * plane);
            Vector.Store(Row(h0, h1, h2, 5), at + 5 * plane);
        }

        // G as float constants, (float)G[k, a] (the vector paths multiply by them, as the definition's scalar loop did; constants
        // because these methods run as Tier0-FullOpts code, before a static readonly field would be folded).
        private const float G00 = (float)(1.0 / 4), G10 = (float)(-1.0 / 6), G11 = (float)(-1.0 / 6), G12 = (float)(-1.0 / 6),
            G20 = (float)(-1.0 / 6), G21 = (float)(1.0 / 6), G22 = (float)(-1.0 / 6), G30 = (float)(1.0 / 24), G31 = (float)(1.0 / 12),
            G32 = (float)(1.0 / 6), G40 = (float)(1.0 / 24), G41 = (float)(-1.0 / 12), G42 = (float)(1.0 / 6), G52 = 1f;

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
        public static void AccumulateWeightGradient(ReadOnlySpan<float> transformedGradient, int outChannels, int inChannels, Span<float> weightGradient) =>
            AccumulateWeightGradient(transformedGradient, outChannels, inChannels, weightGradient, 0, outChannels);

        /// <summary><see cref="AccumulateWeightGradient(ReadOnlySpan{float}, int, int, Span{float})"/> for the output channels
        /// [<paramref name="rowBegin"/>, <paramref name="rowEnd"/>) only (one worker's share); the other rows of dU are not read
        /// and the other filters of dW not touched.</summary>
        public static unsafe void AccumulateWeightGradient(ReadOnlySpan<float> transformedGradient, int outChannels, int inChannels, Span<float> weightGradient, int rowBegin, int rowEnd)
        {
            long plane = (long)outChannels * inChannels;
            if (outChannels < 1 || inChannels < 1)
                throw new ArgumentOutOfRangeException(nameof(outChannels), $"Winograd.AccumulateWeightGradient needs at least one input and one output channel (got {outChannels} x {inChannels}).");
            if (rowBegin < 0 || rowEnd > outChannels || rowBegin > rowEnd)
                throw new ArgumentOutOfRangeException(nameof(rowBegin), $"Winograd.AccumulateWeightGradient: rows [{rowBegin}, {rowEnd}) are not a range of the {outChannels} output channels.");
            if (transformedGradient.Length != Positions * plane)
                throw new ArgumentException($"transformedGradient holds {transformedGradient.Length} floats, but 36 x {outChannels} x {inChannels} is {Positions * plane}.", nameof(transformedGradient));
            if (weightGradient.Length != plane * 9)
                throw new ArgumentException($"weightGradient holds {weightGradient.Length} floats, but {outChannels} x {inChannels} 3x3 filters are {plane * 9}.", nameof(weightGradient));
            // Per row m, in chunks of Chunk columns: the chunk's runs of dU's 36 rows are first copied whole into a staging block
            // (the rows lie a power of two apart, so reading them vector by vector evicts lines half read: see TransformWeights).
            // Then, a vector of columns at a time, t[k][b] = sum_l dU[k][l] G[l][b] (Col(): column b of G, its zeros left out)
            // and dW[a][b] = sum_k G[k][a] t[k][b] (Col() again), into nine planes [9][Stride] that are then added to the
            // chunk's filters, which are contiguous in dW. Columns past the last whole vector are summed in double.
            int width = Vector<float>.Count;
            float* planes = stackalloc float[9 * Stride];
            float* stage = stackalloc float[Positions * Stride];
            fixed (float* dup = transformedGradient, dwp = weightGradient)
            {
                for (int m = rowBegin; m < rowEnd; m++)
                {
                    for (int c0 = 0; c0 < inChannels; c0 += Chunk)
                    {
                        int n = Math.Min(Chunk, inChannels - c0);
                        long row = (long)m * inChannels + c0;
                        for (int x = 0; x < Positions; x++) // each row's run whole, so that every cache line of dU is read at once
                            new ReadOnlySpan<float>(dup + x * plane + row, n).CopyTo(new Span<float>(stage + x * Stride, n));
                        int c = 0;
                        for (; c + width <= n; c += width)
                        {
                            float* d = stage + c;
                            // t[k][b] for k = 0..5: the six positions 6k .. 6k + 5 of dU through column b of G
                            Vector<float> t00 = Load6(d, Stride, 0, 0), t01 = Load6(d, Stride, 0, 1), t02 = Load6(d, Stride, 0, 2);
                            Vector<float> t10 = Load6(d, Stride, 1, 0), t11 = Load6(d, Stride, 1, 1), t12 = Load6(d, Stride, 1, 2);
                            Vector<float> t20 = Load6(d, Stride, 2, 0), t21 = Load6(d, Stride, 2, 1), t22 = Load6(d, Stride, 2, 2);
                            Vector<float> t30 = Load6(d, Stride, 3, 0), t31 = Load6(d, Stride, 3, 1), t32 = Load6(d, Stride, 3, 2);
                            Vector<float> t40 = Load6(d, Stride, 4, 0), t41 = Load6(d, Stride, 4, 1), t42 = Load6(d, Stride, 4, 2);
                            Vector<float> t50 = Load6(d, Stride, 5, 0), t51 = Load6(d, Stride, 5, 1), t52 = Load6(d, Stride, 5, 2);
                            float* o = planes + c;
                            Vector.Store(Col(t00, t10, t20, t30, t40, t50, 0), o);
                            Vector.Store(Col(t01, t11, t21, t31, t41, t51, 0), o + Stride);
                            Vector.Store(Col(t02, t12, t22, t32, t42, t52, 0), o + 2 * Stride);
                            Vector.Store(Col(t00, t10, t20, t30, t40, t50, 1), o + 3 * Stride);
                            Vector.Store(Col(t01, t11, t21, t31, t41, t51, 1), o + 4 * Stride);
                            Vector.Store(Col(t02, t12, t22, t32, t42, t52, 1), o + 5 * Stride);
                            Vector.Store(Col(t00, t10, t20, t30, t40, t50, 2), o + 6 * Stride);
                            Vector.Store(Col(t01, t11, t21, t31, t41, t51, 2), o + 7 * Stride);
                            Vector.Store(Col(t02, t12, t22, t32, t42, t52, 2), o + 8 * Stride);
                        }
                        float* dw = dwp + row * 9;
                        for (int f = 0; f < c; f++, dw += 9)
                            for (int i = 0; i < 9; i++) dw[i] += planes[i * Stride + f];
                        for (; c < n; c++, dw += 9)
                            for (int a = 0; a < 3; a++)
                                for (int b = 0; b < 3; b++)
                                {
                                    double sum = 0;
                                    for (int k = 0; k < 6; k++)
                                        for (int l = 0; l < 6; l++)
                                            sum += G[k, a] * stage[(k * 6 + l) * Stride + c] * G[l, b];
                                    dw[a * 3 + b] += (float)sum;
                                }
                    }
                }
            }
        }

        /// <summary>Row k of dU's 6 x 6 positions (6k .. 6k + 5, each a vector at <paramref name="d"/> + position * plane)
        /// through column b of G.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static unsafe Vector<float> Load6(float* d, long plane, int k, int b)
        {
            float* p = d + 6 * k * plane;
            return b switch
            {
                0 => Col(Load(p), Load(p + plane), Load(p + 2 * plane), Load(p + 3 * plane), Load(p + 4 * plane), Vector<float>.Zero, 0),
                1 => Col(Vector<float>.Zero, Load(p + plane), Load(p + 2 * plane), Load(p + 3 * plane), Load(p + 4 * plane), Vector<float>.Zero, 1),
                _ => Col(Vector<float>.Zero, Load(p + plane), Load(p + 2 * plane), Load(p + 3 * plane), Load(p + 4 * plane), Load(p + 5 * plane), 2),
            };
        }

        /// <summary>Column b of G applied to six vectors: ((0 + v0 G[0,b]) + v1 G[1,b]) + ... without G's zero terms.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static Vector<float> Col(Vector<float> v0, Vector<float> v1, Vector<float> v2, Vector<float> v3, Vector<float> v4, Vector<float> v5, int b) => b switch
        {
            0 => Vector<float>.Zero + v0 * G00 + v1 * G10 + v2 * G20 + v3 * G30 + v4 * G40,
            1 => Vector<float>.Zero + v1 * G11 + v2 * G21 + v3 * G31 + v4 * G41,
            _ => Vector<float>.Zero + v1 * G12 + v2 * G22 + v3 * G32 + v4 * G42 + v5 * G52,
        };

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
