// Shared helpers for the numeric tests.
using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen;

namespace CnnGen.Tests.Numerics
{
    internal static class NumericsSupport
    {
        /// <summary>A checked conv layer of the given shape (output size from the usual formula), for the planner's
        /// eligibility rules (Winograd, transposed or whole-image weight gradients).</summary>
        public static CnnGen.Generator.Model.CheckedLayer ConvLayer(int cin, int h, int w, int cout, int k, int s, int p, int g = 1)
        {
            int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
            return new CnnGen.Generator.Model.CheckedLayer(CnnGen.Generator.Model.LayerKind.Conv2D, "conv", "Conv2D",
                CnnGen.Generator.Model.EquatableArray<int>.Empty, CnnGen.Generator.Model.Shape.Map(cin, h, w), CnnGen.Generator.Model.Shape.Map(cout, oh, ow),
                k, s, p, g, Bias: true, CeilMode: false, Rate: 0, Eps: 0, Momentum: 0, Alpha: 0, Beta: 0, K: 0, Head: 0, Parameters: 0, Flops: 0, FollowedByReLU: false);
        }

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
