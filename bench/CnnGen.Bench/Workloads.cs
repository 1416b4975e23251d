// The timed bodies, shared by the BenchmarkDotNet classes and the `compare` console mode.
using System;
using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Threading;
using System.Threading.Tasks;
using CnnGen.Samples;

namespace CnnGen.Bench
{
    /// <summary>One single-conv network with random input and output gradient.</summary>
    public sealed class ConvWorkload : IDisposable
    {
        private readonly INetwork _net;
        private readonly float[] _x, _dy;
        public ConvShape Shape { get; }
        public int Threads { get; }

        public ConvWorkload(ConvShape shape, int threads)
        {
            Shape = shape;
            _net = shape.Create(threads);
            Threads = threads;
            var rng = new Random(42);
            _x = Fill(new float[shape.N * _net.InputLength], rng);
            _dy = Fill(new float[shape.N * _net.OutputLength], rng);
            if (_net.Isa != IsaSupport.Best) throw new InvalidOperationException("unexpected kernel set");
            _x.CopyTo(_net.InputBuffer(shape.N));
            _dy.CopyTo(_net.OutputGradientBuffer(shape.N));
            // the kernels alone: no NaN/infinity scan of the (known finite) input before each Forward, as PyTorch's conv2d
            _net.CheckInputs = false;
        }

        public Isa Isa => _net.Isa;

        /// <summary>Whether an eligible 3x3 conv runs as Winograd F(4x4, 3x3) (default) or as im2col + GEMM.</summary>
        public bool Winograd { get => _net.Winograd; set => _net.Winograd = value; }

        private static float[] Fill(float[] a, Random rng)
        {
            for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * 0.1f;
            return a;
        }

        /// <summary>Forward: one GEMM pass, on the images in the network's input buffer (no copy in or out, as PyTorch's
        /// conv2d on a tensor; the Forward that copies spans adds a pass over the input and the output).</summary>
        public void Forward() => _net.Forward(Shape.N);

        /// <summary>Forward + backward with the input gradient: forward, backward-weights, backward-data (three passes).</summary>
        public void ForwardBackward()
        {
            _net.Forward(Shape.N);
            _net.Backward(Shape.N);
        }

        /// <summary>Backward-weights alone (dW, db; no input gradient), on the activations of the last <see cref="Forward"/>.</summary>
        public void BackwardWeights() => _net.Backward(Shape.N, inputGradient: false);

        /// <summary>Backward-weights and backward-data (dW, db and dx), on the activations of the last <see cref="Forward"/>.
        /// dy and dx stay in the network's gradient buffers (no copies in or out, as PyTorch's autograd on its tensors).</summary>
        public void Backward() => _net.Backward(Shape.N);

        public void Dispose() => _net.Dispose();
    }

    /// <summary>The seed net: TrainStep (SGD) at a batch size, Forward at batch 1.</summary>
    public sealed class SeedWorkload : IDisposable
    {
        private readonly FashionNet _net;
        private readonly Sgd _sgd = new(0.01f);
        private readonly float[] _images, _probs;
        private readonly int[] _labels;
        public int Batch { get; }

        public SeedWorkload(int batch, int threads)
        {
            Batch = batch;
            _net = new FashionNet(batch, seed: 1, threads: threads);
            var rng = new Random(7);
            _images = new float[batch * FashionNet.InputSize];
            for (int i = 0; i < _images.Length; i++) _images[i] = (float)rng.NextDouble();
            _labels = new int[batch];
            for (int i = 0; i < batch; i++) _labels[i] = rng.Next(10);
            _probs = new float[batch * FashionNet.OutputSize];
        }

        public float TrainStep() => _net.TrainStep(_images, _labels, _sgd, out _);

        public void Forward() => _net.Forward(_images, _probs, Batch);

        public void Dispose() => _net.Dispose();
    }

    /// <summary>FMA throughput: independent chains of fused multiply-adds on registers.</summary>
    public static class FmaPeak
    {
        public const int Accumulators = 12;
        public const long Iterations = 20_000_000;

        /// <summary>FLOPs of one <see cref="Run"/> call on one thread.</summary>
        public static double Flops(int width) => 2.0 * Accumulators * Iterations * (width / 32);

        public static float Run(int width) => Run(width, Iterations);

        /// <summary>One thread, <paramref name="iterations"/> steps of the 12 FMA chains.</summary>
        public static float Run(int width, long iterations) => width == 512 ? Run512(iterations) : Run256(iterations);

