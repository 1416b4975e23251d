// Whether a team's cores share a cache, measured at the start of every team job. On the 2-vCPU cloud VMs this runs on,
// the host puts the two vCPUs on cores that share an L3 (a cache line moves from one to the other in 30-55 ns) or, for
// stretches of seconds to minutes, on cores that do not (200-250 ns). Data one worker writes and the other reads costs
// far more in the second state: a batch-1 Winograd team whose workers shared one transformed input took twice the time
// there (1x64x56x56 forward, 2 threads: 1.0-1.2 ms against 0.56-0.58 with each worker transforming the whole input),
// while with a shared L3 sharing it was 4-5% faster. The generated networks pick per job (KernelEmitter.Winograd).
using System;
using System.Diagnostics;
using System.Threading;

namespace CnnGen
{
    /// <summary>Workers 0 and 1 of a job hand a counter back and forth a few times; worker 0 times the round trips on its
    /// own clock (so clock offsets between cores do not matter) and publishes the answer, which every worker of the job
    /// receives. Costs a few round trips per job: under 2 microseconds even on distant cores.</summary>
    public sealed class TeamProbe
    {
        /// <summary>Round trips at or above this many ns mean cores without a shared cache: two hand-offs and two clock reads
        /// measured 160-260 ns on cores that share an L3 (hand-offs of 30-55 ns) and about 500 on cores that do not.</summary>
        public const double FarRoundTripNs = 350;
        private const int Rounds = 4;
        private const long NearAnswer = 1000, FarAnswer = 1001;
        private const int At = 8; // the counter's slot: a cache line away from the array's header
        private const int TightSpins = 1 << 16;
        private static readonly double NsPerTick = 1e9 / Stopwatch.Frequency;
        private readonly long[] _line = new long[2 * At];

        /// <summary>Tests: forces every probe's answer (true: share, false: do not), or null to measure. The choices it
        /// steers compute the same values either way.</summary>
        public static bool? Force { get; set; }

        /// <summary>The least round trip of the last probe, in ns (for benchmarks and diagnostics).</summary>
        public double LastRoundTripNs { get; private set; } = double.NaN;

        /// <summary>Before the pool runs a job whose workers will call <see cref="CoresShareCache"/> (on the dispatching thread).</summary>
        public void Arm() => Volatile.Write(ref _line[At], 0);

        /// <summary>The answer of the last probe (true before the first): every worker of a job reads the same value after
        /// its <see cref="CoresShareCache"/> call returns, until the next job's.</summary>
        public bool Near { get; private set; } = true;

        /// <summary>Every worker of the job calls this first, before anything that can throw; all get the same answer (also
        /// in <see cref="Near"/>).</summary>
        public bool CoresShareCache(int worker, int workers)
        {
            if (workers < 2) return true;
            ref long counter = ref _line[At];
            if (worker == 0)
            {
                long least = long.MaxValue;
                for (long k = 0; k < Rounds; k++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    Volatile.Write(ref counter, 2 * k + 1);
                    Await(ref counter, 2 * k + 2);
                    least = Math.Min(least, Stopwatch.GetTimestamp() - t0); // round 0 also waits for worker 1 to start
                }
                LastRoundTripNs = least * NsPerTick;
                bool near = Force ?? LastRoundTripNs < FarRoundTripNs;
                Near = near; // before the release below, which every other worker reads
                Volatile.Write(ref counter, near ? NearAnswer : FarAnswer);
                return near;
            }
            if (worker == 1)
                for (long k = 0; k < Rounds; k++)
                {
                    Await(ref counter, 2 * k + 1);
                    Volatile.Write(ref counter, 2 * k + 2);
                }
            long answer;
            var spin = new SpinWait();
            while ((answer = Volatile.Read(ref counter)) < NearAnswer) spin.SpinOnce(sleep1Threshold: -1);
            return answer == NearAnswer;
        }

        /// <summary>Spins until the counter reads <paramref name="value"/>: tightly at first (a hand-off is tens to hundreds
        /// of ns), then yielding (the other worker may still be waking up).</summary>
        private static void Await(ref long counter, long value)
        {
            for (int i = 0; i < TightSpins; i++)
                if (Volatile.Read(ref counter) == value) return;
            var spin = new SpinWait();
            while (Volatile.Read(ref counter) != value) spin.SpinOnce(sleep1Threshold: -1);
        }
    }
}
