// dotnet run -c Release --project bench/CnnGen.Bench -- [--quick] [BenchmarkDotNet args, e.g. --filter *Conv*]
//   the BenchmarkDotNet suite (in-process, 3 warmup + 5 measured iterations): FMA peak, seed net, conv layers,
//   then one summary table (also written to BenchmarkDotNet.Artifacts/cnngen-summary.md).
// dotnet run -c Release --project bench/CnnGen.Bench -- compare [--quick] [--steps 30] [--seconds 2]
//   plain Stopwatch timings as `RESULT <key> <ms> <flops> <images>` lines (conv layers on 1 and 2 threads, batch-1 stages), paired with bench/pytorch_layers.py
//   by bench/compare.sh.
// dotnet run -c Release --project bench/CnnGen.Bench -- loop KEY PASS [--threads 1] [--seconds 10] [--no-winograd] [--batch N]
//   one workload over and over (for perf record or an A/B of two builds): KEY a conv key (e.g. 64x36x14x14-72k3s1p1,
//   or seed), PASS fwd | fwdbwd | bwdw | bwd | train; prints the best and median ms of 20 ms samples and the GFLOP/s;
//   --no-winograd runs an eligible 3x3 conv as im2col + GEMM; --batch N runs the layer on N images instead of the key's.
// dotnet run -c Release --project bench/CnnGen.Bench -- bandwidth
//   read bandwidth on 1 and 2 threads (CnnGen's worker pool) from L2-sized to DRAM-sized buffers.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using CnnGen.Samples;

namespace CnnGen.Bench
{
    public static class Program
    {
        public static int Main(string[] args)
        {
            var rest = new List<string>(args);
            ConvShape.Quick = rest.Remove("--quick");
            if (rest.Count > 0 && rest[0] == "compare") return Compare.Run(rest.Skip(1).ToArray());
            if (rest.Count > 0 && rest[0] == "loop") return Compare.Loop(rest.Skip(1).ToArray());
            if (rest.Count > 0 && rest[0] == "bandwidth") return Bandwidth.Run();

            // In-process: no per-run rebuild of the generator-using project; short job to keep the suite ~10 minutes.
            Job job = Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(5)
                .WithToolchain(InProcessEmitToolchain.Instance).WithId("Short-InProcess");
            IConfig config = DefaultConfig.Instance.AddJob(job)
                .AddColumn(new MetricColumn("GFLOP/s"), new MetricColumn("%peak"), new MetricColumn("img/s"))
                .WithOptions(ConfigOptions.JoinSummary | ConfigOptions.DisableLogFile);
            string[] bdnArgs = rest.ToArray();

            Summary fma = BenchmarkRunner.Run(typeof(FmaBenchmarks), config, bdnArgs);
            Metrics.TakePeak(fma);
            Metrics.Collect(fma);
            foreach (Type t in new[] { typeof(SeedNetBenchmarks), typeof(ConvBenchmarks) })
                Metrics.Collect(BenchmarkRunner.Run(t, config, bdnArgs));

            string table = Metrics.Table();
            Console.WriteLine();
            Console.WriteLine(table);
            Directory.CreateDirectory("BenchmarkDotNet.Artifacts");
            File.WriteAllText(Path.Combine("BenchmarkDotNet.Artifacts", "cnngen-summary.md"), table);
            return 0;
        }
    }

    /// <summary>The CnnGen half of bench/compare.sh: the same keys, shapes, batches and threads as pytorch_layers.py.</summary>
    public static class Compare
    {
        private static double _seconds = 2;

