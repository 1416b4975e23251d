// SGD and Adam against the update rules written out independently here, in double precision, for two steps.
using System;
using System.Collections.Generic;

namespace CnnGen.Runtime.Tests
{
    public sealed class OptimizerTests : IDisposable
    {
        // 37 values: more than one vector of any width, plus a scalar tail.
        private const int Length = 37;
        private readonly NativeBuffer _values = new(Length);
        private readonly NativeBuffer _gradients = new(Length);
        private readonly Parameter _parameter;
        private readonly double[] _w0 = new double[Length];
        private readonly double[] _g1 = new double[Length];
        private readonly double[] _g2 = new double[Length];

        public OptimizerTests()
        {
            _parameter = new Parameter("dense1.weight", new[] { Length }, _values, _gradients, 0, Length, 1);
            for (int i = 0; i < Length; i++)
            {
                _w0[i] = (float)(0.5 * Math.Sin(i + 1));
                _g1[i] = (float)(0.3 * Math.Cos(2 * i + 0.5));
                _g2[i] = (float)(-0.2 * Math.Sin(3 * i) + 0.05);
                _parameter.Value[i] = (float)_w0[i];
            }
        }

        public void Dispose()
        {
            _values.Dispose();
            _gradients.Dispose();
        }

        private void TwoSteps(IOptimizer optimizer)
        {
            IReadOnlyList<Parameter> parameters = new[] { _parameter };
            for (int i = 0; i < Length; i++) _parameter.Gradient[i] = (float)_g1[i];
            optimizer.Step(parameters);
            for (int i = 0; i < Length; i++) _parameter.Gradient[i] = (float)_g2[i];
            optimizer.Step(parameters);
        }

        [Fact]
        public void Sgd_with_momentum_and_weight_decay_matches_the_reference_for_two_steps()
        {
            const double lr = 0.1, momentum = 0.9, decay = 0.01;
            using var sgd = new Sgd((float)lr, (float)momentum, (float)decay);
            TwoSteps(sgd);

            for (int i = 0; i < Length; i++)
            {
                // PyTorch SGD: d = g + wd*w; v1 = d1; v2 = m*v1 + d2; w -= lr*v.
                double w = _w0[i];
                double v = _g1[i] + decay * w;
                w -= lr * v;
                v = momentum * v + (_g2[i] + decay * w);
                w -= lr * v;
                Assert.Equal(w, _parameter.Value[i], 5);
            }
        }

        [Fact]
        public void Plain_sgd_step_is_w_minus_lr_g()
        {
            using var sgd = new Sgd(0.5f);
            TwoSteps(sgd);
            for (int i = 0; i < Length; i++)
                Assert.Equal(_w0[i] - 0.5 * _g1[i] - 0.5 * _g2[i], _parameter.Value[i], 5);
        }

        [Fact]
        public void Adam_matches_the_reference_for_two_steps()
        {
            const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, decay = 0.001;
            using var adam = new Adam((float)lr, (float)b1, (float)b2, (float)eps, (float)decay);
            TwoSteps(adam);

            for (int i = 0; i < Length; i++)
            {
                double w = _w0[i], m = 0, v = 0;
                double[] gradients = { _g1[i], _g2[i] };
                for (int t = 1; t <= 2; t++)
                {
                    double g = gradients[t - 1] + decay * w;
                    m = b1 * m + (1 - b1) * g;
                    v = b2 * v + (1 - b2) * g * g;
                    double mHat = m / (1 - Math.Pow(b1, t));
                    double vHat = v / (1 - Math.Pow(b2, t));
                    w -= lr * mHat / (Math.Sqrt(vHat) + eps);
                }
                Assert.Equal(w, _parameter.Value[i], 5);
            }
        }

        [Fact]
        public void Adam_first_step_moves_each_weight_by_about_the_learning_rate()
        {
            // With bias correction, |step 1| = lr * |g| / (|g| + eps) ~ lr for every non-zero gradient.
            using var adam = new Adam(0.01f);
            for (int i = 0; i < Length; i++) _parameter.Gradient[i] = (float)_g1[i];
            adam.Step(new[] { _parameter });
            for (int i = 0; i < Length; i++)
                Assert.Equal(0.01 * Math.Sign(_g1[i]), _w0[i] - _parameter.Value[i], 5);
        }

        [Fact]
        public void Learning_rate_must_be_positive()
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(0f));
            Assert.Equal("learningRate", error.ParamName);
        }
    }
}
