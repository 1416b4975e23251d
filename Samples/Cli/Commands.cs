// The commands and their options. Each action returns an exit code; validation errors are reported by
// System.CommandLine before an action runs (see Program.Main), so actions can trust their values.
using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using CnnGen.Data;
using CnnGen.Training;

namespace CnnGen.Samples.Cli
{
    public static class Commands
    {
        public static RootCommand Build()
        {
            var root = new RootCommand("CnnGen samples: CNNs declared with attributes, compiled to SIMD C# at build time.");
            root.Add(Train());
            root.Add(Summary());
            return root;
        }

        private static Option<string> ModelOption() => new Option<string>("--model", "-m")
        {
            Description = "the network to use",
            DefaultValueFactory = _ => "fashion",
        }.AcceptOnlyFromAmong(Models.Names);

        private static Option<int> Positive(string name, string description, int defaultValue)
        {
            var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
            option.Validators.Add(r =>
            {
                int v = r.GetValueOrDefault<int>();
                if (v < 1) r.AddError($"{name} must be a positive integer, but was {v}.");
            });
            return option;
        }

        private static Option<string?> DataOption() => new("--data")
        {
            Description = "directory of (M)NIST-format IDX files (default $CNNGEN_DATA, else /usr/share/datasets/fashion-mnist)",
        };

        private static Command Summary()
        {
            var model = ModelOption();
            var command = new Command("summary", "print a network's Keras-style layer table (computed at compile time)") { model };
            command.SetAction(parse =>
            {
                Console.WriteLine(Models.Get(parse.GetValue(model)!).Summary);
                return 0;
            });
            return command;
        }

        private static Command Train()
        {
            var model = ModelOption();
            var epochs = Positive("--epochs", "epochs to train", 5);
            var batch = Positive("--batch", "mini-batch size", 64);
            var optimizer = new Option<string>("--optimizer") { Description = "adam, or sgd with momentum 0.9", DefaultValueFactory = _ => "adam" }
                .AcceptOnlyFromAmong("adam", "sgd");
            var lr = new Option<float?>("--lr") { Description = "initial learning rate, decayed by cosine to 10% (default 0.001 adam, 0.01 sgd)" };
            lr.Validators.Add(r =>
            {
                float? v = r.GetValueOrDefault<float?>();
                if (v is { } x && (!(x > 0) || float.IsInfinity(x))) r.AddError($"--lr must be a positive number such as 0.001, but was {x}.");
            });
            var threads = new Option<int>("--threads") { Description = "workers that split each batch, 0 = one per core", DefaultValueFactory = _ => 0 };
            threads.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 0) r.AddError("--threads must be 0 (one per core) or positive."); });
            var seed = new Option<int>("--seed") { Description = "seeds weights, dropout and batch order", DefaultValueFactory = _ => 1 };
            var data = DataOption();
            var command = new Command("train", "train a network on Fashion-MNIST, evaluating on the test set after every epoch")
            {
                model, epochs, batch, optimizer, lr, threads, seed, data,
            };
            command.SetAction(parse => RunTrain(
                Models.Get(parse.GetValue(model)!), parse.GetValue(epochs), parse.GetValue(batch), parse.GetValue(optimizer)!,
                parse.GetValue(lr), parse.GetValue(threads), parse.GetValue(seed), parse.GetValue(data)));
            return command;
        }

        private static int RunTrain(ModelEntry entry, int epochs, int batch, string optimizerName, float? lr, int threads, int seed, string? dataDir)
        {
            (LabeledImages train, LabeledImages test) = FashionMnist.Load(dataDir);
            using INetwork net = entry.Create(batch, seed, threads);
            float learningRate = lr ?? (optimizerName == "sgd" ? 0.01f : 0.001f);
            using OptimizerBase optimizer = optimizerName == "sgd" ? new Sgd(learningRate, momentum: 0.9f) : new Adam(learningRate);
            var options = new TrainingOptions
            {
                Epochs = epochs,
                BatchSize = batch,
                Seed = (ulong)seed,
                // A mild cosine decay to 10% lets the last epochs settle into a minimum instead of bouncing around it.
                LearningRateSchedule = LearningRateSchedules.Cosine(learningRate, epochs, finalFraction: 0.1f),
            };
            var invariant = CultureInfo.InvariantCulture;
            Console.WriteLine(string.Create(invariant,
                $"{entry.Name}  ISA {net.Isa}  {threads switch { 0 => Environment.ProcessorCount, _ => threads }} thread(s)  {entry.ParameterCount:N0} parameters  {entry.FlopsPerImage / 1e6:F1} MFLOP/image"));
            Console.WriteLine(string.Create(invariant,
                $"data: {train.Count:N0} train / {test.Count:N0} test images of {train.Height}x{train.Width}  " +
                $"{optimizerName} lr {learningRate:G3} (cosine to 10%)  batch {batch}  seed {seed}"));

            var trainer = new Trainer(net, optimizer, options);
            new TrainingView().Run((onEpoch, onBatch) => trainer.Run(train, test, onEpoch, default, onBatch));

            double inference = trainer.Evaluator.InferenceImagesPerSecond(test);
            Evaluation final = trainer.Evaluator.Evaluate(test);
            Console.WriteLine(string.Create(invariant, $"batch-1 inference  {inference:F0} img/s"));
            Console.WriteLine(string.Create(invariant, $"final test accuracy  {final.Accuracy * 100:F2}%  ({final.Correct}/{final.Count})"));
            return 0;
        }
    }
}
