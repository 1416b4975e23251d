// The CnnGen DSL beyond straight stacks: normalization layers, user blocks with use-site parameters,
// residual and branch-and-concat structure, and the literature's blocks built in. Attributes only, no logic.
using System;

namespace CnnGen
{
    /// <summary>Batch normalization over channels (PyTorch's BatchNorm2d / BatchNorm1d): batch statistics in training
    /// (running statistics updated with <see cref="Momentum"/>), running statistics in inference, where a BatchNorm
    /// right after a convolution is folded into that convolution's weights. Parameters <c>weight</c>, <c>bias</c>;
    /// buffers <c>running_mean</c>, <c>running_var</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class BatchNormAttribute : Attribute
    {
        public double Epsilon { get; set; } = 1e-5;
        /// <summary>running = (1 - Momentum) * running + Momentum * batch statistic (PyTorch's convention).</summary>
        public double Momentum { get; set; } = 0.1;
    }

    /// <summary>Local response normalization across channels (AlexNet, PyTorch's LocalResponseNorm):
    /// <c>b_c = a_c / (K + Alpha / Size * sum of a^2 over Size neighbouring channels)^Beta</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class LocalResponseNormAttribute : Attribute
    {
        public LocalResponseNormAttribute(int size) { Size = size; }
        /// <summary>Channels in the window (AlexNet: 5).</summary>
        public int Size { get; }
        public double Alpha { get; set; } = 1e-4;
        public double Beta { get; set; } = 0.75;
        /// <summary>The additive constant (PyTorch's k; AlexNet used 2).</summary>
        public double K { get; set; } = 1.0;
    }

    // ------------------------------------------------------------------ user blocks

    /// <summary>Declares a reusable block: the layer attributes on the class, in order, with the named parameters
    /// bound at each use site, in this order. A parameter may have a default: <c>"stride = 1"</c>.
    /// Layer arguments refer to a parameter by name: <c>[Conv2D("width", 3, Stride = "stride")]</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class BlockAttribute : Attribute
    {
        public BlockAttribute(params string[] parameters) { Parameters = parameters; }
        public string[] Parameters { get; }
    }

    /// <summary>The identity, for use as a branch: <c>[Concat&lt;Identity, MyLayer&gt;]</c> or a residual shortcut.</summary>
    public sealed class Identity { }

    /// <summary>Runs block <typeparamref name="TBlock"/> in place with its parameters bound to <c>arguments</c> (in the
    /// order its [Block] declares them), <see cref="Repeat"/> times.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class UseAttribute<TBlock> : Attribute
    {
        public UseAttribute(params object[] arguments) { Arguments = arguments; }
        public object[] Arguments { get; }
        public int Repeat { get; set; } = 1;
    }

    /// <summary>A residual connection: <c>y = body(x) + x</c>. The shapes must match (otherwise use the two-block form
    /// with a projection shortcut). Add a [ReLU] after it for the classic post-activation block.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class ResidualAttribute<TBody> : Attribute
    {
        public ResidualAttribute(params object[] arguments) { Arguments = arguments; }
        public object[] Arguments { get; }
        public int Repeat { get; set; } = 1;
    }

    /// <summary>A residual connection with a shortcut block: <c>y = body(x) + shortcut(x)</c>; both get the same arguments.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class ResidualAttribute<TBody, TShortcut> : Attribute
    {
        public ResidualAttribute(params object[] arguments) { Arguments = arguments; }
        public object[] Arguments { get; }
        public int Repeat { get; set; } = 1;
    }

    /// <summary>Branches that all read the same input, concatenated along channels (same height and width required).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class ConcatAttribute<T1, T2> : Attribute
    {
        public ConcatAttribute(params object[] arguments) { Arguments = arguments; }
        public object[] Arguments { get; }
        public int Repeat { get; set; } = 1;
    }

    /// <inheritdoc cref="ConcatAttribute{T1, T2}"/>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class ConcatAttribute<T1, T2, T3> : Attribute
    {
        public ConcatAttribute(params object[] arguments) { Arguments = arguments; }
        public object[] Arguments { get; }
        public int Repeat { get; set; } = 1;
    }

    /// <inheritdoc cref="ConcatAttribute{T1, T2}"/>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class ConcatAttribute<T1, T2, T3, T4> : Attribute
    {
        public ConcatAttribute(params object[] arguments) { Arguments = arguments; }
        public object[] Arguments { get; }
        public int Repeat { get; set; } = 1;
    }

