// Non-finite values (NaN, +inf, -inf): the checks generated networks run on every input and training step, and
// the exception that names where the first such value appeared.
using System;
using System.Globalization;
using System.Numerics.Tensors;

namespace CnnGen
{
    /// <summary>A NaN or infinity where CnnGen needs finite numbers. <see cref="Tensor"/> names the first tensor that held
    /// one (an input, a parameter, a layer's output, the loss or a gradient); the network's parameters, buffers and
    /// optimizer state were not changed by the call that threw.</summary>
    public sealed class NonFiniteException : ArithmeticException
    {
        public NonFiniteException(string tensor, long index, float value, string message, Exception? inner = null) : base(message, inner)
        {
            Tensor = tensor;
            Index = index;
            Value = value;
        }

        /// <summary>The first tensor found holding a non-finite value, e.g. "images", "conv2 output", "gradient of dense1.weight".</summary>
        public string Tensor { get; }
        /// <summary>Flat index of the first non-finite value inside <see cref="Tensor"/>.</summary>
        public long Index { get; }
        /// <summary>The value found there (NaN, +inf or -inf).</summary>
        public float Value { get; }
    }

    public static class NonFinite
    {
        /// <summary>Throws an <see cref="ArgumentException"/> if <paramref name="data"/> (images of
        /// <paramref name="perImage"/> floats each) holds a NaN or infinity, naming the image and element.</summary>
        public static void CheckInput(ReadOnlySpan<float> data, int perImage, string name)
        {
            if (TensorPrimitives.IsFiniteAll(data)) return;
            int i = FirstIndex(data);
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{name}[{i}] is {Describe(data[i])} (image {i / perImage}, element {i % perImage}). Inputs must be finite numbers: " +
                $"check how the data was loaded and normalized (a division by a zero standard deviation gives NaN)."), name);
        }

        /// <summary>Index of the first NaN or infinity in <paramref name="data"/>, or -1.</summary>
        public static int FirstIndex(ReadOnlySpan<float> data)
        {
            if (data.IsEmpty || TensorPrimitives.IsFiniteAll(data)) return -1;   // (IsFiniteAll is false for an empty span)
            for (int i = 0; i < data.Length; i++)
                if (!float.IsFinite(data[i])) return i;
            return -1;
        }

        /// <summary>Builds the exception for a training step that produced a non-finite loss or gradient: looks, in the order
        /// the step computes them, at the parameters, each layer's output (for images 0 .. <paramref name="batch"/> - 1 of
        /// the step), the loss, and the parameter gradients, and names the first tensor holding a NaN or infinity.</summary>
        public static NonFiniteException DiagnoseTrainStep(INetwork net, int batch, double loss, float learningRate)
        {
            ArgumentNullException.ThrowIfNull(net);
            string network = net.GetType().Name;
            string context = string.Create(CultureInfo.InvariantCulture, $"learning rate {learningRate:G4}");
            const string unchanged = " The step was not applied: parameters, running statistics and optimizer state are as before it.";

            foreach (Parameter p in net.Parameters)
                if (Find(p.Value) is { } at)
                    return Error($"parameter {p.Name}", at.Index, at.Value,
                        $"{network}.TrainStep: parameter {p.Name}{Position(p.Shape, at.Index)} is {Describe(at.Value)} before the step ({context}). " +
                        "Parameters must be finite: reload weights from a checkpoint or reinitialize the network." + unchanged);

            for (int layer = 0; layer < net.LayerInfos.Count; layer++)
            {
                LayerInfo info = net.LayerInfos[layer];
                for (int image = 0; image < batch; image++)
                    if (Find(OutputOrEmpty(net, layer, image)) is { } at)
                        return Error($"{info.Name} output", at.Index, at.Value,
                            $"{network}.TrainStep: the output of layer {info.Name} ({info.Type}) is {Describe(at.Value)} for image {image} of the batch, " +
                            $"element {at.Index}{Position(info.OutputShape, at.Index)}; every earlier layer's output and every parameter is finite ({context}). " +
                            "The activations overflowed: lower the learning rate, normalize the inputs, or add BatchNorm." + unchanged);
            }

            if (!double.IsFinite(loss))
                return Error("loss", 0, (float)loss,
                    $"{network}.TrainStep: the loss is {Describe((float)loss)} although every layer output is finite ({context}). " +
                    "The logits are too large for the softmax cross-entropy: lower the learning rate." + unchanged);

            foreach (Parameter p in net.Parameters)
                if (Find(p.Gradient) is { } at)
                    return Error($"gradient of {p.Name}", at.Index, at.Value,
                        $"{network}.TrainStep: the gradient of {p.Name}{Position(p.Shape, at.Index)} is {Describe(at.Value)} although the loss " +
                        $"({loss:G6}) and every activation are finite ({context}). Lower the learning rate or clip the inputs." + unchanged);

            return Error("loss", 0, (float)loss,
                $"{network}.TrainStep: a non-finite value appeared during the step (loss {loss}, {context}) but no single tensor could be named." + unchanged);
        }

        /// <summary>The exception for an optimizer step that made parameters non-finite (checked after every step).</summary>
        public static NonFiniteException AfterOptimizerStep(INetwork net, IOptimizer optimizer)
        {
            foreach (Parameter p in net.Parameters)
                if (Find(p.Value) is { } at)
                    return Error($"parameter {p.Name}", at.Index, at.Value, string.Create(CultureInfo.InvariantCulture,
                        $"{net.GetType().Name}.TrainStep: the optimizer step ({optimizer.GetType().Name}, learning rate {optimizer.LearningRate:G4}) made " +
                        $"parameter {p.Name}{Position(p.Shape, at.Index)} {Describe(at.Value)}; its loss and gradients were finite. The update is applied and the " +
                        $"network is unusable: lower the learning rate and reload the last checkpoint."));
            throw new InvalidOperationException("AfterOptimizerStep was called but every parameter is finite.");
        }

        /// <summary>The layer's output, or nothing for the layers of auxiliary heads, whose outputs a network does not expose
        /// (their losses and gradients are still checked).</summary>
        private static ReadOnlySpan<float> OutputOrEmpty(INetwork net, int layer, int image)
        {
            try { return net.LayerOutput(layer, image); }
            catch (ArgumentOutOfRangeException) { return ReadOnlySpan<float>.Empty; }
        }

        private static (long Index, float Value)? Find(ReadOnlySpan<float> data)
        {
            int i = FirstIndex(data);
            return i < 0 ? null : (i, data[i]);
        }

        private static NonFiniteException Error(string tensor, long index, float value, string message) => new(tensor, index, value, message);

        public static string Describe(float value) => float.IsNaN(value) ? "NaN" : value > 0 ? "+infinity" : "-infinity";

        /// <summary>" at [c, y, x]" for a flat index into a tensor of <paramref name="shape"/>.</summary>
        private static string Position(System.Collections.Generic.IReadOnlyList<int> shape, long index)
        {
            if (shape.Count == 0) return "";
            var coords = new long[shape.Count];
            for (int d = shape.Count - 1; d >= 0; d--)
            {
                coords[d] = index % shape[d];
                index /= shape[d];
            }
            return " at [" + string.Join(", ", coords) + "]";
        }
    }
}
