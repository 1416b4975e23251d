// Checkpoints: N steps, save, load into a fresh network and optimizer, M more steps must equal N + M
// uninterrupted steps bit for bit; failed loads change nothing.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CnnGen.Weights;
using static CnnGen.Tests.Weights.WeightsSupport;

namespace CnnGen.Tests.Weights
{
    public sealed class CheckpointTests : IDisposable
    {
        private const int Batch = 5;
        private readonly TempDirectory _dir = new();
        public void Dispose() => _dir.Dispose();

        private static void Train(INetwork net, IOptimizer optimizer, int fromStep, int toStep)
        {
            for (int step = fromStep; step < toStep; step++)
            {
                // A schedule, so the checkpoint's learning rate matters.
                optimizer.LearningRate = 0.01f / (1 + step / 3);
                (float[] images, int[] labels) = Batch(step, CheckpointTests.Batch, net.InputLength, net.OutputLength);
                float loss = net.TrainStep(images, labels, optimizer, out _);
                Assert.True(float.IsFinite(loss));
            }
        }

        public static IEnumerable<object[]> Optimizers() =>
        [
            ["adam"], ["adam-wd"], ["sgd"], ["sgd-momentum"],
        ];

        private static OptimizerBase Make(string kind, float lr = 0.01f) => kind switch
        {
            "adam" => new Adam(lr),
            "adam-wd" => new Adam(lr, beta1: 0.8f, beta2: 0.99f, epsilon: 1e-7f, weightDecay: 1e-3f),
            "sgd" => new Sgd(lr),
            "sgd-momentum" => new Sgd(lr, momentum: 0.9f, weightDecay: 5e-4f),
            _ => throw new ArgumentException(kind),
        };

        [Theory]
        [MemberData(nameof(Optimizers))]
        public void ResumeIsBitIdenticalToAnUninterruptedRun(string kind)
        {
            const int n = 7, m = 6;
            Dictionary<string, uint[]> expected;
            using (var net = new ResumeNet(maxBatch: Batch, seed: 42, threads: 1))
            using (OptimizerBase opt = Make(kind))
            {
                Train(net, opt, 0, n + m);
                expected = Bits(net);
            }

            string path = _dir.File(kind + ".ckpt.safetensors");
            Dictionary<string, uint[]> atSave;
            using (var net = new ResumeNet(maxBatch: Batch, seed: 42, threads: 1))
            using (OptimizerBase opt = Make(kind))
            {
                Train(net, opt, 0, n);
                atSave = Bits(net);
                Checkpoint.Save(net, opt, path, epoch: 3, seed: 42, new Dictionary<string, string> { ["run"] = "test" });
                Assert.Equal(n, opt.Steps);
            }

            // A different initialisation and learning rate: everything must come from the checkpoint.
            using (var net = new ResumeNet(maxBatch: Batch, seed: 99, threads: 1))
            using (OptimizerBase opt = Make(kind, lr: 0.5f))
            {
                CheckpointInfo info = Checkpoint.Load(net, opt, path);
                Assert.Equal(3, info.Epoch);
                Assert.Equal(n, info.Step);
                Assert.Equal(42UL, info.Seed);
                Assert.Equal(0.01f / (1 + (n - 1) / 3), info.LearningRate);
                Assert.Equal("test", info.Metadata["run"]);
                Assert.Equal(n, opt.Steps);
                Assert.Equal(info.LearningRate, opt.LearningRate);
                AssertSameBits(atSave, net, "right after loading");
                Train(net, opt, n, n + m);
                AssertSameBits(expected, net, $"{kind}: {n} steps + checkpoint + {m} steps vs {n + m} steps");
            }
        }

        [Fact]
        public void FileLayoutUsesDocumentedNames()
        {
            string path = _dir.File("layout.safetensors");
            using var net = new ResumeNet(maxBatch: Batch, seed: 1);
            using var adam = new Adam(0.001f, beta1: 0.85f);
            Train(net, adam, 0, 2);
            Checkpoint.Save(net, adam, path, epoch: 1, seed: 7);
            SafeTensorsFile file = SafeTensors.Read(path);
            string[] names = file.Tensors.Select(t => t.Name).ToArray();
            Assert.Contains("conv1.weight", names);
            Assert.Contains("optimizer.adam.m.conv1.weight", names);
            Assert.Contains("optimizer.adam.v.dense2.bias", names);
            Assert.Equal(net.Parameters.Count * 3, names.Length);
            Assert.True(adam.TryGetState(net.Parameters[0], 1, out Span<float> v));
            Assert.True(file.TryGet("optimizer.adam.v.conv1.weight", out SafeTensor vt));
            Assert.Equal(v.ToArray(), vt.Data);
            Assert.Equal("adam", file.Metadata["optimizer"]);
            Assert.Equal("2", file.Metadata["step"]);
            Assert.Equal("1", file.Metadata["epoch"]);
            Assert.Equal("7", file.Metadata["seed"]);
            Assert.Equal("0.85", file.Metadata["beta1"]);
            Assert.Equal(adam.LearningRate, float.Parse(file.Metadata["lr"], System.Globalization.CultureInfo.InvariantCulture));

            using var sgd = new Sgd(0.1f, momentum: 0.9f);
            Train(net, sgd, 0, 1);
            Checkpoint.Save(net, sgd, path, epoch: 1, seed: 7);
            Assert.True(SafeTensors.Read(path).TryGet("optimizer.sgd.momentum.conv1.weight", out _));

            // A plain weight load of a checkpoint points at Checkpoint.Load.
            var e = Assert.Throws<InvalidDataException>(() => WeightFile.Load(net, path));
            Assert.Contains("use Checkpoint.Load", e.Message);
        }

