// Generated networks against PyTorch: the fixtures (Generator.Tests/Fixtures/*.json, written by
// make_fixtures.py with torch 1.13, float32) hold an input batch, PyTorch's output, a random output gradient
// and the resulting input and parameter gradients. Every supported kernel set must reproduce them.
//
// Tolerance, per tensor: max_i |actual_i - expected_i| <= 1e-4 * max(1, max_i |expected_i|).
// That is a relative error of 1e-4 against the tensor's largest magnitude, with an absolute floor of 1e-4 for
// tensors whose values are all below 1 (softmax outputs, small gradients): elements near zero are judged on
// the tensor's scale instead of their own, so cancellation in a sum cannot make a correct result look wrong,
// while any real indexing/layout/formula bug (errors of the order of the values themselves) still fails.
// Float32 summation-order differences on these sizes are ~1e-6 relative, two orders below the bound.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using CnnGen;
using Xunit.Abstractions;

namespace CnnGen.Tests.Numerics
{
    public sealed partial class PyTorchFixtureTests
    {
        private const double Tolerance = 1e-4;
        private readonly ITestOutputHelper _output;

        public PyTorchFixtureTests(ITestOutputHelper output) => _output = output;

        private static readonly Dictionary<string, Func<Isa, INetwork>> Factories = new()
        {
            ["FixtureNetA"] = isa => new FixtureNetA(maxBatch: 3, seed: 1, isa),
            ["FixtureNetB"] = isa => new FixtureNetB(maxBatch: 3, seed: 1, isa),
        };

        public static IEnumerable<object[]> Cases() =>
            from name in Factories.Keys
            from isa in NumericsSupport.SupportedIsas
            select new object[] { name, isa };

        [Theory]
        [MemberData(nameof(Cases))]
        public void ForwardAndBackwardMatchPyTorch(string fixtureName, Isa isa)
        {
            Fixture f = Fixture.Load(fixtureName);
            using INetwork net = Factories[fixtureName](isa);
            Assert.Equal(isa, net.Isa);
            LoadParameters(net, f);
            int batch = f.Batch;
            Assert.Equal(f.InputShape.Aggregate(1, (a, b) => a * b), net.InputLength);
            Assert.Equal(batch * net.InputLength, f.Input.Length);
            Assert.Equal(batch * net.OutputLength, f.Output.Length);

            var output = new float[batch * net.OutputLength];
            net.Training = false;
            net.Forward(f.Input, output, batch);
            AssertClose($"{fixtureName}/{isa} output", output, f.Output);

            net.ZeroGradients();
            var inputGrad = new float[batch * net.InputLength];
            net.Backward(f.OutputGrad, inputGrad, batch);
            AssertClose($"{fixtureName}/{isa} input gradient", inputGrad, f.InputGrad);
            for (int i = 0; i < f.Params.Length; i++)
                AssertClose($"{fixtureName}/{isa} {f.Params[i].Name} gradient", net.Parameters[i].Gradient, f.Params[i].Grad);
        }

        /// <summary>Backward adds to parameter gradients (the contract's "params +="), and skipping the input
        /// gradient (empty span) does not change them.</summary>
        [Theory]
        [MemberData(nameof(Cases))]
        public void BackwardAccumulatesAndInputGradientIsOptional(string fixtureName, Isa isa)
        {
            Fixture f = Fixture.Load(fixtureName);
            using INetwork net = Factories[fixtureName](isa);
            LoadParameters(net, f);
            int batch = f.Batch;
            var output = new float[batch * net.OutputLength];

            net.ZeroGradients();
            net.Forward(f.Input, output, batch);
            net.Backward(f.OutputGrad, Span<float>.Empty, batch);
            net.Forward(f.Input, output, batch);
            net.Backward(f.OutputGrad, Span<float>.Empty, batch);
            for (int i = 0; i < f.Params.Length; i++)
            {
                float[] twice = f.Params[i].Grad.Select(g => 2 * g).ToArray();
                AssertClose($"{fixtureName}/{isa} {f.Params[i].Name} gradient after two Backward calls", net.Parameters[i].Gradient, twice);
            }

            net.ZeroGradients();
            foreach (Parameter p in net.Parameters)
                Assert.True(p.Gradient.ToArray().All(g => g == 0), $"{p.Name}: ZeroGradients left non-zero gradients");
        }

        [Fact]
        public void ParameterCountsMatchFixtures()
        {
            Assert.Equal(Fixture.Load("FixtureNetA").Params.Sum(p => (long)p.Value.Length), FixtureNetA.ParameterCount);
            Assert.Equal(Fixture.Load("FixtureNetB").Params.Sum(p => (long)p.Value.Length), FixtureNetB.ParameterCount);
        }

