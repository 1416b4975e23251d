// Softmax and the fused softmax + cross-entropy loss used by every generated TrainStep.
using System;

namespace CnnGen
{
    public static unsafe partial class Softmax
    {
        /// <summary>Row-wise softmax of a [rows, cols] matrix (numerically stable: subtracts the row max).</summary>
        public static void Forward(float* x, float* y, int rows, int cols)
        {
            for (int r = 0; r < rows; r++)
            {
                float* xr = x + (long)r * cols, yr = y + (long)r * cols;
                float max = float.NegativeInfinity;
                for (int c = 0; c < cols; c++) max = MathF.Max(max, xr[c]);
                float sum = 0;
                for (int c = 0; c < cols; c++) { float e = MathF.Exp(xr[c] - max); yr[c] = e; sum += e; }
                float inv = 1f / sum;
                for (int c = 0; c < cols; c++) yr[c] *= inv;
            }
        }

        /// <summary>dx = y * (dy - sum(dy * y)) per row, given the softmax output y.</summary>
        public static void Backward(float* y, float* dy, float* dx, int rows, int cols)
        {
            for (int r = 0; r < rows; r++)
            {
                float* yr = y + (long)r * cols, dyr = dy + (long)r * cols, dxr = dx + (long)r * cols;
                float dot = 0;
                for (int c = 0; c < cols; c++) dot += dyr[c] * yr[c];
                for (int c = 0; c < cols; c++) dxr[c] = yr[c] * (dyr[c] - dot);
            }
        }
    }

    public static unsafe partial class Softmax
    {
        /// <summary>Row-wise softmax of a [rows, cols] matrix held in spans.</summary>
        public static void Forward(ReadOnlySpan<float> x, Span<float> y, int rows, int cols)
        {
            CheckShape(x.Length, y.Length, rows, cols);
            fixed (float* px = x, py = y) Forward(px, py, rows, cols);
        }

        public static void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int rows, int cols)
        {
            CheckShape(y.Length, dy.Length, rows, cols);
            CheckShape(y.Length, dx.Length, rows, cols);
            fixed (float* py = y, pdy = dy, pdx = dx) Backward(py, pdy, pdx, rows, cols);
        }

        private static void CheckShape(int a, int b, int rows, int cols)
        {
            long need = (long)rows * cols;
            if (a < need || b < need) throw new ArgumentException($"Softmax over [{rows} x {cols}] needs {need} floats per buffer, got {a} and {b}.");
        }
    }

    public static unsafe class SoftmaxCrossEntropy
    {
        /// <summary>Span form of <see cref="ForwardBackward(float*, ReadOnlySpan{int}, int, float*, out int)"/>.</summary>
        public static float ForwardBackward(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int classes, Span<float> gradient, out int correct)
        {
            long need = (long)labels.Length * classes;
            if (logits.Length < need || gradient.Length < need)
                throw new ArgumentException($"{labels.Length} labels x {classes} classes need {need} logits and gradients, got {logits.Length} and {gradient.Length}.");
            fixed (float* pl = logits, pg = gradient) return ForwardBackward(pl, labels, classes, pg, out correct);
        }

        /// <summary>
        /// Mean cross-entropy of softmax(logits) against <paramref name="labels"/> over the batch, and its gradient
        /// with respect to the logits, (softmax - onehot) / batch, written to <paramref name="gradient"/>.
        /// Labels must already be validated (see <see cref="Guard.Labels"/>).
        /// </summary>
        public static float ForwardBackward(float* logits, ReadOnlySpan<int> labels, int classes, float* gradient, out int correct)
        {
            int batch = labels.Length;
            double total = 0;
            correct = 0;
            float scale = 1f / batch;
            for (int n = 0; n < batch; n++)
            {
                float* z = logits + (long)n * classes, g = gradient + (long)n * classes;
                float max = float.NegativeInfinity;
                int arg = 0;
                for (int c = 0; c < classes; c++) if (z[c] > max) { max = z[c]; arg = c; }
                float sum = 0;
                for (int c = 0; c < classes; c++) { float e = MathF.Exp(z[c] - max); g[c] = e; sum += e; }
                int label = labels[n];
                if (arg == label) correct++;
                total += Math.Log(sum) - (z[label] - max);
                float inv = scale / sum;
                for (int c = 0; c < classes; c++) g[c] *= inv;
                g[label] -= scale;
            }
            return (float)(total / batch);
        }
    }
}
