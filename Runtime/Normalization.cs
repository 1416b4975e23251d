// Batch normalization (Ioffe & Szegedy, 2015) and local response normalization (Krizhevsky et al., 2012) for the
// generated networks. Layout: per image C x S values (S = H * W, 1 after Dense), images contiguous.
// Training-mode batch statistics span the whole batch, which the worker pool splits into slices: each worker sums
// its slice into its own row of `partials`, waits at the barrier, then adds all rows in worker order (so every
// worker, and every run with the same thread count, gets bit-identical statistics). One barrier per call: callers give
// every call of a job (each layer, forward and backward) its own partials slot, so nobody overwrites rows that a slower
// worker still reads; a slot is reused only by the next job, which starts after every worker has finished this one.
using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Threading;

namespace CnnGen
{
    public static class BatchNorm
    {
        /// <summary>Training forward of one worker's slice: batch mean and biased variance over (batch, pixels),
        /// y = (x - mean) / sqrt(var + eps) * gamma + beta; saves mean and 1/std in <paramref name="saved"/> (2C) for backward;
        /// worker 0 updates the running statistics (unbiased variance, PyTorch's momentum convention).</summary>
        public static void ForwardTraining(ReadOnlySpan<float> x, Span<float> y, int count, int channels, int spatial,
            ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> runningMean, Span<float> runningVar, float momentum, float eps,
            Span<float> saved, double[] partials, int partialsOffset, int partialsStride, int worker, int workers, int totalCount, SpinBarrier barrier)
        {
            Span<double> mine = partials.AsSpan(worker * partialsStride + partialsOffset, 2 * channels);
            for (int c = 0; c < channels; c++)
            {
                double sum = 0, squares = 0;
                for (int n = 0; n < count; n++) Planes.SumAndSquares(x.Slice((n * channels + c) * spatial, spatial), ref sum, ref squares);
                mine[2 * c] = sum;
                mine[2 * c + 1] = squares;
            }
            barrier.SignalAndWait(workers);
            double m = (double)totalCount * spatial;
            for (int c = 0; c < channels; c++)
            {
                double sum = 0, squares = 0;
                for (int w = 0; w < workers; w++)
                {
                    sum += partials[w * partialsStride + partialsOffset + 2 * c];
                    squares += partials[w * partialsStride + partialsOffset + 2 * c + 1];
                }
                double mean = sum / m;
                double variance = Math.Max(squares / m - mean * mean, 0);
                float invStd = (float)(1.0 / Math.Sqrt(variance + eps));
                saved[c] = (float)mean;
                saved[channels + c] = invStd;
                if (worker == 0)
                {
                    runningMean[c] = (1 - momentum) * runningMean[c] + momentum * (float)mean;
                    double unbiased = m > 1 ? variance * m / (m - 1) : variance;
                    runningVar[c] = (1 - momentum) * runningVar[c] + momentum * (float)unbiased;
                }
                float scale = gamma[c] * invStd, shift = beta[c] - (float)mean * scale;
                for (int n = 0; n < count; n++)
                {
                    int at = (n * channels + c) * spatial;
                    Planes.ScaleShift(x.Slice(at, spatial), scale, shift, y.Slice(at, spatial));
                }
            }
            // No closing barrier: a worker that moves on may not overwrite the partials the others are still reading, and
            // it does not, because every BatchNorm layer has its own slot per direction (the generated {layer}Partials
            // offsets) and the next write of this one is the next job's, after WorkerPool.Run has waited for every worker.
        }

        /// <summary>Inference forward with the running statistics: y = (x - mean) / sqrt(var + eps) * gamma + beta.</summary>
        public static void ForwardInference(ReadOnlySpan<float> x, Span<float> y, int count, int channels, int spatial,
            ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVar, float eps)
        {
            for (int c = 0; c < channels; c++)
            {
                float scale = gamma[c] / MathF.Sqrt(runningVar[c] + eps), shift = beta[c] - runningMean[c] * scale;
                for (int n = 0; n < count; n++)
                {
                    int at = (n * channels + c) * spatial;
                    Planes.ScaleShift(x.Slice(at, spatial), scale, shift, y.Slice(at, spatial));
                }
            }
        }

