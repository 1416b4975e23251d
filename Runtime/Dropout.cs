// Inverted dropout (Srivastava et al., 2014): training keeps each value with probability 1 - rate and scales
// it by 1 / (1 - rate), so inference is the identity. The mask is kept for backward.
using System;

namespace CnnGen
{
    public static class Dropout
    {
        public static void Forward(ReadOnlySpan<float> x, Span<float> y, Span<float> mask, float rate, Rng rng)
        {
            if (y.Length < x.Length || mask.Length < x.Length)
                throw new ArgumentException($"Dropout needs output and mask of at least {x.Length} floats, got {y.Length} and {mask.Length}.");
            float scale = 1f / (1f - rate);
            // Compare 24-bit integers: keep when u >= rate * 2^24.
            uint threshold = (uint)(rate * (1 << 24));
            for (int i = 0; i < x.Length; i++)
            {
                float m = (rng.NextUInt() >> 8) >= threshold ? scale : 0f;
                mask[i] = m;
                y[i] = x[i] * m;
            }
        }

        public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> mask, Span<float> dx)
        {
            if (mask.Length < dy.Length || dx.Length < dy.Length)
                throw new ArgumentException($"Dropout backward needs mask and dx of at least {dy.Length} floats, got {mask.Length} and {dx.Length}.");
            for (int i = 0; i < dy.Length; i++) dx[i] = dy[i] * mask[i];
        }
    }
}
