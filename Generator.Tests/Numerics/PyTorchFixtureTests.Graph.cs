// Graph networks against PyTorch (fixtures written by make_fixtures.py's graph section): residual blocks with identity
// and projection shortcuts, Inception (with BatchNorm and plain) with an auxiliary head, user Concat<> branches, LRN,
// DenseNet blocks and transitions, BatchNorm after convs and after Dense. Three kinds of fixture:
//   eval  - inference with randomised running statistics (folded into the convs and not), then backward of a random
//           output gradient: output, input gradient, every parameter gradient; the running statistics stay put.
//   train - training-mode forward (batch statistics) and backward: the same, plus the running statistics after the
//           forward (PyTorch's momentum rule, unbiased variance).
//   loss  - one TrainStep: the total loss (main cross-entropy + Weight x auxiliary cross-entropy), the correct count,
//           every parameter gradient (auxiliary head included) and the running statistics after it.
// Each fixture also carries PyTorch's node list (name and per-image shape), which must equal the generated Layers.
// Tolerances as in PyTorchFixtureTests.cs.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using CnnGen;

namespace CnnGen.Tests.Numerics
{
    public sealed partial class PyTorchFixtureTests
    {
        private static readonly Dictionary<string, Func<Isa, int, int, INetwork>> GraphNetworks = new()
        {
            ["FixtureResNet"] = (isa, threads, maxBatch) => new FixtureResNet(maxBatch, seed: 1, isa, threads),
            ["FixtureInception"] = (isa, threads, maxBatch) => new FixtureInception(maxBatch, seed: 1, isa, threads),
            ["FixtureDenseNet"] = (isa, threads, maxBatch) => new FixtureDenseNet(maxBatch, seed: 1, isa, threads),
            ["FixtureBatchNorm"] = (isa, threads, maxBatch) => new FixtureBatchNorm(maxBatch, seed: 1, isa, threads),
            ["FixturePackedWinograd"] = (isa, threads, maxBatch) => new FixturePackedWinograd(maxBatch, seed: 1, isa, threads),
        };

        private static readonly string[] GraphFixtures =
        {
            "FixtureResNet.eval", "FixtureResNet.train", "FixtureInception.eval", "FixtureInception.loss",
            "FixtureDenseNet.eval", "FixtureDenseNet.train", "FixtureBatchNorm.eval", "FixtureBatchNorm.train",
            "FixturePackedWinograd.eval",
        };

        public static IEnumerable<object[]> GraphCases() =>
            from name in GraphFixtures
            from isa in NumericsSupport.SupportedIsas
            select new object[] { name, isa };

        /// <summary>Training fixtures, where BatchNorm's batch statistics span the workers' slices (here also with a
        /// network planned for a larger batch than it runs).</summary>
        public static IEnumerable<object[]> GraphTrainingCases() =>
            from name in GraphFixtures
            where !name.EndsWith(".eval", StringComparison.Ordinal)
            select new object[] { name };

        [Theory]
        [MemberData(nameof(GraphCases))]
        public void GraphNetworkMatchesPyTorch(string fixtureName, Isa isa) => RunGraphFixture(fixtureName, isa, threads: 1, maxBatch: 2);

        [Theory]
        [MemberData(nameof(GraphTrainingCases))]
        public void GraphNetworkWithTwoWorkersMatchesPyTorch(string fixtureName) => RunGraphFixture(fixtureName, IsaSupport.Best, threads: 2, maxBatch: 4);

        [Fact]
        public void GraphFixturesAreConsistent()
        {
            foreach (string name in GraphFixtures)
            {
                Fixture f = Fixture.Load(name);
                Assert.Equal(name, f.Name);
                Assert.Equal(name.Split('.')[0], f.Network);
                Assert.Equal(name.Split('.')[1], f.Mode);
                Assert.Equal(f.Batch * f.InputShape.Aggregate(1, (a, b) => a * b), f.Input.Length);
                Assert.NotEmpty(f.Layers);
                Assert.NotEmpty(f.Buffers);
                if (f.Mode == "loss")
                {
                    Assert.Equal(f.Batch, f.Labels.Length);
                    Assert.True(f.Loss > 0, $"{name}: loss {f.Loss}");
                }
                else
                {
                    Assert.Equal(f.Input.Length, f.InputGrad.Length);
                    Assert.Equal(f.Output.Length, f.OutputGrad.Length);
                }
                Assert.Equal(f.Mode == "eval" ? 0 : f.Buffers.Length, f.BuffersAfter.Length);
                foreach (FixtureParam p in f.Params.Concat(f.Buffers).Concat(f.BuffersAfter))
                    Assert.Equal(p.Shape.Aggregate(1, (a, b) => a * b), p.Value.Length);
                foreach (FixtureParam p in f.Params) Assert.Equal(p.Value.Length, p.Grad.Length);
                // The fixture must exercise something: some running statistic moves in training.
                if (f.Mode != "eval")
                    Assert.Contains(f.Buffers.Zip(f.BuffersAfter), pair => !pair.First.Value.SequenceEqual(pair.Second.Value));
            }
        }

