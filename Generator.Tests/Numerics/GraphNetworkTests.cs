// Graph networks beyond gradients: BatchNorm folding equals the unfolded evaluation, two workers (BatchNorm's
// cross-worker batch statistics) agree with one, auxiliary heads add their weighted loss in training and vanish
// from inference, and the running statistics follow PyTorch's update rule.
using System;
using System.Linq;
using CnnGen;

namespace CnnGen.Tests.Numerics
{
    [Block("width", "stride = 1")]
    [Conv2D("width", 3, Stride = "stride", Padding = 1, Bias = false), BatchNorm, ReLU]
    public class GtConvUnit;

    // conv (no bias) + BN pairs to fold, a conv with bias + BN, a residual and a concat; BN after a concat is not foldable
    [Network(Channels = 3, Height = 8, Width = 8)]
    [Use<GtConvUnit>(4), Conv2D(4, 3, Padding = 1), BatchNorm, ReLU]
    [BasicBlock(6, Stride = 2), Concat<Identity, GtConvUnit>(2), BatchNorm, GlobalAvgPool, Dense(5), Softmax]
    public partial class GtFoldNet;

    // a GoogLeNet-style auxiliary head on a tiny net
    [Network(Channels = 2, Height = 12, Width = 12)]
    [Conv2D(4, 3, Padding = 1), ReLU, AuxClassifier(Weight = 0.3), Conv2D(4, 3, Stride = 2), ReLU, GlobalAvgPool, Dense(3), Softmax]
    public partial class GtAuxNet;

    // the same with twice the auxiliary loss weight
    [Network(Channels = 2, Height = 12, Width = 12)]
    [Conv2D(4, 3, Padding = 1), ReLU, AuxClassifier(Weight = 0.6), Conv2D(4, 3, Stride = 2), ReLU, GlobalAvgPool, Dense(3), Softmax]
    public partial class GtAuxNetDoubleWeight;

    public sealed class GraphNetworkTests
    {
        public static TheoryData<Isa> Isas()
        {
            var data = new TheoryData<Isa>();
            foreach (Isa isa in NumericsSupport.SupportedIsas) data.Add(isa);
            return data;
        }

        private static void Randomize(INetwork net, Rng rng) => NumericsSupport.Randomize(net, rng);

        [Theory]
        [MemberData(nameof(Isas))]
        public void FoldedBatchNormInferenceEqualsUnfolded(Isa isa)
        {
            const int batch = 3;
            using var net = new GtFoldNet(batch, 1, isa);
            Randomize(net, new Rng(5));
            float[] x = NumericsSupport.Gaussian(batch * GtFoldNet.InputSize, new Rng(6));
            var folded = new float[batch * GtFoldNet.OutputSize];
            var unfolded = new float[folded.Length];
            net.FoldBatchNorm = false;
            net.Forward(x, unfolded, batch);
            net.FoldBatchNorm = true;
            net.Forward(x, folded, batch);
            for (int i = 0; i < folded.Length; i++) Assert.True(Math.Abs(folded[i] - unfolded[i]) <= 1e-5f + 1e-4f * Math.Abs(unfolded[i]), $"output {i}: folded {folded[i]}, unfolded {unfolded[i]}");
            Assert.NotEqual(0f, folded.Max() - folded.Min()); // not a constant output

            // Writing a parameter through a kept Parameter and telling the network refolds; without folding the same result.
            Parameter gamma = net.Parameters.First(p => p.Name == "gtconvunit1.bn1.weight");
            gamma.Value[0] *= 3f;
            net.ParametersChanged();
            net.Forward(x, folded, batch);
            net.FoldBatchNorm = false;
            net.Forward(x, unfolded, batch);
            for (int i = 0; i < folded.Length; i++) Assert.True(Math.Abs(folded[i] - unfolded[i]) <= 1e-5f + 1e-4f * Math.Abs(unfolded[i]), $"after the change, output {i}: folded {folded[i]}, unfolded {unfolded[i]}");

            // LayerOutput of a folded conv (whose own output the folded forward skipped) is filled in on demand.
            net.FoldBatchNorm = true;
            net.Forward(x, folded, batch);
            int conv = GtFoldNet.Layers.ToList().FindIndex(l => l.Name == "gtconvunit1.conv1");
            float[] viaFolded = net.LayerOutput(conv, 1).ToArray();
            net.FoldBatchNorm = false;
            net.Forward(x, unfolded, batch);
            Assert.Equal(net.LayerOutput(conv, 1).ToArray(), viaFolded);
        }

