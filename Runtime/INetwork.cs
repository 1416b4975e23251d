// What every generated network offers, so trainers, evaluators and weight files work on any of them.
using System;
using System.Collections.Generic;

namespace CnnGen
{
    public interface INetwork : IDisposable
    {
        /// <summary>Floats per input image (channels * height * width), NCHW.</summary>
        int InputLength { get; }
        /// <summary>Floats per output (number of classes for a classifier).</summary>
        int OutputLength { get; }
        /// <summary>The largest batch the network's memory was planned for.</summary>
        int MaxBatch { get; }
        /// <summary>Bytes of native memory this instance allocated in its constructor: the generator's static memory plan
        /// (parameters, gradients per worker, activations and activation gradients for MaxBatch images, im2col workspace,
        /// BatchNorm state) evaluated for this instance's MaxBatch and thread count. Nothing else is allocated later.</summary>
        long NativeBytes => 0;
        /// <summary>The kernel set this instance runs.</summary>
        Isa Isa { get; }
        /// <summary>Workers in this instance's pool: they split a batch, or each conv of an inference batch smaller than the pool.</summary>
        int Threads => 1;
        /// <summary>Every layer with its output shape (the generated static <c>Layers</c>).</summary>
        IReadOnlyList<LayerInfo> LayerInfos { get; }

        /// <summary>The output of layer <paramref name="layer"/> (index into <see cref="LayerInfos"/>) for image
        /// <paramref name="image"/> of the last Forward, C x H x W or N floats; valid until the next call.</summary>
        ReadOnlySpan<float> LayerOutput(int layer, int image);

        /// <summary>Every learnable tensor, in declaration order.</summary>
        IReadOnlyList<Parameter> Parameters { get; }
        /// <summary>State that is saved with the weights but not learned: BatchNorm running statistics (empty when none).</summary>
        IReadOnlyList<Parameter> Buffers => Array.Empty<Parameter>();
        /// <summary>Tells the network that parameter or buffer values were written through a <see cref="Parameter"/> obtained
        /// earlier (it recomputes derived data such as BatchNorm-folded weights before the next inference).</summary>
        void ParametersChanged() { }
        /// <summary>3x3 stride-1 pad-1 convs with 16+ channels on 13 x 13+ maps run their forward and input gradient as
        /// Winograd F(4x4, 3x3) when true (the default): 4x fewer multiplications, float rounding differs from the direct
        /// sum. False runs every conv as im2col + GEMM.</summary>
        bool Winograd { get; set; }
        /// <summary>Forward and TrainStep refuse images holding NaN or infinity (true, the default); false skips that scan
        /// (a pass over the input) for data known to be finite.</summary>
        bool CheckInputs { get; set; }
        /// <summary>Training mode turns dropout on in <see cref="Forward"/>; inference (false) is the default.</summary>
        bool Training { get; set; }

        /// <summary>Runs the network on <paramref name="batch"/> NCHW images; writes probabilities (Softmax output) or logits.</summary>
        void Forward(ReadOnlySpan<float> input, Span<float> output, int batch);

        /// <summary>The network's own input memory for <paramref name="batch"/> images: fill it and call
        /// <see cref="Forward(int)"/> to run without copying images in or outputs out.</summary>
        Span<float> InputBuffer(int batch);

        /// <summary>Runs the network on the images already in <see cref="InputBuffer"/>; returns the outputs in the
        /// network's own memory, batch x <see cref="OutputLength"/> floats, valid until the next call.</summary>
        ReadOnlySpan<float> Forward(int batch);

        /// <summary>Back-propagates <paramref name="outputGradient"/> (d loss / d output of the last Forward, same batch):
        /// adds to every parameter's gradient and writes d loss / d input (pass an empty span to skip it).</summary>
        void Backward(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch);

        /// <summary>The network's own memory for d loss / d output of <paramref name="batch"/> images: fill it after Forward
        /// and call <see cref="Backward(int, bool)"/> to back-propagate without copying gradients in or out.</summary>
        Span<float> OutputGradientBuffer(int batch);

        /// <summary>Back-propagates the gradient in <see cref="OutputGradientBuffer"/> (after a Forward of the same batch): adds
        /// to every parameter gradient and returns d loss / d input in the network's own memory, batch x
        /// <see cref="InputLength"/> floats (no copy), valid until the next call; empty when <paramref name="inputGradient"/>
        /// is false.</summary>
        ReadOnlySpan<float> Backward(int batch, bool inputGradient = true);

        /// <summary>Sets every parameter gradient to zero.</summary>
        void ZeroGradients();

        /// <summary>One training step on a batch: forward in training mode, softmax cross-entropy on the logits,
        /// backward, optimizer update. Returns the mean loss; <paramref name="correct"/> counts right predictions.</summary>
        float TrainStep(ReadOnlySpan<float> images, ReadOnlySpan<int> labels, IOptimizer optimizer, out int correct);
    }
}
