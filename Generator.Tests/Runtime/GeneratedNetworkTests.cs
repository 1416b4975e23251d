// Behaviour of a generated network at run time: no managed allocations in steady-state training and inference,
// argument errors that name the argument with expected and actual values and change nothing, use-after-Dispose,
// and seeded determinism.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using CnnGen;

namespace CnnGen.Tests.Runtime
{
    /// <summary>Small, but with every stateful layer kind: conv (im2col), max pool (argmax), dropout (mask), dense, softmax.</summary>
    [Network(Channels = 2, Height = 6, Width = 6)]
    [Conv2D(4, 3, Padding = Pad.Same), ReLU, MaxPool2D(2), Dropout(0.25)]
    [Flatten, Dense(5), Softmax]
    public partial class TinyNet;

    public class GeneratedNetworkTests
    {
        private const int MaxBatch = 4;

        private static float[] Images(int batch, int seed)
        {
            var rng = new Rng((ulong)seed);
            var images = new float[batch * TinyNet.InputSize];
            Initializers.Uniform(images, 1f, rng);
            return images;
        }

        private static int[] Labels(int batch) => Enumerable.Range(0, batch).Select(i => (i * 3 + 1) % TinyNet.OutputSize).ToArray();

        // ------------------------------------------------------------------ allocations

        public static IEnumerable<object[]> Optimizers() => new[] { new object[] { "sgd" }, new object[] { "adam" } };

        private static OptimizerBase MakeOptimizer(string name) =>
            name == "sgd" ? new Sgd(0.01f, momentum: 0.9f, weightDecay: 1e-4f) : new Adam(1e-3f);

        [Theory]
        [MemberData(nameof(Optimizers))]
        public void TrainStepAllocatesNothingAfterWarmUp(string optimizerName)
        {
            using var net = new TinyNet(MaxBatch, seed: 3);
            using OptimizerBase optimizer = MakeOptimizer(optimizerName);
            float[] images = Images(MaxBatch, 1);
            int[] labels = Labels(MaxBatch);
            for (int i = 0; i < 50; i++) net.TrainStep(images, labels, optimizer, out _);

            long before = GC.GetAllocatedBytesForCurrentThread();
            float loss = 0;
            for (int i = 0; i < 20; i++) loss += net.TrainStep(images, labels, optimizer, out _);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.Equal(0, allocated);
            Assert.True(float.IsFinite(loss) && loss > 0, $"loss {loss}");
        }

        [Theory]
        [InlineData(1, 1)]
        [InlineData(4, 2)]
        [InlineData(3, 8)]   // more threads than images: one worker per image
        public void ConstructorAllocatesExactlyThePlannedNativeMemoryAndTrainingNoMore(int maxBatch, int threads)
        {
            long before = NativeBuffer.AllocatedBytesForCurrentThread;
            using var net = new TinyNet(maxBatch, seed: 3, threads: threads);
            long allocated = NativeBuffer.AllocatedBytesForCurrentThread - before;
            Assert.Equal(TinyNet.PlannedBytes(maxBatch, threads), allocated);
            Assert.Equal(allocated, ((INetwork)net).NativeBytes);

            using var sgd = new Sgd(0.01f, momentum: 0.9f);
            float[] images = Images(maxBatch, 1);
            net.TrainStep(images, Labels(maxBatch), sgd);   // the optimizer creates its momentum buffers on the first step
            long afterFirst = NativeBuffer.AllocatedBytesForCurrentThread;
            for (int i = 0; i < 5; i++) net.TrainStep(images, Labels(maxBatch), sgd);
            net.Forward(images, new float[maxBatch * TinyNet.OutputSize], maxBatch);
            Assert.Equal(afterFirst, NativeBuffer.AllocatedBytesForCurrentThread);
        }