        [Theory]
        [MemberData(nameof(Isas))]
        public void TwoWorkersTrainLikeOne(Isa isa)
        {
            const int batch = 5; // uneven slices: 3 + 2
            var one = new GtFoldNet(batch, 1, isa, threads: 1);
            var two = new GtFoldNet(batch, 1, isa, threads: 2);
            Assert.Equal(2, two.Threads);
            float[] x = NumericsSupport.Gaussian(batch * GtFoldNet.InputSize, new Rng(9));
            int[] labels = { 0, 4, 2, 1, 3 };
            var sgd1 = new Sgd(0.05f, momentum: 0.9f);
            var sgd2 = new Sgd(0.05f, momentum: 0.9f);
            for (int step = 0; step < 3; step++)
            {
                float l1 = one.TrainStep(x, labels, sgd1);
                float l2 = two.TrainStep(x, labels, sgd2);
                Assert.True(Math.Abs(l1 - l2) <= 1e-5f * Math.Max(1f, Math.Abs(l1)), $"step {step}: loss {l1} with one worker, {l2} with two");
            }
            foreach (var (a, b) in one.Parameters.Concat(one.Buffers).Zip(two.Parameters.Concat(two.Buffers)))
            {
                Assert.Equal(a.Name, b.Name);
                for (int i = 0; i < a.Length; i++)
                    Assert.True(Math.Abs(a.Value[i] - b.Value[i]) <= 1e-4f + 1e-4f * Math.Abs(a.Value[i]), $"{a.Name}[{i}]: {a.Value[i]} with one worker, {b.Value[i]} with two");
            }
            one.Dispose();
            two.Dispose();
        }

        [Fact]
        public void RunningStatisticsFollowPyTorchsUpdate()
        {
            const int batch = 4;
            using var net = new GtFoldNet(batch, 1);
            float[] x = NumericsSupport.Gaussian(batch * GtFoldNet.InputSize, new Rng(3), 2f);
            net.Training = true;
            var y = new float[batch * GtFoldNet.OutputSize];
            net.Forward(x, y, batch);
            // The first BN sees conv1's output; recompute its batch statistics from LayerOutput.
            int conv = GtFoldNet.Layers.ToList().FindIndex(l => l.Name == "gtconvunit1.conv1");
            int c = 4, hw = 64, m = batch * hw;
            Parameter mean = net.Buffers.First(p => p.Name == "gtconvunit1.bn1.running_mean");
            Parameter variance = net.Buffers.First(p => p.Name == "gtconvunit1.bn1.running_var");
            for (int ch = 0; ch < c; ch++)
            {
                double s = 0, ss = 0;
                for (int n = 0; n < batch; n++)
                {
                    ReadOnlySpan<float> map = net.LayerOutput(conv, n).Slice(ch * hw, hw);
                    foreach (float v in map) { s += v; ss += (double)v * v; }
                }
                double mu = s / m, biased = ss / m - mu * mu;
                Assert.Equal(0.1 * mu, mean.Value[ch], 4);
                Assert.Equal(0.9 + 0.1 * biased * m / (m - 1), variance.Value[ch], 4);
            }
        }

        [Theory]
        [MemberData(nameof(Isas))]
        public void AuxiliaryHeadTrainsAndLeavesInference(Isa isa)
        {
            const int batch = 2;
            Assert.Contains(GtAuxNet.Layers, l => l.Name == "aux1.dense2");
            using var net = new GtAuxNet(batch, 1, isa);
            float[] x = NumericsSupport.Gaussian(batch * GtAuxNet.InputSize, new Rng(4));
            int[] labels = { 2, 0 };
            var y = new float[batch * GtAuxNet.OutputSize];
            net.Forward(x, y, batch); // inference: no aux head, probabilities of the main head
            Assert.Equal(1f, y.Take(3).Sum(), 5);

            // The training loss is the main loss plus Weight x the aux loss. The same network with twice the weight (same
            // seed: same initial weights and dropout masks) must add exactly twice as much, and its aux head must get exactly
            // twice the gradient. An optimizer with a negligible rate keeps the weights (the gradients are what is checked).
            using var twice = new GtAuxNetDoubleWeight(batch, 1, isa);
            float loss = net.TrainStep(x, labels, new Sgd(1e-30f));
            float loss2 = twice.TrainStep(x, labels, new Sgd(1e-30f));
            double main = 0;
            for (int n = 0; n < batch; n++) main -= Math.Log(y[n * 3 + labels[n]]);
            main /= batch;
            Assert.True(loss > main + 1e-3, $"training loss {loss} should exceed the main head's loss {main}");
            Assert.Equal(2.0, (loss2 - main) / (loss - main), 3);
            float[] g1 = net.Parameters.First(p => p.Name == "aux1.dense2.weight").Gradient.ToArray();
            float[] g2 = twice.Parameters.First(p => p.Name == "aux1.dense2.weight").Gradient.ToArray();
            Assert.Contains(g1, g => g != 0f);
            for (int i = 0; i < g1.Length; i++) Assert.True(Math.Abs(g2[i] - 2 * g1[i]) <= 1e-6f + 1e-5f * Math.Abs(g2[i]), $"aux1.dense2.weight[{i}]: {g2[i]} vs 2 x {g1[i]}");
        }
    }
}
