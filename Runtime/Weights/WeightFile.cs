// A network's parameters as a safetensors file, by name (conv1.weight, dense1.bias, ...) in PyTorch's layouts,
// so PyTorch state_dicts written with the same names load directly. Loads check everything before touching
// the network; saves replace the file atomically.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;

namespace CnnGen.Weights
{
    public static class WeightFile
    {
        /// <summary>Metadata key naming the network class a file was saved from (informational: loading checks
        /// names and shapes, not this).</summary>
        public const string NetworkKey = "network";

        /// <summary>Writes every parameter of <paramref name="net"/> to <paramref name="path"/>, atomically: the data
        /// goes to a temporary file in the same directory, is flushed to disk, then renamed over <paramref name="path"/>.
        /// A failed or interrupted save leaves any previous file intact.</summary>
        public static void Save(INetwork net, string path, IReadOnlyDictionary<string, string>? metadata = null)
            => Save(net, path, metadata, openTemp: null);

        internal static void Save(INetwork net, string path, IReadOnlyDictionary<string, string>? metadata, Func<string, Stream>? openTemp)
        {
            ArgumentNullException.ThrowIfNull(net);
            ArgumentException.ThrowIfNullOrEmpty(path);
            var meta = MergeMetadata(metadata, new Dictionary<string, string> { [NetworkKey] = net.GetType().Name });
            WriteAtomically(path, new SafeTensorsFile(ParameterTensors(net), meta), openTemp);
        }

        /// <summary>Reads <paramref name="path"/> into the parameters of <paramref name="net"/> and returns the file's
        /// metadata. The file must hold exactly the network's parameters, with the same shapes, as F32; otherwise an
        /// <see cref="InvalidDataException"/> lists every difference and the network is left unchanged.</summary>
        public static IReadOnlyDictionary<string, string> Load(INetwork net, string path)
        {
            ArgumentNullException.ThrowIfNull(net);
            ArgumentException.ThrowIfNullOrEmpty(path);
            SafeTensorsFile file = SafeTensors.Read(path);
            List<string> problems = ParameterProblems(net, file, isOtherTensor: _ => false);
            if (problems.Count > 0)
            {
                bool checkpoint = file.Tensors.Any(t => t.Name.StartsWith(Checkpoint.OptimizerPrefix, StringComparison.Ordinal));
                throw Mismatch(net, path, file, problems, checkpoint ? " (this looks like a checkpoint: use Checkpoint.Load)" : "");
            }
            CopyIntoParameters(net, file);
            return file.Metadata;
        }

        // ---- shared with Checkpoint ----

        /// <summary>What a weight file holds: the parameters, then the buffers (BatchNorm running statistics).</summary>
        internal static IEnumerable<Parameter> SavedTensors(INetwork net) => net.Parameters.Concat(net.Buffers);

        /// <summary>Copies of the parameter and buffer values, in declaration order.</summary>
        internal static List<SafeTensor> ParameterTensors(INetwork net)
        {
            var tensors = new List<SafeTensor>(net.Parameters.Count);
            foreach (Parameter p in SavedTensors(net))
                tensors.Add(new SafeTensor(p.Name, p.Shape.ToArray(), p.Value.ToArray()));
            return tensors;
        }

        /// <summary>Every way <paramref name="file"/> fails to hold exactly the parameters of <paramref name="net"/>;
        /// tensors for which <paramref name="isOtherTensor"/> is true are someone else's business.</summary>
        internal static List<string> ParameterProblems(INetwork net, SafeTensorsFile file, Func<string, bool> isOtherTensor)
        {
            var problems = new List<string>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (Parameter p in SavedTensors(net))
            {
                names.Add(p.Name);
                if (!file.TryGet(p.Name, out SafeTensor t))
                    problems.Add($"missing parameter '{p.Name}' {Shape(p.Shape)}");
                else if (!t.Shape.SequenceEqual(p.Shape))
                    problems.Add($"parameter '{p.Name}' has shape {Shape(t.Shape)} in the file but {Shape(p.Shape)} in the network");
                else if (NonFinite.FirstIndex(t.Data) is int bad and >= 0)
                    problems.Add($"parameter '{p.Name}' holds {NonFinite.Describe(t.Data[bad])} at index {bad} (a damaged file, or weights saved after training diverged)");
            }
            foreach (SafeTensor t in file.Tensors)
                if (!names.Contains(t.Name) && !isOtherTensor(t.Name))
                    problems.Add($"unexpected tensor '{t.Name}' {Shape(t.Shape)} (the network has no such parameter)");
            return problems;
        }

        internal static InvalidDataException Mismatch(INetwork net, string path, SafeTensorsFile file, List<string> problems, string hint)
        {
            string network = net.GetType().Name;
            string savedFrom = file.Metadata.TryGetValue(NetworkKey, out string? from) && from != network ? $" (it was saved from {from})" : "";
            return new InvalidDataException(
                $"Weight file '{path}' does not fit network {network}{savedFrom}{hint}: {string.Join("; ", problems)}. The network was not changed.");
        }

        /// <summary>Copies every parameter from a file already checked by <see cref="ParameterProblems"/>.</summary>
        internal static void CopyIntoParameters(INetwork net, SafeTensorsFile file)
        {
            foreach (Parameter p in SavedTensors(net))
            {
                file.TryGet(p.Name, out SafeTensor t);
                t.Data.AsSpan().CopyTo(p.Value);
            }
        }

        internal static Dictionary<string, string> MergeMetadata(IReadOnlyDictionary<string, string>? user, Dictionary<string, string> reserved)
        {
            var merged = new Dictionary<string, string>(reserved, StringComparer.Ordinal);
            if (user is null) return merged;
            foreach (KeyValuePair<string, string> kv in user)
            {
                ArgumentNullException.ThrowIfNull(kv.Value, $"metadata[\"{kv.Key}\"]");
                if (!merged.TryAdd(kv.Key, kv.Value))
                    throw new ArgumentException($"Metadata key '{kv.Key}' is written by CnnGen itself; choose another key.", "metadata");
            }
            return merged;
        }

        /// <summary>Writes to <c>path.tmp-&lt;random&gt;</c> beside <paramref name="path"/>, flushes it to disk, then renames
        /// it over <paramref name="path"/>; on any failure the temporary file is deleted and <paramref name="path"/> is
        /// untouched. <paramref name="openTemp"/> (tests only) opens the temporary file instead of a plain FileStream.</summary>
        internal static void WriteAtomically(string path, SafeTensorsFile file, Func<string, Stream>? openTemp)
        {
            string full = Path.GetFullPath(path);
            string temp = full + ".tmp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
            try
            {
                using (Stream stream = openTemp?.Invoke(temp)
                    ?? new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
                {
                    SafeTensors.Write(stream, file);
                    if (stream is FileStream fs) fs.Flush(flushToDisk: true);
                    else stream.Flush();
                }
                File.Move(temp, full, overwrite: true);
            }
            catch
            {
                try { File.Delete(temp); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
                throw;
            }
        }

        internal static string Shape(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";
    }
}