        [Fact]
        public void BatchNormNetworkPlanCountsRunningStatisticsFoldsAndBatchStatistics()
        {
            long before = NativeBuffer.AllocatedBytesForCurrentThread;
            using var net = new CnnGen.Tests.Numerics.FixtureBatchNorm(5, seed: 1, threads: 2);
            Assert.Equal(CnnGen.Tests.Numerics.FixtureBatchNorm.PlannedBytes(5, 2), NativeBuffer.AllocatedBytesForCurrentThread - before);
        }

        [Fact]
        public void ForwardAllocatesNothingAfterWarmUp()
        {
            using var net = new TinyNet(MaxBatch, seed: 3);
            float[] images = Images(3, 2);
            var output = new float[3 * TinyNet.OutputSize];
            for (int i = 0; i < 50; i++) net.Forward(images, output, 3);

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) net.Forward(images, output, 3);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.Equal(0, allocated);
            for (int b = 0; b < 3; b++) Assert.Equal(1.0, output.AsSpan(b * TinyNet.OutputSize, TinyNet.OutputSize).ToArray().Sum(), 5);
        }

        [Fact]
        public void ForwardOnTheInputBufferMatchesForwardWithSpansAndAllocatesNothing()
        {
            using var copying = new TinyNet(MaxBatch, seed: 3);
            using var net = new TinyNet(MaxBatch, seed: 3);
            float[] images = Images(3, 2);
            var expected = new float[3 * TinyNet.OutputSize];
            copying.Forward(images, expected, 3);

            Span<float> buffer = net.InputBuffer(3);
            Assert.Equal(3 * TinyNet.InputSize, buffer.Length);
            images.CopyTo(buffer);
            float[] actual = net.Forward(3).ToArray();
            Assert.Equal(expected, actual);   // same kernels, same order: bit for bit
            Assert.Equal(actual, net.LayerOutput(TinyNet.Layers.Count - 1, 0).ToArray().Concat(net.LayerOutput(TinyNet.Layers.Count - 1, 1).ToArray())
                .Concat(net.LayerOutput(TinyNet.Layers.Count - 1, 2).ToArray()).ToArray());

            // a Forward with spans overwrites the buffer; Forward(batch) then runs on those images
            float[] other = Images(2, 5);
            copying.Forward(other, expected.AsSpan(0, 2 * TinyNet.OutputSize), 2);
            net.Forward(other, new float[2 * TinyNet.OutputSize], 2);
            Assert.Equal(other, net.InputBuffer(2).ToArray());
            Assert.Equal(expected.AsSpan(0, 2 * TinyNet.OutputSize).ToArray(), net.Forward(2).ToArray());

            for (int i = 0; i < 50; i++) net.Forward(3);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) net.Forward(3);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        [Theory]
        [InlineData(1)]
        [InlineData(2)]   // two workers: each reads and writes its images' slices of the batch-ordered gradient buffers
        public void BackwardOnTheOutputGradientBufferMatchesBackwardWithSpansAndAllocatesNothing(int threads)
        {
            using var copying = new TinyNet(MaxBatch, seed: 3, threads: threads);
            using var net = new TinyNet(MaxBatch, seed: 3, threads: threads);
            float[] images = Images(3, 2);
            float[] outputGradient = Images(3, 9).AsSpan(0, 3 * TinyNet.OutputSize).ToArray();
            var output = new float[3 * TinyNet.OutputSize];
            var expected = new float[3 * TinyNet.InputSize];
            copying.Forward(images, output, 3);
            copying.Backward(outputGradient, expected, 3);
            net.Forward(images, output, 3);
            Span<float> buffer = net.OutputGradientBuffer(3);
            Assert.Equal(3 * TinyNet.OutputSize, buffer.Length);
            outputGradient.CopyTo(buffer);
            float[] actual = net.Backward(3).ToArray();

            Assert.Equal(3 * TinyNet.InputSize, actual.Length);
            Assert.Contains(actual, g => g != 0);
            Assert.Equal(expected, actual);   // same kernels, same order: bit for bit
            for (int p = 0; p < net.Parameters.Count; p++)
                Assert.Equal(copying.Parameters[p].Gradient.ToArray(), net.Parameters[p].Gradient.ToArray());
            Assert.Equal(outputGradient, net.OutputGradientBuffer(3).ToArray());   // backward only reads it

            // without the input gradient: the same parameter gradients, an empty span
            copying.ZeroGradients();
            net.ZeroGradients();
            copying.Backward(outputGradient, Span<float>.Empty, 3);
            Assert.True(net.Backward(3, inputGradient: false).IsEmpty);
            for (int p = 0; p < net.Parameters.Count; p++)
                Assert.Equal(copying.Parameters[p].Gradient.ToArray(), net.Parameters[p].Gradient.ToArray());

            // a Backward with spans overwrites the buffer
            float[] other = Images(3, 11).AsSpan(0, 3 * TinyNet.OutputSize).ToArray();
            net.Backward(other, Span<float>.Empty, 3);
            Assert.Equal(other, net.OutputGradientBuffer(3).ToArray());

            var e = Assert.Throws<InvalidOperationException>(() => net.Backward(2));
            Assert.Contains("Backward(batch: 2)", e.Message);
            var b = Assert.Throws<ArgumentOutOfRangeException>(() => net.OutputGradientBuffer(MaxBatch + 1));
            Assert.Equal("batch", b.ParamName);

            for (int i = 0; i < 50; i++) net.Backward(3);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) net.Backward(3);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        [Fact]
        public void ReluBeforeAPairPoolIsAppliedByThePoolAndLayerOutputStillShowsIt()
        {
            // conv -> ReLU -> 2x2 max pool: the pool's forward reads the conv output and applies the ReLU; the ReLU's own
            // output is written only when LayerOutput asks for it.
            using var net = new TinyNet(MaxBatch, seed: 3);
            net.Forward(Images(2, 4), new float[2 * TinyNet.OutputSize], 2);
            for (int image = 0; image < 2; image++)
            {
                float[] conv = net.LayerOutput(0, image).ToArray(), relu = net.LayerOutput(1, image).ToArray(), pool = net.LayerOutput(2, image).ToArray();
                Assert.Contains(conv, v => v < 0);
                Assert.Equal(conv.Select(v => MathF.Max(v, 0f)).ToArray(), relu);
                for (int c = 0; c < 4; c++)
                    for (int oh = 0; oh < 3; oh++)
                        for (int ow = 0; ow < 3; ow++)
                        {
                            float best = float.NegativeInfinity;
                            for (int kh = 0; kh < 2; kh++)
                                for (int kw = 0; kw < 2; kw++)
                                    best = Math.Max(best, relu[c * 36 + (2 * oh + kh) * 6 + 2 * ow + kw]);
                            Assert.Equal(best, pool[c * 9 + oh * 3 + ow]);
                        }
            }
        }

