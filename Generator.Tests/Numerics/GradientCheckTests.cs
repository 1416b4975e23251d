// Finite-difference gradient checks of every layer type and of a whole small network, for every supported
// kernel set. For a fixed random R the scalar loss is L = sum(output * R), accumulated in double; Backward(R)
// must then give dL/dparam for every parameter element and dL/dinput for every input element, which are
// compared with central differences (L(x+h) - L(x-h)) / 2h, h = 1e-3 (the actual float step is used).
//
// Tolerance: |fd - analytic| <= Atol + Rtol * max(|fd|, |analytic|) with Rtol = 1e-2, Atol = 1e-3.
//  * The forward pass is float32: each output carries ~1e-7 relative rounding, so a perturbation that changes
//    many outputs moves L by ~1e-6 of noise; divided by 2h = 2e-3 that is up to ~5e-4 in fd (a naive float32
//    reference implementation measured at most 5.5e-4 on these nets), hence Atol = 1e-3. Gradients here are
//    O(0.1..1), so a wrong formula, a missing term, a transposed index or a wrong scale still fails clearly.
//    Parameters are drawn N(0, 0.3^2) like the PyTorch fixtures, inputs N(0, 1), so outputs stay O(1).
//  * Truncation error of central differences is O(h^2 f''') ~ 1e-6 (only softmax is curved), irrelevant;
//    Rtol = 1e-2 covers float32 noise in the larger gradients. A larger h would cut the noise but makes an
//    undetected partial kink crossing (a small blend of two slopes) more likely; h = 2e-3 measured worse.
// Kinks (ReLU at 0, changing max-pool winner): layers are piecewise linear, so if x-h and x+h straddle a
// kink the central difference is a blend of two slopes. Such a point is skipped only when it is detected: the
// central check fails, the one-sided differences (L(x+h)-L(x))/h and (L(x)-L(x-h))/h disagree with each
// other, and the analytic gradient equals one of them (the side that did not cross). Skips are counted and must
// stay below 2% of the checked elements; anything else that disagrees fails the test.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using CnnGen;
using Xunit.Abstractions;

namespace CnnGen.Tests.Numerics
{
    // conv: stride 2, padding 1, groups 2, bias. 4x7x7 -> 6x4x4
    [Network(Channels = 4, Height = 7, Width = 7)]
    [Conv2D(6, 3, Stride = 2, Padding = 1, Groups = 2), Flatten]
    public partial class GcConvStrideGroups;

    // conv: 1x1 without bias, then "same" 3x3, then an even kernel with stride 2 and no padding that leaves the
    // last row/column unused (3x5x5 -> 4x5x5 -> 3x5x5 -> 2x2x2)
    [Network(Channels = 3, Height = 5, Width = 5)]
    [Conv2D(4, 1, Bias = false), Conv2D(3, 3, Padding = Pad.Same), Conv2D(2, 2, Stride = 2), Flatten]
    public partial class GcConvMixed;

    // Winograd F(4x4, 3x3) forward, weight gradient and input gradient (16 -> 16 channels on 24x24: 36 tiles, enough for
    // the weight gradient's Winograd path), through a 5x5 stride-4 average pool to keep the output small
    [Network(Channels = 16, Height = 24, Width = 24)]
    [Conv2D(16, 3, Padding = 1), AvgPool2D(5, Stride = 4), Flatten]
    public partial class GcWinograd;

    // max pooling with padding (-inf) and overlap: 2x7x7 -> 2x4x4
    [Network(Channels = 2, Height = 7, Width = 7)]
    [MaxPool2D(3, Stride = 2, Padding = 1), Flatten]
    public partial class GcMaxPoolPadded;

    // max pooling, floor output size (odd input, window 2): 2x5x5 -> 2x2x2
    [Network(Channels = 2, Height = 5, Width = 5)]
    [MaxPool2D(2), Flatten]
    public partial class GcMaxPoolFloor;

    // average pooling with padding (count_include_pad=True): 2x6x6 -> 2x3x3
    [Network(Channels = 2, Height = 6, Width = 6)]
    [AvgPool2D(3, Stride = 2, Padding = 1), Flatten]
    public partial class GcAvgPoolPadded;

    // overlapping average pooling: 2x5x5 -> 2x4x4
    [Network(Channels = 2, Height = 5, Width = 5)]
    [AvgPool2D(2, Stride = 1), Flatten]
    public partial class GcAvgPoolOverlap;

