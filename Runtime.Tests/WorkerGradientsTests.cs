using System;
using CnnGen;
using Xunit;

namespace CnnGen.Runtime.Tests
{
    /// <summary>The training step's sum of the workers' gradients and its NaN/infinity check, done in one chunked pass.</summary>
    public sealed class WorkerGradientsTests
    {
        private const int Length = 40_000; // two whole chunks of 16384 floats and a partial third

        private static NativeBuffer[] Buffers(int count, int seed)
        {
            var rng = new Random(seed);
            var buffers = new NativeBuffer[count];
            for (int b = 0; b < count; b++)
            {
                buffers[b] = new NativeBuffer(Length);
                Span<float> s = buffers[b].AsSpan(0, Length);
                for (int i = 0; i < Length; i++) s[i] = (float)(rng.NextDouble() * 2 - 1);
            }
            return buffers;
        }

        private static void Free(NativeBuffer[] buffers) { foreach (NativeBuffer b in buffers) b.Dispose(); }

        [Fact]
        public void SumsInWorkerOrderAndReportsFinite()
        {
            NativeBuffer[] g = Buffers(3, 1);
            try
            {
                float[] expected = new float[Length];
                for (int i = 0; i < Length; i++) expected[i] = (g[0].AsSpan(0, Length)[i] + g[1].AsSpan(0, Length)[i]) + g[2].AsSpan(0, Length)[i];
                Assert.True(WorkerGradients.SumAndCheckFinite(g, 3, Length));
                Assert.Equal(expected, g[0].AsSpan(0, Length).ToArray()); // bit for bit: the order of the scalar definition
            }
            finally { Free(g); }
        }

        [Theory]
        [InlineData(2, Length - 1, float.NaN)]             // the last, partial chunk of the last worker
        [InlineData(0, 5, float.PositiveInfinity)]         // worker 0's own gradient
        [InlineData(1, 16_384, float.NegativeInfinity)]    // the first float of the second chunk
        public void ANonFiniteValueInAnyWorkersGradientMakesItFalse(int worker, int index, float value)
        {
            NativeBuffer[] g = Buffers(3, 2);
            try
            {
                g[worker].AsSpan(0, Length)[index] = value;
                Assert.False(WorkerGradients.SumAndCheckFinite(g, 3, Length));
            }
            finally { Free(g); }
        }

        [Fact]
        public void OneWorkerIsOnlyChecked()
        {
            NativeBuffer[] g = Buffers(2, 3);
            try
            {
                float[] before = g[0].AsSpan(0, Length).ToArray();
                g[1].AsSpan(0, Length)[7] = float.NaN; // not a worker of this call
                Assert.True(WorkerGradients.SumAndCheckFinite(g, 1, Length));
                Assert.Equal(before, g[0].AsSpan(0, Length).ToArray());
                g[0].AsSpan(0, Length)[Length - 1] = float.NaN;
                Assert.False(WorkerGradients.SumAndCheckFinite(g, 1, Length));
            }
            finally { Free(g); }
        }

        [Fact]
        public void AWorkerCountOutsideTheBuffersIsRefused()
        {
            NativeBuffer[] g = Buffers(2, 4);
            try
            {
                var e = Assert.Throws<ArgumentOutOfRangeException>(() => WorkerGradients.SumAndCheckFinite(g, 3, Length));
                Assert.Contains("[1, 2]", e.Message);
                Assert.Throws<ArgumentOutOfRangeException>(() => WorkerGradients.SumAndCheckFinite(g, 0, Length));
            }
            finally { Free(g); }
        }

        [Theory]
        [InlineData(2)]
        [InlineData(3)]
        public void SharesSumLikeTheWholeAndClearOnlyTheirRangeOfTheAddedBuffers(int workers)
        {
            NativeBuffer[] whole = Buffers(3, 5), split = Buffers(3, 5);
            try
            {
                Assert.True(WorkerGradients.SumAndCheckFinite(whole, 3, Length));
                (long start, long length) = GraphOps.Share((long)Length, 0, workers);
                Assert.True(WorkerGradients.SumAndCheckFinite(split, 3, start, start + length, clearAdded: true));
                Span<float> added = split[2].AsSpan(0, Length);
                Assert.True(added.Slice((int)start, (int)length).IndexOfAnyExcept(0f) < 0); // cleared
                Assert.NotEqual(0f, added[(int)(start + length)]);                          // the next share's: not yet
                for (int worker = 1; worker < workers; worker++)
                {
                    (start, length) = GraphOps.Share((long)Length, worker, workers);
                    Assert.True(WorkerGradients.SumAndCheckFinite(split, 3, start, start + length, clearAdded: true));
                }
                Assert.Equal(whole[0].AsSpan(0, Length).ToArray(), split[0].AsSpan(0, Length).ToArray());
                Assert.True(split[1].AsSpan(0, Length).IndexOfAnyExcept(0f) < 0);
                Assert.True(split[2].AsSpan(0, Length).IndexOfAnyExcept(0f) < 0);
            }
            finally { Free(whole); Free(split); }
        }

        [Fact]
        public void ARangeOutsideTheBuffersIsRefused()
        {
            NativeBuffer[] g = Buffers(2, 6);
            try
            {
                var e = Assert.Throws<ArgumentOutOfRangeException>(() => WorkerGradients.SumAndCheckFinite(g, 2, 10, Length + 1, clearAdded: false));
                Assert.Contains("does not fit", e.Message);
            }
            finally { Free(g); }
        }
    }
}
