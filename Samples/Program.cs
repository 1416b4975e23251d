// Command line of the samples: `train` (default) trains FashionNet on Fashion-MNIST and reports each epoch;
// `summary` prints the network's table. Hand-written argument parsing until the System.CommandLine CLI lands.
// Exit codes: 0 success, 2 bad usage, 3 data missing or unreadable.
using System;
using System.Globalization;
using System.IO;
using CnnGen.Data;
using CnnGen.Training;

namespace CnnGen.Samples
{
    public static class Program
    {
        private const int ExitUsage = 2, ExitData = 3;

        private const string Usage =
            "usage: CnnGen.Samples [train] [options]     train FashionNet on Fashion-MNIST\n" +
            "       CnnGen.Samples summary               print FashionNet's layer table\n" +
            "\n" +
            "options for train:\n" +
            "  --epochs N            epochs to train (default 5)\n" +
            "  --batch N             mini-batch size (default 64)\n" +
            "  --lr X                initial learning rate, decayed by cosine to 10% (default 0.001 for adam, 0.01 for sgd)\n" +
            "  --optimizer adam|sgd  adam, or sgd with momentum 0.9 (default adam)\n" +
            "  --seed N              seeds weights, dropout and batch order (default 1)\n" +
            "  --data DIR            directory of the four Fashion-MNIST IDX files\n" +
            "                        (default $CNNGEN_DATA, else /usr/share/datasets/fashion-mnist)\n";

        private sealed record TrainArguments(int Epochs, int Batch, float? LearningRate, string Optimizer, int Seed, string? Data);

        public static int Main(string[] args)
        {
            string command = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "train";
            string[] options = args.Length > 0 && !args[0].StartsWith('-') ? args[1..] : args;
            if (Array.Exists(options, a => a is "-h" or "--help"))
            {
                Console.Write(Usage);
                return 0;
            }
            switch (command)
            {
                case "summary":
                    if (options.Length > 0) return UsageError($"'summary' takes no options, but got '{options[0]}'.");
                    Console.WriteLine(FashionNet.Summary);
                    return 0;
                case "train":
                    TrainArguments? parsed = ParseTrain(options, out string? error);
                    return parsed is null ? UsageError(error!) : Train(parsed);
                default:
                    return UsageError($"Unknown command '{command}'; expected 'train' or 'summary'.");
            }
        }

        private static int UsageError(string message)
        {
            Console.Error.WriteLine("error: " + message);
            Console.Error.WriteLine();
            Console.Error.Write(Usage);
            return ExitUsage;
        }

        private static TrainArguments? ParseTrain(string[] options, out string? error)
        {
            var result = new TrainArguments(Epochs: 5, Batch: 64, LearningRate: null, Optimizer: "adam", Seed: 1, Data: null);
            error = null;
            for (int i = 0; i < options.Length; i++)
            {
                string name = options[i];
                string? value = null;
                int equals = name.IndexOf('=');
                bool inline = name.StartsWith("--") && equals > 0;   // --epochs=5 as well as --epochs 5
                if (inline) { value = name[(equals + 1)..]; name = name[..equals]; }
                else if (i + 1 < options.Length) value = options[i + 1];

                if (name is not ("--epochs" or "--batch" or "--lr" or "--optimizer" or "--seed" or "--data"))
                {
                    error = $"Unknown option '{options[i]}'.";
                    return null;
                }
                if (value is null)
                {
                    error = $"Option {name} needs a value.";
                    return null;
                }
                if (!inline) i++;

                switch (name)
                {
                    case "--epochs":
                        if (!TryPositiveInt(value, out int epochs)) { error = $"--epochs must be a positive integer, but was '{value}'."; return null; }
                        result = result with { Epochs = epochs };
                        break;
                    case "--batch":
                        if (!TryPositiveInt(value, out int batch)) { error = $"--batch must be a positive integer, but was '{value}'."; return null; }
                        result = result with { Batch = batch };
                        break;
                    case "--seed":
                        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed) || seed < 0)
                        { error = $"--seed must be a non-negative integer, but was '{value}'."; return null; }
                        result = result with { Seed = seed };
                        break;
                    case "--lr":
                        if (!float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float lr) || !(lr > 0) || float.IsInfinity(lr))
                        { error = $"--lr must be a positive number such as 0.001, but was '{value}'."; return null; }
                        result = result with { LearningRate = lr };
                        break;
                    case "--optimizer":
                        if (value is not ("adam" or "sgd")) { error = $"--optimizer must be 'adam' or 'sgd', but was '{value}'."; return null; }
                        result = result with { Optimizer = value };
                        break;
                    case "--data":
                        result = result with { Data = value };
                        break;
                }
            }
            return result;
        }

        private static bool TryPositiveInt(string text, out int value) =>
            int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value) && value > 0;

        private static int Train(TrainArguments arguments)
        {
            LabeledImages train, test;
            try
            {
                (train, test) = FashionMnist.Load(arguments.Data);
            }
            catch (Exception e) when (e is DataNotFoundException or InvalidDataException or FileNotFoundException)
            {
                Console.Error.WriteLine(e.Message);
                return ExitData;
            }

            using var net = new FashionNet(maxBatch: arguments.Batch, seed: arguments.Seed);
            float learningRate = arguments.LearningRate ?? (arguments.Optimizer == "sgd" ? 0.01f : 0.001f);
            using OptimizerBase optimizer = arguments.Optimizer == "sgd"
                ? new Sgd(learningRate, momentum: 0.9f)
                : new Adam(learningRate);
            var options = new TrainingOptions
            {
                Epochs = arguments.Epochs,
                BatchSize = arguments.Batch,
                Seed = (ulong)arguments.Seed,
                // A mild cosine decay to 10% lets the last epochs settle into a minimum instead of bouncing around it.
                LearningRateSchedule = LearningRateSchedules.Cosine(learningRate, arguments.Epochs, finalFraction: 0.1f),
            };

            var invariant = CultureInfo.InvariantCulture;
            Console.WriteLine(string.Create(invariant,
                $"FashionNet  ISA {net.Isa}  {FashionNet.ParameterCount:N0} parameters  {FashionNet.FlopsPerImage / 1e6:F1} MFLOP/image"));
            Console.WriteLine(string.Create(invariant,
                $"data: {train.Count:N0} train / {test.Count:N0} test images of {train.Height}x{train.Width}  " +
                $"{arguments.Optimizer} lr {learningRate:G3} (cosine to 10%)  batch {arguments.Batch}  seed {arguments.Seed}"));

            var trainer = new Trainer(net, optimizer, options);
            trainer.Run(train, test, r => Console.WriteLine(string.Create(invariant,
                $"epoch {r.Epoch}/{r.Epochs}  loss {r.Loss:F4}  train {r.TrainAccuracy * 100:F2}%  test {r.TestAccuracy * 100:F2}%  " +
                $"{r.ImagesPerSecond:F0} img/s  {r.Seconds:F1} s")));

            double inference = trainer.Evaluator.InferenceImagesPerSecond(test);
            Evaluation final = trainer.Evaluator.Evaluate(test);
            Console.WriteLine(string.Create(invariant, $"batch-1 inference  {inference:F0} img/s"));
            Console.WriteLine(string.Create(invariant, $"final test accuracy  {final.Accuracy * 100:F2}%  ({final.Correct}/{final.Count})"));
            return 0;
        }
    }
}
