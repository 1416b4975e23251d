// The 2x2 / stride 2 max pool's vector path (4 outputs from the even and odd lanes of two input rows) against a
// direct reference: values, which input wins (the first of equal values in kh-then-kw order, as PyTorch), and the
// backward that routes each output gradient to that winner, on every kernel set and on a team of workers. Inputs come from a few levels, so most windows hold ties.
using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen;
using Xunit;

namespace CnnGen.Tests.Numerics
{
    // even: 14x22 -> 7x11 (two vector groups of 4 and 3 outputs one by one per row)
    [Network(Channels = 3, Height = 14, Width = 22)]
    [MaxPool2D(2), Flatten]
    public partial class PairPoolEven;

    // odd: 9x13 -> 4x6 (the last input row and column belong to no window and get a zero gradient)
    [Network(Channels = 2, Height = 9, Width = 13)]
    [MaxPool2D(2), Flatten]
    public partial class PairPoolOdd;

    // ReLU -> pair pool: the pool's backward applies the ReLU's mask and writes the conv's output gradient (odd 9x17
    // input: an uncovered last row and column).
    [Network(Channels = 2, Height = 9, Width = 17)]
    [Conv2D(4, 3, Padding = 1), ReLU, MaxPool2D(2), Flatten, Dense(3)]
    public partial class ReluPoolFused;

    // The same function with the fusion broken by an identity in between (dropout in inference): ReLU's own backward.
    [Network(Channels = 2, Height = 9, Width = 17)]
    [Conv2D(4, 3, Padding = 1), ReLU, Dropout(0.5), MaxPool2D(2), Flatten, Dense(3)]
    public partial class ReluPoolSeparate;

    // ReLU -> ResNet's 3x3/2 pad 1 stem pool (the vector path and the general loop at the borders; overlapping windows)
    // and -> a 3x3/3 pool (the general loop), fused, and the same functions unfused
    [Network(Channels = 2, Height = 13, Width = 45)]
    [Conv2D(3, 3, Padding = 1), ReLU, MaxPool2D(3, Stride = 2, Padding = 1), Conv2D(3, 1), ReLU, MaxPool2D(3, Stride = 3), Flatten, Dense(3)]
    public partial class ReluStride2PoolFused;

    [Network(Channels = 2, Height = 13, Width = 45)]
    [Conv2D(3, 3, Padding = 1), ReLU, Dropout(0.5), MaxPool2D(3, Stride = 2, Padding = 1), Conv2D(3, 1), ReLU, Dropout(0.5), MaxPool2D(3, Stride = 3), Flatten, Dense(3)]
    public partial class ReluStride2PoolSeparate;

    // stride 2 with other windows and padding (the vector path inside the input, the general loop at the borders):
    // ResNet's stem pool shape class 3x3/2 pad 1, and 3x3/2 without padding, and 2x2/2 with padding.
    [Network(Channels = 2, Height = 23, Width = 37)]
    [MaxPool2D(3, Stride = 2, Padding = 1), Flatten]
    public partial class Stride2PoolK3P1;

    [Network(Channels = 2, Height = 15, Width = 29)]
    [MaxPool2D(3, Stride = 2), Flatten]
    public partial class Stride2PoolK3P0;

    [Network(Channels = 2, Height = 10, Width = 26)]
    [MaxPool2D(2, Stride = 2, Padding = 1), Flatten]
    public partial class Stride2PoolK2P1;

    // ResNet's stem in small: conv - BatchNorm - ReLU - 3x3/2 pad 1 pool (wide enough for a whole AVX-512 vector of outputs
    // per row). Its inference folds the BatchNorm, and that forward skips the pool's argmax.
    [Network(Channels = 2, Height = 14, Width = 46)]
    [Conv2D(3, 3, Padding = 1, Bias = false), BatchNorm, ReLU, MaxPool2D(3, Stride = 2, Padding = 1), Flatten, Dense(4)]
    public partial class StemPoolFolded;

