// A training checkpoint: parameters, optimizer state and progress in one safetensors file, so a run can stop and
// resume exactly. Tensors: the parameters by name, plus optimizer.<kind>.<state>.<parameter> (e.g.
// optimizer.adam.m.conv1.weight, optimizer.sgd.momentum.dense1.bias). Metadata: optimizer, step, epoch, seed,
// lr and the optimizer's hyperparameters (beta1, beta2, epsilon, weight_decay / momentum, weight_decay).
//
// Exactness: loading into a fresh network and optimizer of the same types, settings, kernel set and thread count
// continues bit-identically, as long as the caller replays the same batches. Dropout masks come from the
// network's own generator, which a checkpoint does not capture: networks with Dropout resume with fresh masks.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace CnnGen.Weights
{
    /// <summary>Training progress stored in a checkpoint. <see cref="Step"/> is the optimizer's step count.</summary>
    public sealed record CheckpointInfo(int Epoch, long Step, ulong Seed, float LearningRate, IReadOnlyDictionary<string, string> Metadata);

    public static class Checkpoint
    {
        /// <summary>Prefix of every optimizer state tensor.</summary>
        public const string OptimizerPrefix = "optimizer.";
        public const string OptimizerKey = "optimizer", StepKey = "step", EpochKey = "epoch", SeedKey = "seed", LearningRateKey = "lr";

        /// <summary>Writes parameters, optimizer state, <paramref name="optimizer"/>'s step count and learning rate,
        /// <paramref name="epoch"/> and <paramref name="seed"/> to <paramref name="path"/> atomically (as <see cref="WeightFile.Save(INetwork, string, IReadOnlyDictionary{string, string}?)"/>).</summary>
        public static void Save(INetwork net, OptimizerBase optimizer, string path, int epoch, ulong seed, IReadOnlyDictionary<string, string>? metadata = null)
        {
            ArgumentNullException.ThrowIfNull(net);
            ArgumentNullException.ThrowIfNull(optimizer);
            ArgumentException.ThrowIfNullOrEmpty(path);
            if (epoch < 0) throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "epoch cannot be negative.");

            var reserved = new Dictionary<string, string>
            {
                [WeightFile.NetworkKey] = net.GetType().Name,
                [OptimizerKey] = optimizer.Kind,
                [StepKey] = optimizer.Steps.ToString(CultureInfo.InvariantCulture),
                [EpochKey] = epoch.ToString(CultureInfo.InvariantCulture),
                [SeedKey] = seed.ToString(CultureInfo.InvariantCulture),
                [LearningRateKey] = Format(optimizer.LearningRate),
            };
            foreach (KeyValuePair<string, float> h in optimizer.Hyperparameters) reserved.Add(h.Key, Format(h.Value));

            List<SafeTensor> tensors = WeightFile.ParameterTensors(net);
            if (optimizer.Steps > 0)
            {
                // A parameter the optimizer has not seen yet would get zeroed state on its first step, so zeros
                // stand for "no state" exactly.
                for (int s = 0; s < optimizer.StateNames.Count; s++)
                    foreach (Parameter p in net.Parameters)
                    {
                        float[] data = optimizer.TryGetState(p, s, out Span<float> state) ? state.ToArray() : new float[p.Length];
                        tensors.Add(new SafeTensor(StateTensorName(optimizer, s, p), p.Shape.ToArray(), data));
                    }
            }
            WeightFile.WriteAtomically(path, new SafeTensorsFile(tensors, WeightFile.MergeMetadata(metadata, reserved)), openTemp: null);
        }

        /// <summary>Restores parameters, optimizer state, step count and learning rate from <paramref name="path"/> and
        /// returns the progress. Everything is checked first (tensors, shapes, optimizer kind and hyperparameters); on
        /// any mismatch an <see cref="InvalidDataException"/> lists it and neither the network nor the optimizer changes.</summary>
        public static CheckpointInfo Load(INetwork net, OptimizerBase optimizer, string path)
        {
            ArgumentNullException.ThrowIfNull(net);
            ArgumentNullException.ThrowIfNull(optimizer);
            ArgumentException.ThrowIfNullOrEmpty(path);
            SafeTensorsFile file = SafeTensors.Read(path);
            IReadOnlyDictionary<string, string> meta = file.Metadata;

            string? kind = Required(meta, OptimizerKey, path);
            if (kind != optimizer.Kind)
                throw new InvalidDataException($"Checkpoint '{path}' was saved with optimizer '{kind}' but is being loaded into '{optimizer.Kind}'. Nothing was changed.");
            long step = ParseOrThrow(meta, StepKey, path, (string s, out long v) => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v) );
            int epoch = ParseOrThrow(meta, EpochKey, path, (string s, out int v) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v));
            ulong seed = ParseOrThrow(meta, SeedKey, path, (string s, out ulong v) => ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v));
            float lr = ParseOrThrow<float>(meta, LearningRateKey, path, TryParseFloat);
            if (!(lr >= 0) || float.IsInfinity(lr))
                throw new InvalidDataException($"Checkpoint '{path}': metadata '{LearningRateKey}' is {lr}, not a non-negative finite learning rate. Nothing was changed.");

            var problems = new List<string>();
            foreach (KeyValuePair<string, float> h in optimizer.Hyperparameters)
            {
                if (!meta.TryGetValue(h.Key, out string? text)) problems.Add($"optimizer setting '{h.Key}' is missing");
                else if (!TryParseFloat(text, out float saved)) problems.Add($"optimizer setting '{h.Key}' is '{text}', not a number");
                else if (BitConverter.SingleToInt32Bits(saved) != BitConverter.SingleToInt32Bits(h.Value))
                    problems.Add($"optimizer setting '{h.Key}' is {Format(saved)} in the checkpoint but {Format(h.Value)} in the optimizer (resuming would not continue the same run)");
            }

            string statePrefix = OptimizerPrefix + optimizer.Kind + ".";
            problems.AddRange(WeightFile.ParameterProblems(net, file, isOtherTensor: name => name.StartsWith(OptimizerPrefix, StringComparison.Ordinal)));
            var expectedState = new HashSet<string>(StringComparer.Ordinal);
            if (step > 0)
            {
                for (int s = 0; s < optimizer.StateNames.Count; s++)
                    foreach (Parameter p in net.Parameters)
                    {
                        string name = StateTensorName(optimizer, s, p);
                        expectedState.Add(name);
                        if (!file.TryGet(name, out SafeTensor t))
                            problems.Add($"missing optimizer state '{name}' {WeightFile.Shape(p.Shape)}");
                        else if (!t.Shape.SequenceEqual(p.Shape))
                            problems.Add($"optimizer state '{name}' has shape {WeightFile.Shape(t.Shape)} in the file but its parameter is {WeightFile.Shape(p.Shape)}");
                    }
            }
            foreach (SafeTensor t in file.Tensors)
                if (t.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal) && !expectedState.Contains(t.Name))
                    problems.Add(step == 0
                        ? $"unexpected optimizer state '{t.Name}' in a checkpoint at step 0"
                        : $"unexpected optimizer state '{t.Name}' (expected {statePrefix}<{string.Join("|", optimizer.StateNames)}>.<parameter>)");
            if (problems.Count > 0)
                throw new InvalidDataException(
                    $"Checkpoint '{path}' does not fit network {net.GetType().Name} with optimizer {optimizer.Kind}: {string.Join("; ", problems)}. Nothing was changed.");

            // Everything checked: apply.
            WeightFile.CopyIntoParameters(net, file);
            for (int s = 0; s < optimizer.StateNames.Count; s++)
                foreach (Parameter p in net.Parameters)
                {
                    if (step > 0)
                    {
                        file.TryGet(StateTensorName(optimizer, s, p), out SafeTensor t);
                        t.Data.AsSpan().CopyTo(optimizer.GetOrCreateState(p, s));
                    }
                    else if (optimizer.TryGetState(p, s, out Span<float> stale))
                        stale.Clear();
                }
            optimizer.Steps = step;
            optimizer.LearningRate = lr;
            return new CheckpointInfo(epoch, step, seed, lr, meta);
        }

        /// <summary><c>optimizer.adam.m.conv1.weight</c>.</summary>
        public static string StateTensorName(OptimizerBase optimizer, int stateIndex, Parameter parameter)
            => $"{OptimizerPrefix}{optimizer.Kind}.{optimizer.StateNames[stateIndex]}.{parameter.Name}";

        private delegate bool TryParse<T>(string text, out T value);

        private static string? Required(IReadOnlyDictionary<string, string> meta, string key, string path)
            => meta.TryGetValue(key, out string? value)
                ? value
                : throw new InvalidDataException($"Checkpoint '{path}' has no '{key}' metadata (is it a plain weight file? use WeightFile.Load). Nothing was changed.");

        private static T ParseOrThrow<T>(IReadOnlyDictionary<string, string> meta, string key, string path, TryParse<T> parse)
        {
            string text = Required(meta, key, path)!;
            return parse(text, out T value)
                ? value
                : throw new InvalidDataException($"Checkpoint '{path}': metadata '{key}' is '{text}', not a valid {typeof(T).Name}. Nothing was changed.");
        }

        private static bool TryParseFloat(string text, out float value)
            => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

        /// <summary>Shortest text that parses back to the same float.</summary>
        private static string Format(float value) => value.ToString("R", CultureInfo.InvariantCulture);
    }
}
