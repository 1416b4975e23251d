// A generated network under attack: NaN and infinite inputs, parameters, activations and learning rates; calls from
// two threads at once; re-entrant calls; Dispose during a call. Every refusal is an exception that says what was wrong
// and leaves the parameters, BatchNorm running statistics and optimizer state exactly as they were.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using CnnGen.Data;
using CnnGen.Tests.Numerics;
using CnnGen.Training;

namespace CnnGen.Tests.Runtime
{
    public class RobustnessTests
    {
        private const int Batch = 4;

        private static float[] Images(int batch, int perImage, int seed)
        {
            var images = new float[batch * perImage];
            Initializers.Uniform(images, 1f, new Rng((ulong)seed));
            return images;
        }

        private static int[] Labels(int batch, int classes) => Enumerable.Range(0, batch).Select(i => (i * 2 + 1) % classes).ToArray();

        private static int[] Bits(ReadOnlySpan<float> values) => MemoryMarshal.Cast<float, int>(values).ToArray();

        /// <summary>Every parameter's and buffer's bits, plus the optimizer's step count and state buffers.</summary>
        private static List<int[]> State(INetwork net, OptimizerBase? optimizer)
        {
            var state = net.Parameters.Concat(net.Buffers).Select(p => Bits(p.Value)).ToList();
            if (optimizer is null) return state;
            state.Add([(int)optimizer.Steps]);
            foreach (Parameter p in net.Parameters)
                for (int k = 0; k < optimizer.StateNames.Count; k++)
                    state.Add(optimizer.TryGetState(p, k, out Span<float> s) ? Bits(s) : []);
            return state;
        }

        private static void AssertSameState(List<int[]> before, List<int[]> after)
        {
            Assert.Equal(before.Count, after.Count);
            for (int i = 0; i < before.Count; i++) Assert.True(before[i].SequenceEqual(after[i]), $"state entry {i} changed");
        }

        /// <summary>A BatchNorm network trained for a few steps, so that optimizer state and running statistics are non-trivial.</summary>
        private static (FixtureBatchNorm Net, Adam Optimizer) WarmNet(int threads = 1)
        {
            var net = new FixtureBatchNorm(Batch, seed: 7, threads: threads);
            var adam = new Adam(1e-2f);
            for (int i = 0; i < 3; i++)
                net.TrainStep(Images(Batch, FixtureBatchNorm.InputSize, i), Labels(Batch, FixtureBatchNorm.OutputSize), adam);
            return (net, adam);
        }

        // ------------------------------------------------------------------ non-finite inputs

        [Theory]
        [InlineData(float.NaN, "NaN")]
        [InlineData(float.PositiveInfinity, "+infinity")]
        [InlineData(float.NegativeInfinity, "-infinity")]
        public void TrainStepRefusesNonFiniteImagesNamingImageAndElement(float bad, string word)
        {
            (FixtureBatchNorm net, Adam adam) = WarmNet();
            using (net) using (adam)
            {
                float[] images = Images(Batch, FixtureBatchNorm.InputSize, 9);
                int at = 2 * FixtureBatchNorm.InputSize + 13;
                images[at] = bad;
                List<int[]> before = State(net, adam);
                var e = Assert.Throws<ArgumentException>(() => net.TrainStep(images, Labels(Batch, FixtureBatchNorm.OutputSize), adam));
                Assert.Equal("images", e.ParamName);
                Assert.Contains($"images[{at}] is {word} (image 2, element 13)", e.Message);
                AssertSameState(before, State(net, adam));
            }
        }

        [Fact]
        public void ForwardRefusesNonFiniteInput()
        {
            using var net = new FixtureNetA(maxBatch: 2);
            float[] input = Images(2, FixtureNetA.InputSize, 1);
            input[FixtureNetA.InputSize + 4] = float.NaN;
            var output = new float[2 * FixtureNetA.OutputSize];
            var e = Assert.Throws<ArgumentException>(() => net.Forward(input, output, 2));
            Assert.Contains("(image 1, element 4)", e.Message);
            Assert.All(output, v => Assert.Equal(0f, v));
        }

        // ------------------------------------------------------------------ non-finite values inside a step