    public class MaxPoolPairTests
    {
        /// <summary>A folded inference writes no argmax for its stride-2 pool; a backward after it must still route each
        /// output gradient to the window's winner (the network reruns the forward unfolded first), exactly as after an
        /// unfolded forward.</summary>
        [Theory]
        [MemberData(nameof(Isas))]
        public void Backward_after_a_folded_forward_equals_backward_after_an_unfolded_one(Isa isa)
        {
            const int batch = 2;
            using var folded = new StemPoolFolded(batch, 1, isa);
            using var unfolded = new StemPoolFolded(batch, 1, isa);
            var rng = new Rng(21);
            NumericsSupport.Randomize(folded, rng);
            foreach (var (a, b) in folded.Parameters.Concat(folded.Buffers).Zip(unfolded.Parameters.Concat(unfolded.Buffers))) a.Value.CopyTo(b.Value);
            unfolded.ParametersChanged();
            unfolded.FoldBatchNorm = false;
            var x = NumericsSupport.Gaussian(batch * StemPoolFolded.InputSize, rng);
            var y1 = new float[batch * StemPoolFolded.OutputSize];
            var y2 = new float[y1.Length];
            folded.Forward(x, y1, batch);
            unfolded.Forward(x, y2, batch);
            for (int i = 0; i < y1.Length; i++) Assert.True(Math.Abs(y1[i] - y2[i]) <= 1e-5f + 1e-4f * Math.Abs(y2[i]), $"output {i}: folded {y1[i]}, unfolded {y2[i]}");
            var dy = NumericsSupport.Gaussian(y1.Length, rng);
            var dx1 = new float[x.Length];
            var dx2 = new float[x.Length];
            folded.ZeroGradients();
            unfolded.ZeroGradients();
            folded.Backward(dy, dx1, batch);
            unfolded.Backward(dy, dx2, batch);
            Assert.Equal(dx2, dx1);
            Assert.Contains(dx1, g => g != 0f);
            for (int p = 0; p < folded.Parameters.Count; p++)
                Assert.Equal(unfolded.Parameters[p].Gradient.ToArray(), folded.Parameters[p].Gradient.ToArray());

            // and both equal central differences of sum(dy * y) (the net is piecewise linear: exact but where a step
            // crosses a ReLU or a pool's switch, which a few coordinates may)
            const float h = 1e-3f;
            var probe = new float[y1.Length];
            double Loss(float[] input)
            {
                unfolded.Forward(input, probe, batch);
                double sum = 0;
                for (int i = 0; i < probe.Length; i++) sum += (double)dy[i] * probe[i];
                return sum;
            }
            int off = 0;
            for (int i = 0; i < x.Length; i++)
            {
                float keep = x[i];
                x[i] = keep + h;
                double plus = Loss(x);
                x[i] = keep - h;
                double minus = Loss(x);
                x[i] = keep;
                double fd = (plus - minus) / (2 * h);
                if (Math.Abs(fd - dx1[i]) > 2e-2 * (1 + Math.Abs(fd))) off++;
            }
            Assert.True(off <= 3, $"{off} of {x.Length} input gradients differ from central differences");
        }

        public static IEnumerable<object[]> Stride2Cases() =>
            from isa in NumericsSupport.SupportedIsas
            from net in new[] { nameof(Stride2PoolK3P1), nameof(Stride2PoolK3P0), nameof(Stride2PoolK2P1) }
            select new object[] { net, isa };

        [Theory]
        [MemberData(nameof(Stride2Cases))]
        public void Stride_two_pools_match_the_general_loop(string name, Isa isa)
        {
            (INetwork net, int C, int H, int W, int K, int P) = name switch
            {
                nameof(Stride2PoolK3P1) => ((INetwork)new Stride2PoolK3P1(Batch, 1, isa), 2, 23, 37, 3, 1),
                nameof(Stride2PoolK3P0) => (new Stride2PoolK3P0(Batch, 1, isa), 2, 15, 29, 3, 0),
                _ => (new Stride2PoolK2P1(Batch, 1, isa), 2, 10, 26, 2, 1),
            };
            using var _ = net;
            int OH = (H + 2 * P - K) / 2 + 1, OW = (W + 2 * P - K) / 2 + 1;
            Assert.Equal(C * OH * OW, net.OutputLength);
            var rng = new Rng(13);
            var x = new float[Batch * C * H * W];
            for (int i = 0; i < x.Length; i++) x[i] = (int)(rng.NextUInt() % 4) - 2; // -2..1: ties, and negative windows (not beaten by the padding)
            var y = new float[Batch * net.OutputLength];
            net.Forward(x, y, Batch);
            var dy = NumericsSupport.Gaussian(y.Length, rng);
            var dx = new float[x.Length];
            net.Backward(dy, dx, Batch);

            var expectedDx = new double[x.Length];
            for (int plane = 0; plane < Batch * C; plane++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++)
                    {
                        int best = -1;
                        for (int kh = 0; kh < K; kh++)
                            for (int kw = 0; kw < K; kw++)
                            {
                                int ih = 2 * oh - P + kh, iw = 2 * ow - P + kw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                int at = plane * H * W + ih * W + iw;
                                if (best < 0 || x[at] > x[best]) best = at;
                            }
                        int o = (plane * OH + oh) * OW + ow;
                        Assert.True(x[best] == y[o], $"{name} {isa}: y[{o}] = {y[o]}, expected {x[best]}");
                        expectedDx[best] += dy[o];
                    }
            for (int i = 0; i < dx.Length; i++)
                Assert.True(Math.Abs(expectedDx[i] - dx[i]) <= 1e-5 * (1 + Math.Abs(expectedDx[i])), $"{name} {isa}: dx[{i}] = {dx[i]}, expected {expectedDx[i]}");
        }

        public static IEnumerable<object[]> Isas() => NumericsSupport.SupportedIsas.Select(isa => new object[] { isa });

        [Theory]
        [MemberData(nameof(Isas))]
        public void Relu_then_pool_backward_in_one_pass_equals_the_two_passes(Isa isa)
        {
            using var fused = new ReluPoolFused(4, 1, isa);
            using var separate = new ReluPoolSeparate(4, 1, isa);
            FusedEqualsSeparate(fused, separate, ReluPoolFused.InputSize, ReluPoolFused.OutputSize);
        }