        public static int Run(string[] args)
        {
            int steps = 30;
            for (int i = 0; i + 1 < args.Length; i++)
            {
                if (args[i] == "--steps") steps = int.Parse(args[i + 1]);
                if (args[i] == "--seconds") _seconds = double.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
            }
            Console.WriteLine($"# cnngen isa={IsaSupport.Best} cores={Environment.ProcessorCount}");
            // the machine's FMA peak on 1 thread, measured now (best of 3): compare.sh gives each 1-thread conv line's
            // share of it; the widest vector this machine runs
            int width = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? 512 : 256;
            double peakMs = double.MaxValue;
            for (int i = 0; i < 3; i++)
            {
                var t0 = Stopwatch.StartNew();
                FmaPeak.Run(width);
                peakMs = Math.Min(peakMs, t0.Elapsed.TotalMilliseconds);
            }
            Line("fma/peak/t1", peakMs, FmaPeak.Flops(width), 1);

            // (a) seed net training, batch 64, 2 threads, SGD, random data, fixed number of steps.
            using (var train = new SeedWorkload(64, 2))
            {
                // warm-up as pytorch_layers.py: 200 steps (2-3 s) for the tiered JIT to reach its optimized code for the
                // layer sequences, loss and optimizer (measured: 13.0 ms per step after 20 warm-up steps, 11.7 after 200)
                for (int i = 0; i < 200; i++) train.TrainStep();
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < steps; i++) train.TrainStep();
                double ms = sw.Elapsed.TotalMilliseconds / steps;
                Line("seed/train/b64/t2", ms, 3.0 * 64 * FashionNet.FlopsPerImage, 64);
            }
            // (b) seed net inference, batch 1 (with 2 threads the two workers split each conv's output pixels), the two thread
            // counts in a pair (see (d)).
            using (var infer1 = new SeedWorkload(1, 1))
            using (var infer2 = new SeedWorkload(1, 2))
            {
                double[] ms = MeasureTurns(infer1.Forward, infer2.Forward);
                Line("seed/infer/b1/t1", ms[0], FashionNet.FlopsPerImage, 1);
                Line("seed/infer/b1/pair1", ms[0], FashionNet.FlopsPerImage, 1);
                Line("seed/infer/b1/t2", ms[1], FashionNet.FlopsPerImage, 1);
            }
            // (c) conv layers, 1 thread.
            foreach (ConvShape shape in ConvShape.Selected)
            {
                using var work = new ConvWorkload(shape, 1);
                Line($"conv/{shape.Key}/fwd/t1", Measure(work.Forward), shape.PassFlops, shape.N);
                Line($"conv/{shape.Key}/fwdbwd/t1", Measure(work.ForwardBackward), 3 * shape.PassFlops, shape.N);
                // each backward pass alone, on the last Forward's activations: backward-weights (dW, db), and
                // backward-data as the difference between the full backward (dW, db, dx) and backward-weights
                work.Forward();
                double weights = Measure(work.BackwardWeights), both = Measure(work.Backward);
                Line($"conv/{shape.Key}/bwdw/t1", weights, shape.PassFlops, shape.N);
                Line($"conv/{shape.Key}/bwdd/t1", Math.Max(both - weights, 1e-6), shape.PassFlops, shape.N);
            }
            // (d) the same layers on 2 threads (the workers split the batch), each measured in a pair with 1 thread: the two
            // workloads' samples alternate, so a noisy stretch of the machine slows both alike (scaling = pair1 ms / t2 ms).
            // The machine's FMA loop and L3 reads take the same turns (fmaref/..., readref/...): what two cores gave a
            // perfectly parallel job of each kind in those seconds.
            using var machine = new MachineScalingWorkload();
            foreach (ConvShape shape in ConvShape.Selected)
            {
                using var one = new ConvWorkload(shape, 1);
                using var two = new ConvWorkload(shape, 2);
                PairLines($"conv/{shape.Key}/fwd", one.Forward, two.Forward, machine, shape.PassFlops, shape.N);
                PairLines($"conv/{shape.Key}/fwdbwd", one.ForwardBackward, two.ForwardBackward, machine, 3 * shape.PassFlops, shape.N);
            }
            // (e) ResNet-18's stages at batch 1, forward, 1 and 2 threads in a pair (2 threads: an inference team splits each conv).
            foreach (ConvShape shape in ConvShape.BatchOne)
            {
                using var one = new ConvWorkload(shape, 1);
                using var two = new ConvWorkload(shape, 2);
                PairLines($"conv/{shape.Key}/fwd", one.Forward, two.Forward, machine, shape.PassFlops, shape.N, t1: true);
            }
            return 0;
        }

