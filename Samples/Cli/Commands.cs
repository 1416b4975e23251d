// The commands and their options. Each action returns an exit code; validation errors are reported by
// System.CommandLine before an action runs (see Program.Main), so actions can trust their values.
using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using CnnGen.Data;
using CnnGen.Training;
using CnnGen.Visualization;
using CnnGen.Weights;

namespace CnnGen.Samples.Cli
{
    public static class Commands
    {
        public static RootCommand Build()
        {
            var root = new RootCommand("CnnGen samples: CNNs declared with attributes, compiled to SIMD C# at build time.");
            root.Add(Train());
            root.Add(Eval());
            root.Add(Summary());
            root.Add(Memory());
            root.Add(Time());
            root.Add(ModelList());
            root.Add(Visualize());
            root.Add(Predict());
            return root;
        }

        private static Option<string> ModelOption() => new Option<string>("--model", "-m")
        {
            Description = "the network to use (the models command lists them)",
            DefaultValueFactory = _ => Models.Default,
        }.AcceptOnlyFromAmong(Models.Names);

        private static Option<int> Positive(string name, string description, int defaultValue) => IntOption(name, description, defaultValue, 1, "a positive integer");

        /// <summary>An integer option whose parser reports both unparseable and out-of-range values in one message.</summary>
        private static Option<int> IntOption(string name, string description, int defaultValue, int minimum, string rule) => new(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = r =>
            {
                string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= minimum) return v;
                r.AddError($"{name} must be {rule}, but was '{text}'.");
                return defaultValue;
            },
        };