        [Theory]
        [MemberData(nameof(Isas))]
        public void Relu_then_overlapping_pools_in_one_pass_equal_the_two_passes(Isa isa)
        {
            using var fused = new ReluStride2PoolFused(4, 1, isa);
            using var separate = new ReluStride2PoolSeparate(4, 1, isa);
            FusedEqualsSeparate(fused, separate, ReluStride2PoolFused.InputSize, ReluStride2PoolFused.OutputSize);
            Assert.Equal(0, fused.LayerOutput(1, 2).ToArray().Count(v => v < 0)); // the ReLU's output, written on request
            Assert.Equal(separate.LayerOutput(1, 2).ToArray(), fused.LayerOutput(1, 2).ToArray());
        }

        /// <summary>Same parameters, same input: the same outputs, input gradient and parameter gradients, bit for bit.</summary>
        private static void FusedEqualsSeparate(INetwork fused, INetwork separate, int inputSize, int outputSize)
        {
            var rng = new Rng(5);
            NumericsSupport.Randomize(fused, rng);
            for (int p = 0; p < fused.Parameters.Count; p++) fused.Parameters[p].Value.CopyTo(separate.Parameters[p].Value);
            separate.ParametersChanged();
            var x = NumericsSupport.Gaussian(4 * inputSize, rng);
            var y1 = new float[4 * outputSize];
            var y2 = new float[y1.Length];
            fused.Forward(x, y1, 4);
            separate.Forward(x, y2, 4);
            Assert.Equal(y2, y1);
            var dy = NumericsSupport.Gaussian(y1.Length, rng);
            var dx1 = new float[x.Length];
            var dx2 = new float[x.Length];
            fused.ZeroGradients();
            separate.ZeroGradients();
            fused.Backward(dy, dx1, 4);
            separate.Backward(dy, dx2, 4);
            Assert.Equal(dx2, dx1);
            for (int p = 0; p < fused.Parameters.Count; p++)
                Assert.Equal(separate.Parameters[p].Gradient.ToArray(), fused.Parameters[p].Gradient.ToArray());
            Assert.Contains(fused.Parameters[0].Gradient.ToArray(), g => g != 0f);
        }

        private const int Batch = 3;

        public static IEnumerable<object[]> Cases() =>
            from isa in NumericsSupport.SupportedIsas
            from net in new[] { nameof(PairPoolEven), nameof(PairPoolOdd) }
            from threads in new[] { 1, 2 }
            select new object[] { net, isa, threads };

        private static (INetwork Net, int C, int H, int W) Make(string name, Isa isa, int threads) => name switch
        {
            nameof(PairPoolEven) => (new PairPoolEven(Batch, 1, isa, threads), 3, 14, 22),
            _ => (new PairPoolOdd(Batch, 1, isa, threads), 2, 9, 13),
        };

        [Theory]
        [MemberData(nameof(Cases))]
        public void Forward_and_backward_match_the_first_winner_of_each_window(string name, Isa isa, int threads)
        {
            (INetwork net, int C, int H, int W) = Make(name, isa, threads);
            using var _ = net;
            int OH = H / 2, OW = W / 2;
            var rng = new Rng(11);
            var x = new float[Batch * C * H * W];
            for (int i = 0; i < x.Length; i++) x[i] = (int)(rng.NextUInt() % 4) - 1; // -1, 0, 1, 2: ties everywhere
            var y = new float[Batch * C * OH * OW];
            net.Forward(x, y, Batch);

            var dy = NumericsSupport.Gaussian(y.Length, rng);
            var dx = new float[x.Length];
            net.Backward(dy, dx, Batch);

            var expectedDx = new float[x.Length];
            for (int plane = 0; plane < Batch * C; plane++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++)
                    {
                        int best = plane * H * W + 2 * oh * W + 2 * ow;
                        foreach (int at in new[] { best + 1, best + W, best + W + 1 })
                            if (x[at] > x[best]) best = at;
                        int o = (plane * OH + oh) * OW + ow;
                        Assert.True(x[best] == y[o], $"{name} {isa} t{threads}: y[{o}] = {y[o]}, expected {x[best]}");
                        expectedDx[best] = dy[o];
                    }
            for (int i = 0; i < dx.Length; i++)
                Assert.True(expectedDx[i] == dx[i], $"{name} {isa} t{threads}: dx[{i}] = {dx[i]}, expected {expectedDx[i]}");

            if (threads > 1)
            {
                // one image on two workers: a team splits the planes
                if (net is PairPoolEven e) e.TeamMinimumFlops = 0;
                if (net is PairPoolOdd d) d.TeamMinimumFlops = 0;
                var y1 = new float[C * OH * OW];
                net.Forward(x.AsSpan(0, C * H * W), y1, 1);
                Assert.Equal(2, net is PairPoolEven e2 ? e2.LastCallWorkers : ((PairPoolOdd)net).LastCallWorkers);
                for (int i = 0; i < y1.Length; i++) Assert.True(y[i].Equals(y1[i]), $"team y[{i}] = {y1[i]}, expected {y[i]}");
            }
        }
    }
}