        [Fact]
        public void CheckpointBeforeTheFirstStepHasNoStateAndResetsStaleState()
        {
            string path = _dir.File("zero.safetensors");
            using var net = new ResumeNet(maxBatch: Batch, seed: 1);
            using (var fresh = new Adam()) Checkpoint.Save(net, fresh, path, epoch: 0, seed: 1);
            Assert.DoesNotContain(SafeTensors.Read(path).Tensors, t => t.Name.StartsWith("optimizer.", StringComparison.Ordinal));

            using var used = new Adam();
            Train(net, used, 0, 2);
            Checkpoint.Load(net, used, path);
            Assert.Equal(0, used.Steps);
            Assert.True(used.TryGetState(net.Parameters[0], 0, out Span<float> m));
            Assert.All(m.ToArray(), x => Assert.Equal(0f, x));
        }

        private (ResumeNet Net, Adam Opt, Dictionary<string, uint[]> Params, float[] M, long Steps) Trained()
        {
            var net = new ResumeNet(maxBatch: Batch, seed: 5);
            var opt = new Adam(0.01f);
            Train(net, opt, 0, 3);
            opt.TryGetState(net.Parameters[0], 0, out Span<float> m);
            return (net, opt, Bits(net), m.ToArray(), opt.Steps);
        }

        private void AssertLoadFails(string path, params string[] fragments)
        {
            (ResumeNet net, Adam opt, Dictionary<string, uint[]> before, float[] m, long steps) = Trained();
            using (net)
            using (opt)
            {
                float lr = opt.LearningRate;
                var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(net, opt, path));
                Assert.Contains(path, e.Message);
                foreach (string f in fragments) Assert.Contains(f, e.Message);
                AssertSameBits(before, net, "after a failed checkpoint load");
                Assert.Equal(steps, opt.Steps);
                Assert.Equal(lr, opt.LearningRate);
                Assert.True(opt.TryGetState(net.Parameters[0], 0, out Span<float> after));
                Assert.Equal(m, after.ToArray());
            }
        }

        private string SavedCheckpoint(string name, Func<OptimizerBase> make, Func<SafeTensorsFile, SafeTensorsFile>? edit = null)
        {
            string path = _dir.File(name);
            using var net = new ResumeNet(maxBatch: Batch, seed: 6);
            using OptimizerBase opt = make();
            Train(net, opt, 0, 2);
            Checkpoint.Save(net, opt, path, epoch: 1, seed: 6);
            if (edit != null) SafeTensors.Write(path, edit(SafeTensors.Read(path)));
            return path;
        }

        [Fact]
        public void WrongOptimizerKind() =>
            AssertLoadFails(SavedCheckpoint("sgd.safetensors", () => new Sgd(0.1f, 0.9f)),
                "was saved with optimizer 'sgd' but is being loaded into 'adam'", "Nothing was changed");

        [Fact]
        public void DifferentHyperparameters() =>
            AssertLoadFails(SavedCheckpoint("b1.safetensors", () => new Adam(0.01f, beta1: 0.5f)),
                "optimizer setting 'beta1' is 0.5 in the checkpoint but 0.9 in the optimizer");

        [Fact]
        public void MissingStateTensor() =>
            AssertLoadFails(SavedCheckpoint("nostate.safetensors", () => new Adam(0.01f),
                f => new SafeTensorsFile(f.Tensors.Where(t => t.Name != "optimizer.adam.v.conv2.bias").ToList(), f.Metadata)),
                "missing optimizer state 'optimizer.adam.v.conv2.bias' [6]");

        [Fact]
        public void MissingParameterInCheckpoint() =>
            AssertLoadFails(SavedCheckpoint("noparam.safetensors", () => new Adam(0.01f),
                f => new SafeTensorsFile(f.Tensors.Where(t => t.Name != "dense1.weight").ToList(), f.Metadata)),
                "missing parameter 'dense1.weight' [8, 24]");

        [Fact]
        public void PlainWeightFileIsNotACheckpoint()
        {
            string path = _dir.File("plain.safetensors");
            using (var net = new ResumeNet(maxBatch: 1)) WeightFile.Save(net, path);
            AssertLoadFails(path, "has no 'optimizer' metadata", "use WeightFile.Load");
        }

        [Fact]
        public void TruncatedCheckpoint()
        {
            string path = SavedCheckpoint("cut.safetensors", () => new Adam(0.01f));
            byte[] bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length - 10)]);
            AssertLoadFails(path, "data bytes in the file (truncated?)");
        }
    }
}