        /// <summary>Backward of a training-mode forward: dgamma += sum dy * xhat, dbeta += sum dy (this worker's
        /// gradients), dx = gamma / std * (dy - mean(dy) - xhat * mean(dy * xhat)) with means over the whole batch.</summary>
        public static void BackwardTraining(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int count, int channels, int spatial,
            ReadOnlySpan<float> gamma, ReadOnlySpan<float> saved, Span<float> dgamma, Span<float> dbeta,
            double[] partials, int partialsOffset, int partialsStride, int worker, int workers, int totalCount, SpinBarrier barrier)
        {
            Span<double> mine = partials.AsSpan(worker * partialsStride + partialsOffset, 2 * channels);
            for (int c = 0; c < channels; c++)
            {
                float mean = saved[c], invStd = saved[channels + c];
                double sumDy = 0, sumDyXhat = 0;
                for (int n = 0; n < count; n++)
                {
                    int at = (n * channels + c) * spatial;
                    Planes.GradientSums(x.Slice(at, spatial), dy.Slice(at, spatial), mean, invStd, ref sumDy, ref sumDyXhat);
                }
                mine[2 * c] = sumDy;
                mine[2 * c + 1] = sumDyXhat;
                dgamma[c] += (float)sumDyXhat;
                dbeta[c] += (float)sumDy;
            }
            barrier.SignalAndWait(workers);
            double m = (double)totalCount * spatial;
            for (int c = 0; c < channels; c++)
            {
                double sumDy = 0, sumDyXhat = 0;
                for (int w = 0; w < workers; w++)
                {
                    sumDy += partials[w * partialsStride + partialsOffset + 2 * c];
                    sumDyXhat += partials[w * partialsStride + partialsOffset + 2 * c + 1];
                }
                float mean = saved[c], invStd = saved[channels + c];
                float meanDy = (float)(sumDy / m), meanDyXhat = (float)(sumDyXhat / m), k = gamma[c] * invStd;
                for (int n = 0; n < count; n++)
                {
                    int at = (n * channels + c) * spatial;
                    Planes.InputGradient(x.Slice(at, spatial), dy.Slice(at, spatial), mean, invStd, k, meanDy, meanDyXhat, dx.Slice(at, spatial));
                }
            }
            // No closing barrier, as in ForwardTraining: this layer's backward slot is written again only in the next job.
        }

        /// <summary>Backward of an inference-mode forward (running statistics are constants).</summary>
        public static void BackwardInference(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int count, int channels, int spatial,
            ReadOnlySpan<float> gamma, ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVar, float eps, Span<float> dgamma, Span<float> dbeta)
        {
            for (int c = 0; c < channels; c++)
            {
                float invStd = 1f / MathF.Sqrt(runningVar[c] + eps), k = gamma[c] * invStd, mean = runningMean[c];
                double sumDy = 0, sumDyXhat = 0;
                for (int n = 0; n < count; n++)
                {
                    int at = (n * channels + c) * spatial;
                    for (int i = 0; i < spatial; i++)
                    {
                        float g = dy[at + i];
                        sumDy += g;
                        sumDyXhat += g * ((x[at + i] - mean) * invStd);
                        dx[at + i] = g * k;
                    }
                }
                dgamma[c] += (float)sumDyXhat;
                dbeta[c] += (float)sumDy;
            }
        }

        /// <summary>Folds an inference-mode BatchNorm into the convolution before it: w' = w * gamma / std per output
        /// channel, b' = (b - mean) * gamma / std + beta (b = 0 for a conv without bias).</summary>
        public static void Fold(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
            ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVar, float eps, Span<float> foldedWeight, Span<float> foldedBias)
        {
            int channels = gamma.Length, per = weight.Length / channels;
            for (int c = 0; c < channels; c++)
            {
                float scale = gamma[c] / MathF.Sqrt(runningVar[c] + eps);
                for (int i = 0; i < per; i++) foldedWeight[c * per + i] = weight[c * per + i] * scale;
                foldedBias[c] = ((bias.IsEmpty ? 0f : bias[c]) - runningMean[c]) * scale + beta[c];
            }
        }
    }

    /// <summary>The per-plane loops of BatchNorm, in Vector512 where the machine has AVX-512 and in
    /// <see cref="System.Numerics.Vector{T}"/> (256 or 128 bits) elsewhere; a scalar tail finishes each plane.
    /// Sums run in float within a plane (several vector accumulators, each lane summing at most a few hundred values)
    /// and in double from plane to plane: widening every element to double made these passes compute-bound (about 6% of
    /// a ResNet-18 training step). The sums of x and x^2 are taken about the plane's first value, so that a mean far
    /// from zero (relative to the spread) costs no precision in the variance: sum (x - K)^2 is about n var, not n x^2.</summary>
    internal static class Planes
    {
        private static int Width => System.Numerics.Vector<float>.Count;