        [Fact]
        public void ForwardOnTheInputBufferRefusesNonFiniteImagesAndBadBatches()
        {
            using var net = new TinyNet(MaxBatch, seed: 3);
            Images(2, 2).CopyTo(net.InputBuffer(2));
            net.InputBuffer(2)[TinyNet.InputSize + 7] = float.PositiveInfinity;
            var e = Assert.Throws<ArgumentException>(() => net.Forward(2));
            Assert.Contains("InputBuffer[" + (TinyNet.InputSize + 7) + "] is +infinity (image 1, element 7)", e.Message);
            var b = Assert.Throws<ArgumentOutOfRangeException>(() => net.Forward(MaxBatch + 1));
            Assert.Equal("batch", b.ParamName);
            b = Assert.Throws<ArgumentOutOfRangeException>(() => net.InputBuffer(0));
            Assert.Equal("batch", b.ParamName);
        }

        [Fact]
        public void CheckInputsOffSkipsTheNonFiniteScanOnly()
        {
            using var net = new TinyNet(MaxBatch, seed: 3);
            Assert.True(net.CheckInputs);
            float[] images = Images(2, 2);
            images[5] = float.NaN;
            var output = new float[2 * TinyNet.OutputSize];
            Assert.Throws<ArgumentException>(() => net.Forward(images, output, 2));
            Assert.Throws<ArgumentException>(() => net.TrainStep(images, Labels(2), new Sgd(0.01f)));

            net.CheckInputs = false;
            net.Forward(images, output, 2);   // no scan: the NaN reaches the network instead of an error
            Assert.Equal(images, net.InputBuffer(2).ToArray());
            images[5] = 0.5f;
            net.Forward(images, output, 2);
            float[] expected = output.ToArray();
            net.CheckInputs = true;
            var again = new float[output.Length];
            net.Forward(images, again, 2);
            Assert.Equal(expected, again);   // finite inputs give the same outputs either way
        }

