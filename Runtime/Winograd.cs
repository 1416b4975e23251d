// Winograd F(4x4, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2015): a 3x3 stride-1
// convolution computed on 6x6 input tiles that each yield a 4x4 output tile,
//     Y = A^T [ sum_c (G g_c G^T) .* (B^T d_c B) ] A,
// 36 multiplications per tile and channel pair instead of 144. The generated kernels transform the input tiles (B^T d B)
// and the outputs (A^T M A) and run the 36 elementwise products summed over channels as 36 GEMMs; this file transforms
// the weights (G g G^T), which changes only when the weights do. Interpolation points 0, +-1, +-2 (and infinity).
using System;

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
            Span<double> gg = stackalloc double[18]; // G g: 6 x 3
            Span<double> g = stackalloc double[9];
            for (int m = 0; m < outChannels; m++)
                for (int c = 0; c < inChannels; c++)
                {
                    ReadOnlySpan<float> f = weight.Slice((m * inChannels + c) * 9, 9);
                    for (int i = 0; i < 9; i++) g[i] = transposeFlip ? f[8 - i] : f[i];
                    for (int k = 0; k < 6; k++)
                        for (int b = 0; b < 3; b++)
                            gg[k * 3 + b] = G[k, 0] * g[b] + G[k, 1] * g[3 + b] + G[k, 2] * g[6 + b];
                    long at = transposeFlip ? (long)c * outChannels + m : (long)m * inChannels + c;
                    for (int k = 0; k < 6; k++)
                        for (int l = 0; l < 6; l++)
                            transformed[(int)((k * 6 + l) * plane + at)] = (float)(gg[k * 3] * G[l, 0] + gg[k * 3 + 1] * G[l, 1] + gg[k * 3 + 2] * G[l, 2]);
                }
        }
    }
}