        /// <summary>Like <see cref="IntOption"/>, but absent means "the model's recipe" (null).</summary>
        private static Option<int?> RecipeOption(string name, string description, int minimum, string rule) => new(name)
        {
            Description = description + " [default: the model's recipe]",
            CustomParser = r =>
            {
                string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= minimum) return v;
                r.AddError($"{name} must be {rule}, but was '{text}'.");
                return null;
            },
        };

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

        private static Command Memory()
        {
            var model = ModelOption();
            var batch = Positive("--batch", "maxBatch and the training batch", 64);
            var threads = IntOption("--threads", "workers that split each batch, 0 = one per core", 0, 0, "0 (one per core) or a positive integer");
            var steps = Positive("--steps", "training steps (SGD with momentum, random data) before reading the peak", 20);
            var command = new Command("memory", "compare a network's static memory plan with what the process really uses while training it") { model, batch, threads, steps };
            command.SetAction(parse => RunMemory(Models.Get(parse.GetValue(model)!), parse.GetValue(batch), parse.GetValue(threads), parse.GetValue(steps)));
            return command;
        }

        /// <summary>Uniform [-1, 1) images and cycling labels (fixed seed) for the commands that time or measure a network.</summary>
        private static (float[] Images, int[] Labels) RandomBatch(INetwork net, int batch)
        {
            var images = new float[batch * net.InputLength];
            Initializers.Uniform(images, 1f, new Rng(5));
            return (images, Enumerable.Range(0, batch).Select(i => i % net.OutputLength).ToArray());
        }

        private static Command Time()
        {
            var model = ModelOption();
            var batch = Positive("--batch", "images per call (and maxBatch)", 1);
            var threads = IntOption("--threads", "workers that split each batch, 0 = one per core", 0, 0, "0 (one per core) or a positive integer");
            var mode = new Option<string>("--mode") { Description = "forward (inference) or train (TrainStep: forward, backward, SGD with momentum)", DefaultValueFactory = _ => "forward" }
                .AcceptOnlyFromAmong("forward", "train");
            var seconds = Positive("--seconds", "how long to sample after warming up", 3);
            var command = new Command("time", "time Forward or TrainStep of any network on random data (median of >= 20 ms samples), as bench/pytorch_zoo.py does for torchvision") { model, batch, threads, mode, seconds };
            command.SetAction(parse => RunTime(Models.Get(parse.GetValue(model)!), parse.GetValue(batch), parse.GetValue(threads), parse.GetValue(mode)!, parse.GetValue(seconds)));
            return command;
        }

        private static int RunTime(ModelEntry entry, int batch, int threads, string mode, int seconds)
        {
            using INetwork net = entry.Create(batch, 1, threads);
            (float[] images, int[] labels) = RandomBatch(net, batch);
            var output = new float[batch * net.OutputLength];
            using var sgd = new Sgd(0.001f, momentum: 0.9f);
            Action call = mode == "train" ? () => net.TrainStep(images, labels, sgd, out _) : () => net.Forward(images, output, batch);

            // Warm up (tiered JIT reaches its optimised code after ~30 calls and a background delay), then time samples of
            // at least 20 ms each and report the median, like bench/pytorch_zoo.py.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            int calls = 0;
            while (calls < 40 || clock.Elapsed.TotalSeconds < 1.0) { call(); calls++; if (clock.Elapsed.TotalSeconds > 30 && calls >= 3) break; }
            double once = clock.Elapsed.TotalSeconds / calls;
            int inner = Math.Max(1, (int)(0.02 / once));
            var samples = new List<double>();
            clock.Restart();
            while (samples.Count < 3 || (clock.Elapsed.TotalSeconds < seconds && samples.Count < 200))
            {
                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                for (int i = 0; i < inner; i++) call();
                samples.Add(System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds / inner);
            }
            samples.Sort();
            double median = samples[samples.Count / 2];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT {entry.Name} {mode} batch {batch} threads {(threads == 0 ? Environment.ProcessorCount : threads)} median {median:F3} ms best {samples[0]:F3} ms " +
                $"({batch * 1000 / median:F1} img/s, {samples.Count} samples, ISA {net.Isa})"));
            return 0;
        }

        /// <summary>Resident set and its peak from /proc/self/status (kB -> bytes); the working set where there is no /proc.</summary>
        private static (long Rss, long Peak) ResidentSet()
        {
            long rss = Environment.WorkingSet, peak = rss;
            if (!File.Exists("/proc/self/status")) return (rss, peak);
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                static long Kb(string l) => 1024 * long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line);
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kb(line);
            }
            return (rss, peak);
        }

        private static int RunMemory(ModelEntry entry, int batch, int threads, int steps)
        {
            var invariant = CultureInfo.InvariantCulture;
            static string MiB(long bytes) => (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) + " MiB";
            GC.Collect();
            (long baseline, _) = ResidentSet();
            long native0 = NativeBuffer.AllocatedBytesForCurrentThread;
            using INetwork net = entry.Create(batch, 1, threads);
            long constructed = NativeBuffer.AllocatedBytesForCurrentThread - native0;
            (long afterConstruct, _) = ResidentSet();

            (float[] images, int[] labels) = RandomBatch(net, batch);
            using var sgd = new Sgd(0.01f, momentum: 0.9f);
            long native1 = NativeBuffer.AllocatedBytesForCurrentThread;
            for (int i = 0; i < steps; i++) net.TrainStep(images, labels, sgd, out _);
            var output = new float[batch * net.OutputLength];
            net.Forward(images, output, batch);
            long optimizerState = NativeBuffer.AllocatedBytesForCurrentThread - native1;
            (long afterTraining, long peak) = ResidentSet();

            long expected = net.NativeBytes + optimizerState + (long)images.Length * sizeof(float);
            Console.WriteLine(string.Create(invariant, $"{entry.Name}  batch {batch}  {(threads == 0 ? Environment.ProcessorCount : threads)} thread(s)  {steps} SGD steps + 1 Forward"));
            Console.WriteLine($"static memory plan (generated PlannedBytes)     {MiB(net.NativeBytes)}");
            Console.WriteLine($"native memory the constructor allocated         {MiB(constructed)}{(constructed == net.NativeBytes ? "  (= plan)" : "  (differs from the plan!)")}");
            Console.WriteLine($"optimizer state (SGD momentum, one per weight)  {MiB(optimizerState)}");
            Console.WriteLine($"resident set before construction                {MiB(baseline)}");
            Console.WriteLine($"  growth after construction (pages not touched yet don't count) {MiB(afterConstruct - baseline)}");
            Console.WriteLine($"  growth after training                         {MiB(afterTraining - baseline)}");
            Console.WriteLine($"  peak (VmHWM) minus the baseline               {MiB(peak - baseline)}");
            Console.WriteLine(string.Create(invariant,
                $"peak growth / (plan + optimizer state + input batch) = {(double)(peak - baseline) / expected:F2} (JIT-compiled kernels and thread stacks are the rest)"));
            return 0;
        }

        private static Command ModelList()
        {
            var command = new Command("models", "list the networks --model accepts: input, outputs, parameters, declaration");
            command.SetAction(_ =>
            {
                var invariant = CultureInfo.InvariantCulture;
                Console.WriteLine($"{"name",-18} {"input",-12} {"out",5} {"params",13} {"GFLOP",7}  {"file",-31} description");
                foreach (ModelEntry m in Models.All)
                    Console.WriteLine(string.Create(invariant,
                        $"{m.Name,-18} {$"{m.Height}x{m.Width}x{m.Channels}",-12} {m.OutputSize,5} {m.ParameterCount,13:N0} {m.FlopsPerImage / 1e9,7:F2}  {"Samples/" + m.File,-31} {m.Description}"));
                Console.WriteLine();
                Console.WriteLine("train, eval, predict and visualize run the 28x28x1 networks on Fashion-MNIST; summary prints any network's layer table.");
                return 0;
            });
            return command;
        }

        private static Command Train()
        {
            var model = ModelOption();
            var epochs = RecipeOption("--epochs", "epochs to train (fashion-resnet 10, fashion 5)", 1, "a positive integer");
            var batch = RecipeOption("--batch", "mini-batch size (fashion-resnet 32; fashion 16: small batches give it more updates per epoch)", 1, "a positive integer");
            var optimizer = new Option<string>("--optimizer") { Description = "adam, or sgd with momentum 0.9", DefaultValueFactory = _ => "adam" }
                .AcceptOnlyFromAmong("adam", "sgd");
            var lr = new Option<float?>("--lr")
            {
                Description = "initial learning rate, decayed by cosine to 10% (default 0.001 adam, 0.01 sgd)",
                CustomParser = r =>
                {
                    string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                    if (float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float x) && x > 0 && float.IsFinite(x)) return x;
                    r.AddError($"--lr must be a positive number such as 0.001, but was '{text}'.");
                    return null;
                },
            };
            var weightDecay = new Option<float>("--weight-decay")
            {
                Description = "L2 weight decay added to every gradient (0 = none; 5e-4 is a common choice for ResNets)",
                DefaultValueFactory = _ => 0f,
                CustomParser = r =>
                {
                    string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                    if (float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float x) && x >= 0 && x < 1) return x;
                    r.AddError($"--weight-decay must be a number in [0, 1) such as 0.0005, but was '{text}'.");
                    return 0f;
                },
            };
            var flip = new Option<bool?>("--flip") { Description = "mirror half of the training images left to right, at random (fashion-resnet yes, fashion no) [default: the model's recipe]" };
            var shift = RecipeOption("--shift", "move each training image by up to N pixels in x and y, at random, 0 = off (fashion-resnet 0, fashion 0)", 0, "0 (off) or a positive number of pixels");
            var threads = IntOption("--threads", "workers that split each batch, 0 = one per core", 0, 0, "0 (one per core) or a positive integer");
            var seed = IntOption("--seed", "seeds weights, dropout and batch order", 1, 0, "a non-negative integer");
            var data = DataOption();
            var checkpoint = new Option<string?>("--checkpoint")
            {
                Description = "checkpoint file (weights + optimizer state), written atomically after every epoch; an existing one is resumed",
            };
            var save = new Option<string>("--save")
            {
                Description = "where to write the final weights (safetensors) and, beside them, the training history",
                DefaultValueFactory = _ => Path.Combine("artifacts", "fashion.safetensors"),
            };
            var command = new Command("train", "train a network on Fashion-MNIST, evaluating on the test set after every epoch")
            {
                model, epochs, batch, optimizer, lr, weightDecay, flip, shift, threads, seed, data, checkpoint, save,
            };
            command.SetAction(parse => RunTrain(
                Models.Get(parse.GetValue(model)!), parse.GetValue(epochs), parse.GetValue(batch), parse.GetValue(optimizer)!,
                parse.GetValue(lr), parse.GetValue(weightDecay), parse.GetValue(flip), parse.GetValue(shift), parse.GetValue(threads), parse.GetValue(seed), parse.GetValue(data), parse.GetValue(checkpoint), parse.GetValue(save)!));
            return command;
        }

        private static string HistoryPath(string weights) => Path.ChangeExtension(weights, ".history.json");

        private static int RunTrain(ModelEntry entry, int? epochsOption, int? batchOption, string optimizerName, float? lr, float weightDecay, bool? flipOption, int? shiftOption, int threads, int seed, string? dataDir,
            string? checkpoint, string save)
        {
            Models.RequireFashionMnistShaped(entry, "train");
            Recipe recipe = entry.Recipe ?? new Recipe(Epochs: 5, Batch: 64, Flip: false, Shift: 0);
            int epochs = epochsOption ?? recipe.Epochs, batch = batchOption ?? recipe.Batch, shift = shiftOption ?? recipe.Shift;
            bool flip = flipOption ?? recipe.Flip;
            var augmentation = new Augmentation { HorizontalFlip = flip, MaxShift = shift };
            (LabeledImages train, LabeledImages test) = FashionMnist.Load(dataDir);
            using INetwork net = entry.Create(batch, seed, threads);
            float learningRate = lr ?? (optimizerName == "sgd" ? 0.01f : 0.001f);
            using OptimizerBase optimizer = optimizerName == "sgd" ? new Sgd(learningRate, momentum: 0.9f, weightDecay: weightDecay) : new Adam(learningRate, weightDecay: weightDecay);
            var history = new List<EpochResult>();
            int startEpoch = 1;
            var invariant = CultureInfo.InvariantCulture;
            if (checkpoint is not null && File.Exists(checkpoint))
            {
                CheckpointInfo resumed = Checkpoint.Load(net, optimizer, checkpoint);
                startEpoch = resumed.Epoch + 1;
                if (File.Exists(HistoryPath(checkpoint)))
                    history.AddRange(JsonSerializer.Deserialize(File.ReadAllText(HistoryPath(checkpoint)), SamplesJson.Default.ListEpochResult) ?? new List<EpochResult>());
                Console.WriteLine(string.Create(invariant, $"resuming from {checkpoint}: epoch {resumed.Epoch} done, step {resumed.Step}"));
            }
            var options = new TrainingOptions
            {
                Epochs = epochs,
                BatchSize = batch,
                Seed = (ulong)seed,
                StartEpoch = startEpoch,
                // A mild cosine decay to 10% lets the last epochs settle into a minimum instead of bouncing around it.
                LearningRateSchedule = LearningRateSchedules.Cosine(learningRate, epochs, finalFraction: 0.1f),
                Augmentation = augmentation,
            };
            Console.WriteLine(string.Create(invariant,
                $"{entry.Name}  ISA {net.Isa}  {threads switch { 0 => Environment.ProcessorCount, _ => threads }} thread(s)  {entry.ParameterCount:N0} parameters  {entry.FlopsPerImage / 1e6:F1} MFLOP/image"));
            Console.WriteLine(string.Create(invariant,
                $"data: {train.Count:N0} train / {test.Count:N0} test images of {train.Height}x{train.Width}  " +
                $"{optimizerName} lr {learningRate:G3} (cosine to 10%)  batch {batch}  seed {seed}{(flip ? "  random flips" : "")}{(shift > 0 ? "  random shifts up to " + shift.ToString(invariant) + "px" : "")}"));

            var trainer = new Trainer(net, optimizer, options);
            new TrainingView().Run((onEpoch, onBatch) => trainer.Run(train, test, r =>
            {
                history.Add(r);
                if (checkpoint is not null)
                {
                    Checkpoint.Save(net, optimizer, checkpoint, r.Epoch, (ulong)seed);
                    WriteHistory(HistoryPath(checkpoint), history);
                }
                onEpoch(r);
            }, default, onBatch), history);

            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(save))!);
            WeightFile.Save(net, save, new Dictionary<string, string> { ["model"] = entry.Name });
            WriteHistory(HistoryPath(save), history);
            Console.WriteLine($"weights written to {save}");

            double inference = trainer.Evaluator.InferenceImagesPerSecond(test);
            Evaluation final = trainer.Evaluator.Evaluate(test);
            Console.WriteLine(string.Create(invariant, $"batch-1 inference  {inference:F0} img/s"));
            Console.WriteLine(string.Create(invariant, $"final test accuracy  {final.Accuracy * 100:F2}%  ({final.Correct}/{final.Count})"));
            return 0;
        }

        private static void WriteHistory(string path, List<EpochResult> history)
        {
            string temp = path + ".tmp";
            File.WriteAllText(temp, JsonSerializer.Serialize(history, SamplesJson.Default.ListEpochResult));
            File.Move(temp, path, overwrite: true);
        }

        private static Option<string> WeightsOption() => new("--weights", "-w")
        {
            Description = "weights file (safetensors) written by train",
            DefaultValueFactory = _ => Path.Combine("artifacts", "fashion.safetensors"),
        };

        /// <summary>Builds the model and loads its weights (with a clear message when the file is missing).</summary>
        private static INetwork Load(ModelEntry entry, string weights, int maxBatch, int threads)
        {
            if (!File.Exists(weights))
                throw new FileNotFoundException($"No weights at '{weights}'. Train first (bash train.sh, which writes {Path.Combine("artifacts", "fashion.safetensors")}) or pass --weights FILE.", weights);
            INetwork net = entry.Create(maxBatch, 1, threads);
            try { WeightFile.Load(net, weights); }
            catch { net.Dispose(); throw; }
            return net;
        }

        private static Command Eval()
        {
            var model = ModelOption();
            var weights = WeightsOption();
            var data = DataOption();
            var batch = Positive("--batch", "images per forward pass", 256);
            var command = new Command("eval", "accuracy and loss of trained weights on the Fashion-MNIST test set") { model, weights, data, batch };
            command.SetAction(parse =>
            {
                ModelEntry entry = Models.Get(parse.GetValue(model)!);
                Models.RequireFashionMnistShaped(entry, "eval");
                (_, LabeledImages test) = FashionMnist.Load(parse.GetValue(data));
                using INetwork net = Load(entry, parse.GetValue(weights)!, parse.GetValue(batch), threads: 0);
                var evaluator = new Evaluator(net);
                Evaluation result = evaluator.Evaluate(test);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{entry.Name}: test accuracy {result.Accuracy * 100:F2}% ({result.Correct}/{result.Count})  loss {result.Loss:F4}"));
                return 0;
            });
            return command;
        }

        private static Command Predict()
        {
            var model = ModelOption();
            var weights = WeightsOption();
            var data = DataOption();
            var index = IntOption("--index", "index of a Fashion-MNIST test image", 0, 0, "0 or more");
            var command = new Command("predict", "classify one Fashion-MNIST test image and print the top 3 classes") { model, weights, data, index };
            command.SetAction(parse =>
            {
                ModelEntry entry = Models.Get(parse.GetValue(model)!);
                Models.RequireFashionMnistShaped(entry, "predict");
                (_, LabeledImages test) = FashionMnist.Load(parse.GetValue(data));
                int i = parse.GetValue(index);
                if (i >= test.Count) throw new ArgumentException($"--index {i} is beyond the test set's {test.Count} images (0 to {test.Count - 1}).");
                using INetwork net = Load(entry, parse.GetValue(weights)!, 1, threads: 1);
                var probabilities = new float[net.OutputLength];
                net.Forward(test.Images.AsSpan(i * test.ImageLength, test.ImageLength), probabilities, 1);
                Console.WriteLine($"test image {i}: label {FashionMnist.ClassNames[test.Labels[i]]}");
                foreach (int c in Enumerable.Range(0, probabilities.Length).OrderByDescending(c => probabilities[c]).Take(3))
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {probabilities[c] * 100,6:F2}%  {FashionMnist.ClassNames[c]}"));
                return 0;
            });
            return command;
        }

        private static Command Visualize()
        {
            var model = ModelOption();
            var weights = WeightsOption();
            var data = DataOption();
            var output = new Option<string>("--out", "-o") { Description = "output directory for the PNGs and report.html", DefaultValueFactory = _ => Path.Combine("artifacts", "report") };
            var image = IntOption("--image", "test image for feature maps and occlusion", 0, 0, "0 or more");
            var command = new Command("visualize", "first-layer filters, feature maps, occlusion sensitivity, training curves and a confusion matrix as PNGs and one HTML report")
            {
                model, weights, data, output, image,
            };
            command.SetAction(parse =>
            {
                ModelEntry entry = Models.Get(parse.GetValue(model)!);
                Models.RequireFashionMnistShaped(entry, "visualize");
                (_, LabeledImages test) = FashionMnist.Load(parse.GetValue(data));
                string weightsPath = parse.GetValue(weights)!;
                using INetwork net = Load(entry, weightsPath, 64, threads: 0);
                string historyPath = HistoryPath(weightsPath);
                List<EpochResult> history = File.Exists(historyPath)
                    ? JsonSerializer.Deserialize(File.ReadAllText(historyPath), SamplesJson.Default.ListEpochResult) ?? new List<EpochResult>()
                    : new List<EpochResult>();
                var files = Visualizer.WriteReport(net, entry.Summary, test, history, parse.GetValue(output)!,
                    new VisualizationOptions { ImageIndex = parse.GetValue(image), ClassNames = FashionMnist.ClassNames });
                foreach (string f in files) Console.WriteLine(f);
                return 0;
            });
            return command;
        }
    }
}