        // ------------------------------------------------------------------ argument errors

        [Fact]
        public void ForwardRejectsWrongInputLength()
        {
            using var net = new TinyNet(MaxBatch);
            var e = AssertThrowsAndChangesNothing<ArgumentException>(net, () => net.Forward(new float[2 * TinyNet.InputSize - 1], new float[2 * TinyNet.OutputSize], 2));
            Assert.Equal("input", e.ParamName);
            Assert.Contains($"length {2 * TinyNet.InputSize - 1}", e.Message);
            Assert.Contains($"= {2 * TinyNet.InputSize} was expected", e.Message);
        }

        [Fact]
        public void ForwardRejectsWrongOutputLength()
        {
            using var net = new TinyNet(MaxBatch);
            var e = AssertThrowsAndChangesNothing<ArgumentException>(net, () => net.Forward(new float[2 * TinyNet.InputSize], new float[TinyNet.OutputSize], 2));
            Assert.Equal("output", e.ParamName);
            Assert.Contains($"length {TinyNet.OutputSize}", e.Message);
            Assert.Contains($"= {2 * TinyNet.OutputSize} was expected", e.Message);
        }

        [Theory]
        [InlineData(0)]
        [InlineData(-1)]
        [InlineData(MaxBatch + 1)]
        public void ForwardRejectsBatchOutsideOneToMaxBatch(int batch)
        {
            using var net = new TinyNet(MaxBatch);
            int n = Math.Max(batch, 0);
            var e = AssertThrowsAndChangesNothing<ArgumentOutOfRangeException>(net, () => net.Forward(new float[n * TinyNet.InputSize], new float[n * TinyNet.OutputSize], batch));
            Assert.Equal("batch", e.ParamName);
            Assert.Equal(batch, e.ActualValue);
            Assert.Contains($"maxBatch = {MaxBatch}", e.Message);
            Assert.Contains($"but was {batch}", e.Message);
        }

        [Theory]
        [InlineData(-1)]
        [InlineData(TinyNet.OutputSize)]
        public void TrainStepRejectsLabelsOutOfRange(int bad)
        {
            using var net = new TinyNet(MaxBatch);
            using var optimizer = new Sgd(0.1f);
            int[] labels = { 0, bad, 1 };
            var e = AssertThrowsAndChangesNothing<ArgumentOutOfRangeException>(net, () => net.TrainStep(Images(3, 1), labels, optimizer));
            Assert.Equal("labels", e.ParamName);
            Assert.Equal(bad, e.ActualValue);
            Assert.Contains($"labels[1] = {bad}", e.Message);
            Assert.Contains($"[0, {TinyNet.OutputSize - 1}]", e.Message);
            Assert.Equal(0, optimizer.Steps);
        }