    // global average pooling on a non-square map: 3x4x5 -> 3
    [Network(Channels = 3, Height = 4, Width = 5)]
    [GlobalAvgPool]
    public partial class GcGlobalAvgPool;

    // dense with and without bias: 18 -> 5 -> 4
    [Network(Channels = 2, Height = 3, Width = 3)]
    [Flatten, Dense(5), Dense(4, Bias = false)]
    public partial class GcDense;

    // relu on maps: 2x4x4
    [Network(Channels = 2, Height = 4, Width = 4)]
    [ReLU, Flatten]
    public partial class GcReLU;

    // softmax output: 18 -> 5 -> softmax
    [Network(Channels = 2, Height = 3, Width = 3)]
    [Flatten, Dense(5), Softmax]
    public partial class GcSoftmax;

    // dropout in inference mode (identity) between dense layers
    [Network(Channels = 2, Height = 3, Width = 3)]
    [Flatten, Dense(8), Dropout(0.5), Dense(3)]
    public partial class GcDropout;

    // a whole small network: 2x6x6 -> conv 4x6x6 -> pool 4x3x3 -> grouped conv 6x3x3 -> 54 -> 4 -> softmax (410 params)
    [Network(Channels = 2, Height = 6, Width = 6)]
    [Conv2D(4, 3, Padding = Pad.Same), ReLU, MaxPool2D(2)]
    [Conv2D(6, 3, Padding = 1, Groups = 2), ReLU]
    [Flatten, Dense(4), Softmax]
    public partial class GcWholeNet;

    // dropout statistics: 4096 values per image
    [Network(Channels = 4, Height = 32, Width = 32)]
    [Flatten, Dropout(0.25)]
    public partial class GcDropoutStats;

    // ---- graph networks: residual add (identity and projection shortcuts, user blocks with parameters), concat
    // (identity, conv and pooling branches), BatchNorm (inference and training mode, maps and vectors), LRN, and
    // the built-in ResNet / DenseNet / Inception blocks.

    [Block("width", "stride = 1")]
    [Conv2D("width", 3, Stride = "stride", Padding = 1, Bias = false), BatchNorm, ReLU, Conv2D("width", 3, Padding = 1)]
    public class GcBody;

    [Block("width", "stride = 1")]
    [Conv2D("width", 1, Stride = "stride")]
    public class GcProjection;

    // 2x6x6 -> residual (identity) 2x6x6 -> residual with a stride-2 projection 4x3x3 -> 36
    [Network(Channels = 2, Height = 6, Width = 6)]
    [Residual<GcBody>(2), ReLU, Residual<GcBody, GcProjection>(4, 2), Flatten]
    public partial class GcResidual;

    [Block]
    [Conv2D(3, 1)]
    public class GcBranchConv;

    [Block]
    [MaxPool2D(3, Stride = 1, Padding = 1)]
    public class GcBranchPool;

    // 2x5x5 -> concat [input, 1x1 conv, 3x3 max pool] 7x5x5 -> conv 3x3x3 -> 27
    [Network(Channels = 2, Height = 5, Width = 5)]
    [Concat<Identity, GcBranchConv, GcBranchPool>, Conv2D(3, 3), Flatten]
    public partial class GcConcat;

    // BatchNorm on maps and on a vector, in training mode (batch statistics)
    [Network(Channels = 2, Height = 4, Width = 4)]
    [Conv2D(3, 3, Padding = 1), BatchNorm, ReLU, Flatten, Dense(5), BatchNorm(Epsilon = 1e-3)]
    public partial class GcBatchNormTrain;

    // the same network in inference mode (running statistics; the conv + BatchNorm pair is folded in Forward)
    [Network(Channels = 2, Height = 4, Width = 4)]
    [Conv2D(3, 3, Padding = 1), BatchNorm, ReLU, Flatten, Dense(5), BatchNorm(Epsilon = 1e-3)]
    public partial class GcBatchNormEval;

    // local response normalization across 5 channels (window larger than half the channels), big alpha so it matters
    [Network(Channels = 4, Height = 3, Width = 3)]
    [LocalResponseNorm(3, Alpha = 0.5, Beta = 0.75, K = 2), Flatten]
    public partial class GcLrn;

    // the built-in ResNet blocks, tiny: basic (projection, stride 2), bottleneck (projection for the channel change)
    [Network(Channels = 2, Height = 8, Width = 8)]
    [BasicBlock(3, Stride = 2), Bottleneck(2), GlobalAvgPool, Dense(3)]
    public partial class GcResNetBlocksTrain;

