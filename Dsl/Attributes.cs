// The CnnGen DSL: attributes only, no logic. The generator (Generator/) reads these from syntax and
// symbols at compile time; nothing here runs. Attribute order on the class is the order of the layers.
using System;

namespace CnnGen
{
    /// <summary>Marks a <c>partial</c> class as a network and gives its input shape (channels x height x width).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class NetworkAttribute : Attribute
    {
        /// <summary>Input channels (1 for grey images, 3 for RGB).</summary>
        public int Channels { get; set; }
        /// <summary>Input height in pixels.</summary>
        public int Height { get; set; }
        /// <summary>Input width in pixels.</summary>
        public int Width { get; set; }
    }

    /// <summary>Padding values for <see cref="Conv2DAttribute.Padding"/> and the pooling layers.</summary>
    public static class Pad
    {
        /// <summary>No padding (Keras' "valid").</summary>
        public const int Valid = 0;
        /// <summary>Pad so that a stride-1 layer keeps the spatial size: (kernel - 1) / 2 (Keras' "same", odd kernels).</summary>
        public const int Same = -1;
    }

    /// <summary>2-D convolution: <c>out = (in - kernel + 2 * padding) / stride + 1</c>;
    /// parameters <c>(kernel * kernel * inChannels / groups + bias) * filters</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class Conv2DAttribute : Attribute
    {
        /// <param name="filters">Output channels: an int, or inside a [Block] the name of a block parameter.</param>
        /// <param name="kernel">Square kernel size: an int or a block parameter name.</param>
        public Conv2DAttribute(object filters, object kernel) { Filters = filters; Kernel = kernel; }
        /// <summary>Output channels.</summary>
        public object Filters { get; }
        /// <summary>Square kernel size.</summary>
        public object Kernel { get; }
        /// <summary>An int or a block parameter name.</summary>
        public object Stride { get; set; } = 1;
        /// <summary>Zero padding on every side, or <see cref="Pad.Same"/> (an int or a block parameter name).</summary>
        public object Padding { get; set; } = Pad.Valid;
        /// <summary>Grouped convolution: input and output channels are split into this many independent groups.</summary>
        public object Groups { get; set; } = 1;
        public bool Bias { get; set; } = true;
    }

    /// <summary>Max pooling over a square window; the stride defaults to the window.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class MaxPool2DAttribute : Attribute
    {
        /// <param name="window">An int or a block parameter name.</param>
        public MaxPool2DAttribute(object window) { Window = window; }
        public object Window { get; }
        /// <summary>Defaults to the window size.</summary>
        public object Stride { get; set; } = 0;
        public object Padding { get; set; } = 0;
        /// <summary>Round the output size up instead of down (PyTorch's <c>ceil_mode</c>); a window never starts in the right/bottom padding.</summary>
        public bool CeilMode { get; set; }
    }

    /// <summary>Average pooling over a square window; the stride defaults to the window.
    /// Padded cells count as zeros in the average (PyTorch's <c>count_include_pad=True</c>).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class AvgPool2DAttribute : Attribute
    {
        /// <param name="window">An int or a block parameter name.</param>
        public AvgPool2DAttribute(object window) { Window = window; }
        public object Window { get; }
        /// <summary>Defaults to the window size.</summary>
        public object Stride { get; set; } = 0;
        public object Padding { get; set; } = 0;
        /// <summary>Round the output size up instead of down (PyTorch's <c>ceil_mode</c>); a window never starts in the right/bottom padding.</summary>
        public bool CeilMode { get; set; }
    }

    /// <summary>Global average pooling: C x H x W to a vector of C.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class GlobalAvgPoolAttribute : Attribute { }

    /// <summary>C x H x W to a vector of C*H*W, in NCHW (PyTorch) order.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class FlattenAttribute : Attribute { }

    /// <summary>Fully connected layer on a vector: parameters <c>(in + bias) * units</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class DenseAttribute : Attribute
    {
        /// <param name="units">An int or a block parameter name.</param>
        public DenseAttribute(object units) { Units = units; }
        public object Units { get; }
        public bool Bias { get; set; } = true;
    }

    /// <summary>Rectified linear unit, max(0, x).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class ReLUAttribute : Attribute { }

    /// <summary>Inverted dropout: in training, zeroes each value with probability <c>rate</c> and scales the rest
    /// by 1 / (1 - rate); identity in inference.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class DropoutAttribute : Attribute
    {
        /// <param name="rate">A number in [0, 1) or a block parameter name.</param>
        public DropoutAttribute(object rate) { Rate = rate; }
        public object Rate { get; }
    }

    /// <summary>Softmax over the output vector; must be the last layer. Training fuses it with cross-entropy.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class SoftmaxAttribute : Attribute { }
}