        [Fact]
        public void TrainStepRejectsWrongImageLengthAndBadBatches()
        {
            using var net = new TinyNet(MaxBatch);
            using var optimizer = new Sgd(0.1f);
            var images = AssertThrowsAndChangesNothing<ArgumentException>(net, () => net.TrainStep(Images(3, 1).AsSpan(1).ToArray(), Labels(3), optimizer));
            Assert.Equal("images", images.ParamName);
            Assert.Contains($"length {3 * TinyNet.InputSize - 1}", images.Message);

            var empty = AssertThrowsAndChangesNothing<ArgumentOutOfRangeException>(net, () => net.TrainStep(ReadOnlySpan<float>.Empty, ReadOnlySpan<int>.Empty, optimizer));
            Assert.Equal("labels", empty.ParamName);
            Assert.Equal(0, empty.ActualValue);

            var tooMany = AssertThrowsAndChangesNothing<ArgumentOutOfRangeException>(net, () => net.TrainStep(Images(MaxBatch + 1, 1), Labels(MaxBatch + 1), optimizer));
            Assert.Equal("labels", tooMany.ParamName);
            Assert.Equal(MaxBatch + 1, tooMany.ActualValue);
            Assert.Contains($"maxBatch = {MaxBatch}", tooMany.Message);

            var noOptimizer = AssertThrowsAndChangesNothing<ArgumentNullException>(net, () => net.TrainStep(Images(1, 1), Labels(1), null!));
            Assert.Equal("optimizer", noOptimizer.ParamName);
            Assert.Equal(0, optimizer.Steps);
        }

        [Fact]
        public void BackwardWithoutForwardIsRefused()
        {
            using var net = new TinyNet(MaxBatch);
            var e = AssertThrowsAndChangesNothing<InvalidOperationException>(net, () => net.Backward(new float[TinyNet.OutputSize], Span<float>.Empty, 1));
            Assert.Contains("Backward(batch: 1)", e.Message);
            Assert.Contains("has not run", e.Message);
        }

        [Fact]
        public void BackwardAfterTrainStepIsRefused()
        {
            using var net = new TinyNet(MaxBatch);
            using var optimizer = new Sgd(0.1f);
            net.Forward(Images(2, 1), new float[2 * TinyNet.OutputSize], 2);
            net.TrainStep(Images(2, 1), Labels(2), optimizer);
            var e = AssertThrowsAndChangesNothing<InvalidOperationException>(net, () => net.Backward(new float[2 * TinyNet.OutputSize], Span<float>.Empty, 2));
            Assert.Contains("has not run", e.Message);
        }

        [Fact]
        public void BackwardWithAnotherBatchThanForwardIsRefused()
        {
            using var net = new TinyNet(MaxBatch);
            net.Forward(Images(2, 1), new float[2 * TinyNet.OutputSize], 2);
            var e = AssertThrowsAndChangesNothing<InvalidOperationException>(net, () => net.Backward(new float[3 * TinyNet.OutputSize], Span<float>.Empty, 3));
            Assert.Contains("Backward(batch: 3)", e.Message);
            Assert.Contains("ran with batch 2", e.Message);
        }

        [Fact]
        public void BackwardRejectsWrongGradientLengths()
        {
            using var net = new TinyNet(MaxBatch);
            net.Forward(Images(2, 1), new float[2 * TinyNet.OutputSize], 2);
            var output = AssertThrowsAndChangesNothing<ArgumentException>(net, () => net.Backward(new float[2 * TinyNet.OutputSize + 1], Span<float>.Empty, 2));
            Assert.Equal("outputGradient", output.ParamName);
            Assert.Contains($"length {2 * TinyNet.OutputSize + 1}", output.Message);
            var input = AssertThrowsAndChangesNothing<ArgumentException>(net, () => net.Backward(new float[2 * TinyNet.OutputSize], new float[TinyNet.InputSize], 2));
            Assert.Equal("inputGradient", input.ParamName);
            Assert.Contains($"= {2 * TinyNet.InputSize} was expected", input.Message);
            // The refused calls left the forward state intact: a correct Backward still works.
            net.Backward(new float[2 * TinyNet.OutputSize], new float[2 * TinyNet.InputSize], 2);
        }