        /// <summary>sum += x[i]; squares += x[i]^2.</summary>
        public static void SumAndSquares(ReadOnlySpan<float> x, ref double sum, ref double squares)
        {
            if (x.IsEmpty) return;
            float k = x[0];
            float s = 0, q = 0; // sums of d = x - k and d^2, per plane
            int i = 0;
            ref float px = ref MemoryMarshal.GetReference(x);
            if (Vector512.IsHardwareAccelerated && x.Length >= 16)
            {
                var vk = Vector512.Create(k);
                Vector512<float> s0 = default, s1 = default, q0 = default, q1 = default;
                for (; i + 32 <= x.Length; i += 32)
                {
                    var d0 = Vector512.LoadUnsafe(ref px, (nuint)i) - vk;
                    var d1 = Vector512.LoadUnsafe(ref px, (nuint)(i + 16)) - vk;
                    s0 += d0; q0 += d0 * d0;
                    s1 += d1; q1 += d1 * d1;
                }
                if (i + 16 <= x.Length)
                {
                    var d0 = Vector512.LoadUnsafe(ref px, (nuint)i) - vk;
                    s0 += d0; q0 += d0 * d0;
                    i += 16;
                }
                s = Vector512.Sum(s0 + s1);
                q = Vector512.Sum(q0 + q1);
            }
            else if (System.Numerics.Vector.IsHardwareAccelerated && x.Length >= Width)
            {
                var vk = new System.Numerics.Vector<float>(k);
                var s0 = System.Numerics.Vector<float>.Zero; var s1 = s0; var q0 = s0; var q1 = s0;
                for (; i + 2 * Width <= x.Length; i += 2 * Width)
                {
                    var d0 = new System.Numerics.Vector<float>(x.Slice(i)) - vk;
                    var d1 = new System.Numerics.Vector<float>(x.Slice(i + Width)) - vk;
                    s0 += d0; q0 += d0 * d0;
                    s1 += d1; q1 += d1 * d1;
                }
                if (i + Width <= x.Length)
                {
                    var d0 = new System.Numerics.Vector<float>(x.Slice(i)) - vk;
                    s0 += d0; q0 += d0 * d0;
                    i += Width;
                }
                s = System.Numerics.Vector.Sum(s0 + s1);
                q = System.Numerics.Vector.Sum(q0 + q1);
            }
            for (; i < x.Length; i++) { float d = Unsafe.Add(ref px, i) - k; s += d; q += d * d; }
            // back to x: sum x = s + n k, sum x^2 = q + 2 k s + n k^2 (in double)
            double n = x.Length, kd = k;
            sum += s + n * kd;
            squares += q + 2 * kd * s + n * kd * kd;
        }

        /// <summary>y = x * scale + shift.</summary>
        public static void ScaleShift(ReadOnlySpan<float> x, float scale, float shift, Span<float> y)
        {
            int i = 0;
            ref float px = ref MemoryMarshal.GetReference(x);
            ref float py = ref MemoryMarshal.GetReference(y);
            if (y.Length < x.Length) throw new ArgumentException("y is shorter than x.", nameof(y));
            if (Vector512.IsHardwareAccelerated)
            {
                var vs = Vector512.Create(scale); var vb = Vector512.Create(shift);
                for (; i + 16 <= x.Length; i += 16) (Vector512.LoadUnsafe(ref px, (nuint)i) * vs + vb).StoreUnsafe(ref py, (nuint)i);
            }
            else if (System.Numerics.Vector.IsHardwareAccelerated)
            {
                var vs = new System.Numerics.Vector<float>(scale); var vb = new System.Numerics.Vector<float>(shift);
                for (; i + Width <= x.Length; i += Width) (new System.Numerics.Vector<float>(x.Slice(i)) * vs + vb).CopyTo(y.Slice(i));
            }
            for (; i < x.Length; i++) Unsafe.Add(ref py, i) = Unsafe.Add(ref px, i) * scale + shift;
        }

