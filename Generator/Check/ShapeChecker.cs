// Check: NetworkSpec -> CheckResult. Infers every layer's shape, parameter count and FLOPs, and reports each
// mistake as a diagnostic that names the layer, the shape it gets and the arithmetic that failed.
// A pure function shared by the generator and the analyzer; it never throws (unexpected states become CNN0099).
using System;
using System.Collections.Generic;
using System.Globalization;
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
                CheckedNetwork? network = CheckDeclaration(spec, diagnostics) ? CheckLayers(spec, diagnostics) : null;
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
            if (spec.Layers.Count == 0)
                diagnostics.Add(new(DiagnosticDescriptors.NoLayers.Id, spec.NetworkLocation,
                    $"Network '{spec.ClassName}' declares no layers; add layer attributes such as [Conv2D(32, 3)] after [Network]"));
            return diagnostics.Count == before;
        }

        private static CheckedNetwork? CheckLayers(NetworkSpec spec, List<DiagnosticInfo> diagnostics)
        {
            var counters = new Dictionary<LayerKind, int>();
            var layers = new List<CheckedLayer>();
            Shape shape = Shape.Map(spec.Channels, spec.Height, spec.Width);
            for (int i = 0; i < spec.Layers.Count; i++)
            {
                LayerSpec layer = spec.Layers[i];
                var context = new LayerContext(layer, i + 1, shape, diagnostics);
                CheckedLayer? result = layer.Kind switch
                {
                    LayerKind.Conv2D => CheckConv(context),
                    LayerKind.MaxPool2D or LayerKind.AvgPool2D => CheckPool(context),
                    LayerKind.GlobalAvgPool => CheckGlobalAvgPool(context),
                    LayerKind.Flatten => CheckFlatten(context),
                    LayerKind.Dense => CheckDense(context),
                    LayerKind.ReLU => Simple(context, shape),
                    LayerKind.Dropout => CheckDropout(context),
                    LayerKind.Softmax => CheckSoftmax(context, spec, i),
                    _ => throw new InvalidOperationException($"unknown layer kind {layer.Kind}"),
                };
                if (result is null) return null; // the shape is unknown from here on; one precise error beats a cascade
                counters.TryGetValue(layer.Kind, out int n);
                counters[layer.Kind] = ++n;
                bool reluNext = i + 1 < spec.Layers.Count && spec.Layers[i + 1].Kind == LayerKind.ReLU;
                layers.Add(result with { Name = NamePrefix(layer.Kind) + n.ToString(CultureInfo.InvariantCulture), FollowedByReLU = reluNext });
                shape = result.Output;
            }
            return new CheckedNetwork(spec.Namespace, spec.ClassName, spec.Accessibility,
                Shape.Map(spec.Channels, spec.Height, spec.Width), layers.ToEquatableArray());
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
            _ => "layer",
        };

        private readonly struct LayerContext
        {
            public LayerContext(LayerSpec layer, int number, Shape input, List<DiagnosticInfo> diagnostics)
            {
                Layer = layer; Number = number; Input = input; Diagnostics = diagnostics;
            }
            public LayerSpec Layer { get; }
            public int Number { get; }
            public Shape Input { get; }
            public List<DiagnosticInfo> Diagnostics { get; }
            public string Label => $"{Layer.Text} at layer {Number}";

            public void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, string message) =>
                Diagnostics.Add(new DiagnosticInfo(descriptor.Id, Layer.Location, message));

            /// <summary>Reports CNN0003 when <paramref name="ok"/> is false.</summary>
            public bool Require(bool ok, string what, string rule, object value)
            {
                if (!ok) Report(DiagnosticDescriptors.InvalidArgument, $"{Label}: {what} must be {rule}, but is {Format(value)}");
                return ok;
            }

            public bool RequireMap()
            {
                if (!Input.IsVector) return true;
                Report(DiagnosticDescriptors.NeedsMap,
                    $"{Label} gets the vector {Input}; it needs a feature map (height x width x channels), so it must come before Flatten or GlobalAvgPool");
                return false;
            }
        }

        private static string Format(object value) => value is double d ? d.ToString("R", CultureInfo.InvariantCulture) : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";

        private static CheckedLayer Make(LayerContext c, Shape output, int kernel = 0, int stride = 1, int padding = 0, int groups = 1,
            bool bias = false, long parameters = 0, long flops = 0) =>
            new(c.Layer.Kind, "", c.Layer.Text, c.Input, output, kernel, stride, padding, groups, bias, c.Layer.Rate, parameters, flops, false);

        private static CheckedLayer Simple(LayerContext c, Shape output) => Make(c, output);

        private static CheckedLayer? CheckConv(LayerContext c)
        {
            LayerSpec l = c.Layer;
            if (!c.RequireMap()) return null;
            bool ok = c.Require(l.Size >= 1, "the number of filters", "at least 1", l.Size)
                & c.Require(l.Kernel >= 1, "the kernel size", "at least 1", l.Kernel)
                & c.Require(l.Stride >= 1, "Stride", "at least 1", l.Stride)
                & c.Require(l.Groups >= 1, "Groups", "at least 1", l.Groups)
                & c.Require(l.Padding >= -1, "Padding", "0 or more (or Pad.Same)", l.Padding);
            if (!ok) return null;
            if (l.Padding == -1 && !c.Require(l.Kernel % 2 == 1, "the kernel size with Padding = Pad.Same", "odd (so the padding is the same on every side)", l.Kernel))
                return null;
            int padding = l.Padding == -1 ? (l.Kernel - 1) / 2 : l.Padding;
            if (c.Input.C % l.Groups != 0 || l.Size % l.Groups != 0)
            {
                string which = c.Input.C % l.Groups != 0
                    ? $"its {c.Input.C} input channels are not divisible by Groups = {l.Groups} ({c.Input.C} % {l.Groups} = {c.Input.C % l.Groups})"
                    : $"its {l.Size} filters are not divisible by Groups = {l.Groups} ({l.Size} % {l.Groups} = {l.Size % l.Groups})";
                c.Report(DiagnosticDescriptors.GroupsMismatch, $"{c.Label} gets {c.Input}; {which}");
                return null;
            }
            if (!OutputSize(c, "kernel", l.Kernel, l.Stride, padding, out int oh, out int ow)) return null;
            long perOutput = (long)l.Kernel * l.Kernel * (c.Input.C / l.Groups);
            long parameters = (perOutput + (l.Bias ? 1 : 0)) * l.Size;
            long flops = 2L * perOutput * l.Size * oh * ow;
            return Make(c, Shape.Map(l.Size, oh, ow), l.Kernel, l.Stride, padding, l.Groups, l.Bias, parameters, flops);
        }

        private static CheckedLayer? CheckPool(LayerContext c)
        {
            LayerSpec l = c.Layer;
            if (!c.RequireMap()) return null;
            bool ok = c.Require(l.Kernel >= 1, "the window", "at least 1", l.Kernel)
                & c.Require(l.Stride >= 1, "Stride", "at least 1", l.Stride)
                & c.Require(l.Padding >= -1, "Padding", "0 or more (or Pad.Same)", l.Padding);
            if (!ok) return null;
            if (l.Padding == -1 && !c.Require(l.Kernel % 2 == 1, "the window with Padding = Pad.Same", "odd", l.Kernel)) return null;
            int padding = l.Padding == -1 ? (l.Kernel - 1) / 2 : l.Padding;
            if (!c.Require(padding <= l.Kernel / 2, "Padding", $"at most half the window ({l.Kernel / 2}), or a window would see only padding", padding)) return null;
            if (!OutputSize(c, "window", l.Kernel, l.Stride, padding, out int oh, out int ow)) return null;
            return Make(c, Shape.Map(c.Input.C, oh, ow), l.Kernel, l.Stride, padding);
        }

        /// <summary>(n - k + 2p) / s + 1 for height and width; CNN0002 below 1, CNN0009 when rows are dropped.</summary>
        private static bool OutputSize(LayerContext c, string windowName, int k, int s, int p, out int oh, out int ow)
        {
            oh = Dim(c.Input.H, k, s, p);
            ow = Dim(c.Input.W, k, s, p);
            if (oh < 1 || ow < 1)
            {
                int n = oh < 1 ? c.Input.H : c.Input.W;
                string axis = oh < 1 ? "height" : "width";
                c.Report(DiagnosticDescriptors.OutputTooSmall,
                    $"{c.Label} gets {c.Input}; its {windowName} needs at least {k}x{k} after padding, but the {axis} gives " +
                    $"(({n} - {k} + 2*{p})/{s} + 1 = {Math.Min(oh, ow)})");
                return false;
            }
            int remH = (c.Input.H - k + 2 * p) % s, remW = (c.Input.W - k + 2 * p) % s;
            if (remH != 0 || remW != 0)
            {
                int n = remH != 0 ? c.Input.H : c.Input.W;
                int rem = remH != 0 ? remH : remW;
                c.Report(DiagnosticDescriptors.UnevenStride,
                    $"{c.Label} gets {c.Input}: ({n} - {k} + 2*{p}) = {n - k + 2 * p} is not a multiple of stride {s}, " +
                    $"so the last {rem} row(s) or column(s) never reach the output");
            }
            return true;
        }

        private static int Dim(int n, int k, int s, int p)
        {
            int span = n - k + 2 * p;
            return span < 0 ? 0 : span / s + 1;
        }

        private static CheckedLayer? CheckGlobalAvgPool(LayerContext c) =>
            c.RequireMap() ? Make(c, Shape.Vector(c.Input.C)) : null;

        private static CheckedLayer? CheckFlatten(LayerContext c)
        {
            if (!c.RequireMap()) return null;
            long size = c.Input.Size;
            if (!c.Require(size <= int.MaxValue, "the flattened size", $"at most {int.MaxValue}", size)) return null;
            return Make(c, Shape.Vector((int)size));
        }

        private static CheckedLayer? CheckDense(LayerContext c)
        {
            LayerSpec l = c.Layer;
            if (!c.Input.IsVector)
            {
                c.Report(DiagnosticDescriptors.DenseNeedsVector,
                    $"{c.Label} gets the feature map {c.Input}; Dense takes a vector, so add [Flatten] (or [GlobalAvgPool]) before it");
                return null;
            }
            if (!c.Require(l.Size >= 1, "the number of units", "at least 1", l.Size)) return null;
            long parameters = ((long)c.Input.C + (l.Bias ? 1 : 0)) * l.Size;
            return Make(c, Shape.Vector(l.Size), bias: l.Bias, parameters: parameters, flops: 2L * c.Input.C * l.Size);
        }

        private static CheckedLayer? CheckDropout(LayerContext c)
        {
            double rate = c.Layer.Rate;
            if (!c.Require(rate >= 0 && rate < 1, "the dropout rate", "in [0, 1)", rate)) return null;
            return Make(c, c.Input);
        }

        private static CheckedLayer? CheckSoftmax(LayerContext c, NetworkSpec spec, int index)
        {
            if (index != spec.Layers.Count - 1)
            {
                LayerSpec next = spec.Layers[index + 1];
                c.Report(DiagnosticDescriptors.SoftmaxNotLast,
                    $"{c.Label} is followed by {next.Text}; Softmax is the network's output and must be the last layer");
                return null;
            }
            return Make(c, c.Input);
        }
    }
}
