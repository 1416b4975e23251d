// The checked network: every layer with its inferred input/output shape, parameter count and FLOPs.
// It carries no locations, so moving a declaration around in its file does not re-emit code.
namespace CnnGen.Generator.Model
{
    /// <summary>A per-image tensor shape: a C x H x W map, or a vector of C (IsVector, H = W = 1).</summary>
    internal readonly record struct Shape(int C, int H, int W, bool IsVector)
    {
        public static Shape Map(int c, int h, int w) => new(c, h, w, false);
        public static Shape Vector(int n) => new(n, 1, 1, true);
        public long Size => (long)C * H * W;
        /// <summary>Keras' channels-last order, as in the seeds: "28x28x36" or "576".</summary>
        public override string ToString() => IsVector ? C.ToString() : $"{H}x{W}x{C}";
    }

    internal sealed record CheckedLayer(
        LayerKind Kind,
        string Name,
        string Text,
        Shape Input,
        Shape Output,
        int Kernel,
        int Stride,
        int Padding,
        int Groups,
        bool Bias,
        double Rate,
        long Parameters,
        long Flops,
        bool FollowedByReLU);

    internal sealed record CheckedNetwork(
        string Namespace,
        string ClassName,
        string Accessibility,
        Shape Input,
        EquatableArray<CheckedLayer> Layers)
    {
        public Shape Output => Layers.Count == 0 ? Input : Layers[Layers.Count - 1].Output;
    }

    /// <summary>The result of checking one declaration: the network when it is valid, and all diagnostics.</summary>
    internal sealed record CheckResult(CheckedNetwork? Network, EquatableArray<DiagnosticInfo> Diagnostics);
}