        /// <summary>sumDy += dy[i]; sumDyXhat += dy[i] * xhat[i] with xhat = (x - mean) * invStd.</summary>
        public static void GradientSums(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, float mean, float invStd, ref double sumDy, ref double sumDyXhat)
        {
            if (dy.Length < x.Length) throw new ArgumentException("dy is shorter than x.", nameof(dy));
            float g = 0, p = 0; // sums of dy and dy * (x - mean), per plane
            int i = 0;
            ref float px = ref MemoryMarshal.GetReference(x);
            ref float pg = ref MemoryMarshal.GetReference(dy);
            if (Vector512.IsHardwareAccelerated && x.Length >= 16)
            {
                var vm = Vector512.Create(mean);
                Vector512<float> g0 = default, g1 = default, p0 = default, p1 = default;
                for (; i + 32 <= x.Length; i += 32)
                {
                    var e0 = Vector512.LoadUnsafe(ref pg, (nuint)i);
                    var e1 = Vector512.LoadUnsafe(ref pg, (nuint)(i + 16));
                    g0 += e0; p0 += e0 * (Vector512.LoadUnsafe(ref px, (nuint)i) - vm);
                    g1 += e1; p1 += e1 * (Vector512.LoadUnsafe(ref px, (nuint)(i + 16)) - vm);
                }
                if (i + 16 <= x.Length)
                {
                    var e0 = Vector512.LoadUnsafe(ref pg, (nuint)i);
                    g0 += e0; p0 += e0 * (Vector512.LoadUnsafe(ref px, (nuint)i) - vm);
                    i += 16;
                }
                g = Vector512.Sum(g0 + g1);
                p = Vector512.Sum(p0 + p1);
            }
            else if (System.Numerics.Vector.IsHardwareAccelerated && x.Length >= Width)
            {
                var vm = new System.Numerics.Vector<float>(mean);
                var g0 = System.Numerics.Vector<float>.Zero; var g1 = g0; var p0 = g0; var p1 = g0;
                for (; i + 2 * Width <= x.Length; i += 2 * Width)
                {
                    var e0 = new System.Numerics.Vector<float>(dy.Slice(i));
                    var e1 = new System.Numerics.Vector<float>(dy.Slice(i + Width));
                    g0 += e0; p0 += e0 * (new System.Numerics.Vector<float>(x.Slice(i)) - vm);
                    g1 += e1; p1 += e1 * (new System.Numerics.Vector<float>(x.Slice(i + Width)) - vm);
                }
                if (i + Width <= x.Length)
                {
                    var e0 = new System.Numerics.Vector<float>(dy.Slice(i));
                    g0 += e0; p0 += e0 * (new System.Numerics.Vector<float>(x.Slice(i)) - vm);
                    i += Width;
                }
                g = System.Numerics.Vector.Sum(g0 + g1);
                p = System.Numerics.Vector.Sum(p0 + p1);
            }
            for (; i < x.Length; i++)
            {
                float e = Unsafe.Add(ref pg, i);
                g += e;
                p += e * (Unsafe.Add(ref px, i) - mean);
            }
            sumDy += g;
            sumDyXhat += (double)p * invStd;
        }

