// Classifies one Fashion-MNIST image with the seed network and a safetensors weight file, printing the top 3
// classes. Built for NativeAOT (see publish-aot.sh); `dotnet run` works too.
using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using CnnGen.Data;
using CnnGen.Weights;
using CnnGen.Samples;

namespace CnnGen.Predict
{
    public static class Program
    {
        private const string Usage = """
            Usage:
              CnnGen.Predict WEIGHTS.safetensors --index N [--data DIR]   image N of the Fashion-MNIST test set
              CnnGen.Predict WEIGHTS.safetensors --pgm FILE.pgm           a 28x28 binary greymap (P5)
              CnnGen.Predict --init WEIGHTS.safetensors [--seed S]        write the untrained network's weights
              CnnGen.Predict --export-pgm N FILE.pgm [--data DIR]         write test image N as a PGM
            DIR defaults to $CNNGEN_DATA, else /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist).
            """;

        public static int Main(string[] args)
        {
            try
            {
                return Run(args);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or DataNotFoundException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return 1;
            }
            catch (UsageException e)
            {
                Console.Error.WriteLine("error: " + e.Message);
                Console.Error.WriteLine(Usage);
                return 2;
            }
        }

        private sealed class UsageException(string message) : Exception(message);

        private static int Run(string[] args)
        {
            string? weights = null, pgm = null, data = null, init = null, exportPath = null;
            int? index = null, exportIndex = null;
            int seed = 1;
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                string Next() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{a} needs a value.");
                switch (a)
                {
                    case "-h" or "--help": Console.WriteLine(Usage); return 0;
                    case "--index": index = Int(Next(), a); break;
                    case "--pgm": pgm = Next(); break;
                    case "--data": data = Next(); break;
                    case "--init": init = Next(); break;
                    case "--seed": seed = Int(Next(), a); break;
                    case "--export-pgm": exportIndex = Int(Next(), a); exportPath = Next(); break;
                    default:
                        if (a.StartsWith('-') || weights != null) throw new UsageException($"Unexpected argument '{a}'.");
                        weights = a;
                        break;
                }
            }

            if (init != null)
            {
                using var fresh = new FashionNet(maxBatch: 1, seed: seed);
                WeightFile.Save(fresh, init);
                Console.WriteLine($"Wrote the untrained weights (seed {seed}, {FashionNet.ParameterCount:N0} parameters) to {init}.");
                return 0;
            }
            if (exportIndex is int e)
            {
                LabeledImages test = LoadTestSet(data);
                CheckIndex(e, test);
                Pgm.Write(exportPath!, test.Image(e), test.Width, test.Height);
                Console.WriteLine($"Wrote test image {e} ({FashionMnist.ClassNames[test.Labels[e]]}) to {exportPath}.");
                return 0;
            }
            if (weights is null) throw new UsageException("No weight file given.");
            if ((index is null) == (pgm is null)) throw new UsageException("Give exactly one of --index N and --pgm FILE.");

            var image = new float[FashionNet.InputSize];
            string what;
            if (pgm != null)
            {
                Pgm.Image p = Pgm.Read(pgm);
                if (p.Width != FashionNet.InputWidth || p.Height != FashionNet.InputHeight)
                    throw new InvalidDataException($"'{pgm}' is {p.Width}x{p.Height}; the network takes {FashionNet.InputWidth}x{FashionNet.InputHeight} images.");
                p.Pixels.CopyTo(image, 0);
                what = pgm;
            }
            else
            {
                LabeledImages test = LoadTestSet(data);
                CheckIndex(index!.Value, test);
                test.Image(index.Value).CopyTo(image);
                what = $"test image {index} (label: {FashionMnist.ClassNames[test.Labels[index.Value]]})";
            }

            using var net = new FashionNet(maxBatch: 1);
            WeightFile.Load(net, weights);
            var probabilities = new float[FashionNet.OutputSize];
            long start = Stopwatch.GetTimestamp();
            net.Forward(image, probabilities, batch: 1);
            TimeSpan forward = Stopwatch.GetElapsedTime(start);

            int[] order = new int[probabilities.Length];
            for (int i = 0; i < order.Length; i++) order[i] = i;
            Array.Sort(order, (x, y) => probabilities[y].CompareTo(probabilities[x]));
            Console.WriteLine($"{what}:");
            for (int rank = 0; rank < 3; rank++)
            {
                int c = order[rank];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {rank + 1}. {FashionMnist.ClassNames[c],-12} {probabilities[c] * 100,7:F2}%"));
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"forward: {forward.TotalMilliseconds:F2} ms ({net.Isa})"));
            return 0;
        }

        private static int Int(string s, string option) =>
            int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 0
                ? v : throw new UsageException($"{option} takes a non-negative integer, not '{s}'.");

        private static void CheckIndex(int index, LabeledImages test)
        {
            if (index >= test.Count) throw new UsageException($"Index {index} is past the test set's {test.Count} images.");
        }

        /// <summary>Only the 10,000 test images (the 60,000 training images are not needed to predict).</summary>
        private static LabeledImages LoadTestSet(string? directory)
        {
            directory ??= FashionMnist.DefaultDirectory;
            return LabeledImages.FromIdx(Find(directory, "t10k-images-idx3-ubyte"), Find(directory, "t10k-labels-idx1-ubyte"));
        }

        private static string Find(string directory, string baseName)
        {
            foreach (string candidate in new[] { baseName + ".gz", baseName })
            {
                string path = Path.Combine(directory, candidate);
                if (File.Exists(path)) return path;
            }
            throw new DataNotFoundException(
                $"Fashion-MNIST test set not found: no '{Path.Combine(directory, baseName)}(.gz)'. Install it with " +
                $"`apt-get install dataset-fashion-mnist`, or pass --data DIR (or set {FashionMnist.DirectoryVariable}=DIR).");
        }
    }
}