    // the built-in DenseNet and Inception blocks, tiny: 2x6x6 -> dense block 6x6x6 -> transition 3x3x3 -> inception 8x3x3
    [Network(Channels = 2, Height = 6, Width = 6)]
    [DenseBlock(2, GrowthRate = 2, BottleneckWidth = 2), Transition]
    [Inception(2, 2, 2, 1, 2, 2, LargeKernel = 3, BatchNorm = true), GlobalAvgPool, Dense(3)]
    public partial class GcDenseInceptionTrain;

    public sealed class GradientCheckTests
    {
        private const float Step = 1e-3f;
        private const double Rtol = 1e-2, Atol = 1e-3;
        private const double MaxSkipFraction = 0.02;
        private const int Batch = 2, MaxBatch = 3; // batch < maxBatch on purpose

        private readonly ITestOutputHelper _output;
        public GradientCheckTests(ITestOutputHelper output) => _output = output;

        private static readonly Dictionary<string, Func<Isa, INetwork>> Nets = new()
        {
            [nameof(GcConvStrideGroups)] = isa => new GcConvStrideGroups(MaxBatch, 1, isa),
            [nameof(GcConvMixed)] = isa => new GcConvMixed(MaxBatch, 1, isa),
            [nameof(GcWinograd)] = isa => new GcWinograd(MaxBatch, 1, isa),
            [nameof(GcMaxPoolPadded)] = isa => new GcMaxPoolPadded(MaxBatch, 1, isa),
            [nameof(GcMaxPoolFloor)] = isa => new GcMaxPoolFloor(MaxBatch, 1, isa),
            [nameof(GcAvgPoolPadded)] = isa => new GcAvgPoolPadded(MaxBatch, 1, isa),
            [nameof(GcAvgPoolOverlap)] = isa => new GcAvgPoolOverlap(MaxBatch, 1, isa),
            [nameof(GcGlobalAvgPool)] = isa => new GcGlobalAvgPool(MaxBatch, 1, isa),
            [nameof(GcDense)] = isa => new GcDense(MaxBatch, 1, isa),
            [nameof(GcReLU)] = isa => new GcReLU(MaxBatch, 1, isa),
            [nameof(GcSoftmax)] = isa => new GcSoftmax(MaxBatch, 1, isa),
            [nameof(GcDropout)] = isa => new GcDropout(MaxBatch, 1, isa),
            [nameof(GcWholeNet)] = isa => new GcWholeNet(MaxBatch, 1, isa),
            [nameof(GcResidual)] = isa => new GcResidual(MaxBatch, 1, isa),
            [nameof(GcConcat)] = isa => new GcConcat(MaxBatch, 1, isa),
            [nameof(GcBatchNormTrain)] = isa => new GcBatchNormTrain(MaxBatch, 1, isa),
            [nameof(GcBatchNormEval)] = isa => new GcBatchNormEval(MaxBatch, 1, isa),
            [nameof(GcLrn)] = isa => new GcLrn(MaxBatch, 1, isa),
            [nameof(GcResNetBlocksTrain)] = isa => new GcResNetBlocksTrain(MaxBatch, 1, isa),
            [nameof(GcDenseInceptionTrain)] = isa => new GcDenseInceptionTrain(MaxBatch, 1, isa),
        };

        public static IEnumerable<object[]> Cases() =>
            from name in Nets.Keys
            from isa in NumericsSupport.SupportedIsas
            select new object[] { name, isa };

        public static IEnumerable<object[]> IsaCases() => NumericsSupport.SupportedIsas.Select(isa => new object[] { isa });

