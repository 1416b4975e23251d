// Softmax cross-entropy: loss against a double-precision reference, gradient against finite differences.
using System;

namespace CnnGen.Runtime.Tests
{
    public unsafe class LossTests
    {
        private const int Batch = 3, Classes = 5;
        private static readonly int[] Labels = { 2, 0, 4 };

        private static float[] Logits()
        {
            var z = new float[Batch * Classes];
            for (int i = 0; i < z.Length; i++) z[i] = (float)(1.7 * Math.Sin(0.9 * i + 0.3));
            return z;
        }

        private static float Loss(float[] logits, float[] gradient, out int correct)
        {
            fixed (float* z = logits, g = gradient)
                return SoftmaxCrossEntropy.ForwardBackward(z, Labels, Classes, g, out correct);
        }

        [Fact]
        public void Loss_and_correct_count_match_a_double_reference()
        {
            float[] z = Logits();
            float loss = Loss(z, new float[z.Length], out int correct);

            double expected = 0;
            int expectedCorrect = 0;
            for (int n = 0; n < Batch; n++)
            {
                double sum = 0;
                int arg = 0;
                for (int c = 0; c < Classes; c++)
                {
                    sum += Math.Exp(z[n * Classes + c]);
                    if (z[n * Classes + c] > z[n * Classes + arg]) arg = c;
                }
                expected += -Math.Log(Math.Exp(z[n * Classes + Labels[n]]) / sum);
                if (arg == Labels[n]) expectedCorrect++;
            }
            expected /= Batch;

            Assert.Equal(expected, loss, 5);
            Assert.Equal(expectedCorrect, correct);
        }

        [Fact]
        public void Gradient_matches_central_finite_differences()
        {
            float[] z = Logits();
            var gradient = new float[z.Length];
            Loss(z, gradient, out _);

            const float h = 1e-2f;
            var scratch = new float[z.Length];
            for (int i = 0; i < z.Length; i++)
            {
                float[] plus = (float[])z.Clone(), minus = (float[])z.Clone();
                plus[i] += h;
                minus[i] -= h;
                double numeric = ((double)Loss(plus, scratch, out _) - Loss(minus, scratch, out _)) / (2 * h);
                Assert.True(Math.Abs(numeric - gradient[i]) < 2e-4,
                    $"d loss / d z[{i}]: analytic {gradient[i]}, finite difference {numeric}");
            }
        }

        [Fact]
        public void Gradient_rows_sum_to_zero()
        {
            // softmax - onehot sums to 1 - 1 per row.
            float[] z = Logits();
            var gradient = new float[z.Length];
            Loss(z, gradient, out _);
            for (int n = 0; n < Batch; n++)
            {
                double sum = 0;
                for (int c = 0; c < Classes; c++) sum += gradient[n * Classes + c];
                Assert.Equal(0, sum, 6);
            }
        }

        [Fact]
        public void Softmax_is_stable_for_large_logits()
        {
            float[] x = { 1000f, 1001f, 999f };
            var y = new float[3];
            fixed (float* px = x, py = y) Softmax.Forward(px, py, 1, 3);
            double e0 = Math.Exp(-1), e2 = Math.Exp(-2), s = e0 + 1 + e2;
            Assert.Equal(e0 / s, y[0], 6);
            Assert.Equal(1 / s, y[1], 6);
            Assert.Equal(e2 / s, y[2], 6);
        }
    }
}
