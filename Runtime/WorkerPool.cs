// A persistent pool of worker threads for data-parallel training: a step splits its mini-batch into one slice per
// worker, each runs the whole forward/backward on its slice (no fork/join per layer). Idle workers spin briefly
// before blocking, because waking a blocked thread took ~1.5 ms on an earlier VM (DESIGN.md; ~0.1 ms measured in stop 24,
// bench/RESULTS.md). Dispatch allocates nothing.
using System;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace CnnGen
{
    /// <summary>Work run once per worker by <see cref="WorkerPool.Run"/>.</summary>
    public interface IWorkerJob
    {
        void Execute(int worker);
    }

    public sealed class WorkerPool : IDisposable
    {
        private const int SpinCount = 2047; // ManualResetEventSlim's maximum
        private readonly Thread[] _threads;
        private readonly ManualResetEventSlim[] _go;
        private IWorkerJob? _job;
        private int _pending;
        private Exception? _failure;
        private volatile bool _disposed;

        /// <summary>Creates a pool of <paramref name="threads"/> workers (the calling thread is worker 0); 0 = one per core.</summary>
        public WorkerPool(int threads)
        {
            if (threads < 0) throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be 0 (one per core) or positive.");
            Threads = threads == 0 ? Environment.ProcessorCount : threads;
            _threads = new Thread[Threads - 1];
            _go = new ManualResetEventSlim[Threads - 1];
            for (int i = 0; i < _threads.Length; i++)
            {
                _go[i] = new ManualResetEventSlim(false, SpinCount);
                int worker = i + 1;
                _threads[i] = new Thread(() => Loop(worker)) { IsBackground = true, Name = $"CnnGen worker {worker}" };
                _threads[i].Start();
            }
        }

        public int Threads { get; }

        /// <summary>Runs <paramref name="job"/> on every worker and returns when all are done; rethrows a worker's exception.</summary>
        public void Run(IWorkerJob job) => Run(job, Threads);

        /// <summary>Runs <paramref name="job"/> on workers 0 .. <paramref name="workers"/> - 1 only (small batches
        /// need not wake every thread); worker 0 is the calling thread.</summary>
        public void Run(IWorkerJob job, int workers)
        {
            if (_disposed) throw new ObjectDisposedException(nameof(WorkerPool));
            if (workers < 1 || workers > Threads) throw new ArgumentOutOfRangeException(nameof(workers), workers, $"workers must be in [1, {Threads}].");
            if (workers == 1) { job.Execute(0); return; }
            _job = job;
            _failure = null;
            Volatile.Write(ref _pending, workers - 1);
            for (int i = 0; i < workers - 1; i++) _go[i].Set();
            Exception? own = null;
            try { job.Execute(0); }
            catch (Exception e) { own = e; }
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) != 0) spin.SpinOnce(sleep1Threshold: -1);
            _job = null;
            if (own is not null) ExceptionDispatchInfo.Capture(own).Throw();
            if (_failure is not null) ExceptionDispatchInfo.Capture(_failure).Throw();
        }

        private void Loop(int worker)
        {
            ManualResetEventSlim go = _go[worker - 1];
            while (true)
            {
                go.Wait();
                go.Reset();
                if (_disposed) return;
                try { _job!.Execute(worker); }
                catch (Exception e) { Interlocked.CompareExchange(ref _failure, e, null); }
                Interlocked.Decrement(ref _pending);
            }
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            foreach (ManualResetEventSlim go in _go) go.Set();
            foreach (Thread t in _threads) t.Join();
            foreach (ManualResetEventSlim go in _go) go.Dispose();
        }
    }
    /// <summary>How far one worker has come down the layers of a backward, for another worker to wait on: the split
    /// backward of a single image, where one worker runs the input-gradient chain and another the weight gradients
    /// (generated Dispatch). The position only moves down (layer indices fall in backward order); it starts above every
    /// layer and <see cref="Finish"/> puts it below every layer, so a waiter never waits on a worker that has stopped,
    /// even one that threw.</summary>
    public sealed class LayerCursor
    {
        private int _at = int.MaxValue;

        /// <summary>Before a backward: no layer reached yet.</summary>
        public void Reset() => Volatile.Write(ref _at, int.MaxValue);

        /// <summary>Publishes that every write before this call belongs to layers at or above <paramref name="layer"/>'s
        /// step (a release: a waiter that sees the position sees those writes).</summary>
        public void MoveTo(int layer) => Volatile.Write(ref _at, layer);

        /// <summary>The worker is done (or failed): releases every waiter.</summary>
        public void Finish() => Volatile.Write(ref _at, int.MinValue);

        /// <summary>The current position (int.MaxValue before the first move, int.MinValue after Finish).</summary>
        public int Position => Volatile.Read(ref _at);

        /// <summary>Spins until the position is at or below <paramref name="layer"/>. Spins rather than blocks: waking a
        /// blocked thread costs ~1.5 ms on these VMs, more than most layers.</summary>
        public void WaitUntilAt(int layer)
        {
            if (Volatile.Read(ref _at) <= layer) return;
            var spin = new SpinWait();
            while (Volatile.Read(ref _at) > layer) spin.SpinOnce(sleep1Threshold: -1);
        }
    }
}
