// The backward of a single image on a pool of two or more workers runs split (NetworkEmitter: Dispatch, BackwardLayers,
// BackwardWeights): worker 0 runs the input-gradient chain, worker 1 every conv's and dense layer's weight gradient as soon
// as the chain has completed that layer's output gradient; the chain waits before overwriting an output gradient worker 1
// has yet to read. Each weight gradient is the same kernel call on the same data as on one worker, so parameter gradients,
// input gradients, losses and trained weights must equal one worker's bit for bit: on every kernel set, for chains, residual
// adds, concats, BatchNorm, dropout, fused ReLU -> pool, auxiliary heads, Winograd (and its weight gradient), im2col with
// transposed, shifted-plane and whole-image weight gradients, grouped and 1x1 convs.
using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen;
using Xunit;

namespace CnnGen.Tests.Numerics
{
    public sealed class SplitBackwardTests
    {
        private delegate INetwork Create(Isa isa, int threads);

        // TeamMinimumFlops = 0: these networks are far below the default threshold, and the split backward is the subject.
        private static readonly Dictionary<string, Create> Nets = new()
        {
            [nameof(FixtureResNet)] = (isa, t) => new FixtureResNet(1, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(FixtureInception)] = (isa, t) => new FixtureInception(1, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(FixtureDenseNet)] = (isa, t) => new FixtureDenseNet(1, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(GtFoldNet)] = (isa, t) => new GtFoldNet(1, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(GtAuxNet)] = (isa, t) => new GtAuxNet(1, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(TfResidual)] = (isa, t) => new TfResidual(1, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(TfLate)] = (isa, t) => new TfLate(1, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(ReluStride2PoolFused)] = (isa, t) => new ReluStride2PoolFused(1, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(ReluStride2PoolSeparate)] = (isa, t) => new ReluStride2PoolSeparate(1, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(BcWinogradWide)] = (isa, t) => new BcWinogradWide(1, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(BcWinogradWeightGradient16Tiles)] = (isa, t) => new BcWinogradWeightGradient16Tiles(1, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(BcStem)] = (isa, t) => new BcStem(1, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(BcShiftedPlanes5x5)] = (isa, t) => new BcShiftedPlanes5x5(1, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(BcWholeImageWeightGradient)] = (isa, t) => new BcWholeImageWeightGradient(1, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(BcPointwise)] = (isa, t) => new BcPointwise(1, 1, isa, t) { TeamMinimumFlops = 0 },
            [nameof(BcGroups)] = (isa, t) => new BcGroups(1, 1, isa, t) { TeamMinimumFlops = 0 },
        };

        private static readonly int[] ThreadCounts = { 2, 3 };

        /// <summary>The networks with a Winograd conv also run with Winograd off (im2col weight gradients on worker 1).</summary>
        private static readonly HashSet<string> WinogradNets = new() { nameof(FixtureResNet), nameof(BcWinogradWide), nameof(BcWinogradWeightGradient16Tiles) };

        public static IEnumerable<object[]> All() =>
            from name in Nets.Keys
            from isa in NumericsSupport.SupportedIsas
            from winograd in WinogradNets.Contains(name) ? new[] { true, false } : new[] { true }
            select new object[] { name, isa, winograd };

        private static (INetwork One, INetwork Split) Pair(string netName, Isa isa, int threads, bool winograd)
        {
            INetwork one = Nets[netName](isa, 1), split = Nets[netName](isa, threads);
            Assert.Equal(threads, split.Threads);
            one.Winograd = split.Winograd = winograd;
            NumericsSupport.Randomize(one, new Rng(51));
            NumericsSupport.Randomize(split, new Rng(51));
            return (one, split);
        }

        private static void AssertBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> got, string what)
        {
            Assert.Equal(expected.Length, got.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(got[i]),
                    $"{what}[{i}]: {got[i]} split, {expected[i]} from one worker");
        }

