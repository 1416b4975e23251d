// Networks and helpers for the weight-file and checkpoint tests.
using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using CnnGen;

namespace CnnGen.Tests.Weights
{
    // 1x8x8 -> conv1 4x8x8 -> maxpool1 4x4x4 -> conv2 6x2x2 -> flatten 24 -> dense1 8 -> dense2 3 -> softmax.
    // No dropout: checkpoints do not capture the network's dropout generator, and resume tests must be exact.
    [Network(Channels = 1, Height = 8, Width = 8)]
    [Conv2D(4, 3, Padding = Pad.Same), ReLU, MaxPool2D(2)]
    [Conv2D(6, 3), ReLU]
    [Flatten, Dense(8), ReLU, Dense(3), Softmax]
    public partial class ResumeNet;

    /// <summary>A temporary directory, deleted with the test class.</summary>
    public sealed class TempDirectory : IDisposable
    {
        public TempDirectory() => Path = Directory.CreateTempSubdirectory("cnngen-weights-").FullName;
        public string Path { get; }
        public string File(string name) => System.IO.Path.Combine(Path, name);
        public string[] Entries() => Directory.GetFileSystemEntries(Path).Select(System.IO.Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray()!;
        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }

    internal static class WeightsSupport
    {
        /// <summary>Every parameter's values as raw bits, by name.</summary>
        public static Dictionary<string, uint[]> Bits(INetwork net) =>
            net.Parameters.ToDictionary(p => p.Name, p => p.Value.ToArray().Select(BitConverter.SingleToUInt32Bits).ToArray());

        public static void AssertSameBits(Dictionary<string, uint[]> expected, INetwork net, string because)
        {
            Dictionary<string, uint[]> actual = Bits(net);
            Assert.Equal(expected.Keys.OrderBy(k => k), actual.Keys.OrderBy(k => k));
            foreach ((string name, uint[] bits) in expected)
            {
                int at = bits.FindIndex((b, i) => b != actual[name][i]);
                Assert.True(at < 0, $"{because}: {name}[{at}] is 0x{(at < 0 ? 0 : actual[name][at]):X8}, expected 0x{(at < 0 ? 0 : bits[at]):X8}");
            }
        }

        private static int FindIndex(this uint[] a, Func<uint, int, bool> pred)
        {
            for (int i = 0; i < a.Length; i++) if (pred(a[i], i)) return i;
            return -1;
        }

        /// <summary>Fills every parameter with distinct, non-trivial values (incl. a negative zero and subnormal).</summary>
        public static void Scramble(INetwork net, ulong seed)
        {
            var rng = new Rng(seed);
            foreach (Parameter p in net.Parameters)
                for (int i = 0; i < p.Length; i++) p.Value[i] = rng.NextGaussian();
            net.Parameters[0].Value[0] = -0f;
            net.Parameters[0].Value[1] = 1e-40f;
        }

        /// <summary>A safetensors file from a literal JSON header and data bytes (header length as given, or the real one).</summary>
        public static byte[] Craft(string headerJson, byte[] data, ulong? declaredHeaderLength = null)
        {
            byte[] header = Encoding.UTF8.GetBytes(headerJson);
            var bytes = new byte[8 + header.Length + data.Length];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredHeaderLength ?? (ulong)header.Length);
            header.CopyTo(bytes, 8);
            data.CopyTo(bytes, 8 + header.Length);
            return bytes;
        }

        public static byte[] Floats(params float[] values)
        {
            var bytes = new byte[values.Length * 4];
            for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
            return bytes;
        }

        /// <summary>Deterministic training batches (images, labels) for step <paramref name="step"/>.</summary>
        public static (float[] Images, int[] Labels) Batch(int step, int batch, int inputLength, int classes)
        {
            var rng = new Rng(1000UL + (ulong)step);
            var images = new float[batch * inputLength];
            for (int i = 0; i < images.Length; i++) images[i] = rng.NextGaussian();
            var labels = new int[batch];
            for (int i = 0; i < batch; i++) labels[i] = rng.NextInt(classes);
            return (images, labels);
        }
    }
}
