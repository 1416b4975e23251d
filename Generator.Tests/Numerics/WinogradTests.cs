// Winograd F(4x4, 3x3): which convs take it, that the transformed weights follow every change of the parameters (direct
// writes, TrainStep, folding BatchNorm), and that a network trains the same with it on and off. The kernels' values
// (forward, weight and bias gradient, input gradient) against a direct double-precision convolution are in
// BlockedConvTests (BcWinograd*, BcPixelBlocks, each also with Winograd off; BcPixelBlocks and BcWinogradWide have
// enough tiles for the Winograd weight gradient, and BcWinogradWeightGradient16Tiles enough channels; BcWinogradSmall's is im2col's on AVX-512 only); teams in TeamForwardTests (BcPixelBlocks); gradients by finite differences in
// GradientCheckTests (GcWinograd).
using System;
using System.Linq;
using CnnGen;
using CnnGen.Generator.Model;
using CnnGen.Generator.Plan;
using Xunit;

namespace CnnGen.Tests.Numerics
{
    // conv (Winograd) -> BatchNorm (folded in inference) -> ReLU -> conv (Winograd, pad 1) -> pool -> dense
    [Network(Channels = 16, Height = 16, Width = 16)]
    [Conv2D(16, 3, Padding = 1, Bias = false), BatchNorm, ReLU]
    [Conv2D(24, 3, Padding = 1), ReLU, MaxPool2D(2)]
    [Flatten, Dense(5)]
    public partial class WinogradNet;

    public sealed class WinogradTests
    {
        [Fact]
        public void OnlyThreeByThreeStrideOnePadOneConvsWithSixteenChannelsOnThirteenPixelMapsTakeWinograd()
        {
            static CheckedLayer Conv(int cin, int h, int w, int cout, int k = 3, int s = 1, int p = 1, int g = 1) => NumericsSupport.ConvLayer(cin, h, w, cout, k, s, p, g);
            Assert.True(MemoryPlanner.IsWinograd(Conv(16, 13, 13, 16)));
            Assert.True(MemoryPlanner.IsWinograd(Conv(64, 56, 56, 64)));
            Assert.True(MemoryPlanner.IsWinograd(Conv(36, 14, 14, 72)));
            Assert.False(MemoryPlanner.IsWinograd(Conv(16, 12, 13, 16)));   // 3 tile rows
            Assert.False(MemoryPlanner.IsWinograd(Conv(15, 32, 32, 16)));   // too few input channels
            Assert.False(MemoryPlanner.IsWinograd(Conv(16, 32, 32, 15)));   // too few output channels
            Assert.False(MemoryPlanner.IsWinograd(Conv(16, 32, 32, 16, s: 2)));
            Assert.False(MemoryPlanner.IsWinograd(Conv(16, 32, 32, 16, p: 0)));
            Assert.False(MemoryPlanner.IsWinograd(Conv(16, 32, 32, 16, k: 5, p: 2)));
            Assert.False(MemoryPlanner.IsWinograd(Conv(16, 32, 32, 16, g: 2)));
        }

        [Fact]
        public void TheWeightGradientTakesWinogradFromThirtyTwoTilesOrSixteenWithWideChannels()
        {
            static CheckedLayer Conv(int cin, int h, int w, int cout) => NumericsSupport.ConvLayer(cin, h, w, cout, 3, 1, 1, 1);
            Assert.True(MemoryPlanner.IsWinogradWeightGradient(Conv(64, 56, 56, 64)));    // 196 tiles
            Assert.True(MemoryPlanner.IsWinogradWeightGradient(Conv(16, 28, 28, 16)));    // 49 tiles
            Assert.True(MemoryPlanner.IsWinogradWeightGradient(Conv(256, 14, 14, 256)));  // 16 tiles, 256 channels
            Assert.True(MemoryPlanner.IsWinogradWeightGradient(Conv(128, 13, 14, 128)));  // BcWinogradWeightGradient16Tiles
            Assert.False(MemoryPlanner.IsWinogradWeightGradient(Conv(36, 14, 14, 72)));   // the seed net's layer: 16 tiles, narrow
            Assert.False(MemoryPlanner.IsWinogradWeightGradient(Conv(96, 13, 13, 96)));   // BcWinogradPrefetch
            Assert.False(MemoryPlanner.IsWinogradWeightGradient(Conv(128, 12, 14, 128))); // not Winograd at all
        }