        /// <summary>dx = k * (dy - meanDy - xhat * meanDyXhat), xhat = (x - mean) * invStd.</summary>
        public static void InputGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, float mean, float invStd, float k, float meanDy, float meanDyXhat, Span<float> dx)
        {
            if (dy.Length < x.Length || dx.Length < x.Length) throw new ArgumentException("dy and dx must be as long as x.");
            int i = 0;
            ref float px = ref MemoryMarshal.GetReference(x);
            ref float pg = ref MemoryMarshal.GetReference(dy);
            ref float pd = ref MemoryMarshal.GetReference(dx);
            if (Vector512.IsHardwareAccelerated)
            {
                var vm = Vector512.Create(mean); var vi = Vector512.Create(invStd);
                var vk = Vector512.Create(k); var vd = Vector512.Create(meanDy); var vp = Vector512.Create(meanDyXhat);
                for (; i + 16 <= x.Length; i += 16)
                {
                    var xhat = (Vector512.LoadUnsafe(ref px, (nuint)i) - vm) * vi;
                    (vk * (Vector512.LoadUnsafe(ref pg, (nuint)i) - vd - xhat * vp)).StoreUnsafe(ref pd, (nuint)i);
                }
            }
            else if (System.Numerics.Vector.IsHardwareAccelerated)
            {
                var vm = new System.Numerics.Vector<float>(mean); var vi = new System.Numerics.Vector<float>(invStd);
                var vk = new System.Numerics.Vector<float>(k); var vd = new System.Numerics.Vector<float>(meanDy); var vp = new System.Numerics.Vector<float>(meanDyXhat);
                for (; i + Width <= x.Length; i += Width)
                {
                    var xhat = (new System.Numerics.Vector<float>(x.Slice(i)) - vm) * vi;
                    (vk * (new System.Numerics.Vector<float>(dy.Slice(i)) - vd - xhat * vp)).CopyTo(dx.Slice(i));
                }
            }
            for (; i < x.Length; i++)
            {
                float xhat = (Unsafe.Add(ref px, i) - mean) * invStd;
                Unsafe.Add(ref pd, i) = k * (Unsafe.Add(ref pg, i) - meanDy - xhat * meanDyXhat);
            }
        }
    }

    /// <summary>Local response normalization across channels, as PyTorch's LocalResponseNorm:
    /// s_c = k + alpha / size * sum of x_j^2 for j in [c - size/2, c + (size-1)/2], y_c = x_c * s_c^-beta.</summary>
    public static class LocalResponseNorm
    {
        /// <summary>Writes y and keeps s (same shape) for backward.</summary>
        public static void Forward(ReadOnlySpan<float> x, Span<float> y, Span<float> s, int count, int channels, int spatial, int size, float alpha, float beta, float k)
        {
            int before = size / 2, after = (size - 1) / 2;
            float a = alpha / size;
            for (int n = 0; n < count; n++)
            {
                int image = n * channels * spatial;
                for (int c = 0; c < channels; c++)
                {
                    int lo = Math.Max(0, c - before), hi = Math.Min(channels - 1, c + after);
                    for (int i = 0; i < spatial; i++)
                    {
                        float sum = 0f;
                        for (int j = lo; j <= hi; j++) { float v = x[image + j * spatial + i]; sum += v * v; }
                        int at = image + c * spatial + i;
                        float sc = k + a * sum;
                        s[at] = sc;
                        y[at] = x[at] * MathF.Pow(sc, -beta);
                    }
                }
            }
        }

        /// <summary>dx_j = dy_j * s_j^-beta - 2 alpha beta / size * x_j * sum over the c whose window holds j of dy_c x_c s_c^(-beta-1).</summary>
        public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> s, ReadOnlySpan<float> dy, Span<float> dx, int count, int channels, int spatial,
            int size, float alpha, float beta)
        {
            int before = size / 2, after = (size - 1) / 2;
            float factor = 2f * alpha * beta / size;
            for (int n = 0; n < count; n++)
            {
                int image = n * channels * spatial;
                for (int j = 0; j < channels; j++)
                {
                    // c's window [c - before, c + after] holds j  <=>  c in [j - after, j + before]
                    int lo = Math.Max(0, j - after), hi = Math.Min(channels - 1, j + before);
                    for (int i = 0; i < spatial; i++)
                    {
                        float sum = 0f;
                        for (int c = lo; c <= hi; c++)
                        {
                            int at = image + c * spatial + i;
                            sum += dy[at] * x[at] * MathF.Pow(s[at], -beta - 1f);
                        }
                        int here = image + j * spatial + i;
                        dx[here] = dy[here] * MathF.Pow(s[here], -beta) - factor * x[here] * sum;
                    }
                }
            }
        }
    }

    /// <summary>Element-wise add, channel concatenation and gradient routing for graph networks.</summary>
    public static class GraphOps
    {
        /// <summary>dst = src, or dst += src when <paramref name="accumulate"/>.</summary>
        public static void CopyOrAdd(ReadOnlySpan<float> src, Span<float> dst, bool accumulate)
        {
            if (accumulate) System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
            else src.CopyTo(dst);
        }

        public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => System.Numerics.Tensors.TensorPrimitives.Add(a, b, y);

        /// <summary>y = a + b on this worker's share of the elements (an inference team, see <see cref="Share"/>).</summary>
        public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, int part, int parts)
        {
            (int start, int length) = Share(y.Length, part, parts);
            System.Numerics.Tensors.TensorPrimitives.Add(a.Slice(start, length), b.Slice(start, length), y.Slice(start, length));
        }

        /// <summary>sum = a + b and relu = max(sum, 0) in one pass on this worker's share of the elements: a residual block's
        /// Add and the ReLU after it (the ReLU's input is read from registers instead of memory, and a team needs no barrier
        /// between the two). Each element's sum is the same float as <see cref="Add(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int)"/>'s.</summary>
        public static void AddRelu(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> sum, Span<float> relu, int part, int parts)
        {
            if (a.Length != sum.Length || b.Length != sum.Length || relu.Length != sum.Length)
                throw new ArgumentException($"AddRelu needs four spans of one length (got {a.Length}, {b.Length}, {sum.Length}, {relu.Length}).");
            (int start, int length) = Share(sum.Length, part, parts);
            ref float pa = ref MemoryMarshal.GetReference(a.Slice(start, length));
            ref float pb = ref MemoryMarshal.GetReference(b.Slice(start, length));
            ref float ps = ref MemoryMarshal.GetReference(sum.Slice(start, length));
            ref float pr = ref MemoryMarshal.GetReference(relu.Slice(start, length));
            int i = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; i + 16 <= length; i += 16)
                {
                    Vector512<float> v = Vector512.LoadUnsafe(ref pa, (nuint)i) + Vector512.LoadUnsafe(ref pb, (nuint)i);
                    v.StoreUnsafe(ref ps, (nuint)i);
                    Vector512.Max(v, Vector512<float>.Zero).StoreUnsafe(ref pr, (nuint)i);
                }
            if (Vector256.IsHardwareAccelerated)
                for (; i + 8 <= length; i += 8)
                {
                    Vector256<float> v = Vector256.LoadUnsafe(ref pa, (nuint)i) + Vector256.LoadUnsafe(ref pb, (nuint)i);
                    v.StoreUnsafe(ref ps, (nuint)i);
                    Vector256.Max(v, Vector256<float>.Zero).StoreUnsafe(ref pr, (nuint)i);
                }
            for (; i < length; i++)
            {
                float v = Unsafe.Add(ref pa, i) + Unsafe.Add(ref pb, i);
                Unsafe.Add(ref ps, i) = v;
                Unsafe.Add(ref pr, i) = MathF.Max(v, 0f);
            }
        }

        /// <summary>Worker <paramref name="part"/>'s contiguous share of <paramref name="length"/> elements split across
        /// <paramref name="parts"/> workers, in whole 64-byte lines (the last share takes the rest; late shares may be empty).</summary>
        public static (int Start, int Length) Share(int length, int part, int parts)
        {
            (long start, long count) = Share((long)length, part, parts);
            return ((int)start, (int)count);
        }

        /// <summary><see cref="Share(int, int, int)"/> for arenas of any length (a training step's optimizer and gradient sum).</summary>
        public static (long Start, long Length) Share(long length, int part, int parts)
        {
            if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "length cannot be negative.");
            if (parts < 1 || (uint)part >= (uint)parts) throw new ArgumentOutOfRangeException(nameof(part), part, $"part must be in [0, parts) and parts ({parts}) at least 1.");
            long per = ((length + parts - 1) / parts + 15) & ~15L;
            long start = Math.Min((long)part * per, length);
            return (start, Math.Min(per, length - start));
        }

        /// <summary>Copies each image's <paramref name="partSize"/> floats into the concatenation at float offset <paramref name="at"/>.</summary>
        public static void ConcatForward(ReadOnlySpan<float> part, Span<float> output, int count, int partSize, int outputSize, int at)
        {
            for (int n = 0; n < count; n++) part.Slice(n * partSize, partSize).CopyTo(output.Slice(n * outputSize + at, partSize));
        }

        /// <summary>Routes the concatenation's gradient back to one part (copy, or add when the part has another consumer).</summary>
        public static void ConcatBackward(ReadOnlySpan<float> dy, Span<float> dpart, int count, int partSize, int outputSize, int at, bool accumulate)
        {
            for (int n = 0; n < count; n++) CopyOrAdd(dy.Slice(n * outputSize + at, partSize), dpart.Slice(n * partSize, partSize), accumulate);
        }
    }

    /// <summary>A reusable spinning barrier for the workers of one dispatch (BatchNorm's batch statistics). Workers spin:
    /// on these VMs waking a blocked thread costs ~1.5 ms, far more than a layer.</summary>
    public sealed class SpinBarrier
    {
        private int _arrived;
        private int _generation;

        public void SignalAndWait(int participants)
        {
            if (participants <= 1) return;
            int generation = Volatile.Read(ref _generation);
            if (Interlocked.Increment(ref _arrived) == participants)
            {
                Volatile.Write(ref _arrived, 0);
                Interlocked.Increment(ref _generation);
                return;
            }
            var spin = new SpinWait();
            while (Volatile.Read(ref _generation) == generation) spin.SpinOnce(sleep1Threshold: -1);
        }
    }
}
