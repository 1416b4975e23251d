// Seeded randomness for initialisation, dropout masks and shuffling: the same seed gives the same network
// and the same training run on every machine and .NET version (System.Random's algorithm may change).
using System;

namespace CnnGen
{
    /// <summary>xoshiro128** seeded through SplitMix64.</summary>
    public sealed class Rng
    {
        private uint _s0, _s1, _s2, _s3;

        public Rng(ulong seed) => Reset(seed);

        /// <summary>Restarts the sequence as if constructed with <paramref name="seed"/> (no allocation).</summary>
        public void Reset(ulong seed)
        {
            ulong z = seed;
            ulong a = SplitMix(ref z), b = SplitMix(ref z);
            _s0 = (uint)a; _s1 = (uint)(a >> 32); _s2 = (uint)b; _s3 = (uint)(b >> 32);
            if ((_s0 | _s1 | _s2 | _s3) == 0) _s0 = 1;
        }

        private static ulong SplitMix(ref ulong x)
        {
            ulong z = x += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public uint NextUInt()
        {
            uint result = RotateLeft(_s1 * 5, 7) * 9;
            uint t = _s1 << 9;
            _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
            _s2 ^= t;
            _s3 = RotateLeft(_s3, 11);
            return result;
        }

        /// <summary>Fills <paramref name="values"/> with the next values of <see cref="NextUInt"/>, in order (the state is
        /// kept in registers for the whole run: about three times faster than calling NextUInt per value).</summary>
        public void NextUInts(Span<uint> values)
        {
            uint s0 = _s0, s1 = _s1, s2 = _s2, s3 = _s3;
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = RotateLeft(s1 * 5, 7) * 9;
                uint t = s1 << 9;
                s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;
                s2 ^= t;
                s3 = RotateLeft(s3, 11);
            }
            _s0 = s0; _s1 = s1; _s2 = s2; _s3 = s3;
        }

        private static uint RotateLeft(uint x, int k) => (x << k) | (x >> (32 - k));

        /// <summary>Uniform in [0, 1).</summary>
        public float NextFloat() => (NextUInt() >> 8) * (1f / (1 << 24));

        /// <summary>Uniform integer in [0, n).</summary>
        public int NextInt(int n)
        {
            if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be positive.");
            return (int)(((ulong)NextUInt() * (uint)n) >> 32);
        }

        /// <summary>Standard normal (Box-Muller).</summary>
        public float NextGaussian()
        {
            float u1 = 1f - NextFloat(), u2 = NextFloat();
            return MathF.Sqrt(-2f * MathF.Log(u1)) * MathF.Cos(2f * MathF.PI * u2);
        }

        /// <summary>Fisher-Yates shuffle in place.</summary>
        public void Shuffle(Span<int> items)
        {
            for (int i = items.Length - 1; i > 0; i--)
            {
                int j = NextInt(i + 1);
                (items[i], items[j]) = (items[j], items[i]);
            }
        }
    }

    public static class Initializers
    {
        /// <summary>He (Kaiming) uniform for layers followed by ReLU: U(-b, b), b = sqrt(6 / fanIn).</summary>
        public static void HeUniform(Span<float> values, int fanIn, Rng rng) => Uniform(values, MathF.Sqrt(6f / fanIn), rng);

        /// <summary>Glorot (Xavier) uniform: U(-b, b), b = sqrt(6 / (fanIn + fanOut)).</summary>
        public static void GlorotUniform(Span<float> values, int fanIn, int fanOut, Rng rng) => Uniform(values, MathF.Sqrt(6f / (fanIn + fanOut)), rng);

        public static void Uniform(Span<float> values, float bound, Rng rng)
        {
            for (int i = 0; i < values.Length; i++) values[i] = (2f * rng.NextFloat() - 1f) * bound;
        }
    }
}