        /// <summary>The loop mode: one workload for a while, then its best and median sample.</summary>
        public static int Loop(string[] args)
        {
            if (args.Length < 2)
            {
                Console.Error.WriteLine("usage: loop KEY PASS [--threads N] [--seconds S] [--batch N] [--instances K] [--no-winograd]; KEY one of: seed, "
                    + string.Join(", ", ConvShape.LoopShapes.Select(s => s.Key).Distinct()));
                return 2;
            }
            string key = args[0], pass = args[1];
            int threads = 1, batch = 0, instances = 1;
            for (int i = 2; i + 1 < args.Length; i++)
            {
                if (args[i] == "--threads") threads = int.Parse(args[i + 1]);
                if (args[i] == "--seconds") _seconds = double.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
                if (args[i] == "--batch") batch = int.Parse(args[i + 1]);
                if (args[i] == "--instances") instances = int.Parse(args[i + 1]);
            }
            Action action;
            double flops;
            IDisposable owner;
            if (key == "seed")
            {
                var seed = pass == "train" ? new SeedWorkload(64, threads) : new SeedWorkload(1, threads);
                owner = seed;
                action = pass == "train" ? () => seed.TrainStep() : seed.Forward;
                flops = (pass == "train" ? 3.0 * 64 : 1.0) * FashionNet.FlopsPerImage;
            }
            else
            {
                ConvShape? shape = ConvShape.LoopShapes.FirstOrDefault(s => s.Key == key);
                if (shape is null) { Console.Error.WriteLine($"unknown key {key}"); return 2; }
                if (batch > 0) shape = shape.WithBatch(batch); // the same layer on fewer or more images
                // --instances K: K copies of the layer (own weights, own workers) called in turn, so that weights larger than
                // L3 / K stream from memory on every call, as they do in a network; the default 1 keeps them in cache
                var works = Enumerable.Range(0, instances).Select(_ => new ConvWorkload(shape, threads)).ToArray();
                owner = new Owners(works);
                (Func<ConvWorkload, Action> Pass, double Flops) chosen = pass switch
                {
                    "fwd" => (work => work.Forward, shape.PassFlops),
                    "fwdbwd" => (work => work.ForwardBackward, 3 * shape.PassFlops),
                    "bwdw" => (work => work.BackwardWeights, shape.PassFlops),
                    "bwd" => (work => work.Backward, 2 * shape.PassFlops),
                    _ => throw new ArgumentException($"unknown pass {pass}: fwd, fwdbwd, bwdw or bwd"),
                };
                foreach (ConvWorkload work in works)
                {
                    if (args.Contains("--no-winograd")) work.Winograd = false; // im2col + GEMM for an eligible 3x3 conv
                    work.Forward();
                }
                Action[] passes = works.Select(chosen.Pass).ToArray();
                int turn = 0;
                action = passes.Length == 1 ? passes[0] : () => { passes[turn](); turn = (turn + 1) % passes.Length; };
                flops = chosen.Flops;
            }
            using (owner)
            {
                double hopBefore = HopNs();
                List<double> samples = Samples(action, int.MaxValue);
                double hopAfter = HopNs();
                Console.WriteLine(FormattableString.Invariant(
                    $"{key} {pass} t{threads}: best {samples[0]:0.000} ms, median {samples[samples.Count / 2]:0.000} ms, {flops / samples[0] / 1e6:0.0} GFLOP/s (best), {samples.Count} samples; core hop {hopBefore:0} / {hopAfter:0} ns before / after"));
            }
            return 0;
        }

        /// <summary>ns per core-to-core hand-off right now (<see cref="CoreHop"/>), on a pool of its own that is gone before
        /// the caller measures anything else.</summary>
        private static double HopNs()
        {
            using var pool = new WorkerPool(2);
            return new CoreHop(pool).Measure();
        }

        /// <summary>Disposes every workload of a `loop --instances` run.</summary>
        private sealed class Owners(IEnumerable<IDisposable> items) : IDisposable
        {
            public void Dispose() { foreach (IDisposable item in items) item.Dispose(); }
        }

        private static void Line(string key, double ms, double flops, int images) =>
            Console.WriteLine(FormattableString.Invariant($"RESULT {key} {ms:0.0000} {flops:0} {images}"));

