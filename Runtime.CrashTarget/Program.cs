// A process to kill. `save PATH` trains CrashNet one step at a time on fixed data and writes a checkpoint after every
// step, printing "begin N" before and "saved N" after checkpoint N. `verify FILE...` loads each checkpoint and checks
// that it is exactly the state after its recorded number of steps, by replaying those steps from the same seed.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using CnnGen;
using CnnGen.Weights;

namespace CnnGen.CrashTarget
{
    /// <summary>Small, with every kind of saved state: conv and dense parameters, BatchNorm buffers, Adam's m and v.</summary>
    [Network(Channels = 1, Height = 8, Width = 8)]
    [Conv2D(6, 3, Padding = 1), BatchNorm, ReLU, MaxPool2D(2)]
    [Flatten, Dense(16), ReLU, Dense(4), Softmax]
    public partial class CrashNet;

    public static class Program
    {
        private const int Batch = 8, Seed = 3;

        private static readonly float[] Images = MakeImages();
        private static readonly int[] Labels = Enumerable.Range(0, Batch).Select(i => i % CrashNet.OutputSize).ToArray();

        private static float[] MakeImages()
        {
            var images = new float[Batch * CrashNet.InputSize];
            Initializers.Uniform(images, 1f, new Rng(99));
            return images;
        }

        public static int Main(string[] args)
        {
            if (args.Length >= 2 && args[0] == "save") return Save(args[1]);
            if (args.Length >= 2 && args[0] == "verify") return Verify(args.Skip(1).ToArray());
            Console.Error.WriteLine("usage: save CHECKPOINT | verify CHECKPOINT...");
            return 2;
        }

        private static int Save(string path)
        {
            using var net = new CrashNet(Batch, Seed);
            using var adam = new Adam(1e-2f);
            for (int step = 1; ; step++)
            {
                net.TrainStep(Images, Labels, adam);
                Console.Out.WriteLine($"begin {step}");
                Console.Out.Flush();
                Checkpoint.Save(net, adam, path, epoch: step, seed: Seed);
                Console.Out.WriteLine($"saved {step}");
                Console.Out.Flush();
            }
        }

        private static int Verify(string[] files)
        {
            int failures = 0;
            foreach (string file in files)
            {
                using var loaded = new CrashNet(Batch, seed: 12345);
                using var loadedAdam = new Adam(1e-2f);
                CheckpointInfo info;
                try { info = Checkpoint.Load(loaded, loadedAdam, file); }
                catch (Exception e) { Console.Out.WriteLine($"FAIL {file}: {e.GetType().Name}: {e.Message}"); failures++; continue; }

                using var replay = new CrashNet(Batch, Seed);
                using var replayAdam = new Adam(1e-2f);
                for (int step = 0; step < info.Epoch; step++) replay.TrainStep(Images, Labels, replayAdam);
                string? difference = Compare(loaded, loadedAdam, replay, replayAdam);
                if (info.Step != info.Epoch) difference ??= $"optimizer step {info.Step} but {info.Epoch} training steps";
                if (difference is null) Console.Out.WriteLine($"OK {file} {info.Epoch}");
                else { Console.Out.WriteLine($"FAIL {file}: checkpoint of step {info.Epoch} differs from the replay: {difference}"); failures++; }
            }
            return failures == 0 ? 0 : 1;
        }

        private static string? Compare(CrashNet a, Adam adamA, CrashNet b, Adam adamB)
        {
            if (adamA.Steps != adamB.Steps) return $"Adam steps {adamA.Steps} vs {adamB.Steps}";
            var pa = a.Parameters.Concat(a.Buffers).ToList();
            var pb = b.Parameters.Concat(b.Buffers).ToList();
            for (int i = 0; i < pa.Count; i++)
            {
                if (!Same(pa[i].Value, pb[i].Value)) return $"{pa[i].Name} values";
                if (pa[i].IsBuffer) continue;
                for (int s = 0; s < adamA.StateNames.Count; s++)
                {
                    adamA.TryGetState(pa[i], s, out Span<float> sa);
                    adamB.TryGetState(pb[i], s, out Span<float> sb);
                    if (!Same(sa, sb)) return $"{pa[i].Name} Adam {adamA.StateNames[s]}";
                }
            }
            return null;
        }

        private static bool Same(ReadOnlySpan<float> x, ReadOnlySpan<float> y) =>
            MemoryMarshal.AsBytes(x).SequenceEqual(MemoryMarshal.AsBytes(y));
    }
}
