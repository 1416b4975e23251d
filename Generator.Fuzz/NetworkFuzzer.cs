// The test-side generator of random network declarations. Each case is one C# file in its own namespace: a valid
// network built over an independent shape model (so its output size is known), or such a network with one mistake
// put in (a DSL mistake the checker must report, or a C# mistake the compiler reports). Case i of seed s depends on
// (s, i) alone, so any failure replays from its two numbers.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace CnnGen.Fuzz
{
    /// <summary>What a case must produce.</summary>
    public enum Expectation
    {
        /// <summary>No error anywhere; code is generated and compiles; the output size is <see cref="FuzzCase.ExpectedOutput"/>.</summary>
        Valid,
        /// <summary>At least one CNN error from the generator and from the analyzer, on the declaration; no code.</summary>
        CnnError,
        /// <summary>A C# error (syntax, binding) the compiler reports on the declaration; the generator must still not crash.</summary>
        CompilerError,
        /// <summary>Extreme sizes: either a CNN error, or code that compiles. Never a crash.</summary>
        Either,
    }

    /// <summary>One declaration. <see cref="ExpectedIds"/> lists the CNN ids that may report a <see cref="Expectation.CnnError"/> case.</summary>
    public sealed record FuzzCase(int Seed, int Index, string Namespace, string Source, Expectation Expect, string Kind,
        long ExpectedOutput, bool EndsWithSoftmax, long Cost, IReadOnlyList<string> ExpectedIds)
    {
        public string HintName => Namespace + ".Net.g.cs";
        public override string ToString() => $"case {Index} (seed {Seed}, {Kind}, {Expect})";
    }

    /// <summary>A per-image shape: C x H x W, or a vector of C.</summary>
    internal readonly record struct Shape(int C, int H, int W, bool V)
    {
        public static Shape Map(int c, int h, int w) => new(c, h, w, false);
        public static Shape Vec(long n) => new((int)n, 1, 1, true);
        public long Size => (long)C * H * W;
    }

    public static class NetworkFuzzer
    {
        public static FuzzCase Make(int seed, int index)
        {
            var rng = new Random(unchecked(seed * 1_000_003 + index * 7919 + 17));
            var b = new CaseBuilder(rng, $"Fuzz{index}");
            double roll = rng.NextDouble();
            if (roll < 0.22) return b.Valid(seed, index);
            if (roll < 0.82) return b.DslMistake(seed, index);
            if (roll < 0.97) return b.CSharpMistake(seed, index);
            return b.Extreme(seed, index);
        }

        /// <summary>PyTorch's output size: floor((n + 2p - k) / s) + 1, or with ceil mode rounded up unless the last window
        /// would start in the right padding.</summary>
        internal static int Dim(int n, int k, int s, int p, bool ceil)
        {
            long span = (long)n + 2L * p - k;
            if (span < 0) return 0;
            if (!ceil) return (int)(span / s + 1);
            long o = (span + s - 1) / s + 1;
            if ((o - 1) * s >= n + p) o--;
            return (int)o;
        }
    }

    /// <summary>Builds one case: block classes, the network's attribute lists, the class line.</summary>
    internal sealed class CaseBuilder
    {
        private readonly Random _r;
        private readonly string _ns;
        private readonly List<string> _blocks = new();
        private int _blockCount;
        private long _cost;
        private bool _hasAux;

        public CaseBuilder(Random r, string ns) { _r = r; _ns = ns; }

        private int Next(int lo, int hiInclusive) => _r.Next(lo, hiInclusive + 1);
        private bool Chance(double p) => _r.NextDouble() < p;
        private T Pick<T>(params T[] items) => items[_r.Next(items.Length)];
        private static string F(double v) => v.ToString("0.0##", CultureInfo.InvariantCulture);

        // ------------------------------------------------------------------ the layers of a valid network

        /// <summary>One top-level layer in a valid sequence: its attribute text and the shape it receives.</summary>
        private sealed record Step(string Text, Shape Before);

        private Shape RandomInput()
        {
            int c = Next(1, 4), h = Next(3, 14);
            return Shape.Map(c, h, Chance(0.7) ? h : Next(3, 14));
        }

        /// <summary>A valid top-level sequence from <paramref name="input"/>; returns the steps and the final shape.</summary>
        private (List<Step> Steps, Shape Output, bool Softmax) ValidSequence(Shape input, int length)
        {
            var steps = new List<Step>();
            Shape s = input;
            for (int i = 0; i < length; i++)
            {
                (string text, Shape next) = s.V ? VectorLayer(s) : MapLayer(s, topLevel: true);
                steps.Add(new Step(text, s));
                s = next;
            }
            if (_hasAux && !s.V || Chance(0.6))
            {
                if (!s.V)
                {
                    string flat = s.Size <= 4096 && Chance(0.5) ? "Flatten" : "GlobalAvgPool";
                    steps.Add(new Step(flat, s));
                    s = flat == "Flatten" ? Shape.Vec(s.Size) : Shape.Vec(s.C);
                }
                int units = Next(1, 12);
                steps.Add(new Step($"Dense({units})", s));
                _cost += s.Size * units;
                s = Shape.Vec(units);
            }
            // Only Use<Identity> would leave nothing computed (CNN0012): make the first one a ReLU (same shape).
            if (steps.Count > 0 && steps.TrueForAll(st => st.Text == "Use<Identity>")) steps[0] = steps[0] with { Text = "ReLU" };
            bool softmax = Chance(0.4);
            if (softmax) steps.Add(new Step("Softmax", s));
            return (steps, s, softmax);
        }

        private (string, Shape) VectorLayer(Shape s)
        {
            switch (Next(0, 5))
            {
                case 0:
                case 1:
                    int units = Next(1, 16);
                    _cost += s.Size * units;
                    return (Chance(0.3) ? $"Dense({units}, Bias = false)" : Chance(0.1) ? $"Dense(units: {units})" : $"Dense({units})", Shape.Vec(units));
                case 2: return ("ReLU", s);
                case 3: return ($"Dropout({F(Next(0, 9) / 10.0)})", s);
                case 4: return (Chance(0.5) ? "BatchNorm" : $"BatchNorm(Momentum = {F(Next(0, 10) / 10.0)})", s);
                default: return (Chance(0.5) ? "Dropout(0)" : "ReLU", s);
            }
        }

        private static IEnumerable<int> Divisors(int n) => Enumerable.Range(1, n).Where(d => n % d == 0);

        /// <summary>A conv that fits <paramref name="s"/>: text and output shape (null when none was found).</summary>
        private (string Text, Shape Out)? Conv(Shape s, int maxFilters = 8)
        {
            for (int attempt = 0; attempt < 6; attempt++)
            {
                int groups = Chance(0.25) ? Pick(Divisors(s.C).ToArray()) : 1;
                int filters = groups * Next(1, Math.Max(1, maxFilters / groups));
                int k = Next(1, 5);
                bool same = k % 2 == 1 && Chance(0.3);
                int p = same ? (k - 1) / 2 : Chance(0.5) ? 0 : Next(0, k);
                int stride = Chance(0.6) ? 1 : Next(1, 3);
                int oh = NetworkFuzzer.Dim(s.H, k, stride, p, false), ow = NetworkFuzzer.Dim(s.W, k, stride, p, false);
                if (oh < 1 || ow < 1) continue;
                var text = new StringBuilder(Chance(0.1) ? $"Conv2D(kernel: {k}, filters: {filters}" : $"Conv2D({filters}, {k}");
                if (stride != 1 || Chance(0.2)) text.Append($", Stride = {stride}");
                if (same) text.Append(Chance(0.8) ? ", Padding = Pad.Same" : ", Padding = -1");
                else if (p != 0 || Chance(0.2)) text.Append(p != 0 || Chance(0.5) ? $", Padding = {p}" : ", Padding = Pad.Valid");
                if (groups != 1 || Chance(0.1)) text.Append($", Groups = {groups}");
                if (Chance(0.2)) text.Append(", Bias = false");
                text.Append(')');
                _cost += (long)k * k * (s.C / groups) * filters * oh * ow;
                return (text.ToString(), Shape.Map(filters, oh, ow));
            }
            return null;
        }

        private (string Text, Shape Out)? Pool(Shape s)
        {
            for (int attempt = 0; attempt < 6; attempt++)
            {
                int k = Next(1, 4);
                bool strideGiven = Chance(0.5);
                int stride = strideGiven ? Next(1, 3) : k;
                bool same = k % 2 == 1 && Chance(0.15);
                int p = same ? (k - 1) / 2 : Chance(0.6) ? 0 : Next(0, k / 2);
                bool ceil = Chance(0.25);
                int oh = NetworkFuzzer.Dim(s.H, k, stride, p, ceil), ow = NetworkFuzzer.Dim(s.W, k, stride, p, ceil);
                if (oh < 1 || ow < 1) continue;
                var text = new StringBuilder($"{Pick("MaxPool2D", "AvgPool2D")}({k}");
                if (strideGiven) text.Append($", Stride = {stride}");
                else if (Chance(0.1)) text.Append(", Stride = 0");
                if (same) text.Append(", Padding = Pad.Same");
                else if (p != 0) text.Append($", Padding = {p}");
                if (ceil) text.Append(", CeilMode = true");
                text.Append(')');
                return (text.ToString(), Shape.Map(s.C, oh, ow));
            }
            return null;
        }

        /// <summary>A layer or structure that keeps <paramref name="s"/> a map (or turns it into a vector), valid by construction.</summary>
        private (string, Shape) MapLayer(Shape s, bool topLevel)
        {
            int choice = Next(0, topLevel ? 19 : 9);
            switch (choice)
            {
                case 0:
                case 1:
                case 2:
                    if (Conv(s) is { } c) return (c.Text, c.Out);
                    break;
                case 3:
                case 4:
                    if (Pool(s) is { } p) return (p.Text, p.Out);
                    break;
                case 5: return ("ReLU", s);
                case 6: return ($"Dropout({F(Next(0, 9) / 10.0)})", s);
                case 7: return (Chance(0.5) ? "BatchNorm" : $"BatchNorm(Epsilon = 0.001, Momentum = {F(Next(1, 9) / 10.0)})", s);
                case 8:
                    return (Chance(0.5) ? $"LocalResponseNorm({Next(1, 5)})" : $"LocalResponseNorm({Next(1, 5)}, Alpha = 0.001, Beta = {F(Next(0, 10) / 10.0)}, K = 2)", s);
                case 9: return (Pick("ReLU", "Use<Identity>", "Residual<Identity>"), s);
                case 10: return UseBlock(s);
                case 11: return ResidualIdentity(s);
                case 12: return ResidualProjection(s);
                case 13: return ConcatBranches(s);
                case 14: return BasicOrBottleneck(s);
                case 15: return Inception(s);
                case 16: return DenseBlock(s);
                case 17:
                    if (s.H >= 2 && s.W >= 2)
                    {
                        double compression = Pick(0.5, 0.25, 1.0, 0.75);
                        int filters = Math.Max(1, (int)Math.Floor(s.C * compression));
                        _cost += (long)s.C * filters * s.H * s.W;
                        return (compression == 0.5 && Chance(0.5) ? "Transition" : $"Transition(Compression = {F(compression)})", Shape.Map(filters, s.H / 2, s.W / 2));
                    }
                    break;
                case 18:
                    if (s.H >= 5 && s.W >= 5 && !_hasAux)
                    {
                        _hasAux = true;
                        int a = (s.H - 5) / 3 + 1, b = (s.W - 5) / 3 + 1;
                        _cost += 128L * s.C * a * b + 128L * a * b * 1024 + 1024 * 16;
                        return (Pick("AuxClassifier", "AuxClassifier(Weight = 0.5)", "AuxClassifier(BatchNorm = true, Dropout = 0.2)"), s);
                    }
                    break;
                case 19:
                    if (s.Size <= 4096) return ("Flatten", Shape.Vec(s.Size));
                    return ("GlobalAvgPool", Shape.Vec(s.C));
            }
            return ("ReLU", s);
        }

        // ------------------------------------------------------------------ blocks

        private string Block(string parameters, IEnumerable<string> layers, bool isBlock = true)
        {
            string name = "B" + (++_blockCount).ToString(CultureInfo.InvariantCulture);
            var text = new StringBuilder();
            if (isBlock) text.Append(parameters.Length == 0 && Chance(0.5) ? "[Block]\n" : $"[Block({parameters})]\n");
            foreach (string list in Group(layers.ToList())) text.Append(list).Append('\n');
            text.Append(Pick($"public class {name};", $"public sealed class {name} {{ }}", $"internal class {name};")).Append('\n');
            _blocks.Add(text.ToString());
            return name;
        }

        /// <summary>Attribute lists of 1-4 attributes each.</summary>
        private List<string> Group(List<string> layers)
        {
            var lists = new List<string>();
            for (int i = 0; i < layers.Count;)
            {
                int n = Math.Min(layers.Count - i, Next(1, 4));
                lists.Add("[" + string.Join(Pick(", ", ",", " , "), layers.GetRange(i, n)) + "]");
                i += n;
            }
            return lists;
        }

        /// <summary>Use&lt;B&gt;(filters[, stride]) with B = Conv2D("filters", k, Stride = "stride", Padding = p), ReLU.</summary>
        private (string, Shape) UseBlock(Shape s)
        {
            int k = Pick(1, 3), p = k / 2;
            int filters = Next(1, 6);
            bool strideGiven = Chance(0.5);
            int stride = strideGiven ? Next(1, 2) : 1;
            int repeat = Chance(0.3) ? Next(2, 3) : 1;
            Shape x = s;
            for (int i = 0; i < repeat; i++)
            {
                int oh = NetworkFuzzer.Dim(x.H, k, stride, p, false), ow = NetworkFuzzer.Dim(x.W, k, stride, p, false);
                if (oh < 1 || ow < 1) return ("ReLU", s);
                _cost += (long)k * k * x.C * filters * oh * ow;
                x = Shape.Map(filters, oh, ow);
            }
            bool nested = Chance(0.3);
            string name;
            if (nested)
            {
                // The outer block passes its parameters on to an inner one by name.
                string inner = Block("\"f\", \"st\"", new[] { $"Conv2D(\"f\", {k}, Stride = \"st\", Padding = {p})" });
                name = Block("\"filters\", \"stride = 1\"", new[] { $"Use<{inner}>(\"filters\", \"stride\")", "ReLU" });
            }
            else
            {
                name = Block("\"filters\", \"stride = 1\"", new[] { $"Conv2D(\"filters\", {k}, Stride = \"stride\", Padding = {p})", "ReLU" });
            }
            string args = strideGiven ? $"{filters}, {stride}" : $"{filters}";
            string rep = repeat > 1 ? $", Repeat = {repeat}" : "";
            return ($"Use<{name}>({args}{rep})", x);
        }

        /// <summary>Residual&lt;B&gt;: a body that keeps the shape (3x3 same-padded convs with C filters, BN, ReLU).</summary>
        private (string, Shape) ResidualIdentity(Shape s)
        {
            var layers = new List<string>();
            int n = Next(1, 3);
            bool param = Chance(0.5);
            for (int i = 0; i < n; i++)
            {
                layers.Add(Pick($"Conv2D({(param ? "\"c\"" : s.C.ToString(CultureInfo.InvariantCulture))}, 3, Padding = Pad.Same)", "BatchNorm", "ReLU",
                    $"Conv2D({(param ? "\"c\"" : s.C.ToString(CultureInfo.InvariantCulture))}, 1)", "MaxPool2D(3, Stride = 1, Padding = 1)", "Dropout(0.1)"));
                _cost += 9L * s.C * s.C * s.H * s.W;
            }
            string body = Block(param ? "\"c\"" : "", layers);
            int repeat = Chance(0.3) ? 2 : 1;
            string args = param ? s.C.ToString(CultureInfo.InvariantCulture) : "";
            string rep = repeat > 1 ? (args.Length > 0 ? ", " : "") + "Repeat = 2" : "";
            string call = args.Length + rep.Length == 0 && Chance(0.5) ? $"Residual<{body}>" : $"Residual<{body}>({args}{rep})";
            if (Chance(0.2)) call = $"Residual<{body}, Identity>({args}{rep})";
            _cost *= repeat;
            return (call, s);
        }

        /// <summary>Residual&lt;Body, Shortcut&gt;(w, s): a strided body and a 1x1 strided projection of the same shape.</summary>
        private (string, Shape) ResidualProjection(Shape s)
        {
            int w = Next(1, 6), stride = Next(1, 2);
            int oh = NetworkFuzzer.Dim(s.H, 3, stride, 1, false), ow = NetworkFuzzer.Dim(s.W, 3, stride, 1, false);
            string body = Block("\"w\", \"s\"", new[] { "Conv2D(\"w\", 3, Stride = \"s\", Padding = 1)", "BatchNorm", "ReLU" });
            string shortcut = Block("\"w\", \"s\"", new[] { "Conv2D(\"w\", 1, Stride = \"s\")" });
            _cost += 10L * s.C * w * oh * ow;
            return ($"Residual<{body}, {shortcut}>({w}, {stride})", Shape.Map(w, oh, ow));
        }

        /// <summary>Concat of 2-4 branches that keep the spatial size.</summary>
        private (string, Shape) ConcatBranches(Shape s)
        {
            int n = Next(2, 4);
            bool param = Chance(0.4);
            int f = Next(1, 4);
            var names = new List<string>();
            int channels = 0;
            for (int i = 0; i < n; i++)
            {
                switch (Next(0, 3))
                {
                    case 0:
                        names.Add("Identity");
                        channels += s.C;
                        break;
                    case 1:
                        int k = Pick(1, 3, 5);
                        names.Add(Block(param ? "\"f\"" : "", new[] { $"Conv2D({(param ? "\"f\"" : f.ToString(CultureInfo.InvariantCulture))}, {k}, Padding = Pad.Same)", "ReLU" }));
                        channels += f;
                        _cost += (long)k * k * s.C * f * s.H * s.W;
                        break;
                    case 2:
                        names.Add(Block(param ? "\"f\"" : "", new[] { Pick("MaxPool2D(3, Stride = 1, Padding = 1)", "AvgPool2D(1)", "BatchNorm", "LocalResponseNorm(3)") }));
                        channels += s.C;
                        break;
                    default:
                        // Two layers: a 1x1 reduce, then a same-padded 3x3.
                        names.Add(Block(param ? "\"f\"" : "", new[] { $"Conv2D({(param ? "\"f\"" : f.ToString(CultureInfo.InvariantCulture))}, 1)", $"Conv2D({f + 1}, 3, Padding = 1)" }));
                        channels += f + 1;
                        _cost += (long)s.C * f * s.H * s.W + 9L * f * (f + 1) * s.H * s.W;
                        break;
                }
            }
            string args = param ? f.ToString(CultureInfo.InvariantCulture) : "";
            return ($"Concat<{string.Join(", ", names)}>({args})", Shape.Map(channels, s.H, s.W));
        }

        private (string, Shape) BasicOrBottleneck(Shape s)
        {
            int width = Next(1, 6), stride = Pick(1, 1, 2), repeat = Pick(1, 1, 2);
            int oh = NetworkFuzzer.Dim(s.H, 3, stride, 1, false), ow = NetworkFuzzer.Dim(s.W, 3, stride, 1, false);
            var text = new StringBuilder();
            int outC;
            if (Chance(0.5))
            {
                text.Append($"BasicBlock({width}");
                outC = width;
            }
            else
            {
                int expansion = Pick(4, 1, 2);
                text.Append($"Bottleneck({width}");
                if (expansion != 4 || Chance(0.2)) text.Append($", Expansion = {expansion}");
                outC = width * expansion;
            }
            if (stride != 1 || Chance(0.2)) text.Append($", Stride = {stride}");
            if (repeat != 1 || Chance(0.2)) text.Append($", Repeat = {repeat}");
            text.Append(')');
            _cost += 20L * Math.Max(s.C, outC) * outC * oh * ow * repeat;
            return (text.ToString(), Shape.Map(outC, oh, ow));
        }

        private (string, Shape) Inception(Shape s)
        {
            int[] c = Enumerable.Range(0, 6).Select(_ => Next(1, 4)).ToArray();
            int large = Pick(5, 3, 1);
            var text = new StringBuilder($"Inception({string.Join(", ", c)}");
            if (large != 5) text.Append($", LargeKernel = {large}");
            if (Chance(0.4)) text.Append(", BatchNorm = true");
            text.Append(')');
            _cost += (long)(s.C * (c[0] + c[1] + c[3] + c[5]) + 9 * c[1] * c[2] + large * large * c[3] * c[4]) * s.H * s.W;
            return (text.ToString(), Shape.Map(c[0] + c[2] + c[4] + c[5], s.H, s.W));
        }

        private (string, Shape) DenseBlock(Shape s)
        {
            int layers = Next(1, 3), growth = Next(1, 4), width = Next(1, 2);
            string text = Chance(0.3) ? $"DenseBlock({layers}, GrowthRate = {growth}, BottleneckWidth = {width})" : $"DenseBlock({layers}, GrowthRate = {growth})";
            if (!text.Contains("BottleneckWidth", StringComparison.Ordinal)) width = 4;
            int c = s.C;
            for (int i = 0; i < layers; i++)
            {
                _cost += ((long)c * width * growth + 9L * width * growth * growth) * s.H * s.W;
                c += growth;
            }
            return (text, Shape.Map(c, s.H, s.W));
        }

        // ------------------------------------------------------------------ writing the file

        private string Render(string networkAttribute, List<string> layers, string classLine, string? wrapper = null)
        {
            var text = new StringBuilder();
            text.Append(Pick("using CnnGen;\n", "using CnnGen;\nusing System;\n"));
            text.Append($"namespace {_ns};\n\n");
            foreach (string block in _blocks) text.Append(block).Append('\n');
            var network = new StringBuilder();
            if (networkAttribute.Length > 0)
            {
                // The [Network] attribute alone, or sharing its list with the first layers.
                if (layers.Count > 0 && Chance(0.2))
                {
                    int n = Math.Min(layers.Count, Next(1, 2));
                    network.Append("[" + networkAttribute + ", " + string.Join(", ", layers.Take(n)) + "]\n");
                    layers = layers.Skip(n).ToList();
                }
                else network.Append("[" + networkAttribute + "]\n");
            }
            foreach (string list in Group(layers)) network.Append(list).Append('\n');
            network.Append(classLine).Append('\n');
            text.Append(wrapper is null ? network.ToString() : wrapper.Replace("$", network.ToString(), StringComparison.Ordinal));
            return text.ToString();
        }

        private static string NetworkAttribute(Shape input, string? channels = null) =>
            $"Network(Channels = {channels ?? input.C.ToString(CultureInfo.InvariantCulture)}, Height = {input.H}, Width = {input.W})";

        private string ClassLine() => Pick("public partial class Net;", "public partial class Net { }", "internal partial class Net;", "public sealed partial class Net { public int Extra => 1; }");

        public FuzzCase Valid(int seed, int index)
        {
            Shape input = RandomInput();
            var (steps, output, softmax) = ValidSequence(input, Next(1, 4));
            string source = Render(NetworkAttribute(input), steps.ConvertAll(s => s.Text), ClassLine());
            return new FuzzCase(seed, index, _ns, source, Expectation.Valid, "valid", output.Size, softmax, _cost, Array.Empty<string>());
        }

        // ------------------------------------------------------------------ DSL mistakes (CNN diagnostics)

        public FuzzCase DslMistake(int seed, int index)
        {
            Shape input = RandomInput();
            var (steps, output, _) = ValidSequence(input, Next(0, 5));
            var layers = steps.ConvertAll(s => s.Text);
            string networkAttribute = NetworkAttribute(input);
            string classLine = ClassLine();
            string? wrapper = null;
            // Where the mistake goes, and the shape there.
            int at = Next(0, steps.Count);
            Shape here = at < steps.Count ? steps[at].Before : output;
            // A softmax at the end would itself be misplaced once something is inserted after it.
            if (at == steps.Count && steps.Count > 0 && steps[^1].Text == "Softmax") { at--; here = steps[at].Before; }
            string kind;
            string[] ids;
            string? insert = null;
            int mistake = Next(0, 32);
            switch (mistake)
            {
                case 0 when !here.V:
                    kind = "conv-kernel-too-big";
                    insert = $"Conv2D(2, {Math.Max(here.H, here.W) + Next(1, 3)})";
                    ids = new[] { "CNN0002" };
                    break;
                case 1 when !here.V:
                    kind = "pool-window-too-big";
                    insert = $"{Pick("MaxPool2D", "AvgPool2D")}({Math.Max(here.H, here.W) + Next(1, 2)}, Stride = 1)";
                    ids = new[] { "CNN0002" };
                    break;
                case 2 when !here.V:
                    kind = "conv-argument-out-of-range";
                    insert = Pick("Conv2D(0, 1)", "Conv2D(-3, 1)", "Conv2D(2, 0)", "Conv2D(2, 1, Stride = 0)", "Conv2D(2, 1, Stride = -1)",
                        "Conv2D(2, 1, Groups = 0)", "Conv2D(2, 1, Padding = -2)", "Conv2D(2, 2, Padding = Pad.Same)", "Conv2D(2.5, 1)",
                        "Conv2D(2, 1, Stride = 1.5)", "Conv2D('a', 1)", "Conv2D(null, 1)", "Conv2D(typeof(int), 1)", "Conv2D(new[] { 1 }, 1)",
                        "Conv2D(2, 1, Padding = null)", "Conv2D(2, 1e10)", "Conv2D(double.NaN, 1)", "Conv2D(true, 1)", "Conv2D(2, 1, Groups = false)");
                    ids = new[] { "CNN0003" };
                    break;
                case 3 when !here.V:
                    kind = "pool-argument-out-of-range";
                    insert = Pick("MaxPool2D(0)", "AvgPool2D(-1)", "MaxPool2D(2, Stride = -1)", "MaxPool2D(2, Padding = 2)", "AvgPool2D(1, Padding = 1)",
                        "MaxPool2D(2, Padding = Pad.Same)", "AvgPool2D(2, Padding = -3)", "MaxPool2D(1.5)");
                    ids = new[] { "CNN0003" };
                    break;
                case 4:
                    kind = "layer-argument-out-of-range";
                    insert = Pick("Dropout(1.0)", "Dropout(-0.1)", "Dropout(1)", "Dropout(double.PositiveInfinity)", "Dropout(double.NaN)", "BatchNorm(Epsilon = 0)",
                        "BatchNorm(Momentum = 1.5)", "BatchNorm(Epsilon = double.NaN)", "Dropout(null)");
                    ids = new[] { "CNN0003" };
                    break;
                case 5 when !here.V:
                    kind = "lrn-argument-out-of-range";
                    insert = Pick("LocalResponseNorm(0)", "LocalResponseNorm(-2)", "LocalResponseNorm(3, K = 0)", "LocalResponseNorm(3, Beta = -1)", "LocalResponseNorm(3, Alpha = -0.5)");
                    ids = new[] { "CNN0003" };
                    break;
                case 6 when here.V:
                    kind = "dense-argument-out-of-range";
                    insert = Pick("Dense(0)", "Dense(-4)", "Dense(2.5)", "Dense(null)");
                    ids = new[] { "CNN0003" };
                    break;
                case 7 when !here.V:
                    kind = "groups-mismatch";
                    if (here.C > 1 && Chance(0.5))
                    {
                        int g = Divisors(here.C).Where(d => d > 1).First();
                        insert = $"Conv2D({g * Next(1, 2) + 1}, 1, Groups = {g})";
                    }
                    else insert = $"Conv2D({(here.C + 1) * 2}, 1, Groups = {here.C + 1})";
                    ids = new[] { "CNN0004" };
                    break;
                case 8 when !here.V:
                    kind = "dense-on-map";
                    insert = $"Dense({Next(1, 8)})";
                    ids = new[] { "CNN0005" };
                    break;
                case 9 when here.V:
                    kind = "spatial-layer-on-vector";
                    insert = Pick("Conv2D(2, 1)", "MaxPool2D(1)", "AvgPool2D(1)", "Flatten", "GlobalAvgPool", "LocalResponseNorm(3)", "BasicBlock(2)",
                        "Bottleneck(2)", "Inception(1, 1, 1, 1, 1, 1)", "DenseBlock(1, GrowthRate = 2)", "Transition");
                    ids = new[] { "CNN0010" };
                    break;
                case 10 when at < steps.Count:
                    kind = "softmax-not-last";
                    insert = "Softmax";
                    ids = new[] { "CNN0011" };
                    break;
                case 11:
                    kind = "softmax-inside-block";
                    insert = $"Use<{Block("", new[] { "ReLU", "Softmax" })}>";
                    ids = new[] { "CNN0011" };
                    break;
                case 12:
                    kind = "no-layers";
                    layers.Clear();
                    at = 0;
                    ids = new[] { "CNN0012" };
                    break;
                case 13:
                    kind = "missing-input";
                    networkAttribute = Pick("Network", "Network()", $"Network(Channels = {input.C}, Height = {input.H})", NetworkAttribute(input, "0"),
                        NetworkAttribute(input, "-1"), $"Network(Channels = 1, Height = 0, Width = {input.W})", $"Network(Width = 4, Height = 4)");
                    ids = new[] { "CNN0001" };
                    break;
                case 14:
                    kind = "not-partial";
                    classLine = Pick("public class Net { }", "internal sealed class Net { }");
                    ids = new[] { "CNN0006" };
                    break;
                case 15:
                    kind = "generic";
                    classLine = Pick("public partial class Net<T> { }", "public partial class Net<T, U> where T : class { }");
                    ids = new[] { "CNN0007" };
                    break;
                case 16:
                    kind = "nested";
                    wrapper = Pick("public partial class Outer\n{\n$}\n", "public static partial class Outer\n{\n    internal partial class Middle\n    {\n$    }\n}\n");
                    ids = new[] { "CNN0008" };
                    break;
                case 17 when !here.V:
                    kind = "residual-shape-mismatch";
                    string body = Block("", new[] { Pick($"Conv2D({here.C + 1}, 1)", here.H > 1 && here.W > 1 ? "MaxPool2D(2)" : $"Conv2D({here.C + 1}, 1)", "GlobalAvgPool") });
                    insert = Chance(0.5) ? $"Residual<{body}>" : $"Residual<Identity, {body}>";
                    ids = new[] { "CNN0013" };
                    break;
                case 18 when !here.V && here.H >= 2 && here.W >= 2:
                    kind = "concat-size-mismatch";
                    string narrow = Block("", new[] { Pick("MaxPool2D(2)", "AvgPool2D(2, Stride = 1)", here.H >= 3 && here.W >= 3 ? "Conv2D(2, 3)" : "MaxPool2D(2)") });
                    insert = Pick($"Concat<{narrow}, Identity>", $"Concat<Identity, Identity, {narrow}>", $"Concat<{narrow}, {Block("", new[] { "Flatten" })}>");
                    ids = new[] { "CNN0014" };
                    break;
                case 19:
                    kind = "block-cycle";
                    string self = "B" + (_blockCount + 1).ToString(CultureInfo.InvariantCulture);
                    if (Chance(0.5))
                    {
                        Block("", new[] { "ReLU", Pick($"Use<{self}>", $"Residual<{self}>", $"Concat<Identity, {self}>") });
                        insert = $"Use<{self}>";
                    }
                    else
                    {
                        // B(n+1) -> B(n+2) -> B(n+1)
                        string other = "B" + (_blockCount + 2).ToString(CultureInfo.InvariantCulture);
                        Block("", new[] { $"Use<{other}>" });
                        Block("", new[] { "ReLU", $"Use<{self}>" });
                        insert = Pick($"Use<{self}>", $"Residual<{other}>");
                    }
                    ids = new[] { "CNN0015" };
                    break;
                case 20:
                    kind = "unknown-block-parameter";
                    insert = $"Use<{Block("\"width\"", new[] { Pick("Conv2D(\"widht\", 1)", "Dropout(\"rate\")", "Conv2D(\"width\", 1, Stride = \"stride\")", "Dense(\"wdth\")") })}>(2)";
                    ids = new[] { "CNN0016" };
                    break;
                case 21:
                    kind = "malformed-block-parameters";
                    insert = $"Use<{Block(Pick("\"1x\"", "\"\"", "\"w\", \"w\"", "\"s = abc\"", "\"a b\"", "\" = 3\"", "(string)null", "null", "\"w=\""), new[] { "ReLU" })}>";
                    ids = new[] { "CNN0016", "CNN0017" };
                    break;
                case 22:
                    kind = "name-outside-block";
                    insert = Pick(here.V ? "Dense(\"units\")" : "Conv2D(\"filters\", 3)", "Dropout(\"rate\")", here.V ? "Dense(4, Bias = true)".Replace("4", "\"n\"") : "MaxPool2D(\"w\")");
                    ids = new[] { "CNN0016" };
                    break;
                case 23:
                    kind = "block-arguments";
                    string b = Block("\"a\", \"b = 1\"", new[] { "ReLU" });
                    insert = Pick($"Use<{b}>", $"Use<{b}>(1, 2, 3)", $"Residual<{b}>(1, 2, 3, 4)", $"Concat<{b}, Identity>()");
                    ids = new[] { "CNN0017" };
                    break;
                case 24:
                    kind = "not-a-block";
                    string plain = Block("", new[] { "ReLU" }, isBlock: false);
                    insert = Pick($"Use<{plain}>", $"Residual<{plain}>", $"Concat<Identity, {plain}>", "Use<int>", "Use<string[]>", "Residual<Net>",
                        "Use<System.Collections.Generic.List<int>>", "Concat<Identity, System.Random>");
                    ids = new[] { "CNN0018" };
                    break;
                case 25:
                    kind = "aux-without-classes";
                    layers = new List<string> { "Conv2D(2, 1)", "AuxClassifier", "ReLU" };
                    networkAttribute = NetworkAttribute(Shape.Map(input.C, Math.Max(5, input.H), Math.Max(5, input.W)));
                    at = layers.Count;
                    ids = new[] { "CNN0019" };
                    break;
                case 26 when !here.V:
                    kind = "builtin-block-arguments";
                    insert = Pick("BasicBlock(0)", "BasicBlock(2, Stride = 0)", "BasicBlock(2, Repeat = 0)", "Bottleneck(2, Expansion = 0)", "Bottleneck(-1)",
                        "Inception(1, 1, 1, 1, 1, 1, LargeKernel = 4)", "Inception(0, 1, 1, 1, 1, 1)", "Inception(1, 1, 1, 1, 1, 1, LargeKernel = 0)",
                        "DenseBlock(0)", "DenseBlock(2, GrowthRate = 0)", "DenseBlock(1, BottleneckWidth = -1)", "Transition(Compression = 0)",
                        "Transition(Compression = 1.5)", "Transition(Compression = double.NaN)", "AuxClassifier(Weight = -1)", "AuxClassifier(Dropout = 1)");
                    ids = new[] { "CNN0003" };
                    break;
                case 27:
                    kind = "repeat-out-of-range";
                    string r = Block("", new[] { "ReLU" });
                    insert = Pick($"Use<{r}>(Repeat = 0)", $"Residual<{r}>(Repeat = -1)", $"Concat<{r}, Identity>(Repeat = 0)");
                    ids = new[] { "CNN0003" };
                    break;
                case 28:
                    kind = "block-use-site-argument";
                    string u = Block("\"n\"", new[] { here.V ? "Dense(\"n\")" : "Conv2D(\"n\", 1)" });
                    insert = Pick($"Use<{u}>(\"n\")", $"Use<{u}>(null)", $"Use<{u}>(typeof(int))", $"Use<{u}>(0)", $"Use<{u}>(1.5)", $"Use<{u}>(-2)");
                    ids = new[] { "CNN0003", "CNN0016" };
                    break;
                case 29 when !here.V:
                    kind = "mistake-inside-nested-block";
                    string inner = Block("\"k\"", new[] { "Conv2D(2, \"k\")" });
                    string outer = Block("\"k\"", new[] { "ReLU", $"Use<{inner}>(\"k\")" });
                    insert = $"Use<{outer}>({Math.Max(here.H, here.W) + 1})";
                    ids = new[] { "CNN0002" };
                    break;
                case 30 when !here.V && here.H < 5:
                    kind = "aux-on-small-map";
                    insert = "AuxClassifier";
                    // The classifier goes before a trailing Softmax (after it would be CNN0011, a different mistake).
                    layers.InsertRange(layers.Count > 0 && layers[^1] == "Softmax" ? layers.Count - 1 : layers.Count,
                        new[] { "GlobalAvgPool", "Dense(3)" }.Where(_ => !output.V));
                    ids = new[] { "CNN0002", "CNN0019" };
                    break;
                default:
                    kind = "dense-on-map";
                    if (here.V) { insert = "Conv2D(2, 1)"; ids = new[] { "CNN0010" }; kind = "spatial-layer-on-vector"; }
                    else { insert = "Dense(3)"; ids = new[] { "CNN0005" }; }
                    break;
            }
            if (insert is not null) layers.Insert(Math.Min(at, layers.Count), insert);
            string source = Render(networkAttribute, layers, classLine, wrapper);
            return new FuzzCase(seed, index, _ns, source, Expectation.CnnError, kind, 0, false, 0, ids);
        }

        // ------------------------------------------------------------------ C# mistakes (compiler errors)

        public FuzzCase CSharpMistake(int seed, int index)
        {
            Shape input = RandomInput();
            var (steps, _, _) = ValidSequence(input, Next(1, 4));
            var layers = steps.ConvertAll(s => s.Text);
            string kind;
            string bad = Pick(
                // binding errors: missing, extra, wrong-typed, unknown arguments
                "Conv2D(4)", "Conv2D()", "Dense()", "Dropout", "MaxPool2D", "LocalResponseNorm", "Inception(1, 2, 3)", "BasicBlock", "DenseBlock",
                "Dropout(0.5, 2)", "ReLU(1)", "Flatten(2)", "Softmax(true)", "GlobalAvgPool(1)",
                "Conv2D(4, 3, Bias = 1)", "MaxPool2D(2, CeilMode = \"yes\")", "LocalResponseNorm(\"5\")", "BasicBlock(\"w\")", "Transition(Compression = \"x\")",
                "Conv2D(4, 3, Strides = 2)", "Dense(4, bias: false)", "BatchNorm(Epsilon = \"small\")", "AuxClassifier(Weight = null)",
                "Use<Missing>", "Residual<Missing, Identity>", "Concat<Identity>", "Use<Identity, Identity>", "Conv2D(4, 3, Stride = int.Parse(\"2\"))",
                "Conv2D(new object(), 3)", "Dense(System.Environment.ProcessorCount)", "Conv2D(4, 3, Padding = Pad.Sam)");
            kind = "binding";
            string? raw = null;
            if (Chance(0.4))
            {
                kind = "syntax";
                raw = Pick("[Conv2D(4, 3,]", "[Conv2D(4 3)]", "[Conv2D(4, 3, Stride = )]", "[ReLU,, Flatten]", "[Dense(10) Softmax]", "[Conv2D(4, 3))]",
                    "[Conv2D(4, \"3)]", "[Conv2D(4, 3]", "[Conv2D(4, 3, Padding = Pad.)]", "[Dense(1 +)]", "[Use<>]", "[Residual<Identity,>]",
                    "[Concat<Identity Identity>]", "[Dropout(0.5 0.5)]", "[Conv2D(4, 3) /* unterminated ]", "[ReLU]]", "[[ReLU]");
            }
            int at = Next(0, layers.Count);
            var lists = Group(layers);
            string insertList = raw ?? "[" + bad + "]";
            lists.Insert(Math.Min(at, lists.Count), insertList);
            var text = new StringBuilder();
            text.Append("using CnnGen;\n");
            text.Append($"namespace {_ns};\n\n");
            foreach (string block in _blocks) text.Append(block).Append('\n');
            text.Append('[').Append(NetworkAttribute(input)).Append("]\n");
            foreach (string list in lists) text.Append(list).Append('\n');
            text.Append(ClassLine()).Append('\n');
            return new FuzzCase(seed, index, _ns, text.ToString(), Expectation.CompilerError, kind + ": " + insertList, 0, false, 0, Array.Empty<string>());
        }

        // ------------------------------------------------------------------ extreme sizes

        public FuzzCase Extreme(int seed, int index)
        {
            string network = Pick(
                "Network(Channels = 3, Height = 100000, Width = 100000)", "Network(Channels = int.MaxValue, Height = 1, Width = 1)",
                "Network(Channels = 65536, Height = 65536, Width = 2)", "Network(Channels = 1, Height = 1, Width = 1)",
                "Network(Channels = 2, Height = 46341, Width = 46341)", "Network(Channels = 1, Height = int.MaxValue, Width = int.MaxValue)");
            var layers = new List<string>();
            int n = Next(1, 4);
            for (int i = 0; i < n; i++)
                layers.Add(Pick("Conv2D(100000, 3)", "Conv2D(1, 1)", "Flatten", "Dense(int.MaxValue)", "Dense(1 << 20)", "GlobalAvgPool", "MaxPool2D(int.MaxValue)",
                    "Conv2D(1, 1, Padding = int.MaxValue)", "Conv2D(1, 3, Stride = int.MaxValue)", "AvgPool2D(1, Stride = int.MaxValue)", "ReLU",
                    "Dense(100000)", "Conv2D(1, 1, Padding = 1073741824)", "BasicBlock(int.MaxValue)", "DenseBlock(100000, GrowthRate = 100000)",
                    "Inception(int.MaxValue, 1, 1, 1, 1, 1)", "Conv2D(65536, 1, Groups = 65536)", "Transition(Compression = 1e-300)"));
            string source = Render(network, layers, ClassLine());
            return new FuzzCase(seed, index, _ns, source, Expectation.Either, "extreme", 0, false, long.MaxValue, Array.Empty<string>());
        }
    }
}