        /// <summary>Runs <see cref="Run"/> on <paramref name="threads"/> threads at once.</summary>
        public static float RunParallel(int width, int threads)
        {
            if (threads == 1) return Run(width);
            var results = new float[threads];
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, i => results[i] = Run(width));
            float s = 0;
            foreach (float r in results) s += r;
            return s;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static float Run256(long iterations)
        {
            // c = c * a + b converges to 1 (no overflow, no denormals); 12 independent chains hide the FMA latency.
            Vector256<float> a = Vector256.Create(0.9999f), b = Vector256.Create(0.0001f);
            Vector256<float> c0 = Vector256.Create(0.1f), c1 = Vector256.Create(0.2f), c2 = Vector256.Create(0.3f), c3 = Vector256.Create(0.4f);
            Vector256<float> c4 = Vector256.Create(0.5f), c5 = Vector256.Create(0.6f), c6 = Vector256.Create(0.7f), c7 = Vector256.Create(0.8f);
            Vector256<float> c8 = Vector256.Create(0.9f), c9 = Vector256.Create(1.1f), c10 = Vector256.Create(1.2f), c11 = Vector256.Create(1.3f);
            for (long i = 0; i < iterations; i++)
            {
                c0 = Vector256.FusedMultiplyAdd(c0, a, b); c1 = Vector256.FusedMultiplyAdd(c1, a, b);
                c2 = Vector256.FusedMultiplyAdd(c2, a, b); c3 = Vector256.FusedMultiplyAdd(c3, a, b);
                c4 = Vector256.FusedMultiplyAdd(c4, a, b); c5 = Vector256.FusedMultiplyAdd(c5, a, b);
                c6 = Vector256.FusedMultiplyAdd(c6, a, b); c7 = Vector256.FusedMultiplyAdd(c7, a, b);
                c8 = Vector256.FusedMultiplyAdd(c8, a, b); c9 = Vector256.FusedMultiplyAdd(c9, a, b);
                c10 = Vector256.FusedMultiplyAdd(c10, a, b); c11 = Vector256.FusedMultiplyAdd(c11, a, b);
            }
            return Vector256.Sum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)));
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static float Run512(long iterations)
        {
            Vector512<float> a = Vector512.Create(0.9999f), b = Vector512.Create(0.0001f);
            Vector512<float> c0 = Vector512.Create(0.1f), c1 = Vector512.Create(0.2f), c2 = Vector512.Create(0.3f), c3 = Vector512.Create(0.4f);
            Vector512<float> c4 = Vector512.Create(0.5f), c5 = Vector512.Create(0.6f), c6 = Vector512.Create(0.7f), c7 = Vector512.Create(0.8f);
            Vector512<float> c8 = Vector512.Create(0.9f), c9 = Vector512.Create(1.1f), c10 = Vector512.Create(1.2f), c11 = Vector512.Create(1.3f);
            for (long i = 0; i < iterations; i++)
            {
                c0 = Vector512.FusedMultiplyAdd(c0, a, b); c1 = Vector512.FusedMultiplyAdd(c1, a, b);
                c2 = Vector512.FusedMultiplyAdd(c2, a, b); c3 = Vector512.FusedMultiplyAdd(c3, a, b);
                c4 = Vector512.FusedMultiplyAdd(c4, a, b); c5 = Vector512.FusedMultiplyAdd(c5, a, b);
                c6 = Vector512.FusedMultiplyAdd(c6, a, b); c7 = Vector512.FusedMultiplyAdd(c7, a, b);
                c8 = Vector512.FusedMultiplyAdd(c8, a, b); c9 = Vector512.FusedMultiplyAdd(c9, a, b);
                c10 = Vector512.FusedMultiplyAdd(c10, a, b); c11 = Vector512.FusedMultiplyAdd(c11, a, b);
            }
            return Vector512.Sum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)));
        }
    }

    /// <summary>Sums over two native buffers, each read <c>repeats</c> times: <see cref="Read"/> on the calling thread, or
    /// <see cref="Two"/> with each worker of a pool of two reading its own buffer (no memory traffic but the reads).</summary>
    public sealed class BufferReads : IWorkerJob, IDisposable
    {
        private readonly WorkerPool _pool;
        private readonly NativeBuffer[] _buffers;
        private readonly int _repeats;
        private float _sink;

        public BufferReads(WorkerPool pool, long floats, int repeats)
        {
            _pool = pool;
            _buffers = new[] { new NativeBuffer(floats), new NativeBuffer(floats) };
            _repeats = repeats;
        }

        /// <summary>Buffers [first, first + count), each summed <c>repeats</c> times, on the calling thread.</summary>
        public unsafe void Read(int first, int count)
        {
            float s = 0;
            for (int r = 0; r < _repeats; r++)
                for (int i = first; i < first + count; i++)
                    s += TensorPrimitives.Sum(new ReadOnlySpan<float>(_buffers[i].Pointer, checked((int)_buffers[i].Length)));
            if (first == 0) _sink += s;
        }

        /// <summary>Both buffers, one per worker of the pool.</summary>
        public void Two() => _pool.Run(this);

        void IWorkerJob.Execute(int worker) => Read(worker, 1);

        public void Dispose() { foreach (NativeBuffer b in _buffers) b.Dispose(); }
    }

    /// <summary>Core-to-core hand-off latency: the two workers of a <see cref="WorkerPool"/> of two take turns incrementing one
    /// counter on its own cache line, each waiting (spinning) for the other's value, so every step moves the line from one
    /// core to the other. <see cref="Measure"/> gives ns per hand-off. On the 2-core cloud VMs this runs on, the host puts
    /// the two vCPUs sometimes on cores that share an L3 (30-45 ns here; a C ping-pong measured 45-55) and, for stretches of
    /// seconds to minutes, on cores that do not (200-250 ns; 230 in C); in the latter state a batch-1 team whose workers
    /// shared Winograd's transformed input measured twice as slow (1x64x56x56 forward, 2 threads: 0.56 -> 1.0-1.2 ms, 1
    /// thread 0.92), as is every line whose workers exchange data. It tags each 2-thread line's seconds.</summary>
    public sealed class CoreHop : IWorkerJob
    {
        private const int Hops = 20_000;
        private readonly WorkerPool _pool;
        private readonly long[] _line = new long[48]; // the counter at [24]: 192 bytes from either end, a line of its own

        public CoreHop(WorkerPool pool) => _pool = pool;

        /// <summary>One run of <see cref="Hops"/> hand-offs (a few ms).</summary>
        public void Run()
        {
            Volatile.Write(ref _line[24], 0);
            _pool.Run(this);
        }

        /// <summary>ns per hand-off: the best of 5 runs.</summary>
        public double Measure()
        {
            double best = double.MaxValue;
            for (int i = 0; i < 6; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                Run();
                double ns = Stopwatch.GetElapsedTime(t0).TotalMilliseconds * 1e6 / Hops;
                if (i > 0) best = Math.Min(best, ns); // the first wakes the worker and JITs
            }
            return best;
        }

        /// <summary>Milliseconds of one <see cref="Run"/> as ns per hand-off.</summary>
        public static double NsPerHop(double ms) => ms * 1e6 / Hops;

        void IWorkerJob.Execute(int worker)
        {
            ref long counter = ref _line[24];
            for (long next = worker; next < Hops; next += 2)
            {
                while (Volatile.Read(ref counter) != next) { } // the other core's turn
                Volatile.Write(ref counter, next + 1);
            }
        }
    }

    /// <summary>The machine's own 2-thread scaling, for the 2-thread lines to be read against, in two kinds of work: the
    /// same FMA loop as <see cref="FmaPeak"/> (no memory traffic), about 2 ms of it, and sums over two 4 MiB buffers
    /// (<see cref="BufferReads"/>; each core's share fits its part of the L3; about 1 ms), each either on one thread or
    /// halved over a <see cref="WorkerPool"/> of two as the networks split their work (the caller is worker 0, the worker
    /// spins between calls). One ms / Two ms is what two cores gave a perfectly parallel job of that kind in those
    /// seconds.</summary>
    public sealed class MachineScalingWorkload : IDisposable, IWorkerJob
    {
        private const long FmaIterations = 1_200_000;
        private readonly int _width = Vector512.IsHardwareAccelerated ? 512 : 256;
        private readonly WorkerPool _pool = new(2);
        private readonly BufferReads _reads;
        private float _sink;

        public MachineScalingWorkload()
        {
            _reads = new BufferReads(_pool, 1 << 20, repeats: 12);
            Hop = new CoreHop(_pool);
        }

        /// <summary>The pool's core-to-core hand-off probe.</summary>
        public CoreHop Hop { get; }

        public void FmaOne() => Fma(FmaIterations);
        public void FmaTwo() => _pool.Run(this);
        public void ReadOne() => _reads.Read(0, 2);
        public void ReadTwo() => _reads.Two();

        void IWorkerJob.Execute(int worker)
        {
            float r = FmaPeak.Run(_width, FmaIterations / 2);
            if (worker == 0) _sink += r; // the other worker's result is dropped: no shared write
        }

        private void Fma(long iterations) => _sink += FmaPeak.Run(_width, iterations);

        public void Dispose()
        {
            _pool.Dispose();
            _reads.Dispose();
        }
    }
}
