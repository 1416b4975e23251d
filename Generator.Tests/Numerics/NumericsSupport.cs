// Shared helpers for the numeric tests.
using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen;

namespace CnnGen.Tests.Numerics
{
    internal static class NumericsSupport
    {
        /// <summary>Every kernel set this process can run. Unsupported ones are not enumerated at all (rather than
        /// reported as passing); under DOTNET_EnableAVX2=0 only <see cref="Isa.Portable"/> remains.</summary>
        public static IReadOnlyList<Isa> SupportedIsas { get; } =
            Enum.GetValues<Isa>().Where(isa => isa <= IsaSupport.Best).OrderBy(isa => isa).ToArray();

        public static float[] Gaussian(int length, Rng rng, float scale = 1f)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = scale * rng.NextGaussian();
            return values;
        }

        public static void FillGaussian(Span<float> values, Rng rng, float scale)
        {
            for (int i = 0; i < values.Length; i++) values[i] = scale * rng.NextGaussian();
        }

        public static string Shape(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";
    }
}
