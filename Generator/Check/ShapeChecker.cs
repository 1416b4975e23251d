// Check (and Lower): NetworkSpec -> CheckResult. Expands blocks (user [Block]s with their use-site arguments, and
// the literature's built-in blocks) into a graph of primitive operations in execution order, infers every node's
// shape, parameter count and FLOPs, and reports each mistake as a diagnostic that names the layer, the shape it gets
// and the arithmetic that failed. A pure function shared by the generator and the analyzer; it never throws
// (unexpected states become CNN0099).
using System;
using System.Collections.Generic;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Check
{
    internal static class ShapeChecker
    {
        public static CheckResult Check(NetworkSpec spec)
        {
            var diagnostics = new List<DiagnosticInfo>();
            try
            {
                CheckedNetwork? network = null;
                if (CheckDeclaration(spec, diagnostics))
                {
                    // Pass 1 finds the number of classes; auxiliary classifiers need it, so a second pass builds them.
                    var first = new Lowering(spec, diagnostics, classes: -1);
                    network = first.Run();
                    if (network is not null && first.SawAuxClassifier)
                    {
                        diagnostics.Clear();
                        network = new Lowering(spec, diagnostics, classes: network.Layers[network.Heads[0].Logits].Output).Run();
                    }
                }
                bool hasError = diagnostics.Exists(d => DiagnosticDescriptors.ForId(d.Id).DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
                return new CheckResult(hasError ? null : network, diagnostics.ToEquatableArray());
            }
            catch (Exception e)
            {
                diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.InternalError.Id, spec.NetworkLocation,
                    $"CnnGen could not check network '{spec.ClassName}': {e.GetType().Name}: {e.Message}. Please report this declaration."));
                return new CheckResult(null, diagnostics.ToEquatableArray());
            }
        }

        private static bool CheckDeclaration(NetworkSpec spec, List<DiagnosticInfo> diagnostics)
        {
            int before = diagnostics.Count;
            if (!spec.IsPartial)
                diagnostics.Add(new(DiagnosticDescriptors.NotPartial.Id, spec.ClassLocation,
                    $"Network class '{spec.ClassName}' must be declared partial: the generator adds Forward, Backward and TrainStep to it"));
            if (spec.IsGeneric)
                diagnostics.Add(new(DiagnosticDescriptors.Generic.Id, spec.ClassLocation,
                    $"Network class '{spec.ClassName}' must not be generic: its shapes are compile-time constants"));
            if (spec.ContainingType.Length > 0)
                diagnostics.Add(new(DiagnosticDescriptors.Nested.Id, spec.ClassLocation,
                    $"Network class '{spec.ClassName}' is nested in '{spec.ContainingType}'; declare it at namespace level"));
            if (spec.Channels < 1 || spec.Height < 1 || spec.Width < 1)
                diagnostics.Add(new(DiagnosticDescriptors.MissingInput.Id, spec.NetworkLocation,
                    $"[Network] on '{spec.ClassName}' must give the input shape with Channels, Height and Width of at least 1 " +
                    $"(got Channels = {spec.Channels}, Height = {spec.Height}, Width = {spec.Width})"));
            else if (2.0 * spec.Channels * spec.Height * spec.Width > Lowering.MaxFloats)
                diagnostics.Add(new(DiagnosticDescriptors.InvalidArgument.Id, spec.NetworkLocation,
                    $"[Network] on '{spec.ClassName}' gives an input of {((double)spec.Channels * spec.Height * spec.Width).ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} floats per image " +
                    $"(Channels = {spec.Channels}, Height = {spec.Height}, Width = {spec.Width}); a network's memory plan addresses at most {Lowering.MaxFloats.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)}"));
            if (spec.Layers.Count == 0)
                diagnostics.Add(new(DiagnosticDescriptors.NoLayers.Id, spec.NetworkLocation,
                    $"Network '{spec.ClassName}' declares no layers; add layer attributes such as [Conv2D(32, 3)] after [Network]"));
            return diagnostics.Count == before;
        }

        public static string NamePrefix(LayerKind kind) => kind switch
        {
            LayerKind.Conv2D => "conv",
            LayerKind.MaxPool2D => "maxpool",
            LayerKind.AvgPool2D => "avgpool",
            LayerKind.GlobalAvgPool => "gap",
            LayerKind.Flatten => "flatten",
            LayerKind.Dense => "dense",
            LayerKind.ReLU => "relu",
            LayerKind.Dropout => "dropout",
            LayerKind.Softmax => "softmax",
            LayerKind.BatchNorm => "bn",
            LayerKind.LocalResponseNorm => "lrn",
            LayerKind.Add => "add",
            LayerKind.Concat => "concat",
            LayerKind.Use => "use",
            LayerKind.Residual => "residual",
            LayerKind.Branches => "concat",
            LayerKind.BasicBlock => "basicblock",
            LayerKind.Bottleneck => "bottleneck",
            LayerKind.Inception => "inception",
            LayerKind.DenseBlock => "denseblock",
            LayerKind.Transition => "transition",
            LayerKind.AuxClassifier => "aux",
            _ => "layer",
        };
    }

    /// <summary>The values of one primitive layer after block parameters are bound.</summary>
    internal struct Resolved
    {
        public int Size, Kernel, Stride, Padding, Groups;
        public bool StrideGiven, Bias, Ceil;
        public double Rate, Eps, Momentum, Alpha, Beta, K;

        public static Resolved Defaults(LayerKind kind) => new()
        {
            Stride = 1, Groups = 1, Bias = true, Eps = 1e-5, Momentum = 0.1, Alpha = 1e-4, Beta = 0.75, K = 1.0,
        };
    }

    /// <summary>One expansion of the declaration into primitive nodes (see <see cref="ShapeChecker.Check"/>).</summary>
    internal sealed class Lowering
    {
        private readonly NetworkSpec _spec;
        private readonly List<DiagnosticInfo> _diagnostics;
        private readonly Shape? _classes;
        private readonly List<CheckedLayer> _nodes = new();
        private readonly List<HeadInfo> _auxHeads = new();
        /// <summary>Floats per image so far (activations and their gradients, im2col columns, parameters and their gradients),
        /// counted generously: the emitted memory plan addresses its arenas with 32-bit constants.</summary>
        private double _floats;
        public const double MaxFloats = int.MaxValue;
        private readonly Dictionary<string, BlockSpec> _blocks = new();

        public Lowering(NetworkSpec spec, List<DiagnosticInfo> diagnostics, Shape? classes)
        {
            _spec = spec;
            _diagnostics = diagnostics;
            _classes = classes;
            _floats = 2.0 * spec.Channels * spec.Height * spec.Width;
            foreach (BlockSpec b in spec.Blocks) _blocks[b.FullName] = b;
        }

        public Lowering(NetworkSpec spec, List<DiagnosticInfo> diagnostics, int classes) : this(spec, diagnostics, (Shape?)null) { }

        public bool SawAuxClassifier { get; private set; }

        private readonly record struct Tensor(int Node, Shape Shape);

        /// <summary>Where names and parameter bindings come from while expanding: the top level, or a block instance.</summary>
        private sealed class Scope
        {
            public string Prefix = "";
            public Dictionary<string, int> Counters = new();
            public Dictionary<string, Arg>? Bindings;
            public string BlockName = "";
            public LayerSpec? UseSite;
            public int UseNumber;
            public int Head;
            public List<string> Active = new();

            public string Next(string kind)
            {
                Counters.TryGetValue(kind, out int n);
                Counters[kind] = ++n;
                return Prefix + kind + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            public Scope Child(string prefix, Dictionary<string, Arg>? bindings, string blockName, LayerSpec useSite, int useNumber) => new()
            {
                Prefix = prefix,
                Bindings = bindings,
                BlockName = blockName,
                UseSite = UseSite ?? useSite,
                UseNumber = UseSite is null ? useNumber : UseNumber,
                Head = Head,
                Active = Active,
            };

            /// <summary>A sub-scope for a block's internal part (shortcut, branch): new counters, same bindings.</summary>
            public Scope Part(string name) => new()
            {
                Prefix = Prefix + name + ".", Bindings = Bindings, BlockName = BlockName, UseSite = UseSite, UseNumber = UseNumber, Head = Head, Active = Active,
            };
        }

        public CheckedNetwork? Run()
        {
            var top = new Scope();
            Tensor? result = Walk(_spec.Layers, new Tensor(-1, Shape.Map(_spec.Channels, _spec.Height, _spec.Width)), top, topLevel: true);
            if (result is null) return null;
            int output = result.Value.Node;
            int logits = output >= 0 && _nodes[output].Kind == LayerKind.Softmax ? _nodes[output].Inputs[0] : output;
            if (logits < 0)
            {
                // Only identities (Use<Identity>, Concat of one Identity) before the output, or Softmax on the raw input.
                _diagnostics.Add(new(DiagnosticDescriptors.NoLayers.Id, _spec.NetworkLocation,
                    $"Network '{_spec.ClassName}' computes nothing from its input: its layers are identities{(output >= 0 ? " and a Softmax on the raw input" : "")}; " +
                    "add layers that compute class scores, such as [Flatten, Dense(10)]"));
                return null;
            }
            var heads = new List<HeadInfo> { new(logits, output, 1.0) };
            heads.AddRange(_auxHeads);
            if (SawAuxClassifier && !_nodes[logits].Output.IsVector)
            {
                _diagnostics.Add(new(DiagnosticDescriptors.AuxNeedsClasses.Id, _spec.NetworkLocation,
                    $"Network '{_spec.ClassName}' has an AuxClassifier, but its output is the feature map {_nodes[logits].Output}; end the network in Dense(classes) (and Softmax)"));
                return null;
            }
            MarkFollowedByReLU();
            return new CheckedNetwork(_spec.Namespace, _spec.ClassName, _spec.Accessibility,
                Shape.Map(_spec.Channels, _spec.Height, _spec.Width), _nodes.ToEquatableArray(), heads.ToEquatableArray());
        }

        /// <summary>He initialisation for a layer whose output goes through ReLU (directly or through BatchNorm).</summary>
        private void MarkFollowedByReLU()
        {
            for (int i = 0; i < _nodes.Count; i++)
            {
                if (_nodes[i].Kind != LayerKind.ReLU || _nodes[i].Inputs[0] < 0) continue;
                int p = _nodes[i].Inputs[0];
                _nodes[p] = _nodes[p] with { FollowedByReLU = true };
                if (_nodes[p].Kind == LayerKind.BatchNorm && _nodes[p].Inputs[0] >= 0)
                    _nodes[_nodes[p].Inputs[0]] = _nodes[_nodes[p].Inputs[0]] with { FollowedByReLU = true };
            }
        }

        private Tensor? Walk(EquatableArray<LayerSpec> layers, Tensor x, Scope scope, bool topLevel)
        {
            for (int i = 0; i < layers.Count; i++)
            {
                LayerSpec layer = layers[i];
                if (layer.Kind == LayerKind.Softmax && !(topLevel && i == layers.Count - 1))
                {
                    string next = topLevel ? $"is followed by {layers[i + 1].Text}" : $"is inside block {scope.BlockName}";
                    Report(DiagnosticDescriptors.SoftmaxNotLast, scope, layer, $"{Label(scope, layer, i + 1, "")} {next}; Softmax is the network's output and must be the last layer");
                    return null;
                }
                Tensor? y = Layer(layer, x, scope, topLevel ? i + 1 : scope.UseNumber);
                if (y is null) return null; // the shape is unknown from here on; one precise error beats a cascade
                x = y.Value;
            }
            return x;
        }

        // ------------------------------------------------------------------ diagnostics

        private void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, Scope scope, LayerSpec layer, string message) =>
            _diagnostics.Add(new DiagnosticInfo(descriptor.Id, (scope.UseSite ?? layer).Location, message));

        /// <summary>"Conv2D(36, 3) at layer 1", or inside a block "bottleneck2.conv2 = Conv2D(64, 3) (from Bottleneck(64) at layer 5)".</summary>
        private static string Label(Scope scope, LayerSpec layer, int number, string name)
        {
            if (scope.UseSite is null) return $"{layer.Text} at layer {number}";
            string inBlock = scope.BlockName.Length > 0 && layer.Location != scope.UseSite.Location ? " in block " + scope.BlockName : "";
            return $"{(name.Length > 0 ? name + " = " : "")}{layer.Text}{inBlock} (from {scope.UseSite.Text} at layer {scope.UseNumber})";
        }

        private static string Format(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

        // ------------------------------------------------------------------ arguments

        /// <summary>An argument's value with block parameters bound; reports and returns null when it cannot be had.</summary>
        private double? Value(LayerSpec layer, string key, double fallback, Scope scope, int number, bool integral)
        {
            Arg? found = layer.Get(key);
            if (found is null) return fallback;
            Arg a = found.Value;
            string what = key.StartsWith("#", StringComparison.Ordinal) ? "argument " + (int.Parse(key.Substring(1)) + 1) : key;
            if (a.Kind == ArgKind.Name)
            {
                if (scope.Bindings is null)
                {
                    _diagnostics.Add(new(DiagnosticDescriptors.UnknownBlockParameter.Id, layer.Location,
                        $"{layer.Text}: {what} names the parameter \"{a.Text}\", but parameter names work only inside a [Block] class; write a number here"));
                    return null;
                }
                if (!scope.Bindings.TryGetValue(a.Text, out Arg bound))
                {
                    string known = scope.Bindings.Count == 0 ? "declares no parameters" : "declares " + string.Join(", ", scope.Bindings.Keys);
                    _diagnostics.Add(new(DiagnosticDescriptors.UnknownBlockParameter.Id, layer.Location,
                        $"{layer.Text} in block {scope.BlockName}: {what} names the parameter \"{a.Text}\", but the block {known}; add it to [Block(...)] or fix the name"));
                    return null;
                }
                a = bound;
            }
            if (a.Kind != ArgKind.Number)
            {
                Report(DiagnosticDescriptors.InvalidArgument, scope, layer, $"{Label(scope, layer, number, "")}: {what} must be a number or a block parameter name, but is {a.Text}");
                return null;
            }
            if (integral && (a.Number != Math.Floor(a.Number) || Math.Abs(a.Number) > int.MaxValue))
            {
                Report(DiagnosticDescriptors.InvalidArgument, scope, layer, $"{Label(scope, layer, number, "")}: {what} must be a whole number, but is {Format(a.Number)}");
                return null;
            }
            return a.Number;
        }

        private bool Int(LayerSpec layer, string key, int fallback, Scope scope, int number, out int value)
        {
            double? v = Value(layer, key, fallback, scope, number, integral: true);
            value = v is null ? 0 : (int)v.Value;
            return v is not null;
        }

        private bool Real(LayerSpec layer, string key, double fallback, Scope scope, int number, out double value)
        {
            double? v = Value(layer, key, fallback, scope, number, integral: false);
            value = v ?? 0;
            return v is not null;
        }

        private bool Flag(LayerSpec layer, string key, bool fallback, Scope scope, int number, out bool value)
        {
            double? v = Value(layer, key, fallback ? 1 : 0, scope, number, integral: true);
            value = v is not null && v.Value != 0;
            return v is not null;
        }

        /// <summary>Reads a primitive layer attribute's arguments (binding block parameters).</summary>
        private bool Resolve(LayerSpec l, Scope s, int n, out Resolved r)
        {
            r = Resolved.Defaults(l.Kind);
            bool pool = l.Kind is LayerKind.MaxPool2D or LayerKind.AvgPool2D;
            bool ok = true;
            switch (l.Kind)
            {
                case LayerKind.Conv2D:
                    ok &= Int(l, "filters", 0, s, n, out r.Size) & Int(l, "kernel", 0, s, n, out r.Kernel)
                        & Int(l, "Stride", 1, s, n, out r.Stride) & Int(l, "Padding", 0, s, n, out r.Padding)
                        & Int(l, "Groups", 1, s, n, out r.Groups) & Flag(l, "Bias", true, s, n, out r.Bias);
                    break;
                case LayerKind.MaxPool2D or LayerKind.AvgPool2D:
                    ok &= Int(l, "window", 0, s, n, out r.Kernel) & Int(l, "Stride", 0, s, n, out r.Stride)
                        & Int(l, "Padding", 0, s, n, out r.Padding) & Flag(l, "CeilMode", false, s, n, out r.Ceil);
                    r.StrideGiven = l.Has("Stride") && r.Stride != 0;
                    if (!r.StrideGiven) r.Stride = r.Kernel;
                    break;
                case LayerKind.Dense:
                    ok &= Int(l, "units", 0, s, n, out r.Size) & Flag(l, "Bias", true, s, n, out r.Bias);
                    break;
                case LayerKind.Dropout:
                    ok &= Real(l, "rate", 0, s, n, out r.Rate);
                    break;
                case LayerKind.BatchNorm:
                    ok &= Real(l, "Epsilon", 1e-5, s, n, out r.Eps) & Real(l, "Momentum", 0.1, s, n, out r.Momentum);
                    break;
                case LayerKind.LocalResponseNorm:
                    ok &= Int(l, "size", 0, s, n, out r.Kernel) & Real(l, "Alpha", 1e-4, s, n, out r.Alpha)
                        & Real(l, "Beta", 0.75, s, n, out r.Beta) & Real(l, "K", 1.0, s, n, out r.K);
                    break;
            }
            _ = pool;
            return ok;
        }

        // ------------------------------------------------------------------ one attribute

        private Tensor? Layer(LayerSpec layer, Tensor x, Scope scope, int number)
        {
            switch (layer.Kind)
            {
                case LayerKind.Use:
                case LayerKind.Residual:
                case LayerKind.Branches:
                    return UserStructure(layer, x, scope, number);
                case LayerKind.BasicBlock:
                case LayerKind.Bottleneck:
                    return ResNetBlock(layer, x, scope, number);
                case LayerKind.Inception:
                    return Inception(layer, x, scope, number);
                case LayerKind.DenseBlock:
                    return DenseBlock(layer, x, scope, number);
                case LayerKind.Transition:
                    return Transition(layer, x, scope, number);
                case LayerKind.AuxClassifier:
                    return AuxClassifier(layer, x, scope, number);
                default:
                    if (!Resolve(layer, scope, number, out Resolved r)) return null;
                    return Primitive(layer.Kind, r, x, scope, layer, number);
            }
        }

        /// <summary>Checks one primitive operation on <paramref name="x"/> and appends its node.</summary>
        private Tensor? Primitive(LayerKind kind, Resolved r, Tensor x, Scope scope, LayerSpec source, int number, string? text = null)
        {
            string name = scope.Next(ShapeChecker.NamePrefix(kind));
            LayerSpec shown = text is null ? source : source with { Text = text };
            var c = new Context(this, scope, shown, number, name, x.Shape);
            CheckedLayer? result = kind switch
            {
                LayerKind.Conv2D => CheckConv(c, r),
                LayerKind.MaxPool2D or LayerKind.AvgPool2D => CheckPool(c, r),
                LayerKind.GlobalAvgPool => c.RequireMap() ? c.Make(Shape.Vector(x.Shape.C)) : null,
                LayerKind.Flatten => CheckFlatten(c),
                LayerKind.Dense => CheckDense(c, r),
                LayerKind.ReLU or LayerKind.Softmax => c.Make(x.Shape),
                LayerKind.Dropout => c.Require(r.Rate >= 0 && r.Rate < 1, "the dropout rate", "in [0, 1)", r.Rate) ? c.Make(x.Shape) with { Rate = r.Rate } : null,
                LayerKind.BatchNorm => CheckBatchNorm(c, r),
                LayerKind.LocalResponseNorm => CheckLrn(c, r),
                _ => throw new InvalidOperationException($"unknown layer kind {kind}"),
            };
            if (result is null) return null;
            // In doubles: with extreme sizes the long products of the layer checks may have wrapped around.
            double k2 = (double)result.Kernel * result.Kernel, outC = result.Output.C;
            double extra = kind switch
            {
                LayerKind.Conv2D => 2.0 * k2 * x.Shape.C * result.Output.H * result.Output.W + 2.0 * (k2 * (x.Shape.C / Math.Max(1, result.Groups)) + 1) * outC,
                LayerKind.Dense => 2.0 * ((double)x.Shape.C + 1) * outC,
                _ => 2.0 * result.Parameters,
            };
            if (!Charge(scope, shown, number, name, result.Output, extra)) return null;
            result = result with { Kind = kind, Name = name, Inputs = new[] { x.Node }.ToEquatableArray(), Head = scope.Head };
            _nodes.Add(result);
            return new Tensor(_nodes.Count - 1, result.Output);
        }

        /// <summary>Adds a node's output (twice: activation and gradient) and <paramref name="extra"/> floats to the network's
        /// size; reports CNN0003 when the total passes what the memory plan can address.</summary>
        private bool Charge(Scope scope, LayerSpec layer, int number, string name, Shape output, double extra)
        {
            double size = (double)output.C * output.H * output.W;
            _floats += 2 * size + extra;
            if (_floats <= MaxFloats && size <= int.MaxValue) return true;
            Report(DiagnosticDescriptors.InvalidArgument, scope, layer,
                $"{Label(scope, layer, number, name)} makes the network too large: its output {output} and everything before it need more than " +
                $"{MaxFloats.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} floats per image (activations, gradients, im2col columns and parameters); use smaller sizes");
            return false;
        }

        private Tensor AddNode(CheckedLayer node)
        {
            _nodes.Add(node);
            return new Tensor(_nodes.Count - 1, node.Output);
        }

        private static CheckedLayer Node(LayerKind kind, string name, string text, int[] inputs, Shape input, Shape output, int head) =>
            new(kind, name, text, inputs.ToEquatableArray(), input, output, 0, 1, 0, 1, false, false, 0, 0, 0, 0, 0, 0, head, 0, 0, false);

        /// <summary>Per-layer checking context: the label used in messages, the input shape and where to report.</summary>
        private readonly struct Context
        {
            private readonly Lowering _owner;
            private readonly Scope _scope;
            public Context(Lowering owner, Scope scope, LayerSpec layer, int number, string name, Shape input)
            {
                _owner = owner; _scope = scope; Layer = layer; Number = number; Name = name; Input = input;
            }
            public LayerSpec Layer { get; }
            public int Number { get; }
            public string Name { get; }
            public Shape Input { get; }
            public string Label => Lowering.Label(_scope, Layer, Number, Name);

            public void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, string message) => _owner.Report(descriptor, _scope, Layer, message);

            /// <summary>Reports CNN0003 when <paramref name="ok"/> is false.</summary>
            public bool Require(bool ok, string what, string rule, object value)
            {
                if (!ok) Report(DiagnosticDescriptors.InvalidArgument, $"{Label}: {what} must be {rule}, but is {(value is double d ? Format(d) : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture))}");
                return ok;
            }

            public bool RequireMap()
            {
                if (!Input.IsVector) return true;
                Report(DiagnosticDescriptors.NeedsMap,
                    $"{Label} gets the vector {Input}; it needs a feature map (height x width x channels), so it must come before Flatten or GlobalAvgPool");
                return false;
            }

            public CheckedLayer Make(Shape output, int kernel = 0, int stride = 1, int padding = 0, int groups = 1, bool bias = false, long parameters = 0, long flops = 0) =>
                new(Layer.Kind, Name, Layer.Text, EquatableArray<int>.Empty, Input, output, kernel, stride, padding, groups, bias, false, 0, 0, 0, 0, 0, 0, 0, parameters, flops, false);
        }

        private static CheckedLayer? CheckConv(Context c, Resolved r)
        {
            if (!c.RequireMap()) return null;
            bool ok = c.Require(r.Size >= 1, "the number of filters", "at least 1", r.Size)
                & c.Require(r.Kernel >= 1, "the kernel size", "at least 1", r.Kernel)
                & c.Require(r.Stride >= 1, "Stride", "at least 1", r.Stride)
                & c.Require(r.Groups >= 1, "Groups", "at least 1", r.Groups)
                & c.Require(r.Padding >= -1, "Padding", "0 or more (or Pad.Same)", r.Padding);
            if (!ok) return null;
            if (r.Padding == -1 && !c.Require(r.Kernel % 2 == 1, "the kernel size with Padding = Pad.Same", "odd (so the padding is the same on every side)", r.Kernel))
                return null;
            int padding = r.Padding == -1 ? (r.Kernel - 1) / 2 : r.Padding;
            if (c.Input.C % r.Groups != 0 || r.Size % r.Groups != 0)
            {
                string which = c.Input.C % r.Groups != 0
                    ? $"its {c.Input.C} input channels are not divisible by Groups = {r.Groups} ({c.Input.C} % {r.Groups} = {c.Input.C % r.Groups})"
                    : $"its {r.Size} filters are not divisible by Groups = {r.Groups} ({r.Size} % {r.Groups} = {r.Size % r.Groups})";
                c.Report(DiagnosticDescriptors.GroupsMismatch, $"{c.Label} gets {c.Input}; {which}");
                return null;
            }
            if (!OutputSize(c, "kernel", r.Kernel, r.Stride, padding, false, out int oh, out int ow)) return null;
            long perOutput = (long)r.Kernel * r.Kernel * (c.Input.C / r.Groups);
            long parameters = (perOutput + (r.Bias ? 1 : 0)) * r.Size;
            long flops = 2L * perOutput * r.Size * oh * ow;
            return c.Make(Shape.Map(r.Size, oh, ow), r.Kernel, r.Stride, padding, r.Groups, r.Bias, parameters, flops);
        }

        private static CheckedLayer? CheckPool(Context c, Resolved r)
        {
            if (!c.RequireMap()) return null;
            bool ok = c.Require(r.Kernel >= 1, "the window", "at least 1", r.Kernel)
                & c.Require(r.Stride >= 1, "Stride", "at least 1", r.Stride)
                & c.Require(r.Padding >= -1, "Padding", "0 or more (or Pad.Same)", r.Padding);
            if (!ok) return null;
            if (r.Padding == -1 && !c.Require(r.Kernel % 2 == 1, "the window with Padding = Pad.Same", "odd", r.Kernel)) return null;
            int padding = r.Padding == -1 ? (r.Kernel - 1) / 2 : r.Padding;
            if (!c.Require(padding <= r.Kernel / 2, "Padding", $"at most half the window ({r.Kernel / 2}), or a window would see only padding", padding)) return null;
            if (!OutputSize(c, "window", r.Kernel, r.Stride, padding, r.Ceil, out int oh, out int ow)) return null;
            return c.Make(Shape.Map(c.Input.C, oh, ow), r.Kernel, r.Stride, padding) with { CeilMode = r.Ceil };
        }

        /// <summary>(n - k + 2p) / s + 1 for height and width (rounded up with ceil mode, as PyTorch: a window may not start
        /// in the right padding); CNN0002 below 1, CNN0009 when rows are dropped.</summary>
        private static bool OutputSize(Context c, string windowName, int k, int s, int p, bool ceil, out int oh, out int ow)
        {
            oh = Dim(c.Input.H, k, s, p, ceil);
            ow = Dim(c.Input.W, k, s, p, ceil);
            if (oh < 1 || ow < 1)
            {
                int n = oh < 1 ? c.Input.H : c.Input.W;
                string axis = oh < 1 ? "height" : "width";
                c.Report(DiagnosticDescriptors.OutputTooSmall,
                    $"{c.Label} gets {c.Input}; its {windowName} needs at least {k}x{k} after padding, but the {axis} gives " +
                    $"(({n} - {k} + 2*{p})/{s} + 1 = {Math.Min(oh, ow)})");
                return false;
            }
            // Real rows (not padding) after the last window's end. A kernel smaller than its stride skips rows everywhere by
            // design (ResNet's 1x1 stride-2 projection), so only k >= s is worth a warning. 64-bit: sizes may be huge.
            long droppedH = DroppedRows(c.Input.H, k, s, p, oh), droppedW = DroppedRows(c.Input.W, k, s, p, ow);
            if (!ceil && k >= s && (droppedH > 0 || droppedW > 0))
            {
                int n = droppedH > 0 ? c.Input.H : c.Input.W;
                long dropped = droppedH > 0 ? droppedH : droppedW;
                c.Report(DiagnosticDescriptors.UnevenStride,
                    $"{c.Label} gets {c.Input}: ({n} - {k} + 2*{p}) = {(long)n - k + 2L * p} is not a multiple of stride {s}, " +
                    $"so the last {dropped} row(s) or column(s) never reach the output");
            }
            return true;
        }

        /// <summary>Input rows past the end of the last of <paramref name="o"/> windows (padding rows not counted).</summary>
        private static long DroppedRows(int n, int k, int s, int p, int o) => Math.Max(0L, n - 1L - ((o - 1L) * s - p + k - 1L));

        /// <summary>In 64 bits (sizes and paddings may each be up to int.MaxValue), capped at int.MaxValue.</summary>
        public static int Dim(int n, int k, int s, int p, bool ceil)
        {
            long span = (long)n - k + 2L * p;
            if (span < 0) return 0;
            long o = span / s + 1;
            if (ceil)
            {
                o = (span + s - 1) / s + 1;
                if ((o - 1) * s >= (long)n + p) o--; // the last window would start in the padding
            }
            return (int)Math.Min(o, int.MaxValue);
        }

        private static CheckedLayer? CheckFlatten(Context c)
        {
            if (!c.RequireMap()) return null;
            long size = c.Input.Size;
            if (!c.Require(size <= int.MaxValue, "the flattened size", $"at most {int.MaxValue}", size)) return null;
            return c.Make(Shape.Vector((int)size));
        }

        private static CheckedLayer? CheckDense(Context c, Resolved r)
        {
            if (!c.Input.IsVector)
            {
                c.Report(DiagnosticDescriptors.DenseNeedsVector,
                    $"{c.Label} gets the feature map {c.Input}; Dense takes a vector, so add [Flatten] (or [GlobalAvgPool]) before it");
                return null;
            }
            if (!c.Require(r.Size >= 1, "the number of units", "at least 1", r.Size)) return null;
            long parameters = ((long)c.Input.C + (r.Bias ? 1 : 0)) * r.Size;
            return c.Make(Shape.Vector(r.Size), bias: r.Bias, parameters: parameters, flops: 2L * c.Input.C * r.Size);
        }

        private static CheckedLayer? CheckBatchNorm(Context c, Resolved r)
        {
            bool ok = c.Require(r.Eps > 0, "Epsilon", "positive", r.Eps)
                & c.Require(r.Momentum >= 0 && r.Momentum <= 1, "Momentum", "in [0, 1]", r.Momentum);
            if (!ok) return null;
            return c.Make(c.Input, parameters: 2L * c.Input.C) with { Eps = r.Eps, Momentum = r.Momentum };
        }

        private static CheckedLayer? CheckLrn(Context c, Resolved r)
        {
            if (!c.RequireMap()) return null;
            bool ok = c.Require(r.Kernel >= 1, "the size", "at least 1", r.Kernel)
                & c.Require(r.Alpha >= 0, "Alpha", "0 or more", r.Alpha)
                & c.Require(r.Beta >= 0, "Beta", "0 or more", r.Beta)
                & c.Require(r.K > 0, "K", "positive", r.K);
            if (!ok) return null;
            return c.Make(c.Input, kernel: r.Kernel) with { Alpha = r.Alpha, Beta = r.Beta, K = r.K };
        }

        // ------------------------------------------------------------------ user blocks

        private Tensor? UserStructure(LayerSpec layer, Tensor x, Scope scope, int number)
        {
            var blocks = new List<BlockSpec?>();
            foreach (string name in layer.Blocks)
            {
                if (name == Parse.NetworkParser.IdentityName) { blocks.Add(null); continue; }
                if (!_blocks.TryGetValue(name, out BlockSpec? block) || !block.IsBlock)
                {
                    string shown = name.StartsWith("?", StringComparison.Ordinal) ? name.Substring(1) : name;
                    Report(DiagnosticDescriptors.NotABlock, scope, layer,
                        $"{Label(scope, layer, number, "")}: '{shown}' is not a block; mark the class [Block] (with its parameters) and give it layer attributes, or use CnnGen.Identity");
                    return null;
                }
                if (scope.Active.Contains(name))
                {
                    string path = string.Join(" -> ", scope.Active) + " -> " + name;
                    Report(DiagnosticDescriptors.BlockCycle, scope, layer, $"{Label(scope, layer, number, "")}: block {block.Name} uses itself ({path}); a block cannot contain itself");
                    return null;
                }
                foreach (string error in block.ParameterErrors)
                {
                    _diagnostics.Add(new(DiagnosticDescriptors.UnknownBlockParameter.Id, block.Location, $"[Block] on {block.Name}: {error}"));
                    return null;
                }
                blocks.Add(block);
            }

            if (!Int(layer, "Repeat", 1, scope, number, out int repeat)) return null;
            if (repeat < 1)
            {
                Report(DiagnosticDescriptors.InvalidArgument, scope, layer, $"{Label(scope, layer, number, "")}: Repeat must be at least 1, but is {repeat}");
                return null;
            }
            // The use-site arguments, bound to each block's parameters in declaration order.
            var args = new List<Arg>();
            foreach (Arg a in layer.Args)
            {
                if (!a.Key.StartsWith("#", StringComparison.Ordinal)) continue;
                if (a.Kind == ArgKind.Name)
                {
                    double? v = Value(layer, a.Key, 0, scope, number, integral: false);
                    if (v is null) return null;
                    args.Add(Arg.Of(a.Key, v.Value));
                }
                else if (a.Kind == ArgKind.Invalid)
                {
                    Report(DiagnosticDescriptors.InvalidArgument, scope, layer, $"{Label(scope, layer, number, "")}: argument {int.Parse(a.Key.Substring(1)) + 1} must be a number, but is {a.Text}");
                    return null;
                }
                else args.Add(a);
            }
            var bindings = new List<Dictionary<string, Arg>?>();
            foreach (BlockSpec? block in blocks)
            {
                if (block is null) { bindings.Add(null); continue; }
                Dictionary<string, Arg>? bound = Bind(block, args, layer, scope, number);
                if (bound is null) return null;
                bindings.Add(bound);
            }

            for (int rep = 0; rep < repeat; rep++)
            {
                Tensor? y = layer.Kind switch
                {
                    LayerKind.Use when blocks[0] is null => x, // Use<Identity>
                    LayerKind.Use => Expand(blocks[0]!, bindings[0]!, x, scope.Child(scope.Next(blocks[0]!.Name.ToLowerInvariant()) + ".", bindings[0], blocks[0]!.Name, layer, number)),
                    LayerKind.Residual => Residual(layer, blocks, bindings, x, scope, number),
                    _ => Branches(layer, blocks, bindings, x, scope, number),
                };
                if (y is null) return null;
                x = y.Value;
            }
            return x;
        }

        private Dictionary<string, Arg>? Bind(BlockSpec block, List<Arg> args, LayerSpec layer, Scope scope, int number)
        {
            string signature = block.Name + "(" + string.Join(", ", ParameterList(block)) + ")";
            if (args.Count > block.Parameters.Count)
            {
                Report(DiagnosticDescriptors.BlockArguments, scope, layer,
                    $"{Label(scope, layer, number, "")}: block {signature} takes {block.Parameters.Count} argument(s), but {args.Count} are given");
                return null;
            }
            var bound = new Dictionary<string, Arg>();
            for (int i = 0; i < block.Parameters.Count; i++)
            {
                BlockParameter p = block.Parameters[i];
                if (i < args.Count) bound[p.Name] = args[i];
                else if (p.Default is Arg d) bound[p.Name] = d;
                else
                {
                    Report(DiagnosticDescriptors.BlockArguments, scope, layer,
                        $"{Label(scope, layer, number, "")}: block {signature} needs an argument for parameter '{p.Name}' (argument {i + 1}), but only {args.Count} are given");
                    return null;
                }
            }
            return bound;
        }

        private static IEnumerable<string> ParameterList(BlockSpec block)
        {
            foreach (BlockParameter p in block.Parameters)
                yield return p.Default is Arg d ? p.Name + " = " + d.Text : p.Name;
        }

        private Tensor? Expand(BlockSpec block, Dictionary<string, Arg> bindings, Tensor x, Scope inner)
        {
            inner.Active.Add(block.FullName);
            try
            {
                if (block.Layers.Count == 0) return x;
                return Walk(block.Layers, x, inner, topLevel: false);
            }
            finally
            {
                inner.Active.RemoveAt(inner.Active.Count - 1);
            }
        }

        private Tensor? Branch(BlockSpec? block, Dictionary<string, Arg>? bindings, Tensor x, Scope parent, string part, LayerSpec layer, int number)
        {
            if (block is null) return x; // Identity
            Scope inner = parent.Part(part);
            inner.Bindings = bindings;
            inner.BlockName = block.Name;
            inner.UseSite = parent.UseSite ?? layer;
            inner.UseNumber = parent.UseSite is null ? number : parent.UseNumber;
            return Expand(block, bindings!, x, inner);
        }

        private Tensor? Residual(LayerSpec layer, List<BlockSpec?> blocks, List<Dictionary<string, Arg>?> bindings, Tensor x, Scope scope, int number)
        {
            string name = scope.Next("residual");
            Scope own = scope.Part(name.Substring(scope.Prefix.Length));
            Tensor? body = Branch(blocks[0], bindings[0], x, own, "body", layer, number);
            if (body is null) return null;
            Tensor? shortcut = blocks.Count > 1 ? Branch(blocks[1], bindings[1], x, own, "shortcut", layer, number) : x;
            if (shortcut is null) return null;
            string shortcutName = blocks.Count > 1 && blocks[1] is { } sc ? "shortcut " + sc.Name : "the identity shortcut";
            return Add(own, layer, number, body.Value, "body " + (blocks[0]?.Name ?? "Identity"), shortcut.Value, shortcutName);
        }

        private Tensor? Add(Scope scope, LayerSpec layer, int number, Tensor a, string aName, Tensor b, string bName)
        {
            string name = scope.Prefix + "add";
            if (a.Shape != b.Shape)
            {
                Report(DiagnosticDescriptors.AddShapeMismatch, scope, layer,
                    $"{Label(scope, layer, number, name)} adds {aName} output {a.Shape} to {bName} output {b.Shape}: the shapes must be equal; " +
                    "give a projection shortcut (e.g. [Residual<Body, Projection>] with a 1x1 Conv2D with the body's stride and filters)");
                return null;
            }
            if (!Charge(scope, layer, number, name, a.Shape, 0)) return null;
            return AddNode(Node(LayerKind.Add, name, layer.Text, new[] { a.Node, b.Node }, a.Shape, a.Shape, scope.Head));
        }

        private Tensor? Branches(LayerSpec layer, List<BlockSpec?> blocks, List<Dictionary<string, Arg>?> bindings, Tensor x, Scope scope, int number)
        {
            string name = scope.Next("concat");
            Scope own = scope.Part(name.Substring(scope.Prefix.Length));
            var outputs = new List<(Tensor Tensor, string Name)>();
            for (int i = 0; i < blocks.Count; i++)
            {
                Tensor? y = Branch(blocks[i], bindings[i], x, own, "branch" + (i + 1), layer, number);
                if (y is null) return null;
                outputs.Add((y.Value, $"branch {i + 1} ({blocks[i]?.Name ?? "Identity"})"));
            }
            return Concat(own, layer, number, outputs);
        }

        private Tensor? Concat(Scope scope, LayerSpec layer, int number, List<(Tensor Tensor, string Name)> parts)
        {
            string name = scope.Prefix + "concat";
            Shape first = parts[0].Tensor.Shape;
            foreach (var (t, partName) in parts)
            {
                if (t.Shape.IsVector || t.Shape.H != first.H || t.Shape.W != first.W)
                {
                    string all = string.Join(", ", parts.ConvertAll(p => $"{p.Name} {p.Tensor.Shape}"));
                    Report(DiagnosticDescriptors.ConcatMismatch, scope, layer,
                        $"{Label(scope, layer, number, name)} concatenates {all} along channels: every branch must be a feature map with the same height x width");
                    return null;
                }
            }
            long channels = 0;
            foreach (var (t, _) in parts) channels += t.Shape.C;
            if (!Charge(scope, layer, number, name, Shape.Map((int)Math.Min(channels, int.MaxValue), first.H, first.W), 0)) return null;
            int[] inputs = parts.ConvertAll(p => p.Tensor.Node).ToArray();
            return AddNode(Node(LayerKind.Concat, name, layer.Text, inputs, first, Shape.Map((int)channels, first.H, first.W), scope.Head));
        }

        // ------------------------------------------------------------------ built-in blocks

        private Scope BuiltIn(LayerSpec layer, Scope scope, int number, string name) => scope.Child(name + ".", scope.Bindings, "", layer, number);

        private Tensor? Conv(Scope s, LayerSpec layer, int number, Tensor x, int filters, int kernel, int stride, int padding, bool bias)
        {
            Resolved r = Resolved.Defaults(LayerKind.Conv2D);
            r.Size = filters; r.Kernel = kernel; r.Stride = stride; r.Padding = padding; r.Bias = bias;
            string text = $"Conv2D({filters}, {kernel}{(stride != 1 ? $", Stride = {stride}" : "")}{(padding != 0 ? $", Padding = {padding}" : "")}{(bias ? "" : ", Bias = false")})";
            return Primitive(LayerKind.Conv2D, r, x, s, layer, number, text);
        }

        private Tensor? Simple(Scope s, LayerSpec layer, int number, Tensor x, LayerKind kind, double eps = 1e-5)
        {
            Resolved r = Resolved.Defaults(kind);
            r.Eps = eps;
            return Primitive(kind, r, x, s, layer, number, kind == LayerKind.BatchNorm ? "BatchNorm" : kind.ToString());
        }

        private Tensor? Pool(Scope s, LayerSpec layer, int number, Tensor x, LayerKind kind, int window, int stride, int padding, bool ceil)
        {
            Resolved r = Resolved.Defaults(kind);
            r.Kernel = window; r.Stride = stride; r.StrideGiven = true; r.Padding = padding; r.Ceil = ceil;
            return Primitive(kind, r, x, s, layer, number, $"{kind}({window}, Stride = {stride}{(padding != 0 ? $", Padding = {padding}" : "")}{(ceil ? ", CeilMode = true" : "")})");
        }

        private bool Ints(LayerSpec layer, Scope scope, int number, params (string Key, int Fallback, int Min)[] keys)
        {
            foreach (var (key, fallback, min) in keys)
            {
                if (!Int(layer, key, fallback, scope, number, out int v)) return false;
                if (v < min)
                {
                    Report(DiagnosticDescriptors.InvalidArgument, scope, layer, $"{Label(scope, layer, number, "")}: {key} must be at least {min}, but is {v}");
                    return false;
                }
            }
            return true;
        }

        private Tensor? ResNetBlock(LayerSpec layer, Tensor x, Scope scope, int number)
        {
            bool bottleneck = layer.Kind == LayerKind.Bottleneck;
            if (!Ints(layer, scope, number, ("width", 0, 1), ("Stride", 1, 1), ("Repeat", 1, 1), ("Expansion", 4, 1))) return null;
            Int(layer, "width", 0, scope, number, out int width);
            Int(layer, "Stride", 1, scope, number, out int stride);
            Int(layer, "Repeat", 1, scope, number, out int repeat);
            Int(layer, "Expansion", 4, scope, number, out int expansion);
            if (x.Shape.IsVector)
            {
                Report(DiagnosticDescriptors.NeedsMap, scope, layer, $"{Label(scope, layer, number, "")} gets the vector {x.Shape}; it needs a feature map");
                return null;
            }
            for (int rep = 0; rep < repeat; rep++)
            {
                int s = rep == 0 ? stride : 1;
                Scope b = BuiltIn(layer, scope, number, scope.Next(bottleneck ? "bottleneck" : "basicblock"));
                int outC = bottleneck ? width * expansion : width;
                Tensor? y;
                if (bottleneck)
                {
                    y = Conv(b, layer, number, x, width, 1, 1, 0, false);
                    y = y is null ? null : Simple(b, layer, number, y.Value, LayerKind.BatchNorm);
                    y = y is null ? null : Simple(b, layer, number, y.Value, LayerKind.ReLU);
                    y = y is null ? null : Conv(b, layer, number, y.Value, width, 3, s, 1, false);
                    y = y is null ? null : Simple(b, layer, number, y.Value, LayerKind.BatchNorm);
                    y = y is null ? null : Simple(b, layer, number, y.Value, LayerKind.ReLU);
                    y = y is null ? null : Conv(b, layer, number, y.Value, outC, 1, 1, 0, false);
                    y = y is null ? null : Simple(b, layer, number, y.Value, LayerKind.BatchNorm);
                }
                else
                {
                    y = Conv(b, layer, number, x, width, 3, s, 1, false);
                    y = y is null ? null : Simple(b, layer, number, y.Value, LayerKind.BatchNorm);
                    y = y is null ? null : Simple(b, layer, number, y.Value, LayerKind.ReLU);
                    y = y is null ? null : Conv(b, layer, number, y.Value, width, 3, 1, 1, false);
                    y = y is null ? null : Simple(b, layer, number, y.Value, LayerKind.BatchNorm);
                }
                if (y is null) return null;
                Tensor? shortcut = x;
                if (s != 1 || x.Shape.C != outC)
                {
                    Scope d = b.Part("downsample");
                    shortcut = Conv(d, layer, number, x, outC, 1, s, 0, false);
                    shortcut = shortcut is null ? null : Simple(d, layer, number, shortcut.Value, LayerKind.BatchNorm);
                    if (shortcut is null) return null;
                }
                Tensor? sum = Add(b, layer, number, y.Value, "body", shortcut.Value, "shortcut");
                if (sum is null) return null;
                Tensor? relu = Simple(b, layer, number, sum.Value, LayerKind.ReLU);
                if (relu is null) return null;
                x = relu.Value;
            }
            return x;
        }

        private Tensor? Inception(LayerSpec layer, Tensor x, Scope scope, int number)
        {
            if (!Ints(layer, scope, number, ("conv1x1", 0, 1), ("reduce3x3", 0, 1), ("conv3x3", 0, 1), ("reduce5x5", 0, 1), ("conv5x5", 0, 1),
                    ("poolProjection", 0, 1), ("LargeKernel", 5, 1))) return null;
            int Get(string key, int fallback) { Int(layer, key, fallback, scope, number, out int v); return v; }
            Flag(layer, "BatchNorm", false, scope, number, out bool bn);
            Real(layer, "BatchNormEpsilon", 1e-3, scope, number, out double eps);
            int large = Get("LargeKernel", 5);
            if (large % 2 == 0)
            {
                Report(DiagnosticDescriptors.InvalidArgument, scope, layer, $"{Label(scope, layer, number, "")}: LargeKernel must be odd (so the branch keeps the size), but is {large}");
                return null;
            }
            Scope own = BuiltIn(layer, scope, number, scope.Next("inception"));

            Tensor? ConvUnit(Scope s, Tensor t, int filters, int kernel)
            {
                Tensor? y = Conv(s, layer, number, t, filters, kernel, 1, kernel / 2, !bn);
                if (y is not null && bn) y = Simple(s, layer, number, y.Value, LayerKind.BatchNorm, eps);
                return y is null ? null : Simple(s, layer, number, y.Value, LayerKind.ReLU);
            }

            Scope b1 = own.Part("branch1"), b2 = own.Part("branch2"), b3 = own.Part("branch3"), b4 = own.Part("branch4");
            Tensor? y1 = ConvUnit(b1, x, Get("conv1x1", 0), 1);
            Tensor? y2 = ConvUnit(b2, x, Get("reduce3x3", 0), 1);
            y2 = y2 is null ? null : ConvUnit(b2, y2.Value, Get("conv3x3", 0), 3);
            Tensor? y3 = ConvUnit(b3, x, Get("reduce5x5", 0), 1);
            y3 = y3 is null ? null : ConvUnit(b3, y3.Value, Get("conv5x5", 0), large);
            Tensor? y4 = Pool(b4, layer, number, x, LayerKind.MaxPool2D, 3, 1, 1, ceil: true);
            y4 = y4 is null ? null : ConvUnit(b4, y4.Value, Get("poolProjection", 0), 1);
            if (y1 is null || y2 is null || y3 is null || y4 is null) return null;
            return Concat(own, layer, number, new List<(Tensor, string)>
            {
                (y1.Value, "branch 1"), (y2.Value, "branch 2"), (y3.Value, "branch 3"), (y4.Value, "branch 4"),
            });
        }

        private Tensor? DenseBlock(LayerSpec layer, Tensor x, Scope scope, int number)
        {
            if (!Ints(layer, scope, number, ("layers", 0, 1), ("GrowthRate", 32, 1), ("BottleneckWidth", 4, 1))) return null;
            Int(layer, "layers", 0, scope, number, out int layers);
            Int(layer, "GrowthRate", 32, scope, number, out int k);
            Int(layer, "BottleneckWidth", 4, scope, number, out int width);
            Scope own = BuiltIn(layer, scope, number, scope.Next("denseblock"));
            for (int i = 1; i <= layers; i++)
            {
                Scope s = own.Part("layer" + i);
                Tensor? y = Simple(s, layer, number, x, LayerKind.BatchNorm);
                y = y is null ? null : Simple(s, layer, number, y.Value, LayerKind.ReLU);
                y = y is null ? null : Conv(s, layer, number, y.Value, width * k, 1, 1, 0, false);
                y = y is null ? null : Simple(s, layer, number, y.Value, LayerKind.BatchNorm);
                y = y is null ? null : Simple(s, layer, number, y.Value, LayerKind.ReLU);
                y = y is null ? null : Conv(s, layer, number, y.Value, k, 3, 1, 1, false);
                if (y is null) return null;
                Tensor? joined = Concat(s, layer, number, new List<(Tensor, string)> { (x, "the block input"), (y.Value, "the new features") });
                if (joined is null) return null;
                x = joined.Value;
            }
            return x;
        }

        private Tensor? Transition(LayerSpec layer, Tensor x, Scope scope, int number)
        {
            if (!Real(layer, "Compression", 0.5, scope, number, out double compression)) return null;
            if (!(compression > 0 && compression <= 1))
            {
                Report(DiagnosticDescriptors.InvalidArgument, scope, layer, $"{Label(scope, layer, number, "")}: Compression must be in (0, 1], but is {Format(compression)}");
                return null;
            }
            int filters = Math.Max(1, (int)Math.Floor(x.Shape.C * compression));
            Scope s = BuiltIn(layer, scope, number, scope.Next("transition"));
            Tensor? y = Simple(s, layer, number, x, LayerKind.BatchNorm);
            y = y is null ? null : Simple(s, layer, number, y.Value, LayerKind.ReLU);
            y = y is null ? null : Conv(s, layer, number, y.Value, filters, 1, 1, 0, false);
            return y is null ? null : Pool(s, layer, number, y.Value, LayerKind.AvgPool2D, 2, 2, 0, false);
        }

        private Tensor? AuxClassifier(LayerSpec layer, Tensor x, Scope scope, int number)
        {
            SawAuxClassifier = true;
            if (!Real(layer, "Weight", 0.3, scope, number, out double weight) || !Flag(layer, "BatchNorm", false, scope, number, out bool bn)
                || !Real(layer, "BatchNormEpsilon", 1e-3, scope, number, out double eps) || !Real(layer, "Dropout", 0.7, scope, number, out double dropout))
                return null;
            if (!(weight >= 0) || !(dropout >= 0 && dropout < 1))
            {
                Report(DiagnosticDescriptors.InvalidArgument, scope, layer, $"{Label(scope, layer, number, "")}: Weight must be 0 or more and Dropout in [0, 1), but they are {Format(weight)} and {Format(dropout)}");
                return null;
            }
            if (!Ints(layer, scope, number, ("Channels", 128, 1), ("Hidden", 1024, 1))) return null;
            Int(layer, "Channels", 128, scope, number, out int channels);
            Int(layer, "Hidden", 1024, scope, number, out int hidden);
            if (_classes is not Shape classes) return x; // pass 1: the heads are built once the class count is known
            Scope s = BuiltIn(layer, scope, number, scope.Next("aux"));
            s.Head = _auxHeads.Count + 1;
            Tensor? y = Pool(s, layer, number, x, LayerKind.AvgPool2D, 5, 3, 0, false);
            y = y is null ? null : Conv(s, layer, number, y.Value, channels, 1, 1, 0, !bn);
            if (y is not null && bn) y = Simple(s, layer, number, y.Value, LayerKind.BatchNorm, eps);
            y = y is null ? null : Simple(s, layer, number, y.Value, LayerKind.ReLU);
            y = y is null ? null : Simple(s, layer, number, y.Value, LayerKind.Flatten);
            y = y is null ? null : Dense(s, layer, number, y.Value, hidden);
            y = y is null ? null : Simple(s, layer, number, y.Value, LayerKind.ReLU);
            if (y is not null)
            {
                Resolved r = Resolved.Defaults(LayerKind.Dropout);
                r.Rate = dropout;
                y = Primitive(LayerKind.Dropout, r, y.Value, s, layer, number, $"Dropout({Format(dropout)})");
            }
            y = y is null ? null : Dense(s, layer, number, y.Value, classes.C);
            if (y is null) return null;
            _auxHeads.Add(new HeadInfo(y.Value.Node, y.Value.Node, weight));
            return x;
        }

        private Tensor? Dense(Scope s, LayerSpec layer, int number, Tensor x, int units)
        {
            Resolved r = Resolved.Defaults(LayerKind.Dense);
            r.Size = units;
            return Primitive(LayerKind.Dense, r, x, s, layer, number, $"Dense({units})");
        }
    }
}
