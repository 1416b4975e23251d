// BenchmarkDotNet classes. Throughput columns (GFLOP/s, % of the FMA peak measured in the same run, img/s) come
// from Metrics; Program runs FmaBenchmarks first so the peak is known when the other tables are printed.
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;

namespace CnnGen.Bench
{
    public class FmaBenchmarks
    {
        public static IEnumerable<int> Widths => Vector512.IsHardwareAccelerated ? new[] { 256, 512 } : new[] { 256 };

        [ParamsSource(nameof(Widths))] public int Width;
        [Params(1, 2)] public int Threads;

        /// <summary>12 independent FMA chains x 20M iterations on each of <see cref="Threads"/> threads.</summary>
        [Benchmark] public float Fma() => FmaPeak.RunParallel(Width, Threads);
    }

    public class ConvBenchmarks
    {
        public static IEnumerable<ConvShape> Shapes => ConvShape.Selected;

        [ParamsSource(nameof(Shapes))] public ConvShape Shape = null!;
        [Params(1, 2)] public int Threads;
        private ConvWorkload _work = null!;

        [GlobalSetup]
        public void Setup()
        {
            _work = new ConvWorkload(Shape, Threads);
            _work.Forward();   // the backward benchmarks run on this Forward's activations
        }
        [GlobalCleanup] public void Cleanup() => _work.Dispose();

        /// <summary>One pass: im2col + W * col + b.</summary>
        [Benchmark] public void Forward() => _work.Forward();

        /// <summary>Three passes: forward, dW += dy * col^T, dx = col2im(W^T * dy).</summary>
        [Benchmark] public void ForwardBackward() => _work.ForwardBackward();

        /// <summary>One pass: backward-weights alone (dW += dy * col^T, db), no input gradient.</summary>
        [Benchmark] public void BackwardWeights() => _work.BackwardWeights();

        /// <summary>Two passes: backward-weights and backward-data (dx = col2im(W^T * dy)).</summary>
        [Benchmark] public void Backward() => _work.Backward();
    }

    public class SeedNetBenchmarks
    {
        private SeedWorkload _train1 = null!, _train2 = null!, _infer = null!;

        [GlobalSetup(Target = nameof(TrainStep64_1T))] public void SetupTrain1() => _train1 = new SeedWorkload(64, 1);
        [GlobalSetup(Target = nameof(TrainStep64_2T))] public void SetupTrain2() => _train2 = new SeedWorkload(64, 2);
        [GlobalSetup(Target = nameof(Forward1_1T))] public void SetupInfer() => _infer = new SeedWorkload(1, 1);

        [GlobalCleanup]
        public void Cleanup()
        {
            _train1?.Dispose(); _train2?.Dispose(); _infer?.Dispose();
        }

        [Benchmark] public float TrainStep64_1T() => _train1.TrainStep();
        [Benchmark] public float TrainStep64_2T() => _train2.TrainStep();
        [Benchmark] public void Forward1_1T() => _infer.Forward();
    }
}