        [Fact]
        public void OnTheNarrowerKernelSetsEverySixteenTileWinogradConvTakesTheWinogradWeightGradient()
        {
            static CheckedLayer Conv(int cin, int h, int w, int cout) => NumericsSupport.ConvLayer(cin, h, w, cout, 3, 1, 1, 1);
            foreach (int width in new[] { 4, 8 })
            {
                Assert.True(MemoryPlanner.IsWinogradWeightGradient(Conv(36, 14, 14, 72), width));    // the seed net's layer
                Assert.True(MemoryPlanner.IsWinogradWeightGradient(Conv(96, 13, 13, 96), width));    // BcWinogradPrefetch
                Assert.True(MemoryPlanner.IsWinogradWeightGradient(Conv(64, 56, 56, 64), width));
                Assert.False(MemoryPlanner.IsWinogradWeightGradient(Conv(128, 12, 14, 128), width)); // not Winograd at all
                Assert.False(MemoryPlanner.IsWinogradWeightGradient(Conv(64, 7, 7, 64), width));     // 7 x 7: not Winograd either
            }
            // AVX-512 keeps the rule above: the seed layer's channels-last im2col measured faster there
            Assert.False(MemoryPlanner.IsWinogradWeightGradient(Conv(36, 14, 14, 72), 16));
            Assert.True(MemoryPlanner.IsWinogradWeightGradient(Conv(256, 14, 14, 256), 16));
        }

        [Fact]
        public void BatchSplitWorkersKeepTheirOwnTransformedWeightGradientWhenItFitsL2()
        {
            static CheckedLayer Conv(int cin, int h, int w, int cout) => NumericsSupport.ConvLayer(cin, h, w, cout, 3, 1, 1, 1);
            Assert.True(CnnGen.Generator.Emit.KernelEmitter.IsWinogradGradientPerWorker(Conv(36, 14, 14, 72)));    // the seed net's layer: dU 364 KiB
            Assert.True(CnnGen.Generator.Emit.KernelEmitter.IsWinogradGradientPerWorker(Conv(64, 56, 56, 64)));    // 576 KiB
            Assert.True(CnnGen.Generator.Emit.KernelEmitter.IsWinogradGradientPerWorker(Conv(40, 30, 57, 16)));    // BcWinogradWide
            Assert.False(CnnGen.Generator.Emit.KernelEmitter.IsWinogradGradientPerWorker(Conv(128, 13, 14, 128))); // 2.3 MiB: rows shared
            Assert.False(CnnGen.Generator.Emit.KernelEmitter.IsWinogradGradientPerWorker(Conv(256, 14, 14, 256))); // 9 MiB
        }

        [Fact]
        public void TransformedMatricesLieAnOddNumberOfCacheLinesApart()
        {
            Assert.Equal(257 * 16, MemoryPlanner.WinogradMatrixStride(256 * 16)); // 256 channels x 16 tiles: 16 KiB -> one line more
            Assert.Equal(785 * 16, MemoryPlanner.WinogradMatrixStride(64 * 196));
            Assert.Equal(3 * 16, MemoryPlanner.WinogradMatrixStride(33));         // 33 floats: 3 lines
            Assert.Equal(5 * 16, MemoryPlanner.WinogradMatrixStride(64));         // 4 lines -> 5
        }

        [Fact]
        public void TransformedWeightsMatchGgGTransposeInDouble()
        {
            double[,] G = { { 0.25, 0, 0 }, { -1 / 6.0, -1 / 6.0, -1 / 6.0 }, { -1 / 6.0, 1 / 6.0, -1 / 6.0 }, { 1 / 24.0, 1 / 12.0, 1 / 6.0 }, { 1 / 24.0, -1 / 12.0, 1 / 6.0 }, { 0, 0, 1 } };
            const int cout = 19, cin = 18; // blocks of Vector<float>.Count filters and a scalar tail, both ways
            var rng = new Rng(5);
            float[] w = NumericsSupport.Gaussian(cout * cin * 9, rng);
            var u = new float[36 * cout * cin];
            var ut = new float[36 * cout * cin];
            Winograd.TransformWeights(w, cout, cin, u);
            Winograd.TransformWeights(w, cout, cin, ut, transposeFlip: true);
            for (int m = 0; m < cout; m++)
                for (int c = 0; c < cin; c++)
                    for (int k = 0; k < 6; k++)
                        for (int l = 0; l < 6; l++)
                        {
                            double sum = 0, flipped = 0;
                            for (int a = 0; a < 3; a++)
                                for (int b = 0; b < 3; b++)
                                {
                                    sum += G[k, a] * w[(m * cin + c) * 9 + a * 3 + b] * G[l, b];
                                    flipped += G[k, a] * w[(m * cin + c) * 9 + (2 - a) * 3 + (2 - b)] * G[l, b];
                                }
                            float got = u[(k * 6 + l) * cout * cin + m * cin + c], gotFlipped = ut[(k * 6 + l) * cout * cin + c * cout + m];
                            Assert.True(Math.Abs(got - sum) <= 1e-6 * (1 + Math.Abs(sum)), $"U[{k * 6 + l}][{m}][{c}] = {got}, expected {sum}");
                            Assert.True(Math.Abs(gotFlipped - flipped) <= 1e-6 * (1 + Math.Abs(flipped)), $"U'[{k * 6 + l}][{c}][{m}] = {gotFlipped}, expected {flipped}");
                        }
        }

