// The epoch loop: shuffled mini-batches through a network's TrainStep, a learning-rate schedule, and an
// evaluation on the test set after every epoch, reported as one EpochResult per epoch.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using CnnGen.Data;

namespace CnnGen.Training
{
    /// <summary>What one epoch achieved. Accuracies are fractions in [0, 1]; <see cref="Seconds"/> and
    /// <see cref="ImagesPerSecond"/> cover the training steps only, not the test evaluation.</summary>
    public sealed record EpochResult(
        int Epoch,
        int Epochs,
        double Loss,
        double TrainAccuracy,
        double TestAccuracy,
        double TestLoss,
        double ImagesPerSecond,
        double Seconds,
        double TestSeconds,
        float LearningRate);

    /// <summary>How to train. Defaults: 5 epochs of 64 images, seed 1, constant learning rate.</summary>
    public sealed record TrainingOptions
    {
        public int Epochs { get; init; } = 5;
        public int BatchSize { get; init; } = 64;
        /// <summary>Seeds the batch order (the network's own seed decides initial weights and dropout).</summary>
        public ulong Seed { get; init; } = 1;
        /// <summary>Learning rate for each 1-based epoch; null keeps the optimizer's rate. See <see cref="LearningRateSchedules"/>.</summary>
        public Func<int, float>? LearningRateSchedule { get; init; }
        public bool DropLastPartialBatch { get; init; }
        /// <summary>The first epoch to train (1 = from the start). Resuming from a checkpoint saved after epoch k
        /// passes k + 1: the batch order of the skipped epochs is drawn and discarded, so later epochs see the
        /// same batches as an uninterrupted run.</summary>
        public int StartEpoch { get; init; } = 1;
        public NetworkOutput Output { get; init; } = NetworkOutput.Probabilities;
        /// <summary>Random flips / shifts of the training images (null = none); test images are never augmented.</summary>
        public Augmentation? Augmentation { get; init; }
    }

    /// <summary>Learning-rate schedules for <see cref="TrainingOptions.LearningRateSchedule"/>, as functions of the 1-based epoch.</summary>
    public static class LearningRateSchedules
    {
        public static Func<int, float> Constant(float learningRate) => _ => learningRate;

        /// <summary>Cosine decay from <paramref name="initial"/> in epoch 1 to <paramref name="finalFraction"/> x initial in the last epoch.</summary>
        public static Func<int, float> Cosine(float initial, int epochs, float finalFraction = 0.1f)
        {
            if (epochs < 1) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "epochs must be at least 1.");
            if (!(finalFraction >= 0 && finalFraction <= 1))
                throw new ArgumentOutOfRangeException(nameof(finalFraction), finalFraction, "finalFraction must be in [0, 1], e.g. 0.1.");
            float final = initial * finalFraction;
            return epoch =>
            {
                if (epochs == 1) return initial;
                double progress = Math.Clamp((epoch - 1) / (double)(epochs - 1), 0, 1);
                return (float)(final + (initial - final) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
            };
        }

        /// <summary>Multiplies the rate by <paramref name="factor"/> every <paramref name="everyEpochs"/> epochs.</summary>
        public static Func<int, float> Step(float initial, int everyEpochs, float factor = 0.1f)
        {
            if (everyEpochs < 1) throw new ArgumentOutOfRangeException(nameof(everyEpochs), everyEpochs, "everyEpochs must be at least 1.");
            return epoch => initial * MathF.Pow(factor, (epoch - 1) / everyEpochs);
        }
    }

    /// <summary>Where an epoch is, reported after every batch (a struct: reporting allocates nothing).</summary>
    public readonly record struct BatchProgress(int Epoch, int Epochs, long Seen, long Total, double Loss, double Accuracy, double ImagesPerSecond, double Seconds);

    public sealed class Trainer
    {
        private readonly INetwork _net;
        private readonly IOptimizer _optimizer;
        private readonly Evaluator _evaluator;

        public Trainer(INetwork net, IOptimizer optimizer, TrainingOptions? options = null)
        {
            ArgumentNullException.ThrowIfNull(net);
            ArgumentNullException.ThrowIfNull(optimizer);
            options ??= new TrainingOptions();
            if (options.Epochs < 1)
                throw new ArgumentOutOfRangeException(nameof(options), options.Epochs, $"Epochs must be at least 1, but was {options.Epochs}.");
            Guard.Batch(options.BatchSize, net.MaxBatch, "options.BatchSize");
            _net = net;
            _optimizer = optimizer;
            Options = options;
            _evaluator = new Evaluator(net, options.Output);
        }

