// The checked network: a graph of primitive operations in execution order, every node with its inferred shapes,
// parameter count and FLOPs. It carries no locations, so moving a declaration around in its file does not re-emit code.
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

    /// <summary>One primitive operation. <see cref="Inputs"/> are indices of earlier nodes (-1 is the network input);
    /// <see cref="Input"/> is the first input's shape. <see cref="Head"/> is 0 on the main path and k for the nodes of
    /// auxiliary classifier k (run only by TrainStep). Eps/Momentum are BatchNorm's; Alpha/Beta/K and Size (in
    /// Kernel) LocalResponseNorm's.</summary>
    internal sealed record CheckedLayer(
        LayerKind Kind,
        string Name,
        string Text,
        EquatableArray<int> Inputs,
        Shape Input,
        Shape Output,
        int Kernel,
        int Stride,
        int Padding,
        int Groups,
        bool Bias,
        bool CeilMode,
        double Rate,
        double Eps,
        double Momentum,
        double Alpha,
        double Beta,
        double K,
        int Head,
        long Parameters,
        long Flops,
        bool FollowedByReLU);

    /// <summary>An output head: the node holding its logits, the node holding its output, and its loss weight.</summary>
    internal sealed record HeadInfo(int Logits, int Output, double Weight);

    internal sealed record CheckedNetwork(
        string Namespace,
        string ClassName,
        string Accessibility,
        Shape Input,
        EquatableArray<CheckedLayer> Layers,
        EquatableArray<HeadInfo> Heads)
    {
        /// <summary>The main head's output shape.</summary>
        public Shape Output => Layers.Count == 0 ? Input : Layers[Heads[0].Output].Output;
        public bool EndsWithSoftmax => Layers.Count > 0 && Layers[Heads[0].Output].Kind == LayerKind.Softmax;
        public Shape ShapeOf(int node) => node < 0 ? Input : Layers[node].Output;
    }

    /// <summary>The result of checking one declaration: the network when it is valid, and all diagnostics.</summary>
    internal sealed record CheckResult(CheckedNetwork? Network, EquatableArray<DiagnosticInfo> Diagnostics);
}
