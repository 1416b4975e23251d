// TeamProbe: every worker of a job gets the same answer, job after job, with 2 or 3 workers, measured or forced. The
// measured answer depends on the machine, so only its agreement and the round trip's sanity are asserted.
using System;
using System.Threading;
using Xunit;

namespace CnnGen.Runtime.Tests
{
    [Collection(nameof(TeamProbeTests))] // TeamProbe.Force is global: no other test of this collection runs meanwhile
    public sealed class TeamProbeTests
    {
        private sealed class Job : IWorkerJob
        {
            private readonly TeamProbe _probe;
            public readonly bool[] Answers;
            public Job(TeamProbe probe, int workers) { _probe = probe; Answers = new bool[workers]; }
            public void Execute(int worker) => Answers[worker] = _probe.CoresShareCache(worker, Answers.Length);
        }

        [Theory]
        [InlineData(2)]
        [InlineData(3)]
        public void EveryWorkerGetsTheSameAnswerJobAfterJob(int workers)
        {
            var probe = new TeamProbe();
            using var pool = new WorkerPool(workers);
            var job = new Job(probe, workers);
            for (int round = 0; round < 50; round++)
            {
                probe.Arm();
                pool.Run(job);
                Assert.All(job.Answers, a => Assert.Equal(job.Answers[0], a));
                Assert.Equal(job.Answers[0], probe.Near);
                Assert.True(probe.LastRoundTripNs > 0 && probe.LastRoundTripNs < 1e9, $"round trip {probe.LastRoundTripNs} ns");
            }
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void AForcedAnswerReachesEveryWorker(bool force)
        {
            var probe = new TeamProbe();
            using var pool = new WorkerPool(3);
            var job = new Job(probe, 3);
            TeamProbe.Force = force;
            try
            {
                for (int round = 0; round < 5; round++)
                {
                    probe.Arm();
                    pool.Run(job);
                    Assert.All(job.Answers, a => Assert.Equal(force, a));
                    Assert.Equal(force, probe.Near);
                }
            }
            finally { TeamProbe.Force = null; }
        }

        [Fact]
        public void OneWorkerNeedsNoPartner()
        {
            var probe = new TeamProbe();
            Assert.True(probe.CoresShareCache(0, 1)); // returns at once: nobody to hand off to
            Assert.True(probe.Near);
        }
    }
}