        /// <summary>Median ms per call of <see cref="Samples"/> (at most 200 samples).</summary>
        private static double Measure(Action action)
        {
            List<double> samples = Samples(action, 200);
            return samples[samples.Count / 2];
        }

        /// <summary>Median ms per call of workloads that take turns for about 2 x _seconds (at least 3 turns each): each turn
        /// runs its workload for 0.1 s unrecorded (caches, and waking its workers), then records samples of >= 20 ms for
        /// 0.2 s. All see the same stretches of outside load, so their ratios are steadier than those of separate runs.</summary>
        private static double[] MeasureTurns(params Action[] actions)
        {
            static void Turn(Action action, int inner, List<double> samples)
            {
                var sw = Stopwatch.StartNew();
                do action(); while (sw.Elapsed.TotalSeconds < 0.1);
                sw.Restart();
                do AddSample(action, inner, samples); while (sw.Elapsed.TotalSeconds < 0.2);
            }
            int[] inner = actions.Select(InnerCalls).ToArray();
            List<double>[] samples = actions.Select(_ => new List<double>()).ToArray();
            var total = Stopwatch.StartNew();
            for (int turns = 0; turns < 3 || total.Elapsed.TotalSeconds < 2 * _seconds; turns++)
                for (int i = 0; i < actions.Length; i++) Turn(actions[i], inner[i], samples[i]);
            return samples.Select(s => { s.Sort(); return s[s.Count / 2]; }).ToArray();
        }

        /// <summary>A 1-thread and a 2-thread workload in turns with the machine's own scaling
        /// (<see cref="MachineScalingWorkload"/>): prints key/t1 (when <paramref name="t1"/>), key/pair1, key/t2, and
        /// fmaref/key/... and readref/key/... (pair1, t2) for the FMA loop and the L3 reads, and hopref/key/t2: the ns per
        /// core-to-core hand-off (<see cref="CoreHop"/>) in those turns.</summary>
        private static void PairLines(string key, Action one, Action two, MachineScalingWorkload machine, double flops, int images, bool t1 = false)
        {
            double[] ms = MeasureTurns(one, two, machine.FmaOne, machine.FmaTwo, machine.ReadOne, machine.ReadTwo, machine.Hop.Run);
            if (t1) Line($"{key}/t1", ms[0], flops, images);
            Line($"{key}/pair1", ms[0], flops, images);
            Line($"{key}/t2", ms[1], flops, images);
            Line($"fmaref/{key}/pair1", ms[2], 0, 1);
            Line($"fmaref/{key}/t2", ms[3], 0, 1);
            Line($"readref/{key}/pair1", ms[4], 0, 1);
            Line($"readref/{key}/t2", ms[5], 0, 1);
            Line($"hopref/{key}/t2", CoreHop.NsPerHop(ms[6]), 0, 1); // ns per core-to-core hand-off, not ms
        }

        /// <summary>Sorted ms per call: warm up, then samples of >= 20 ms each until ~_seconds (at least 3, at most
        /// <paramref name="maxSamples"/>).</summary>
        private static List<double> Samples(Action action, int maxSamples)
        {
            int inner = InnerCalls(action);
            var samples = new List<double>();
            var sw = Stopwatch.StartNew();
            while (samples.Count < 3 || sw.Elapsed.TotalSeconds < _seconds)
            {
                AddSample(action, inner, samples);
                if (samples.Count >= maxSamples) break;
            }
            samples.Sort();
            return samples;
        }

        /// <summary>Warms <paramref name="action"/> up (at least 2 calls, up to 0.3 s or 1000 calls) and returns how many calls
        /// make a sample of about 20 ms.</summary>
        private static int InnerCalls(Action action)
        {
            var sw = Stopwatch.StartNew();
            int calls = 0;
            do { action(); calls++; } while (calls < 2 || (sw.Elapsed.TotalSeconds < 0.3 && calls < 1000));
            return Math.Max(1, (int)(0.02 / (sw.Elapsed.TotalSeconds / calls)));
        }

        /// <summary>Times <paramref name="inner"/> calls and adds the ms per call to <paramref name="samples"/>.</summary>
        private static void AddSample(Action action, int inner, List<double> samples)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < inner; i++) action();
            samples.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds / inner);
        }
    }
}