        [Theory]
        [MemberData(nameof(Cases))]
        public void AnalyticGradientsMatchFiniteDifferences(string netName, Isa isa)
        {
            using INetwork net = Nets[netName](isa);
            Assert.Equal(isa, net.Isa);
            // Training mode matters only for BatchNorm here (batch statistics); dropout nets run in inference mode.
            net.Training = netName.EndsWith("Train", StringComparison.Ordinal);
            var rng = new Rng(0xC0FFEE);
            foreach (Parameter p in net.Parameters) NumericsSupport.FillGaussian(p.Value, rng, 0.3f); // as the PyTorch fixtures; keeps deep outputs O(1)
            foreach (Parameter p in net.Buffers) // running statistics away from the initial 0 / 1, so inference mode is not trivial
                for (int i = 0; i < p.Length; i++) p.Value[i] = p.Name.EndsWith("running_var", StringComparison.Ordinal) ? 0.5f + 0.5f * MathF.Abs(rng.NextGaussian()) : 0.2f * rng.NextGaussian();
            foreach (Parameter p in net.Parameters)
                if (p.Name.Contains(".bias") == false && p.Shape.Count == 1 && p.Name.StartsWith("bn", StringComparison.Ordinal))
                    for (int i = 0; i < p.Length; i++) p.Value[i] = 1f + p.Value[i]; // BatchNorm gammas around 1
            float[] x = NumericsSupport.Gaussian(Batch * net.InputLength, rng);
            float[] r = NumericsSupport.Gaussian(Batch * net.OutputLength, rng);
            float[] y = new float[Batch * net.OutputLength];

            double Loss()
            {
                net.Forward(x, y, Batch);
                double sum = 0;
                for (int i = 0; i < y.Length; i++) sum += (double)y[i] * r[i];
                return sum;
            }

            // Analytic gradients.
            net.ZeroGradients();
            net.Forward(x, y, Batch);
            var dx = new float[x.Length];
            net.Backward(r, dx, Batch);
            float[][] dp = net.Parameters.Select(p => p.Gradient.ToArray()).ToArray();

            double l0 = Loss();
            // Winograd's float rounding is about 10x the direct sum's (its transforms add terms up to 8x larger than the
            // result), too much for differences over h = 1e-3; GcWinograd is linear in every weight and input (no ReLU or
            // max), so a 10x larger step adds no truncation error and brings the noise back under the tolerance.
            var check = new Checker(l0, Loss, netName == nameof(GcWinograd) ? 10 * Step : Step);
            for (int k = 0; k < net.Parameters.Count; k++)
            {
                Parameter p = net.Parameters[k];
                for (int i = 0; i < p.Length; i++)
                {
                    int idx = i;
                    check.Element($"{p.Name}[{idx}]", () => p.Value[idx], v => { p.Value[idx] = v; net.ParametersChanged(); }, dp[k][idx]);
                }
            }
            for (int i = 0; i < x.Length; i++)
            {
                int idx = i;
                check.Element($"input[{idx}]", () => x[idx], v => x[idx] = v, dx[idx]);
            }
            Assert.Equal(l0, Loss()); // every perturbation was undone and Forward is deterministic

            _output.WriteLine($"{netName}/{isa}: {check.Checked} elements, {check.Skipped} kink skips, " +
                              $"max |fd - analytic| {check.MaxError:E2}, worst ratio to tolerance {check.WorstRatio:F3}");
            Assert.True(check.Failures.Count == 0,
                $"{netName}/{isa}: {check.Failures.Count} of {check.Checked} gradient elements disagree with finite differences:\n" +
                string.Join("\n", check.Failures.Take(20)));
            Assert.True(check.Skipped < MaxSkipFraction * check.Checked,
                $"{netName}/{isa}: {check.Skipped} of {check.Checked} elements straddled a kink (limit {MaxSkipFraction:P0}).");
        }

        private sealed class Checker
        {
            private readonly double _l0;
            private readonly Func<double> _loss;
            private readonly float _step;
            public Checker(double l0, Func<double> loss, float step) { _l0 = l0; _loss = loss; _step = step; }

            public int Checked, Skipped;
            public double MaxError, WorstRatio;
            public readonly List<string> Failures = new();

            private static double Tol(double a, double b, double scale = 1) => scale * (Atol + Rtol * Math.Max(Math.Abs(a), Math.Abs(b)));
            private static bool Close(double a, double b, double scale = 1) => Math.Abs(a - b) <= Tol(a, b, scale);

            public void Element(string name, Func<float> get, Action<float> set, float analytic)
            {
                Checked++;
                float orig = get();
                float plus = orig + _step, minus = orig - _step;
                set(plus);
                double lp = _loss();
                set(minus);
                double lm = _loss();
                set(orig);
                double hp = (double)plus - orig, hm = (double)orig - minus;
                double central = (lp - lm) / (hp + hm);
                double err = Math.Abs(central - analytic);
                if (Close(central, analytic))
                {
                    MaxError = Math.Max(MaxError, err);
                    WorstRatio = Math.Max(WorstRatio, err / Tol(central, analytic));
                    return;
                }
                // One-sided differences have twice the rounding noise of the central one: compare them at 2x tolerance.
                double forward = (lp - _l0) / hp, backward = (_l0 - lm) / hm;
                bool kink = !Close(forward, backward, 2) && (Close(forward, analytic, 2) || Close(backward, analytic, 2));
                if (kink) { Skipped++; return; }
                Failures.Add($"  {name}: analytic {analytic:G6}, central difference {central:G6} " +
                             $"(one-sided {forward:G6} / {backward:G6}), |diff| {err:E2}");
            }
        }

