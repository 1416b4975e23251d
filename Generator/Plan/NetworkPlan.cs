// Plan: CheckedNetwork -> NetworkPlan. Decides where every tensor lives: parameter offsets in one parameter
// arena, activation offsets in one activation arena (per image; scaled by maxBatch at run time), two
// ping-pong gradient buffers sized for the largest layer (gradients die as soon as the layer below has
// consumed them), and one im2col workspace shared by all convolutions.
using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Plan
{
    internal enum Init { Zero, He, Glorot }

    /// <summary>A learnable tensor: PyTorch name and shape, offset in the parameter arena, initialiser.</summary>
    internal sealed record ParameterPlan(string Name, EquatableArray<int> Shape, long Offset, long Length, int FanIn, int FanOut, Init Init);

    /// <summary>Where one layer reads and writes. Offsets are per image (multiply by maxBatch); -1 = none.</summary>
    internal sealed record LayerPlan(
        CheckedLayer Layer,
        long InputOffset,
        long OutputOffset,
        long AuxOffset,
        int WeightIndex,
        int BiasIndex);

    internal sealed record NetworkPlan(
        CheckedNetwork Network,
        EquatableArray<LayerPlan> Layers,
        EquatableArray<ParameterPlan> Parameters,
        long ParameterArenaLength,
        long ActivationsPerImage,
        long GradientPerImage,
        long WorkspaceLength,
        long ParameterCount,
        long FlopsPerImage)
    {
        /// <summary>True when the last layer is Softmax: TrainStep stops before it and fuses it with the loss.</summary>
        public bool EndsWithSoftmax => Layers.Count > 0 && Layers[Layers.Count - 1].Layer.Kind == LayerKind.Softmax;
        /// <summary>The layer whose output is the logits (the last before Softmax, or the last).</summary>
        public int LogitsLayer => EndsWithSoftmax ? Layers.Count - 2 : Layers.Count - 1;
    }

    internal static class MemoryPlanner
    {
        /// <summary>Every buffer starts on a 64-byte boundary (16 floats).</summary>
        public const int Align = 16;

        public static long RoundUp(long n) => (n + Align - 1) / Align * Align;

        /// <summary>Conv layers that read their input directly (1x1, stride 1, no padding) need no im2col.</summary>
        public static bool IsDirectConv(CheckedLayer l) => l.Kernel == 1 && l.Stride == 1 && l.Padding == 0;

        public static NetworkPlan Plan(CheckedNetwork network)
        {
            var parameters = new List<ParameterPlan>();
            long parameterArena = 0;
            int AddParameter(string name, int[] shape, int fanIn, int fanOut, Init init)
            {
                long length = shape.Aggregate(1L, (a, d) => a * d);
                parameters.Add(new ParameterPlan(name, shape.ToEquatableArray(), parameterArena, length, fanIn, fanOut, init));
                parameterArena += RoundUp(length);
                return parameters.Count - 1;
            }

            var layers = new List<LayerPlan>();
            long activations = 0;
            long Allocate(long size) { long at = activations; activations += RoundUp(size); return at; }

            long current = Allocate(network.Input.Size); // the network input, kept for the first layer's backward
            long gradient = RoundUp(network.Input.Size);
            long workspace = 0;
            foreach (CheckedLayer l in network.Layers)
            {
                int weight = -1, bias = -1;
                long aux = -1;
                long output;
                switch (l.Kind)
                {
                    case LayerKind.Conv2D:
                    {
                        int cinPerGroup = l.Input.C / l.Groups;
                        int fanIn = cinPerGroup * l.Kernel * l.Kernel;
                        int fanOut = l.Output.C / l.Groups * l.Kernel * l.Kernel;
                        weight = AddParameter(l.Name + ".weight", new[] { l.Output.C, cinPerGroup, l.Kernel, l.Kernel }, fanIn, fanOut, l.FollowedByReLU ? Init.He : Init.Glorot);
                        if (l.Bias) bias = AddParameter(l.Name + ".bias", new[] { l.Output.C }, fanIn, fanOut, Init.Zero);
                        // im2col columns (forward, backward-data) or their transpose (backward-weights; 1x1 convs too)
                        workspace = Math.Max(workspace, (long)l.Input.C * l.Kernel * l.Kernel * l.Output.H * l.Output.W);
                        output = Allocate(l.Output.Size);
                        break;
                    }
                    case LayerKind.Dense:
                        weight = AddParameter(l.Name + ".weight", new[] { l.Output.C, l.Input.C }, l.Input.C, l.Output.C, l.FollowedByReLU ? Init.He : Init.Glorot);
                        if (l.Bias) bias = AddParameter(l.Name + ".bias", new[] { l.Output.C }, l.Input.C, l.Output.C, Init.Zero);
                        output = Allocate(l.Output.Size);
                        break;
                    case LayerKind.MaxPool2D:
                        output = Allocate(l.Output.Size);
                        aux = Allocate(l.Output.Size); // argmax per output, as int bits
                        break;
                    case LayerKind.Dropout:
                        output = Allocate(l.Output.Size);
                        aux = Allocate(l.Output.Size); // the scaled keep-mask of the last training forward
                        break;
                    case LayerKind.Flatten:
                        output = current; // NCHW is already flat in PyTorch's order: a view, no copy
                        break;
                    default:
                        output = Allocate(l.Output.Size);
                        break;
                }
                gradient = Math.Max(gradient, RoundUp(l.Output.Size));
                layers.Add(new LayerPlan(l, current, output, aux, weight, bias));
                current = output;
            }

            long parameterCount = network.Layers.Sum(l => l.Parameters);
            long flops = network.Layers.Sum(l => l.Flops);
            return new NetworkPlan(network, layers.ToEquatableArray(), parameters.ToEquatableArray(), parameterArena,
                activations, gradient, RoundUp(workspace), parameterCount, flops);
        }
    }
}