        [Fact]
        public void OverflowingActivationsNameTheFirstLayerAndChangeNothing()
        {
            (FixtureBatchNorm net, Adam adam) = WarmNet();
            using (net) using (adam)
            {
                // Huge but finite weights and bias in the dense layer: its output (bias + weights x non-negative ReLU outputs)
                // overflows to infinity; the convs before it stay finite.
                net.Parameters.First(p => p.Name == "dense1.weight").Value.Fill(3e38f);
                net.Parameters.First(p => p.Name == "dense1.bias").Value.Fill(3e38f);
                net.ParametersChanged();
                List<int[]> before = State(net, adam);
                var e = Assert.Throws<NonFiniteException>(() =>
                    net.TrainStep(Images(Batch, FixtureBatchNorm.InputSize, 5), Labels(Batch, FixtureBatchNorm.OutputSize), adam));
                Assert.Equal("dense1 output", e.Tensor);
                Assert.False(float.IsFinite(e.Value));
                Assert.Contains("the output of layer dense1 (Dense) is", e.Message);
                Assert.Contains("for image 0 of the batch", e.Message);
                Assert.Contains("The step was not applied", e.Message);
                AssertSameState(before, State(net, adam));   // parameters, running statistics (restored), Adam's m, v and step count
            }
        }

        [Fact]
        public void DiagnosisWalksPastAuxiliaryHeads()
        {
            // GoogLeNet-style: the auxiliary head's layers come before the main head's in Layers but expose no outputs.
            using var net = new FixtureInception(Batch, seed: 4);
            using var sgd = new Sgd(0.01f);
            int dense = net.Parameters.ToList().FindIndex(p => p.Name == "dense1.weight");
            net.Parameters[dense].Value.Fill(3e38f);
            net.Parameters[dense + 1].Value.Fill(3e38f);
            List<int[]> before = State(net, sgd);
            var e = Assert.Throws<NonFiniteException>(() =>
                net.TrainStep(Images(Batch, FixtureInception.InputSize, 2), Labels(Batch, FixtureInception.OutputSize), sgd));
            Assert.Equal("dense1 output", e.Tensor);
            AssertSameState(before, State(net, sgd));
        }

        [Fact]
        public void NonFiniteParameterIsNamedBeforeTheStep()
        {
            using var net = new FixtureNetA(maxBatch: Batch, seed: 2);
            using var sgd = new Sgd(0.1f, momentum: 0.9f);
            net.Parameters[2].Value[5] = float.NaN;   // conv2.weight
            List<int[]> before = State(net, sgd);
            var e = Assert.Throws<NonFiniteException>(() =>
                net.TrainStep(Images(Batch, FixtureNetA.InputSize, 3), Labels(Batch, FixtureNetA.OutputSize), sgd));
            Assert.Equal($"parameter {net.Parameters[2].Name}", e.Tensor);
            Assert.Equal(5, e.Index);
            Assert.Contains($"parameter {net.Parameters[2].Name} at [0, 0, 1, 2] is NaN before the step", e.Message);
            AssertSameState(before, State(net, sgd));
        }

        /// <summary>Writes +infinity into one value of the first parameter: a stand-in for an update that overflows.</summary>
        private sealed class OverflowingOptimizer : IOptimizer
        {
            public float LearningRate { get; set; } = 1e30f;
            public void Step(IReadOnlyList<Parameter> parameters) => parameters[0].Value[1] = float.PositiveInfinity;
        }

        [Fact]
        public void OptimizerStepThatOverflowsIsReportedAtOnce()
        {
            using var net = new FixtureNetA(maxBatch: Batch);
            var e = Assert.Throws<NonFiniteException>(() =>
                net.TrainStep(Images(Batch, FixtureNetA.InputSize, 3), Labels(Batch, FixtureNetA.OutputSize), new OverflowingOptimizer()));
            Assert.Equal($"parameter {net.Parameters[0].Name}", e.Tensor);
            Assert.Contains("the optimizer step (OverflowingOptimizer, learning rate 1E+30) made parameter", e.Message);
            Assert.Contains("+infinity", e.Message);
        }