        public TrainingOptions Options { get; }
        public Evaluator Evaluator => _evaluator;

        /// <summary>
        /// Trains for <see cref="TrainingOptions.Epochs"/> epochs on <paramref name="train"/>, evaluating on
        /// <paramref name="test"/> (when given) after each. <paramref name="onEpoch"/> is called on this thread as each
        /// epoch ends (a plain callback rather than <see cref="IProgress{T}"/>, whose default implementation posts to
        /// the thread pool and can print epochs out of order).
        /// </summary>
        public IReadOnlyList<EpochResult> Run(LabeledImages train, LabeledImages? test = null,
            Action<EpochResult>? onEpoch = null, CancellationToken cancellation = default, Action<BatchProgress>? onBatch = null)
        {
            ArgumentNullException.ThrowIfNull(train);
            if (train.ImageLength != _net.InputLength)
                throw new ArgumentException(
                    $"Training images have {train.ImageLength} floats ({train.Channels}x{train.Height}x{train.Width}) but the network takes " +
                    $"{_net.InputLength} per image.", nameof(train));
            Guard.Labels(train.Labels, _net.OutputLength, "train.Labels");

            var batches = new BatchIterator(train, Options.BatchSize, Options.Seed, shuffle: true, Options.DropLastPartialBatch, Options.Augmentation);
            var results = new List<EpochResult>(Options.Epochs);
            if (Options.StartEpoch < 1 || Options.StartEpoch > Options.Epochs + 1)
                throw new ArgumentOutOfRangeException(nameof(Options.StartEpoch), Options.StartEpoch, $"StartEpoch must be in [1, {Options.Epochs + 1}].");
            for (int skipped = 1; skipped < Options.StartEpoch; skipped++) batches.BeginEpoch();
            for (int epoch = Options.StartEpoch; epoch <= Options.Epochs; epoch++)
            {
                if (Options.LearningRateSchedule is { } schedule) _optimizer.LearningRate = schedule(epoch);

                double lossSum = 0;
                long correctSum = 0, seen = 0;
                var clock = Stopwatch.StartNew();
                batches.BeginEpoch();
                while (batches.MoveNext())
                {
                    cancellation.ThrowIfCancellationRequested();
                    float loss;
                    int correct;
                    try
                    {
                        loss = _net.TrainStep(batches.CurrentImages, batches.CurrentLabels, _optimizer, out correct);
                    }
                    catch (NonFiniteException e)
                    {
                        throw new NonFiniteException(e.Tensor, e.Index, e.Value,
                            $"Training stopped in epoch {epoch} after {seen} images (learning rate {_optimizer.LearningRate}): {e.Message}", e);
                    }
                    if (!float.IsFinite(loss))
                        throw new InvalidOperationException(
                            $"The training loss became {loss} in epoch {epoch} after {seen} images (learning rate {_optimizer.LearningRate}). " +
                            "Training diverged; lower the learning rate.");
                    lossSum += (double)loss * batches.CurrentCount;   // TrainStep returns the batch mean
                    correctSum += correct;
                    seen += batches.CurrentCount;
                    if (onBatch is not null)
                    {
                        double elapsed = clock.Elapsed.TotalSeconds;
                        onBatch(new BatchProgress(epoch, Options.Epochs, seen, train.Count, lossSum / seen, (double)correctSum / seen, seen / elapsed, elapsed));
                    }
                }
                double seconds = clock.Elapsed.TotalSeconds;

                double testAccuracy = double.NaN, testLoss = double.NaN, testSeconds = 0;
                if (test is not null)
                {
                    clock.Restart();
                    Evaluation evaluation = _evaluator.Evaluate(test);
                    testSeconds = clock.Elapsed.TotalSeconds;
                    testAccuracy = evaluation.Accuracy;
                    testLoss = evaluation.Loss;
                }

                var result = new EpochResult(epoch, Options.Epochs, lossSum / seen, (double)correctSum / seen,
                    testAccuracy, testLoss, seen / seconds, seconds, testSeconds, _optimizer.LearningRate);
                results.Add(result);
                onEpoch?.Invoke(result);
            }
            return results;
        }
    }
}