        [Fact]
        public void ConstructorRejectsMaxBatchBelowOne()
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => new TinyNet(0));
            Assert.Equal("maxBatch", e.ParamName);
            Assert.Equal(0, e.ActualValue);
        }

        [Fact]
        public void UseAfterDisposeThrowsObjectDisposedException()
        {
            var net = new TinyNet(MaxBatch);
            using var optimizer = new Sgd(0.1f);
            net.Dispose();
            net.Dispose(); // idempotent
            Assert.Throws<ObjectDisposedException>(() => net.Forward(new float[TinyNet.InputSize], new float[TinyNet.OutputSize], 1));
            Assert.Throws<ObjectDisposedException>(() => net.Backward(new float[TinyNet.OutputSize], Span<float>.Empty, 1));
            Assert.Throws<ObjectDisposedException>(() => net.TrainStep(new float[TinyNet.InputSize], new[] { 0 }, optimizer));
            Assert.Throws<ObjectDisposedException>(() => net.ZeroGradients());
            Assert.Throws<ObjectDisposedException>(() => net.Parameters[0].Value.ToArray());
        }

        // ------------------------------------------------------------------ determinism

        [Fact]
        public void SameSeedGivesBitIdenticalTrainingAndOtherSeedsDiffer()
        {
            (float[][] a, float[] lossesA) = Train(seed: 11);
            (float[][] b, float[] lossesB) = Train(seed: 11);
            (float[][] c, _) = Train(seed: 12);

            Assert.Equal(Bits(lossesA), Bits(lossesB));
            for (int i = 0; i < a.Length; i++) Assert.Equal(Bits(a[i]), Bits(b[i]));
            Assert.Contains(Enumerable.Range(0, a.Length), i => !Bits(a[i]).SequenceEqual(Bits(c[i])));
            // Training moved the weights (otherwise equality above would be trivial).
            using var fresh = new TinyNet(MaxBatch, seed: 11);
            Assert.Contains(Enumerable.Range(0, a.Length), i => !Bits(a[i]).SequenceEqual(Bits(fresh.Parameters[i].Value.ToArray())));
        }

        private static (float[][] Parameters, float[] Losses) Train(int seed)
        {
            using var net = new TinyNet(MaxBatch, seed);
            using var optimizer = new Sgd(0.05f, momentum: 0.9f);
            var losses = new float[5];
            for (int step = 0; step < 5; step++) losses[step] = net.TrainStep(Images(MaxBatch, 100 + step), Labels(MaxBatch), optimizer);
            return (net.Parameters.Select(p => p.Value.ToArray()).ToArray(), losses);
        }

        private static int[] Bits(float[] values) => MemoryMarshal.Cast<float, int>(values).ToArray();

        // ------------------------------------------------------------------ helpers

        /// <summary>Runs <paramref name="call"/>, expects exactly <typeparamref name="T"/>, and checks that every parameter value
        /// and gradient is bit-for-bit what it was before.</summary>
        private static T AssertThrowsAndChangesNothing<T>(INetwork net, Action call) where T : Exception
        {
            int[][] values = net.Parameters.Select(p => Bits(p.Value.ToArray())).ToArray();
            int[][] gradients = net.Parameters.Select(p => Bits(p.Gradient.ToArray())).ToArray();
            T e = Assert.Throws<T>(call);
            for (int i = 0; i < values.Length; i++)
            {
                Assert.True(values[i].SequenceEqual(Bits(net.Parameters[i].Value.ToArray())), $"{net.Parameters[i].Name} values changed");
                Assert.True(gradients[i].SequenceEqual(Bits(net.Parameters[i].Gradient.ToArray())), $"{net.Parameters[i].Name} gradients changed");
            }
            return e;
        }
    }
}
