// Inverted dropout (Srivastava et al., 2014): training keeps each value with probability 1 - rate and scales
// it by 1 / (1 - rate), so inference is the identity. The mask is kept for backward.
using System;
using System.Numerics;

namespace CnnGen
{
    public static class Dropout
    {
        /// <summary>y = x * mask, mask = 1 / (1 - rate) where the next 24-bit random value is at least rate * 2^24, else 0
        /// (one <see cref="Rng.NextUInt"/> per element, in order). Random values come in blocks of 256 from
        /// <see cref="Rng.NextUInts"/>; the compare, select and multiply run on whole vectors.</summary>
        public static void Forward(ReadOnlySpan<float> x, Span<float> y, Span<float> mask, float rate, Rng rng)
        {
            if (y.Length < x.Length || mask.Length < x.Length)
                throw new ArgumentException($"Dropout needs output and mask of at least {x.Length} floats, got {y.Length} and {mask.Length}.");
            float scale = 1f / (1f - rate);
            // Compare 24-bit integers: keep when u >= rate * 2^24.
            uint threshold = (uint)(rate * (1 << 24));
            Span<uint> random = stackalloc uint[256];
            var keep = new Vector<float>(scale);
            var limit = new Vector<uint>(threshold);
            for (int start = 0; start < x.Length; start += random.Length)
            {
                int n = Math.Min(random.Length, x.Length - start);
                Span<uint> u = random.Slice(0, n);
                rng.NextUInts(u);
                ReadOnlySpan<float> xs = x.Slice(start, n);
                Span<float> ys = y.Slice(start, n), ms = mask.Slice(start, n);
                int i = 0;
                for (; i + Vector<float>.Count <= n; i += Vector<float>.Count)
                {
                    Vector<float> m = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(new Vector<uint>(u.Slice(i)) >> 8, limit).As<uint, float>(), keep, Vector<float>.Zero);
                    m.CopyTo(ms.Slice(i));
                    (new Vector<float>(xs.Slice(i)) * m).CopyTo(ys.Slice(i));
                }
                for (; i < n; i++)
                {
                    float m = (u[i] >> 8) >= threshold ? scale : 0f;
                    ms[i] = m;
                    ys[i] = xs[i] * m;
                }
            }
        }

        public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> mask, Span<float> dx)
        {
            if (mask.Length < dy.Length || dx.Length < dy.Length)
                throw new ArgumentException($"Dropout backward needs mask and dx of at least {dy.Length} floats, got {mask.Length} and {dx.Length}.");
            System.Numerics.Tensors.TensorPrimitives.Multiply(dy, mask.Slice(0, dy.Length), dx.Slice(0, dy.Length));
        }
    }
}