        [Theory]
        [MemberData(nameof(All))]
        public void SplitTrainStepEqualsOneWorkerBitForBit(string netName, Isa isa, bool winograd)
        {
            foreach (int threads in ThreadCounts)
            {
                var (one, split) = Pair(netName, isa, threads, winograd);
                using (one)
                using (split)
                {
                    float[] x = NumericsSupport.Gaussian(one.InputLength, new Rng(52));
                    int[] label = { 1 };
                    var sgd1 = new Sgd(0.05f, momentum: 0.9f);
                    var sgd2 = new Sgd(0.05f, momentum: 0.9f);
                    for (int step = 0; step < 3; step++) // the cursors are reset for every step: each must agree
                    {
                        float l1 = one.TrainStep(x, label, sgd1, out int c1);
                        float l2 = split.TrainStep(x, label, sgd2, out int c2);
                        Assert.Equal(c1, c2);
                        Assert.Equal(2, ((dynamic)split).LastCallWorkers); // the backward ran on two workers
                        Assert.True(BitConverter.SingleToInt32Bits(l1) == BitConverter.SingleToInt32Bits(l2), $"{threads} threads, step {step}: loss {l2} split, {l1} from one worker");
                    }
                    foreach (var (a, b) in one.Parameters.Concat(one.Buffers).Zip(split.Parameters.Concat(split.Buffers)))
                        AssertBits(a.Value, b.Value, $"{threads} threads, {a.Name}");
                    Assert.Contains(one.Parameters, p => p.Value.ToArray().Any(v => v != 0f));
                }
            }
        }

        [Theory]
        [MemberData(nameof(All))]
        public void SplitBackwardEqualsOneWorkerBitForBit(string netName, Isa isa, bool winograd)
        {
            foreach (bool training in new[] { false, true })
            {
                var (one, split) = Pair(netName, isa, threads: 2, winograd);
                using (one)
                using (split)
                {
                    one.Training = split.Training = training;
                    float[] x = NumericsSupport.Gaussian(one.InputLength, new Rng(53));
                    float[] dy = NumericsSupport.Gaussian(one.OutputLength, new Rng(54));
                    var y = new float[one.OutputLength];
                    var dx1 = new float[one.InputLength];
                    var dx2 = new float[one.InputLength];
                    one.Forward(x, y, 1);
                    split.Forward(x, y, 1);
                    for (int round = 0; round < 2; round++) // parameter gradients add up over calls
                    {
                        one.Backward(dy, dx1, 1);
                        Array.Fill(dx2, float.NaN);
                        split.Backward(dy, dx2, 1);
                        Assert.Equal(2, ((dynamic)split).LastCallWorkers);
                        AssertBits(dx1, dx2, $"training {training}, round {round}, input gradient");
                    }
                    one.Backward(1, inputGradient: false); // parameter gradients only: the first layer's input gradient skipped
                    split.Backward(1, inputGradient: false);
                    foreach (var (a, b) in one.Parameters.Zip(split.Parameters))
                        AssertBits(a.Gradient, b.Gradient, $"training {training}, d {a.Name}");
                    Assert.Contains(one.Parameters, p => p.Gradient.ToArray().Any(v => v != 0f));
                    Assert.Contains(dx1, v => v != 0f);
                }
            }
        }

        [Fact]
        public void SmallNetworksBackOneImageOnOneWorkerUnlessAsked()
        {
            using var net = new TfLate(1, 1, null, threads: 2);
            Assert.True(TfLate.FlopsPerImage < net.TeamMinimumFlops); // below the default threshold
            float[] x = NumericsSupport.Gaussian(TfLate.InputSize, new Rng(55));
            net.TrainStep(x, new[] { 2 }, new Sgd(0.01f));
            Assert.Equal(1, net.LastCallWorkers);
            net.TeamMinimumFlops = TfLate.FlopsPerImage; // exactly at the threshold: split
            net.TrainStep(x, new[] { 2 }, new Sgd(0.01f));
            Assert.Equal(2, net.LastCallWorkers);
        }
    }
}