        [Fact]
        public void WeightGradientIsGTransposeDuG()
        {
            double[,] G = { { 0.25, 0, 0 }, { -1 / 6.0, -1 / 6.0, -1 / 6.0 }, { -1 / 6.0, 1 / 6.0, -1 / 6.0 }, { 1 / 24.0, 1 / 12.0, 1 / 6.0 }, { 1 / 24.0, -1 / 12.0, 1 / 6.0 }, { 0, 0, 1 } };
            const int cout = 5, cin = 19; // blocks of Vector<float>.Count columns and a scalar tail
            var rng = new Rng(7);
            float[] du = NumericsSupport.Gaussian(36 * cout * cin, rng);
            float[] dw = NumericsSupport.Gaussian(cout * cin * 9, rng);
            float[] before = (float[])dw.Clone();
            Winograd.AccumulateWeightGradient(du, cout, cin, dw);
            for (int m = 0; m < cout; m++)
                for (int c = 0; c < cin; c++)
                    for (int a = 0; a < 3; a++)
                        for (int b = 0; b < 3; b++)
                        {
                            double sum = before[(m * cin + c) * 9 + a * 3 + b];
                            for (int k = 0; k < 6; k++)
                                for (int l = 0; l < 6; l++)
                                    sum += G[k, a] * du[(k * 6 + l) * cout * cin + m * cin + c] * G[l, b];
                            float got = dw[(m * cin + c) * 9 + a * 3 + b];
                            Assert.True(Math.Abs(got - sum) <= 1e-5 * (1 + Math.Abs(sum)), $"dW[{m}][{c}][{a}][{b}] = {got}, expected {sum}");
                        }
            var e = Assert.Throws<ArgumentException>(() => Winograd.AccumulateWeightGradient(new float[35], 1, 1, new float[9]));
            Assert.Contains("36 x 1 x 1", e.Message);
        }

        /// <summary>The workers of a batch-split backward each transform their own output channels' rows of dU back
        /// (AccumulateWeightGradient with a row range): the shares of any split together give the whole call's values bit for
        /// bit, and a share leaves the other filters untouched.</summary>
        [Fact]
        public void WeightGradientRowSharesEqualTheWhole()
        {
            const int cout = 21, cin = 19;
            var rng = new Rng(13);
            float[] du = NumericsSupport.Gaussian(36 * cout * cin, rng);
            float[] start = NumericsSupport.Gaussian(cout * cin * 9, rng);
            float[] whole = (float[])start.Clone();
            Winograd.AccumulateWeightGradient(du, cout, cin, whole);
            foreach (int parts in new[] { 2, 3, 7 })
            {
                float[] shared = (float[])start.Clone();
                for (int part = parts - 1; part >= 0; part--)
                {
                    int begin = part * cout / parts, end = (part + 1) * cout / parts;
                    float[] before = (float[])shared.Clone();
                    Winograd.AccumulateWeightGradient(du, cout, cin, shared, begin, end);
                    for (int i = 0; i < shared.Length; i++)
                        if (i / (cin * 9) < begin || i / (cin * 9) >= end) Assert.Equal(before[i], shared[i]);
                }
                Assert.Equal(whole, shared);
            }
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => Winograd.AccumulateWeightGradient(du, cout, cin, new float[cout * cin * 9], 4, cout + 1));
            Assert.Contains($"rows [4, {cout + 1}) are not a range of the {cout} output channels", e.Message);
        }

