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

        /// <summary>Three parameters of awkward lengths in one arena, with gradients, for the split step.</summary>
        private sealed class Arena : IDisposable
        {
            public readonly NativeBuffer Values = new(3000), Gradients = new(3000);
            public readonly Parameter[] Parameters;
            public Arena()
            {
                Parameters = new[]
                {
                    new Parameter("a", new[] { 37 }, Values, Gradients, 0, 37, 1),
                    new Parameter("b", new[] { 1000 }, Values, Gradients, 48, 10, 100),
                    new Parameter("c", new[] { 1001 }, Values, Gradients, 1056, 11, 91),
                };
                Span<float> w = Values.AsSpan(0, 3000);
                for (int i = 0; i < w.Length; i++) w[i] = (float)(0.5 * Math.Sin(i + 1));
            }
            public void SetGradients(int step)
            {
                Span<float> g = Gradients.AsSpan(0, 3000);
                for (int i = 0; i < g.Length; i++) g[i] = (float)(0.3 * Math.Cos(2 * i + step));
            }
            public void Dispose() { Values.Dispose(); Gradients.Dispose(); }
        }

        [Theory]
        [InlineData("sgd", 2)]
        [InlineData("sgd", 3)]
        [InlineData("adam", 2)]
        [InlineData("adam", 5)]
        public void A_step_split_among_workers_gives_the_serial_steps_values_bit_for_bit(string kind, int workers)
        {
            OptimizerBase Make() => kind == "sgd" ? new Sgd(0.1f, 0.9f, 0.01f) : new Adam(0.01f, weightDecay: 0.001f);
            using Arena serial = new(), split = new();
            using OptimizerBase one = Make(), many = Make();
            Assert.True(many.UpdatesInParallel);
            for (int step = 1; step <= 3; step++)
            {
                serial.SetGradients(step);
                split.SetGradients(step);
                one.Step(serial.Parameters);
                many.BeginStep(split.Parameters);
                for (int worker = workers - 1; worker >= 0; worker--) // any order: the shares are disjoint
                    Assert.True(many.StepShare(split.Parameters, worker, workers));
                Assert.Equal(serial.Values.AsSpan(0, 3000).ToArray(), split.Values.AsSpan(0, 3000).ToArray());
                for (int p = 0; p < 3; p++)
                {
                    Assert.True(one.TryGetState(serial.Parameters[p], 0, out Span<float> expected));
                    Assert.True(many.TryGetState(split.Parameters[p], 0, out Span<float> actual));
                    Assert.Equal(expected.ToArray(), actual.ToArray());
                }
            }
            Assert.Equal(3, many.Steps);
        }

        [Fact]
        public void A_share_that_writes_a_non_finite_value_says_so_and_only_that_share()
        {
            using Arena arena = new();
            using var sgd = new Sgd(0.1f);
            arena.SetGradients(1);
            arena.Gradients.AsSpan(48 + 999, 1)[0] = float.PositiveInfinity; // b's last element: sequence index 37 + 999 = 1036
            sgd.BeginStep(arena.Parameters);
            Assert.True(sgd.StepShare(arena.Parameters, 0, 2));   // [0, 1024)
            Assert.False(sgd.StepShare(arena.Parameters, 1, 2));  // [1024, 2038)
            Assert.True(float.IsNegativeInfinity(arena.Values.AsSpan(48 + 999, 1)[0]));
        }

        private sealed class Rescaler : OptimizerBase
        {
            public Rescaler() : base(0.1f, 0) { }
            protected override void Update(Span<float> values, Span<float> gradients, NativeBuffer[] state, long stateOffset) { }
        }

        [Fact]
        public void An_optimizer_that_does_not_update_in_parallel_refuses_BeginStep()
        {
            using Arena arena = new();
            using var custom = new Rescaler();
            Assert.False(custom.UpdatesInParallel);
            var e = Assert.Throws<InvalidOperationException>(() => custom.BeginStep(arena.Parameters));
            Assert.Contains("UpdatesInParallel", e.Message);
            Assert.Equal(0, custom.Steps);
        }

        [Fact]
        public void StepShare_without_BeginStep_names_the_parameter()
        {
            using Arena arena = new();
            using var sgd = new Sgd(0.1f);
            var e = Assert.Throws<InvalidOperationException>(() => sgd.StepShare(arena.Parameters, 0, 1));
            Assert.Contains("Parameter a", e.Message);
        }

        [Fact]
        public void Learning_rate_must_be_positive()
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(0f));
            Assert.Equal("learningRate", error.ParamName);
        }
    }
}
