using System;
using System.Diagnostics;

namespace CnnGen.Bench
{
    /// <summary>`bandwidth`: how fast one thread and two threads (CnnGen's worker pool) read memory at working-set sizes from
    /// L2 to DRAM, each thread its own buffer, best of 5 alternating samples of about 0.2 s each. It tells which 2-thread
    /// lines the machine can scale at all: a kernel whose working set spills the last-level cache can go no faster on
    /// two threads than the memory system lets two threads read.</summary>
    public static class Bandwidth
    {
        public static int Run()
        {
            Console.WriteLine($"# read bandwidth, GB/s (each thread sums its own buffer; {Environment.ProcessorCount} cores)");
            Console.WriteLine("| per-thread buffer | 1 thread | 2 threads | 2 / 1 |");
            Console.WriteLine("|---:|---:|---:|---:|");
            using var pool = new WorkerPool(2);
            foreach (long kib in new long[] { 256, 768, 2048, 4096, 8192, 16384, 65536 })
            {
                long floats = kib * 256;
                int repeats = (int)Math.Max(1, (800L << 20) / (floats * 4)); // ~800 MB per thread and sample
                using var reads = new BufferReads(pool, floats, repeats);
                double bytes = (double)floats * 4 * repeats;
                double best1 = 0, best2 = 0;
                for (int i = 0; i < 6; i++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    reads.Read(0, 1);
                    double s1 = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                    t0 = Stopwatch.GetTimestamp();
                    reads.Two();
                    double s2 = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                    if (i == 0) continue; // warm-up (first touch, JIT)
                    best1 = Math.Max(best1, bytes / s1 / 1e9);
                    best2 = Math.Max(best2, 2 * bytes / s2 / 1e9);
                }
                string size = kib >= 1024 ? $"{kib / 1024} MiB" : $"{kib} KiB";
                Console.WriteLine(FormattableString.Invariant($"| {size} | {best1:0.0} | {best2:0.0} | {best2 / best1:0.00} |"));
            }
            return 0;
        }
    }
}