        // ---- Dropout: the contract gives no way to freeze a mask, so the finite-difference check above runs it in
        // inference mode (identity); training mode is checked statistically and for mask consistency here.

        [Theory]
        [MemberData(nameof(IsaCases))]
        public void DropoutIsIdentityInInference(Isa isa)
        {
            using var net = new GcDropoutStats(2, 1, isa);
            net.Training = false;
            float[] x = NumericsSupport.Gaussian(2 * net.InputLength, new Rng(7));
            var y = new float[x.Length];
            net.Forward(x, y, 2);
            Assert.Equal(x, y);
            var dy = NumericsSupport.Gaussian(y.Length, new Rng(8));
            var dx = new float[x.Length];
            net.Backward(dy, dx, 2);
            Assert.Equal(dy, dx);
        }

        [Theory]
        [MemberData(nameof(IsaCases))]
        public void DropoutInTrainingZeroesAboutRateAndScalesSurvivorsExactly(Isa isa)
        {
            const int batch = 8;
            const double rate = 0.25;
            using var net = new GcDropoutStats(batch, 1, isa);
            net.Training = true;
            var rng = new Rng(11);
            float[] x = new float[batch * net.InputLength];
            for (int i = 0; i < x.Length; i++)
            {
                float v;
                do v = rng.NextGaussian(); while (Math.Abs(v) < 1e-3f); // no zeros in the input: a zero output means dropped
                x[i] = v;
            }
            float scale = (float)(1.0 / (1.0 - rate));
            var y = new float[x.Length];
            var first = new bool[x.Length];

            for (int pass = 0; pass < 2; pass++)
            {
                net.Forward(x, y, batch);
                int dropped = 0, scaleErrors = 0;
                string? example = null;
                for (int i = 0; i < x.Length; i++)
                {
                    if (y[i] == 0) { dropped++; continue; }
                    // "Exactly" up to float rounding of the scale: x * (1/(1-rate)) and x / (1-rate) may differ by an ulp.
                    double expected = (double)x[i] * scale;
                    if (Math.Abs(y[i] - expected) > 4e-7 * Math.Abs(expected))
                    {
                        scaleErrors++;
                        example ??= $"x[{i}] = {x[i]:R} -> {y[i]:R}, expected {expected:R}";
                    }
                }
                double fraction = (double)dropped / x.Length;
                double sigma = Math.Sqrt(rate * (1 - rate) / x.Length); // ~0.0024 for 32768 values
                _output.WriteLine($"{isa} pass {pass}: dropped {fraction:P2} of {x.Length} (rate {rate}, sigma {sigma:P2})");
                Assert.True(Math.Abs(fraction - rate) < 6 * sigma, $"{isa}: dropped fraction {fraction:F4}, expected {rate} +- {6 * sigma:F4}");
                Assert.True(scaleErrors == 0, $"{isa}: {scaleErrors} survivors not scaled by 1/(1-rate) = {scale:R}; e.g. {example}");

                // Backward uses the same mask as the preceding Forward: dx = dy * scale where kept, 0 where dropped.
                float[] dy = NumericsSupport.Gaussian(y.Length, rng);
                var dx = new float[x.Length];
                net.Backward(dy, dx, batch);
                for (int i = 0; i < x.Length; i++)
                {
                    double expected = y[i] == 0 ? 0 : (double)dy[i] * scale;
                    Assert.True(Math.Abs(dx[i] - expected) <= 4e-7 * Math.Abs(expected),
                        $"{isa}: dx[{i}] = {dx[i]:R}, expected {expected:R} (output {y[i]:R}; Backward must reuse Forward's mask)");
                }

                if (pass == 0) for (int i = 0; i < x.Length; i++) first[i] = y[i] == 0;
                else
                {
                    int same = 0;
                    for (int i = 0; i < x.Length; i++) if (first[i] == (y[i] == 0)) same++;
                    Assert.True(same < x.Length, $"{isa}: two training forwards drew the same dropout mask");
                }
            }

            net.Training = false;
            net.Forward(x, y, batch);
            Assert.Equal(x, y);
        }
    }
}
