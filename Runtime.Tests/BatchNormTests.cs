// BatchNorm's training forward and backward against the formulas evaluated here in double precision, on one worker and
// split across workers (the barrier and the per-worker partial sums), with planes whose lengths leave vector tails and a
// channel whose mean is 600 standard deviations from zero (sums of x and x^2 in float would lose its variance).
using System;
using Xunit;

namespace CnnGen.Runtime.Tests
{
    public sealed class BatchNormTests
    {
        private const int Count = 6, Channels = 3;
        private const float Eps = 1e-5f, Momentum = 0.1f;

        private static float[] Input(int spatial)
        {
            var rng = new Random(7);
            var x = new float[Count * Channels * spatial];
            double[] offset = { 0.3, 300, -2 }, spread = { 1, 0.5, 0.01 };
            for (int n = 0; n < Count; n++)
                for (int c = 0; c < Channels; c++)
                    for (int i = 0; i < spatial; i++)
                        x[(n * Channels + c) * spatial + i] = (float)(offset[c] + spread[c] * (rng.NextDouble() * 2 - 1));
            return x;
        }

        /// <summary>Runs <paramref name="body"/> for workers 0 .. workers-1 at once, each with its slice of the images.</summary>
        private static void OnWorkers(int workers, Action<int, int, int> body)
        {
            int per = (Count + workers - 1) / workers;
            var threads = new System.Threading.Thread[workers]; // threads of their own: the barrier needs every worker running at once
            Exception? failure = null;
            for (int w = 0; w < workers; w++)
            {
                int worker = w;
                threads[w] = new System.Threading.Thread(() =>
                {
                    try { body(worker, worker * per, Math.Min(per, Count - worker * per)); }
                    catch (Exception e) { failure = e; }
                });
                threads[w].Start();
            }
            foreach (var t in threads) t.Join();
            if (failure is not null) throw new AggregateException(failure);
        }

        [Theory]
        [InlineData(1, 1)]
        [InlineData(49, 1)]
        [InlineData(50, 2)]
        [InlineData(67, 3)]
        public void TrainingForwardAndBackwardMatchTheDoubleReference(int spatial, int workers)
        {
            float[] x = Input(spatial), y = new float[x.Length], dx = new float[x.Length], dy = new float[x.Length];
            var rng = new Random(11);
            for (int i = 0; i < dy.Length; i++) dy[i] = (float)(rng.NextDouble() * 2 - 1);
            float[] gamma = { 1.5f, 0.7f, -1.2f }, beta = { 0.1f, -0.4f, 2f };
            float[] runningMean = new float[Channels], runningVar = { 1, 1, 1 };
            var saved = new float[workers, 2 * Channels];
            var dgamma = new float[workers, Channels];
            var dbeta = new float[workers, Channels];
            var partials = new double[workers * 4 * Channels];
            var barrier = new SpinBarrier();
            int size = Channels * spatial;
            OnWorkers(workers, (w, n0, count) =>
            {
                var mine = new float[2 * Channels];
                BatchNorm.ForwardTraining(x.AsSpan(n0 * size, count * size), y.AsSpan(n0 * size, count * size), count, Channels, spatial,
                    gamma, beta, runningMean, runningVar, Momentum, Eps, mine, partials, 0, 4 * Channels, w, workers, Count, barrier);
                var dg = new float[Channels];
                var db = new float[Channels];
                BatchNorm.BackwardTraining(x.AsSpan(n0 * size, count * size), dy.AsSpan(n0 * size, count * size), dx.AsSpan(n0 * size, count * size),
                    count, Channels, spatial, gamma, mine, dg, db, partials, 2 * Channels, 4 * Channels, w, workers, Count, barrier);
                for (int c = 0; c < 2 * Channels; c++) saved[w, c] = mine[c];
                for (int c = 0; c < Channels; c++) { dgamma[w, c] = dg[c]; dbeta[w, c] = db[c]; }
            });

            double m = (double)Count * spatial;
            for (int c = 0; c < Channels; c++)
            {
                double mean = 0, variance = 0;
                for (int n = 0; n < Count; n++) for (int i = 0; i < spatial; i++) mean += x[(n * Channels + c) * spatial + i];
                mean /= m;
                for (int n = 0; n < Count; n++) for (int i = 0; i < spatial; i++) { double d = x[(n * Channels + c) * spatial + i] - mean; variance += d * d; }
                variance /= m;
                double invStd = 1 / Math.Sqrt(variance + Eps);
                for (int w = 0; w < workers; w++)
                {
                    Assert.Equal(mean, saved[w, c], Math.Abs(mean) * 1e-6 + 1e-7);
                    Assert.Equal(invStd, saved[w, Channels + c], invStd * 2e-5); // the variance, not x^2, sets the precision
                }
                Assert.Equal((1 - Momentum) + Momentum * variance * m / (m - 1), runningVar[c], 1e-5 * (1 + variance));
                double sumDy = 0, sumDyXhat = 0;
                for (int n = 0; n < Count; n++)
                    for (int i = 0; i < spatial; i++)
                    {
                        int at = (n * Channels + c) * spatial + i;
                        double xhat = (x[at] - mean) * invStd;
                        // y itself is rounded once at the size of x * scale (600 for channel 1), hence the absolute tolerance
                        Assert.Equal(xhat * gamma[c] + beta[c], y[at], 2e-4);
                        sumDy += dy[at];
                        sumDyXhat += dy[at] * xhat;
                    }
                double dgammaTotal = 0, dbetaTotal = 0;
                for (int w = 0; w < workers; w++) { dgammaTotal += dgamma[w, c]; dbetaTotal += dbeta[w, c]; }
                Assert.Equal(sumDyXhat, dgammaTotal, 1e-3 * (1 + Math.Abs(sumDyXhat)));
                Assert.Equal(sumDy, dbetaTotal, 1e-4 * (1 + Math.Abs(sumDy)));
                for (int n = 0; n < Count; n++)
                    for (int i = 0; i < spatial; i++)
                    {
                        int at = (n * Channels + c) * spatial + i;
                        double xhat = (x[at] - mean) * invStd;
                        double expected = gamma[c] * invStd * (dy[at] - sumDy / m - xhat * sumDyXhat / m);
                        Assert.Equal(expected, dx[at], 5e-4 * Math.Abs(gamma[c] * invStd) + 1e-5);
                    }
            }
        }
    }
}