        [Theory]
        [InlineData(float.NaN)]
        [InlineData(float.PositiveInfinity)]
        [InlineData(float.NegativeInfinity)]
        [InlineData(-0.1f)]
        public void NonFiniteOrNegativeLearningRatesAreRefused(float lr)
        {
            Assert.Contains("learning rate must be", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(lr)).Message);
            Assert.Contains("learning rate must be", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(lr)).Message);
            using var adam = new Adam(1e-3f);
            Assert.Throws<ArgumentOutOfRangeException>(() => adam.LearningRate = lr);
            Assert.Equal(1e-3f, adam.LearningRate);

            // A schedule that produces such a rate stops the trainer before its first step.
            using var net = new FixtureNetA(maxBatch: Batch);
            List<int[]> before = State(net, adam);
            var data = new LabeledImages(Images(8, FixtureNetA.InputSize, 1), Labels(8, FixtureNetA.OutputSize), 2, 9, 9);
            var trainer = new Trainer(net, adam, new TrainingOptions { Epochs = 1, BatchSize = Batch, LearningRateSchedule = _ => lr });
            Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Run(data));
            AssertSameState(before, State(net, adam));
        }

        [Fact]
        public void TrainerStopsWithEpochAndImageCountOnANonFiniteStep()
        {
            using var net = new FixtureNetA(maxBatch: Batch);
            using var sgd = new Sgd(0.01f);
            var data = new LabeledImages(Images(8, FixtureNetA.InputSize, 1), Labels(8, FixtureNetA.OutputSize), 2, 9, 9);
            net.Parameters[0].Value.Fill(float.PositiveInfinity);
            var trainer = new Trainer(net, sgd, new TrainingOptions { Epochs = 2, BatchSize = Batch });
            var e = Assert.Throws<NonFiniteException>(() => trainer.Run(data));
            Assert.StartsWith("Training stopped in epoch 1 after 0 images (learning rate 0.01): FixtureNetA.TrainStep: parameter conv1.weight", e.Message);
            Assert.IsType<NonFiniteException>(e.InnerException);
        }

        // ------------------------------------------------------------------ one call at a time

        /// <summary>An optimizer whose Step parks the training thread until released, so another thread can call in.</summary>
        private sealed class ParkingOptimizer : IOptimizer
        {
            public readonly ManualResetEventSlim Parked = new(false), Release = new(false);
            public float LearningRate { get; set; } = 0.01f;
            public void Step(IReadOnlyList<Parameter> parameters)
            {
                Parked.Set();
                if (!Release.Wait(TimeSpan.FromSeconds(30))) throw new TimeoutException("the test never released the optimizer");
            }
        }

        [Fact]
        public void SecondThreadIsRefusedWhileTrainStepRunsAndDisposeWaitsItsTurn()
        {
            using var net = new FixtureNetA(maxBatch: Batch);
            var parking = new ParkingOptimizer();
            float[] images = Images(Batch, FixtureNetA.InputSize, 3);
            int[] labels = Labels(Batch, FixtureNetA.OutputSize);
            Task training = Task.Factory.StartNew(() => net.TrainStep(images, labels, parking), TaskCreationOptions.LongRunning);
            Assert.True(parking.Parked.Wait(TimeSpan.FromSeconds(30)));

            var output = new float[FixtureNetA.OutputSize];
            var forward = Assert.Throws<InvalidOperationException>(() => net.Forward(images.AsSpan(0, FixtureNetA.InputSize), output, 1));
            Assert.Contains("FixtureNetA.Forward was called while FixtureNetA.TrainStep is running on another thread", forward.Message);
            Assert.Contains("give each thread its own instance", forward.Message);
            Assert.Throws<InvalidOperationException>(() => net.TrainStep(images, labels, new Sgd(0.1f)));
            Assert.Throws<InvalidOperationException>(() => net.ZeroGradients());
            Assert.Throws<InvalidOperationException>(() => net.LayerOutput(0, 0));
            var dispose = Assert.Throws<InvalidOperationException>(() => net.Dispose());
            Assert.Contains("FixtureNetA.Dispose was called while FixtureNetA.TrainStep is running", dispose.Message);

            parking.Release.Set();
            training.Wait(TimeSpan.FromSeconds(30));
            Assert.True(training.IsCompletedSuccessfully);
            net.Forward(images.AsSpan(0, FixtureNetA.InputSize), output, 1);   // free again: the refused calls left no trace
            Assert.True(output.All(float.IsFinite) && Math.Abs(output.Sum() - 1f) < 1e-5f);
        }

        /// <summary>Calls back into the network from inside its own TrainStep.</summary>
        private sealed class ReentrantOptimizer(INetwork net) : IOptimizer
        {
            public float LearningRate { get; set; } = 0.01f;
            public void Step(IReadOnlyList<Parameter> parameters) => net.ZeroGradients();
        }

        [Fact]
        public void ReentrantCallIsRefused()
        {
            using var net = new FixtureNetA(maxBatch: Batch);
            var e = Assert.Throws<InvalidOperationException>(() =>
                net.TrainStep(Images(Batch, FixtureNetA.InputSize, 3), Labels(Batch, FixtureNetA.OutputSize), new ReentrantOptimizer(net)));
            Assert.Contains("ZeroGradients was called while FixtureNetA.TrainStep is running on this thread (a re-entrant call", e.Message);
            net.ZeroGradients();   // the guard was released by the failed call
        }

        [Fact]
        public void HammeringFromTwoThreadsNeverCorruptsAResult()
        {
            using var net = new FixtureNetA(maxBatch: 2);
            float[] input = Images(2, FixtureNetA.InputSize, 4);
            var expected = new float[2 * FixtureNetA.OutputSize];
            net.Forward(input, expected, 2);

            int ok = 0, refused = 0, wrong = 0;
            void Hammer()
            {
                var output = new float[2 * FixtureNetA.OutputSize];
                for (int i = 0; i < 2000; i++)
                {
                    try { net.Forward(input, output, 2); }
                    catch (InvalidOperationException) { Interlocked.Increment(ref refused); continue; }
                    Interlocked.Increment(ref ok);
                    if (!Bits(output).SequenceEqual(Bits(expected))) Interlocked.Increment(ref wrong);
                }
            }
            Task a = Task.Factory.StartNew(Hammer, TaskCreationOptions.LongRunning), b = Task.Factory.StartNew(Hammer, TaskCreationOptions.LongRunning);
            Task.WaitAll(a, b);
            Assert.True(wrong == 0, $"{wrong} of {ok} successful calls returned a wrong result ({refused} refused)");
            Assert.Equal(4000, ok + refused);
            Assert.True(ok > 0, $"no call succeeded ({refused} refused)");
        }

        // ------------------------------------------------------------------ determinism across thread counts

        private static (List<int[]> State, float[] Losses) TrainBatchNorm(int threads)
        {
            using var net = new FixtureBatchNorm(8, seed: 3, threads: threads);
            using var sgd = new Sgd(0.05f, momentum: 0.9f);
            var losses = new float[6];
            for (int step = 0; step < losses.Length; step++)
                losses[step] = net.TrainStep(Images(8, FixtureBatchNorm.InputSize, 50 + step), Labels(8, FixtureBatchNorm.OutputSize), sgd);
            return (State(net, null), losses);
        }

        [Fact]
        public void TwoThreadTrainingIsBitIdenticalRunToRunAndCloseToOneThread()
        {
            (List<int[]> a, float[] lossA) = TrainBatchNorm(threads: 2);
            (List<int[]> b, float[] lossB) = TrainBatchNorm(threads: 2);
            AssertSameState(a, b);
            Assert.Equal(Bits(lossA), Bits(lossB));

            // 1 thread sums the same numbers in another order (per-worker partial sums): equal up to rounding, not bitwise.
            (List<int[]> one, float[] lossOne) = TrainBatchNorm(threads: 1);
            for (int s = 0; s < lossA.Length; s++) Assert.True(Math.Abs(lossA[s] - lossOne[s]) < 1e-4f * Math.Max(1f, Math.Abs(lossOne[s])), $"step {s}: {lossA[s]} vs {lossOne[s]}");
            for (int i = 0; i < a.Count; i++)
            {
                float[] x = MemoryMarshal.Cast<int, float>(a[i]).ToArray(), y = MemoryMarshal.Cast<int, float>(one[i]).ToArray();
                for (int j = 0; j < x.Length; j++) Assert.True(Math.Abs(x[j] - y[j]) < 1e-4f * Math.Max(1f, Math.Abs(y[j])), $"tensor {i}[{j}]: {x[j]} vs {y[j]}");
            }
        }
    }
}
