// Shared helpers for the numeric tests.
using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen;

namespace CnnGen.Tests.Numerics
{
    internal static class NumericsSupport
    {
        /// <summary>Every generated kernel set. Sets wider than the hardware run emulated (.NET computes wide vectors
        /// with narrower ones: slow, same values), so each kernel text is checked on every machine and under every
        /// DOTNET_EnableAVX512 / DOTNET_EnableAVX2 setting CI uses.</summary>
        public static IReadOnlyList<Isa> SupportedIsas { get; } = Enum.GetValues<Isa>().OrderBy(isa => isa).ToArray();

        [System.Runtime.CompilerServices.ModuleInitializer]
        internal static void AllowEmulatedKernelSets() => IsaSupport.AllowEmulation = true;

        /// <summary>Gaussian parameters (scale 0.3) and BatchNorm running statistics (variances in [0.5, ...)).</summary>
        public static void Randomize(INetwork net, Rng rng)
        {
            foreach (Parameter p in net.Parameters) FillGaussian(p.Value, rng, 0.3f);
            foreach (Parameter p in net.Buffers)
                for (int i = 0; i < p.Length; i++)
                    p.Value[i] = p.Name.EndsWith("running_var", StringComparison.Ordinal) ? 0.5f + MathF.Abs(rng.NextGaussian()) : 0.3f * rng.NextGaussian();
            net.ParametersChanged();
        }

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