        [Fact]
        public void FixturesAreConsistent()
        {
            foreach (string name in Factories.Keys)
            {
                Fixture f = Fixture.Load(name);
                Assert.Equal(name, f.Name);
                Assert.Equal(f.Batch * f.InputShape.Aggregate(1, (a, b) => a * b), f.Input.Length);
                Assert.Equal(f.Input.Length, f.InputGrad.Length);
                Assert.Equal(f.Output.Length, f.OutputGrad.Length);
                foreach (FixtureParam p in f.Params)
                {
                    Assert.Equal(p.Shape.Aggregate(1, (a, b) => a * b), p.Value.Length);
                    Assert.Equal(p.Value.Length, p.Grad.Length);
                }
            }
        }

        /// <summary>Copies the fixture's parameter values into the network after checking that names, count and
        /// shapes agree exactly, in order.</summary>
        private static void LoadParameters(INetwork net, Fixture f)
        {
            Assert.Equal(
                f.Params.Select(p => $"{p.Name} {NumericsSupport.Shape(p.Shape)}"),
                net.Parameters.Select(p => $"{p.Name} {NumericsSupport.Shape(p.Shape)}"));
            for (int i = 0; i < f.Params.Length; i++)
            {
                Parameter p = net.Parameters[i];
                Assert.Equal(f.Params[i].Value.Length, p.Length);
                f.Params[i].Value.CopyTo(p.Value);
            }
        }

        private void AssertClose(string what, ReadOnlySpan<float> actual, float[] expected)
        {
            Assert.True(actual.Length == expected.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
            double scale = 1;
            foreach (float e in expected) scale = Math.Max(scale, Math.Abs((double)e));
            double worst = 0;
            int worstAt = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                double err = Math.Abs((double)actual[i] - expected[i]);
                if (double.IsNaN(err)) { worst = double.NaN; worstAt = i; break; }
                if (err > worst) { worst = err; worstAt = i; }
            }
            if (expected.Length == 0) return;
            _output.WriteLine($"{what}: max |error| {worst:E2} (scale {scale:G3}, bound {Tolerance * scale:E2})");
            if (worst <= Tolerance * scale) return;
            Assert.Fail(
                $"{what}: element {worstAt} is {actual[worstAt]:R} but PyTorch gives {expected[worstAt]:R} " +
                $"(|error| {worst:E3} > {Tolerance} * {scale:G4}).");
        }

        internal sealed class Fixture
        {
            [JsonPropertyName("name")] public string Name { get; set; } = "";
            [JsonPropertyName("batch")] public int Batch { get; set; }
            [JsonPropertyName("input_shape")] public int[] InputShape { get; set; } = [];
            [JsonPropertyName("input")] public float[] Input { get; set; } = [];
            [JsonPropertyName("output")] public float[] Output { get; set; } = [];
            [JsonPropertyName("output_grad")] public float[] OutputGrad { get; set; } = [];
            [JsonPropertyName("input_grad")] public float[] InputGrad { get; set; } = [];
            [JsonPropertyName("params")] public FixtureParam[] Params { get; set; } = [];

            // Graph fixtures only (see PyTorchFixtureTests.Graph.cs).
            [JsonPropertyName("network")] public string Network { get; set; } = "";
            [JsonPropertyName("mode")] public string Mode { get; set; } = "eval";
            [JsonPropertyName("layers")] public FixtureLayer[] Layers { get; set; } = [];
            [JsonPropertyName("labels")] public int[] Labels { get; set; } = [];
            [JsonPropertyName("loss")] public float Loss { get; set; }
            [JsonPropertyName("correct")] public int Correct { get; set; }
            [JsonPropertyName("buffers")] public FixtureParam[] Buffers { get; set; } = [];
            [JsonPropertyName("buffers_after")] public FixtureParam[] BuffersAfter { get; set; } = [];

            public static Fixture Load(string name)
            {
                string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", name + ".json");
                Assert.True(File.Exists(path), $"Fixture {path} is missing; it should be copied to the output directory (Fixtures/** in the csproj).");
                return JsonSerializer.Deserialize<Fixture>(File.ReadAllText(path))
                    ?? throw new InvalidDataException($"{path} holds no fixture.");
            }
        }

        internal sealed class FixtureParam
        {
            [JsonPropertyName("name")] public string Name { get; set; } = "";
            [JsonPropertyName("shape")] public int[] Shape { get; set; } = [];
            [JsonPropertyName("value")] public float[] Value { get; set; } = [];
            [JsonPropertyName("grad")] public float[] Grad { get; set; } = [];
        }

        internal sealed class FixtureLayer
        {
            [JsonPropertyName("name")] public string Name { get; set; } = "";
            [JsonPropertyName("shape")] public int[] Shape { get; set; } = [];
        }
    }
}
