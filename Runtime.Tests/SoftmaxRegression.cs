// A hand-written INetwork (one dense layer + softmax) so the trainer and evaluator can be tested without the
// generator: the same contract generated networks follow (NCHW in, probabilities out, TrainStep fused loss).
using System;
using System.Collections.Generic;

namespace CnnGen.Runtime.Tests
{
    public sealed unsafe class SoftmaxRegression : INetwork
    {
        private readonly NativeBuffer _values, _gradients, _logits, _logitGradients, _input, _output;
        private readonly Parameter _weight, _bias;

        public SoftmaxRegression(int inputs, int classes, int maxBatch, int seed = 1)
        {
            InputLength = inputs;
            OutputLength = classes;
            MaxBatch = maxBatch;
            _values = new NativeBuffer(classes * inputs + classes);
            _gradients = new NativeBuffer(classes * inputs + classes);
            _logits = new NativeBuffer((long)maxBatch * classes);
            _logitGradients = new NativeBuffer((long)maxBatch * classes);
            _input = new NativeBuffer((long)maxBatch * inputs);
            _output = new NativeBuffer((long)maxBatch * classes);
            _weight = new Parameter("dense1.weight", new[] { classes, inputs }, _values, _gradients, 0, inputs, classes);
            _bias = new Parameter("dense1.bias", new[] { classes }, _values, _gradients, classes * inputs, inputs, classes);
            Parameters = new[] { _weight, _bias };
            Initializers.GlorotUniform(_weight.Value, inputs, classes, new Rng((ulong)seed));
        }

        public int InputLength { get; }
        public int OutputLength { get; }
        public int MaxBatch { get; }
        public Isa Isa => Isa.Portable;
        public IReadOnlyList<Parameter> Parameters { get; }
        public IReadOnlyList<LayerInfo> LayerInfos => new[] { new LayerInfo("dense1", "Dense", new[] { OutputLength }, (long)OutputLength * (InputLength + 1)) };
        private int _lastBatch;
        public ReadOnlySpan<float> LayerOutput(int layer, int image)
        {
            if (layer != 0) throw new ArgumentOutOfRangeException(nameof(layer));
            if ((uint)image >= (uint)_lastBatch) throw new ArgumentOutOfRangeException(nameof(image));
            return new ReadOnlySpan<float>(_logits.Pointer + (long)image * OutputLength, OutputLength);
        }
        public bool Training { get; set; }
        public bool CheckInputs { get; set; } = true;
        /// <summary>No convolutions: nothing runs as Winograd either way.</summary>
        public bool Winograd { get; set; }
        /// <summary>Largest batch seen by Forward, and how many Forward calls ran in training mode (for tests).</summary>
        public int LargestForwardBatch { get; private set; }
        public int ForwardCallsWhileTraining { get; private set; }
        public int TrainSteps { get; private set; }

        private void Logits(ReadOnlySpan<float> input, int batch)
        {
            float* z = _logits.Pointer, w = _weight.Values, b = _bias.Values;
            for (int n = 0; n < batch; n++)
                for (int c = 0; c < OutputLength; c++)
                {
                    float sum = b[c];
                    for (int i = 0; i < InputLength; i++) sum += w[c * InputLength + i] * input[n * InputLength + i];
                    z[n * OutputLength + c] = sum;
                }
        }

        public void Forward(ReadOnlySpan<float> input, Span<float> output, int batch)
        {
            Guard.Batch(batch, MaxBatch);
            Guard.Length(input.Length, batch, InputLength, nameof(input));
            Guard.Length(output.Length, batch, OutputLength, nameof(output));
            if (CheckInputs) NonFinite.CheckInput(input, InputLength, nameof(input));
            LargestForwardBatch = Math.Max(LargestForwardBatch, batch);
            if (Training) ForwardCallsWhileTraining++;
            Logits(input, batch);
            _lastBatch = batch;
            fixed (float* y = output) Softmax.Forward(_logits.Pointer, y, batch, OutputLength);
        }

        public Span<float> InputBuffer(int batch)
        {
            Guard.Batch(batch, MaxBatch);
            return _input.AsSpan(0, batch * InputLength);
        }

        public ReadOnlySpan<float> Forward(int batch)
        {
            Span<float> output = _output.AsSpan(0, batch * OutputLength);
            Forward(InputBuffer(batch), output, batch);
            return output;
        }

        public void Backward(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch) =>
            throw new NotSupportedException("The test network trains through TrainStep only.");

        public Span<float> OutputGradientBuffer(int batch) =>
            throw new NotSupportedException("The test network trains through TrainStep only.");

        public ReadOnlySpan<float> Backward(int batch, bool inputGradient = true) =>
            throw new NotSupportedException("The test network trains through TrainStep only.");

        public void ZeroGradients() => _gradients.Clear();

        public float TrainStep(ReadOnlySpan<float> images, ReadOnlySpan<int> labels, IOptimizer optimizer, out int correct)
        {
            int batch = labels.Length;
            Guard.Batch(batch, MaxBatch);
            Guard.Length(images.Length, batch, InputLength, nameof(images));
            Guard.Labels(labels, OutputLength);
            TrainSteps++;
            Logits(images, batch);
            float loss = SoftmaxCrossEntropy.ForwardBackward(_logits.Pointer, labels, OutputLength, _logitGradients.Pointer, out correct);
            ZeroGradients();
            float* dz = _logitGradients.Pointer, dw = _weight.Gradients, db = _bias.Gradients;
            for (int n = 0; n < batch; n++)
                for (int c = 0; c < OutputLength; c++)
                {
                    float d = dz[n * OutputLength + c];
                    db[c] += d;
                    for (int i = 0; i < InputLength; i++) dw[c * InputLength + i] += d * images[n * InputLength + i];
                }
            optimizer.Step(Parameters);
            return loss;
        }

        public void Dispose()
        {
            _values.Dispose();
            _gradients.Dispose();
            _logits.Dispose();
            _logitGradients.Dispose();
            _input.Dispose();
            _output.Dispose();
        }
    }
}