        /// <summary>The workers of a network transform the weights in row shares (TransformWinogradShare): any split of the
        /// rows gives the whole call's values bit for bit, forward and input-gradient, in vector blocks and the scalar tail.</summary>
        [Fact]
        public void RowSharesEqualTheWholeTransform()
        {
            const int cout = 21, cin = 19;
            float[] w = NumericsSupport.Gaussian(cout * cin * 9, new Rng(11));
            foreach (bool flip in new[] { false, true })
            {
                int rows = flip ? cin : cout;
                var whole = new float[36 * cout * cin];
                Winograd.TransformWeights(w, cout, cin, whole, flip);
                foreach (int parts in new[] { 2, 3, 7 })
                {
                    var shared = new float[36 * cout * cin];
                    for (int part = parts - 1; part >= 0; part--) // any order: the shares are disjoint
                        Winograd.TransformWeights(w, cout, cin, shared, flip, part * rows / parts, (part + 1) * rows / parts);
                    Assert.Equal(whole, shared);
                }
            }
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => Winograd.TransformWeights(w, cout, cin, new float[36 * cout * cin], false, 5, cout + 1));
            Assert.Contains($"rows [5, {cout + 1}) are not inside U's {cout} rows", e.Message);
        }

        [Fact]
        public void TransformRejectsMismatchedLengths()
        {
            var e = Assert.Throws<ArgumentException>(() => Winograd.TransformWeights(new float[17], 2, 1, new float[72]));
            Assert.Contains("2 x 1 3x3 filters are 18", e.Message);
            e = Assert.Throws<ArgumentException>(() => Winograd.TransformWeights(new float[18], 2, 1, new float[71]));
            Assert.Contains("36 x 2", e.Message);
        }

        /// <summary>Forward with Winograd on equals Winograd off (im2col) within float rounding after each way parameters
        /// change: construction, a direct write + ParametersChanged, a TrainStep, new running statistics (folded BatchNorm).</summary>
        [Theory]
        [MemberData(nameof(Isas))]
        public void TransformedWeightsFollowEveryParameterChange(Isa isa)
        {
            const int batch = 2;
            using var on = new WinogradNet(batch, 3, isa);
            using var off = new WinogradNet(batch, 3, isa) { Winograd = false };
            var rng = new Rng(17);
            float[] x = NumericsSupport.Gaussian(batch * on.InputLength, rng);
            int[] labels = { 1, 4 };
            void Same(string when)
            {
                foreach (bool training in new[] { false, true })
                {
                    on.Training = off.Training = training;
                    var a = new float[batch * on.OutputLength];
                    var b = new float[a.Length];
                    on.Forward(x, a, batch);
                    off.Forward(x, b, batch);
                    for (int i = 0; i < a.Length; i++)
                        Assert.True(Math.Abs(a[i] - b[i]) <= 1e-4 * (1 + Math.Abs(b[i])), $"{when}, training {training}: output {i} is {a[i]} with Winograd, {b[i]} without");
                }
                on.Training = off.Training = false;
            }
            Same("after construction");
            for (int k = 0; k < 2; k++)
            {
                float[] v = NumericsSupport.Gaussian(on.Parameters[0].Length, rng, 0.3f);
                v.CopyTo(on.Parameters[0].Value);
                v.CopyTo(off.Parameters[0].Value);
                Same("after writing conv1's weights");
            }
            var sgd1 = new Sgd(0.1f);
            var sgd2 = new Sgd(0.1f);
            float lossOn = on.TrainStep(x, labels, sgd1);
            float lossOff = off.TrainStep(x, labels, sgd2);
            Assert.Equal(lossOff, lossOn, 4);
            Same("after a TrainStep");
            float[] mean = NumericsSupport.Gaussian(16, rng, 0.5f);
            mean.CopyTo(on.Buffers[0].Value);
            mean.CopyTo(off.Buffers[0].Value);
            Same("after new BatchNorm running statistics");
        }

        /// <summary>Ten SGD steps with Winograd on and off end at the same weights within float rounding.</summary>
        [Fact]
        public void TrainingWithWinogradFollowsTrainingWithout()
        {
            const int batch = 4;
            using var on = new WinogradNet(batch, 9, Isa.Avx2);
            using var off = new WinogradNet(batch, 9, Isa.Avx2) { Winograd = false };
            var rng = new Rng(23);
            var sgd1 = new Sgd(0.05f, momentum: 0.9f);
            var sgd2 = new Sgd(0.05f, momentum: 0.9f);
            for (int step = 0; step < 10; step++)
            {
                float[] x = NumericsSupport.Gaussian(batch * on.InputLength, rng);
                int[] labels = Enumerable.Range(0, batch).Select(i => (step + i) % 5).ToArray();
                float a = on.TrainStep(x, labels, sgd1), b = off.TrainStep(x, labels, sgd2);
                Assert.True(Math.Abs(a - b) <= 1e-3 * (1 + Math.Abs(b)), $"step {step}: loss {a} with Winograd, {b} without");
            }
            for (int p = 0; p < on.Parameters.Count; p++)
            {
                ReadOnlySpan<float> a = on.Parameters[p].Value, b = off.Parameters[p].Value;
                for (int i = 0; i < a.Length; i++)
                    Assert.True(Math.Abs(a[i] - b[i]) <= 1e-3 * (1 + Math.Abs(b[i])), $"{on.Parameters[p].Name}[{i}] = {a[i]} with Winograd, {b[i]} without");
            }
        }

        public static TheoryData<Isa> Isas()
        {
            var data = new TheoryData<Isa>();
            foreach (Isa isa in NumericsSupport.SupportedIsas) data.Add(isa);
            return data;
        }
    }
}
