// Trainer and Evaluator on a hand-written softmax regression and a synthetic, learnable data set.
using System;
using System.Collections.Generic;
using CnnGen.Data;
using CnnGen.Training;

namespace CnnGen.Runtime.Tests
{
    public class TrainingTests
    {
        private const int Classes = 4, Side = 3;

        /// <summary>Class k lights up pixel k brightly, plus seeded noise everywhere: linearly separable.</summary>
        private static LabeledImages Synthetic(int count, ulong seed)
        {
            var rng = new Rng(seed);
            int length = Side * Side;
            var images = new float[count * length];
            var labels = new int[count];
            for (int n = 0; n < count; n++)
            {
                labels[n] = rng.NextInt(Classes);
                for (int p = 0; p < length; p++) images[n * length + p] = 0.3f * rng.NextFloat();
                images[n * length + labels[n]] += 1f;
            }
            return new LabeledImages(images, labels, 1, Side, Side);
        }

        [Fact]
        public void Evaluator_counts_argmax_hits_and_averages_cross_entropy_in_batches_of_MaxBatch()
        {
            using var net = new SoftmaxRegression(Side * Side, Classes, maxBatch: 7);
            LabeledImages data = Synthetic(30, seed: 2);
            net.Training = true;

            Evaluation evaluation = new Evaluator(net).Evaluate(data);

            // Reference: the same forward, one image at a time.
            var probabilities = new float[Classes];
            int correct = 0;
            double loss = 0;
            net.Training = false;
            for (int n = 0; n < data.Count; n++)
            {
                net.Forward(data.Image(n), probabilities, 1);
                if (Evaluator.ArgMax(probabilities) == data.Labels[n]) correct++;
                loss -= Math.Log(probabilities[data.Labels[n]]);
            }
            Assert.Equal(correct, evaluation.Correct);
            Assert.Equal(30, evaluation.Count);
            Assert.Equal(loss / 30, evaluation.Loss, 5);
            Assert.Equal((double)correct / 30, evaluation.Accuracy);
            Assert.Equal(7, net.LargestForwardBatch);
            Assert.Equal(0, net.ForwardCallsWhileTraining);   // Evaluate switched training off first
        }

        [Fact]
        public void Evaluator_refuses_data_of_another_shape()
        {
            using var net = new SoftmaxRegression(10, Classes, maxBatch: 4);
            var error = Assert.Throws<ArgumentException>(() => new Evaluator(net).Evaluate(Synthetic(5, 1)));
            Assert.Contains("9 floats", error.Message);
            Assert.Contains("takes 10", error.Message);
        }

        [Fact]
        public void Trainer_learns_and_reports_every_epoch()
        {
            using var net = new SoftmaxRegression(Side * Side, Classes, maxBatch: 16);
            LabeledImages train = Synthetic(500, seed: 3), test = Synthetic(200, seed: 4);
            double before = new Evaluator(net).Evaluate(test).Accuracy;
            using var adam = new Adam(0.05f);
            var options = new TrainingOptions { Epochs = 4, BatchSize = 16, LearningRateSchedule = LearningRateSchedules.Cosine(0.05f, 4) };
            var reported = new List<EpochResult>();

            IReadOnlyList<EpochResult> results = new Trainer(net, adam, options).Run(train, test, reported.Add);

            Assert.Equal(results, reported);
            Assert.Equal(new[] { 1, 2, 3, 4 }, new[] { results[0].Epoch, results[1].Epoch, results[2].Epoch, results[3].Epoch });
            Assert.All(results, r => Assert.Equal(4, r.Epochs));
            Assert.Equal(4 * 32, net.TrainSteps);                // 500 / 16 rounded up, partial batch kept
            Assert.True(results[3].Loss < results[0].Loss, $"loss did not fall: {results[0].Loss} -> {results[3].Loss}");
            Assert.True(results[3].TestAccuracy > 0.95, $"test accuracy {results[3].TestAccuracy}, was {before} before training");
            Assert.InRange(results[3].TrainAccuracy, 0.9, 1.0);
            Assert.Equal(0.05f, results[0].LearningRate, 6);
            Assert.Equal(0.005f, results[3].LearningRate, 6);
            Assert.All(results, r => Assert.True(r.ImagesPerSecond > 0 && r.Seconds > 0));
        }

        [Fact]
        public void Training_is_deterministic_for_a_seed()
        {
            double[] Run()
            {
                using var net = new SoftmaxRegression(Side * Side, Classes, maxBatch: 8, seed: 5);
                using var sgd = new Sgd(0.1f, 0.9f);
                var options = new TrainingOptions { Epochs = 2, BatchSize = 8, Seed = 11 };
                IReadOnlyList<EpochResult> r = new Trainer(net, sgd, options).Run(Synthetic(100, 6), Synthetic(50, 7));
                return new[] { r[0].Loss, r[1].Loss, r[1].TestLoss, net.Parameters[0].Value[3] };
            }
            Assert.Equal(Run(), Run());
        }

        [Fact]
        public void Trainer_refuses_a_batch_above_the_network_capacity()
        {
            using var net = new SoftmaxRegression(9, Classes, maxBatch: 8);
            using var sgd = new Sgd(0.1f);
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(net, sgd, new TrainingOptions { BatchSize = 64 }));
            Assert.Contains("maxBatch = 8", error.Message);
            Assert.Contains("but was 64", error.Message);
        }

        [Fact]
        public void Diverging_training_stops_with_advice_to_lower_the_learning_rate()
        {
            using var net = new SoftmaxRegression(Side * Side, Classes, maxBatch: 8);
            using var sgd = new Sgd(0.1f);
            net.Parameters[0].Value[0] = float.NaN;   // what an overflowing update leaves behind
            var trainer = new Trainer(net, sgd, new TrainingOptions { Epochs = 1, BatchSize = 8 });

            var error = Assert.Throws<InvalidOperationException>(() => trainer.Run(Synthetic(64, 9)));

            Assert.Contains("lower the learning rate", error.Message);
            Assert.Contains("epoch 1", error.Message);
        }

        [Fact]
        public void Cosine_schedule_runs_from_initial_to_final_fraction()
        {
            Func<int, float> lr = LearningRateSchedules.Cosine(1e-3f, 5, 0.1f);
            Assert.Equal(1e-3f, lr(1), 7);
            Assert.Equal(0.55e-3f, lr(3), 7);   // halfway: (1 + 0.1) / 2
            Assert.Equal(1e-4f, lr(5), 7);
            Assert.True(lr(2) < lr(1) && lr(4) < lr(3));
        }

        [Fact]
        public void Step_schedule_multiplies_every_n_epochs()
        {
            Func<int, float> lr = LearningRateSchedules.Step(1f, 2, 0.5f);
            Assert.Equal(new[] { 1f, 1f, 0.5f, 0.5f, 0.25f }, new[] { lr(1), lr(2), lr(3), lr(4), lr(5) });
        }

        [Fact]
        public void Batch_one_inference_speed_is_measured()
        {
            using var net = new SoftmaxRegression(9, Classes, maxBatch: 4);
            double rate = new Evaluator(net).InferenceImagesPerSecond(Synthetic(10, 8), minimumSeconds: 0.05, warmupSeconds: 0.01);
            Assert.True(rate > 1000, $"{rate} images/s");
            Assert.Equal(1, net.LargestForwardBatch);
        }
    }
}