    // ------------------------------------------------------------------ the literature's blocks, built in

    /// <summary>ResNet basic block (He et al. 2016): 3x3 conv (stride) - BN - ReLU - 3x3 conv - BN, plus the input or a
    /// 1x1 conv (stride) - BN projection when the shape changes, then ReLU. <see cref="Repeat"/> stacks copies; only the
    /// first has the stride (torchvision's layer).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class BasicBlockAttribute : Attribute
    {
        public BasicBlockAttribute(int width) { Width = width; }
        public int Width { get; }
        public int Stride { get; set; } = 1;
        public int Repeat { get; set; } = 1;
    }

    /// <summary>ResNet bottleneck block (v1.5, as torchvision): 1x1 conv (width) - BN - ReLU - 3x3 conv (width, stride) -
    /// BN - ReLU - 1x1 conv (width * Expansion) - BN, plus identity or 1x1 projection, then ReLU.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class BottleneckAttribute : Attribute
    {
        public BottleneckAttribute(int width) { Width = width; }
        public int Width { get; }
        public int Stride { get; set; } = 1;
        public int Repeat { get; set; } = 1;
        public int Expansion { get; set; } = 4;
    }

    /// <summary>GoogLeNet's Inception module (Szegedy et al. 2015): 1x1; 1x1 -> 3x3; 1x1 -> 5x5; 3x3 max pool -> 1x1,
    /// concatenated. Each conv is followed by ReLU (and BN before it when <see cref="BatchNorm"/>, as torchvision).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class InceptionAttribute : Attribute
    {
        public InceptionAttribute(int conv1x1, int reduce3x3, int conv3x3, int reduce5x5, int conv5x5, int poolProjection)
        {
            Conv1x1 = conv1x1; Reduce3x3 = reduce3x3; Conv3x3 = conv3x3; Reduce5x5 = reduce5x5; Conv5x5 = conv5x5; PoolProjection = poolProjection;
        }
        public int Conv1x1 { get; }
        public int Reduce3x3 { get; }
        public int Conv3x3 { get; }
        public int Reduce5x5 { get; }
        public int Conv5x5 { get; }
        public int PoolProjection { get; }
        /// <summary>Kernel of the "5x5" branch: 5 in the paper; torchvision's googlenet uses 3.</summary>
        public int LargeKernel { get; set; } = 5;
        /// <summary>Conv without bias, then BatchNorm, then ReLU (torchvision's BasicConv2d) instead of conv + ReLU.</summary>
        public bool BatchNorm { get; set; }
        public double BatchNormEpsilon { get; set; } = 1e-3;
    }

    /// <summary>DenseNet dense block (Huang et al. 2017): <c>Layers</c> layers, each BN - ReLU - 1x1 conv (BottleneckWidth *
    /// GrowthRate) - BN - ReLU - 3x3 conv (GrowthRate), seeing the concatenation of the block input and all earlier layers.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class DenseBlockAttribute : Attribute
    {
        public DenseBlockAttribute(int layers) { Layers = layers; }
        public int Layers { get; }
        public int GrowthRate { get; set; } = 32;
        public int BottleneckWidth { get; set; } = 4;
    }

    /// <summary>DenseNet transition layer: BN - ReLU - 1x1 conv (channels * Compression, no bias) - 2x2 average pool.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class TransitionAttribute : Attribute
    {
        public double Compression { get; set; } = 0.5;
    }

    /// <summary>GoogLeNet auxiliary classifier, branching off here: 5x5/3 average pool - 1x1 conv (<see cref="Channels"/>, 128)
    /// - ReLU - Dense(<see cref="Hidden"/>, 1024) - ReLU - Dropout(0.7) - Dense(classes). Its softmax cross-entropy is added to
    /// the training loss with <see cref="Weight"/>; inference skips it.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class AuxClassifierAttribute : Attribute
    {
        public double Weight { get; set; } = 0.3;
        /// <summary>Conv without bias + BatchNorm, as torchvision's InceptionAux.</summary>
        public bool BatchNorm { get; set; }
        public double BatchNormEpsilon { get; set; } = 1e-3;
        public double Dropout { get; set; } = 0.7;
        /// <summary>Filters of the 1x1 conv (the paper's 128; smaller for small networks).</summary>
        public int Channels { get; set; } = 128;
        /// <summary>Units of the hidden Dense layer (the paper's 1024).</summary>
        public int Hidden { get; set; } = 1024;
    }
}
