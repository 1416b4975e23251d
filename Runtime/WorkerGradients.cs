// The parameter gradients of a training step's workers: each worker sums its slice of the batch into its own buffer;
// the step then adds them into worker 0's and checks the total for NaN and infinity before the optimizer may use it.
using System;
using System.Numerics.Tensors;

namespace CnnGen
{
    public static class WorkerGradients
    {
        /// <summary>Floats per chunk: the chunk's sum is checked while it is still in L1/L2 (64 KiB).</summary>
        private const int Chunk = 16384;

        /// <summary>Adds the first <paramref name="length"/> floats of <paramref name="gradients"/>[1 .. count) into
        /// <paramref name="gradients"/>[0], in worker order for every element (so the total is the same on every run with
        /// this worker count), and returns whether every float of the total is finite. One pass in chunks: each chunk is
        /// summed and then checked while in cache, instead of a second pass over the whole arena (ResNet-18: 47 MB).</summary>
        public static bool SumAndCheckFinite(NativeBuffer[] gradients, int count, long length)
        {
            ArgumentNullException.ThrowIfNull(gradients);
            if (count < 1 || count > gradients.Length)
                throw new ArgumentOutOfRangeException(nameof(count), count, $"count must be in [1, {gradients.Length}] (the workers' gradient buffers).");
            bool finite = true;
            for (long at = 0; at < length; at += Chunk)
            {
                long n = Math.Min(Chunk, length - at);
                Span<float> total = gradients[0].AsSpan(at, n);
                for (int worker = 1; worker < count; worker++)
                    TensorPrimitives.Add(total, gradients[worker].AsSpan(at, n), total);
                finite &= TensorPrimitives.IsFiniteAll<float>(total);
            }
            return finite;
        }
    }
}
