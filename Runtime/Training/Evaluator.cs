// Measures a network on a labelled set without training it: accuracy, mean cross-entropy, and batch-1
// inference speed.
using System;
using System.Diagnostics;
using CnnGen.Data;

namespace CnnGen.Training
{
    /// <summary>What a network's <see cref="INetwork.Forward"/> writes, which decides how the loss is computed.</summary>
    public enum NetworkOutput
    {
        /// <summary>Class probabilities (the network ends in Softmax).</summary>
        Probabilities,
        /// <summary>Unnormalised scores (no Softmax layer).</summary>
        Logits,
    }

    /// <summary>Accuracy and mean cross-entropy of a network on a data set.</summary>
    public readonly record struct Evaluation(int Correct, int Count, double Loss)
    {
        /// <summary>Fraction of images whose highest output is the label, in [0, 1].</summary>
        public double Accuracy => Count == 0 ? 0 : (double)Correct / Count;
    }

    /// <summary>Runs a network in inference mode over a data set in batches of its MaxBatch.
    /// Owns one output buffer, so repeated evaluations allocate nothing.</summary>
    public sealed class Evaluator
    {
        // Probabilities are clamped before the log so a confident wrong answer costs a large, finite loss.
        private const double MinProbability = 1e-12;

        private readonly INetwork _net;
        private readonly float[] _outputs;

        public Evaluator(INetwork net, NetworkOutput output = NetworkOutput.Probabilities)
        {
            ArgumentNullException.ThrowIfNull(net);
            _net = net;
            Output = output;
            _outputs = new float[(long)net.MaxBatch * net.OutputLength];
        }

        public NetworkOutput Output { get; }

        public Evaluation Evaluate(LabeledImages data)
        {
            ArgumentNullException.ThrowIfNull(data);
            if (data.ImageLength != _net.InputLength)
                throw new ArgumentException(
                    $"The data's images have {data.ImageLength} floats ({data.Channels}x{data.Height}x{data.Width}) but the network takes " +
                    $"{_net.InputLength} per image. Use data of the network's input shape.", nameof(data));
            Guard.Labels(data.Labels, _net.OutputLength, "data.Labels");

            _net.Training = false;
            int classes = _net.OutputLength, imageLength = data.ImageLength;
            int correct = 0;
            double totalLoss = 0;
            for (int start = 0; start < data.Count; start += _net.MaxBatch)
            {
                int batch = Math.Min(_net.MaxBatch, data.Count - start);
                // The set is contiguous NCHW, so a batch is a slice: no copy needed.
                ReadOnlySpan<float> images = data.Images.AsSpan(start * imageLength, batch * imageLength);
                Span<float> outputs = _outputs.AsSpan(0, batch * classes);
                _net.Forward(images, outputs, batch);
                for (int n = 0; n < batch; n++)
                {
                    ReadOnlySpan<float> row = outputs.Slice(n * classes, classes);
                    int label = data.Labels[start + n];
                    if (ArgMax(row) == label) correct++;
                    totalLoss += CrossEntropy(row, label);
                }
            }
            return new Evaluation(correct, data.Count, data.Count == 0 ? 0 : totalLoss / data.Count);
        }

        /// <summary>Index of the largest value (the first one on ties).</summary>
        public static int ArgMax(ReadOnlySpan<float> values)
        {
            int best = 0;
            for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
            return best;
        }

        private double CrossEntropy(ReadOnlySpan<float> row, int label)
        {
            if (Output == NetworkOutput.Probabilities) return -Math.Log(Math.Max(row[label], MinProbability));
            float max = row[ArgMax(row)];
            double sum = 0;
            for (int c = 0; c < row.Length; c++) sum += Math.Exp(row[c] - max);
            return Math.Log(sum) - (row[label] - max);
        }

        /// <summary>
        /// Images per second of batch-1 inference (latency-bound use), timed over at least
        /// <paramref name="minimumSeconds"/> after <paramref name="warmupSeconds"/> of untimed runs, which give tiered
        /// compilation time to replace the first, unoptimised code (it recompiles hot methods in the background).
        /// </summary>
        public double InferenceImagesPerSecond(LabeledImages data, double minimumSeconds = 2.0, double warmupSeconds = 0.5)
        {
            ArgumentNullException.ThrowIfNull(data);
            if (data.Count == 0) throw new ArgumentException("The data set is empty: there is nothing to time.", nameof(data));
            if (data.ImageLength != _net.InputLength)
                throw new ArgumentException($"The data's images have {data.ImageLength} floats but the network takes {_net.InputLength}.", nameof(data));
            if (!(minimumSeconds > 0))
                throw new ArgumentOutOfRangeException(nameof(minimumSeconds), minimumSeconds, "minimumSeconds must be positive, e.g. 2.");

            _net.Training = false;
            Span<float> output = _outputs.AsSpan(0, _net.OutputLength);
            if (!(warmupSeconds >= 0))
                throw new ArgumentOutOfRangeException(nameof(warmupSeconds), warmupSeconds, "warmupSeconds must be zero or positive, e.g. 0.5.");
            int index = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < warmupSeconds) ForwardOne(data, ref index, output);

            long images = 0;
            clock.Restart();
            do
            {
                // Check the clock every 64 images so timing costs nothing measurable.
                for (int i = 0; i < 64; i++) ForwardOne(data, ref index, output);
                images += 64;
            } while (clock.Elapsed.TotalSeconds < minimumSeconds);
            return images / clock.Elapsed.TotalSeconds;
        }

        private void ForwardOne(LabeledImages data, ref int index, Span<float> output)
        {
            _net.Forward(data.Image(index), output, 1);
            if (++index == data.Count) index = 0;
        }
    }
}
