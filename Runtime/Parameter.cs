// A learnable tensor of a network: a named view into the network's parameter and gradient memory.
using System;
using System.Collections.Generic;

namespace CnnGen
{
    /// <summary>
    /// One learnable tensor (e.g. <c>conv1.weight</c>, shape [36, 1, 3, 3] in PyTorch's OIHW order) with its
    /// gradient. Values and gradients are views into memory owned by the network; they stay valid until the
    /// network is disposed.
    /// </summary>
    public sealed unsafe class Parameter
    {
        private readonly NativeBuffer _values;
        private readonly NativeBuffer? _gradients;
        private readonly long _offset;

        public Parameter(string name, int[] shape, NativeBuffer values, NativeBuffer gradients, long offset, int fanIn, int fanOut)
        {
            Name = name;
            Shape = shape;
            int length = 1;
            foreach (int d in shape) length *= d;
            Length = length;
            if (offset < 0 || offset + length > values.Length || offset + length > gradients.Length)
                throw new ArgumentOutOfRangeException(nameof(offset), $"Parameter {name} [{offset}, {offset + length}) does not fit its buffers.");
            _values = values;
            _gradients = gradients;
            _offset = offset;
            FanIn = fanIn;
            FanOut = fanOut;
        }

        /// <summary>A non-learnable state tensor (a BatchNorm running statistic): saved in weight files, never optimized;
        /// its <see cref="Gradient"/> is empty.</summary>
        public Parameter(string name, int[] shape, NativeBuffer values, long offset)
        {
            Name = name;
            Shape = shape;
            int length = 1;
            foreach (int d in shape) length *= d;
            Length = length;
            if (offset < 0 || offset + length > values.Length)
                throw new ArgumentOutOfRangeException(nameof(offset), $"Buffer {name} [{offset}, {offset + length}) does not fit its memory.");
            _values = values;
            _offset = offset;
            IsBuffer = true;
        }

        /// <summary>True for a state tensor (BatchNorm running mean/variance) that optimizers skip.</summary>
        public bool IsBuffer { get; }

        /// <summary>PyTorch-style name: <c>conv1.weight</c>, <c>dense2.bias</c>.</summary>
        public string Name { get; }
        /// <summary>PyTorch's layout: conv weights [out, in/groups, kh, kw], dense weights [out, in], biases [out].</summary>
        public IReadOnlyList<int> Shape { get; }
        public int Length { get; }
        /// <summary>Inputs feeding one output (for initialisers).</summary>
        public int FanIn { get; }
        /// <summary>Outputs fed by one input (for initialisers).</summary>
        public int FanOut { get; }

        /// <summary>The values (writable: the network recomputes weights derived from them before its next call).</summary>
        public float* Values { get { _values.Touch(); return _values.Pointer + _offset; } }
        public float* Gradients => _gradients is null ? null : _gradients.Pointer + _offset;
        /// <summary>The values without counting a write: for an optimizer's workers, after <see cref="MarkWritten"/> counted it once.</summary>
        internal float* ValuesUnmarked => _values.Pointer + _offset;
        /// <summary>Counts a write of the values (as <see cref="Values"/> does), from one thread.</summary>
        internal void MarkWritten() => _values.Touch();
        /// <summary>The values (writable: the network recomputes weights derived from them before its next call).</summary>
        public Span<float> Value => new(Values, Length);
        public Span<float> Gradient => _gradients is null ? Span<float>.Empty : new(Gradients, Length);

        public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";
    }

    /// <summary>One row of a network's static description (as in <c>Summary</c>).</summary>
    public sealed class LayerInfo
    {
        public LayerInfo(string name, string type, int[] outputShape, long parameters)
        {
            Name = name; Type = type; OutputShape = outputShape; Parameters = parameters;
        }
        public string Name { get; }
        public string Type { get; }
        /// <summary>Per image: [C, H, W] for maps, [N] for vectors.</summary>
        public IReadOnlyList<int> OutputShape { get; }
        public long Parameters { get; }
        public override string ToString() => $"{Name} ({Type}) -> ({string.Join(", ", OutputShape)}), {Parameters} params";
    }
}