        private void RunGraphFixture(string fixtureName, Isa isa, int threads, int maxBatch)
        {
            Fixture f = Fixture.Load(fixtureName);
            using INetwork net = GraphNetworks[f.Network](isa, threads, maxBatch);
            Assert.Equal(isa, net.Isa);
            string what = $"{fixtureName}/{isa}/{threads} worker(s), max batch {maxBatch}";
            Assert.Equal(
                f.Layers.Select(l => $"{l.Name} {NumericsSupport.Shape(l.Shape)}"),
                net.LayerInfos.Select(l => $"{l.Name} {NumericsSupport.Shape(l.OutputShape)}"));
            LoadParameters(net, f);
            LoadBuffers(net, f.Buffers);
            net.ParametersChanged();
            int batch = f.Batch;
            Assert.Equal(batch * net.InputLength, f.Input.Length);

            switch (f.Mode)
            {
                case "eval":
                {
                    net.Training = false;
                    var output = new float[batch * net.OutputLength];
                    PropertyInfo fold = net.GetType().GetProperty("FoldBatchNorm")
                        ?? throw new InvalidOperationException($"{f.Network} has BatchNorm but no FoldBatchNorm property");
                    fold.SetValue(net, false);
                    net.Forward(f.Input, output, batch);
                    AssertClose($"{what} output (BatchNorm not folded)", output, f.Output);
                    fold.SetValue(net, true);
                    Array.Clear(output);
                    net.Forward(f.Input, output, batch);
                    AssertClose($"{what} output (BatchNorm folded into the convs)", output, f.Output);
                    AssertBuffers(what + " after inference", net, f.Buffers);
                    BackwardMatches(what, net, f);
                    break;
                }
                case "train":
                {
                    net.Training = true;
                    var output = new float[batch * net.OutputLength];
                    net.Forward(f.Input, output, batch);
                    AssertClose($"{what} output (training mode)", output, f.Output);
                    AssertBuffers(what + " after the training forward", net, f.BuffersAfter);
                    BackwardMatches(what, net, f);
                    break;
                }
                case "loss":
                {
                    // A negligible learning rate keeps the weights; the gradients of the step stay readable after it.
                    float loss = net.TrainStep(f.Input, f.Labels, new Sgd(1e-30f), out int correct);
                    AssertClose($"{what} loss", new[] { loss }, new[] { f.Loss });
                    Assert.Equal(f.Correct, correct);
                    for (int i = 0; i < f.Params.Length; i++)
                        AssertClose($"{what} {f.Params[i].Name} gradient", net.Parameters[i].Gradient, f.Params[i].Grad);
                    AssertBuffers(what + " after the training step", net, f.BuffersAfter);
                    break;
                }
                default:
                    throw new InvalidOperationException($"{fixtureName}: unknown mode '{f.Mode}'");
            }
        }

        private void BackwardMatches(string what, INetwork net, Fixture f)
        {
            net.ZeroGradients();
            var inputGrad = new float[f.Batch * net.InputLength];
            net.Backward(f.OutputGrad, inputGrad, f.Batch);
            AssertClose($"{what} input gradient", inputGrad, f.InputGrad);
            // Backward leaves the auxiliary heads alone: PyTorch's gradient of their parameters is zero here as well.
            for (int i = 0; i < f.Params.Length; i++)
                AssertClose($"{what} {f.Params[i].Name} gradient", net.Parameters[i].Gradient, f.Params[i].Grad);
        }

        private static void LoadBuffers(INetwork net, FixtureParam[] buffers)
        {
            Assert.Equal(
                buffers.Select(b => $"{b.Name} {NumericsSupport.Shape(b.Shape)}"),
                net.Buffers.Select(b => $"{b.Name} {NumericsSupport.Shape(b.Shape)}"));
            for (int i = 0; i < buffers.Length; i++) buffers[i].Value.CopyTo(net.Buffers[i].Value);
        }

        private void AssertBuffers(string what, INetwork net, FixtureParam[] expected)
        {
            Assert.Equal(expected.Length, net.Buffers.Count);
            for (int i = 0; i < expected.Length; i++)
                AssertClose($"{what}: {expected[i].Name}", net.Buffers[i].Value, expected[i].Value);
        }
    }
}
