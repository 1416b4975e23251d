// WeightFile: bit-exact round trips, loads that fail without touching the network, atomic saves, and weights
// exported from PyTorch (Samples/scripts/export_pytorch_weights.py) reproducing PyTorch's outputs.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using CnnGen.Tests.Numerics;
using CnnGen.Weights;
using static CnnGen.Tests.Weights.WeightsSupport;

namespace CnnGen.Tests.Weights
{
    public sealed class WeightFileTests : IDisposable
    {
        private readonly TempDirectory _dir = new();
        private readonly Xunit.Abstractions.ITestOutputHelper _output;
        public WeightFileTests(Xunit.Abstractions.ITestOutputHelper output) => _output = output;
        public void Dispose() => _dir.Dispose();

        [Fact]
        public void SaveThenLoadIsBitIdentical()
        {
            string path = _dir.File("a.safetensors");
            using var source = new FixtureNetA(maxBatch: 2, seed: 1);
            Scramble(source, 11);
            WeightFile.Save(source, path, new Dictionary<string, string> { ["note"] = "hello" });

            using var target = new FixtureNetA(maxBatch: 2, seed: 2);
            Assert.NotEqual(Bits(source)["conv1.weight"], Bits(target)["conv1.weight"]);
            IReadOnlyDictionary<string, string> meta = WeightFile.Load(target, path);
            AssertSameBits(Bits(source), target, "after load");
            Assert.Equal("hello", meta["note"]);
            Assert.Equal("FixtureNetA", meta[WeightFile.NetworkKey]);
            Assert.Equal(["a.safetensors"], _dir.Entries());

            // Names, shapes and order as documented (PyTorch layouts).
            SafeTensorsFile file = SafeTensors.Read(path);
            Assert.Equal(source.Parameters.Select(p => $"{p.Name} [{string.Join(", ", p.Shape)}]"),
                file.Tensors.Select(t => $"{t.Name} [{string.Join(", ", t.Shape)}]"));
            Assert.Equal("conv1.weight [4, 2, 3, 3]", file.Tensors[0].ToString());
        }

        [Fact]
        public void ReservedMetadataKeyIsRejected()
        {
            using var net = new FixtureNetA(maxBatch: 1);
            Assert.Throws<ArgumentException>(() => WeightFile.Save(net, _dir.File("r.safetensors"), new Dictionary<string, string> { ["network"] = "x" }));
            Assert.Empty(_dir.Entries());
        }

        // ---- failed loads leave the network unchanged ----

        private (FixtureNetA Net, Dictionary<string, uint[]> Before) Target()
        {
            var net = new FixtureNetA(maxBatch: 1, seed: 3);
            Scramble(net, 33);
            return (net, Bits(net));
        }

        private string WriteModified(string name, Func<List<SafeTensor>, List<SafeTensor>> edit)
        {
            using var source = new FixtureNetA(maxBatch: 1, seed: 4);
            var tensors = source.Parameters.Select(p => new SafeTensor(p.Name, p.Shape.ToArray(), p.Value.ToArray())).ToList();
            string path = _dir.File(name);
            SafeTensors.Write(path, new SafeTensorsFile(edit(tensors)));
            return path;
        }

        private void AssertLoadFails(string path, params string[] fragments)
        {
            (FixtureNetA net, Dictionary<string, uint[]> before) = Target();
            using (net)
            {
                var e = Assert.Throws<InvalidDataException>(() => WeightFile.Load(net, path));
                Assert.Contains(path, e.Message);
                foreach (string f in fragments) Assert.Contains(f, e.Message);
                AssertSameBits(before, net, "after a failed load");
            }
        }

        [Fact]
        public void MissingParameter() =>
            AssertLoadFails(WriteModified("missing.safetensors", t => t.Where(x => x.Name != "conv2.bias").ToList()),
                "does not fit network FixtureNetA", "missing parameter 'conv2.bias' [6]", "The network was not changed");

        [Fact]
        public void ExtraTensor() =>
            AssertLoadFails(WriteModified("extra.safetensors", t => [.. t, new SafeTensor("dense2.weight", [1, 2], [1f, 2f])]),
                "unexpected tensor 'dense2.weight' [1, 2]");

        [Fact]
        public void ShapeMismatchNamesBothShapes() =>
            AssertLoadFails(WriteModified("shape.safetensors", t => t.Select(x => x.Name == "dense1.weight" ? new SafeTensor(x.Name, [6, 5], x.Data) : x).ToList()),
                "parameter 'dense1.weight' has shape [6, 5] in the file but [5, 6] in the network");

        [Fact]
        public void DtypeMismatch()
        {
            // A valid file except that conv1.bias is stored as F16 (4 values, 8 bytes).
            using var source = new FixtureNetA(maxBatch: 1);
            var parts = new List<string>();
            var data = new List<byte>();
            foreach (Parameter p in source.Parameters)
            {
                bool half = p.Name == "conv1.bias";
                byte[] bytes = half ? new byte[p.Length * 2] : Floats(p.Value.ToArray());
                parts.Add($"\"{p.Name}\":{{\"dtype\":\"{(half ? "F16" : "F32")}\",\"shape\":[{string.Join(",", p.Shape)}],\"data_offsets\":[{data.Count},{data.Count + bytes.Length}]}}");
                data.AddRange(bytes);
            }
            string path = _dir.File("f16.safetensors");
            File.WriteAllBytes(path, Craft("{" + string.Join(",", parts) + "}", data.ToArray()));
            AssertLoadFails(path, "tensor 'conv1.bias' has dtype F16; CnnGen weight files hold F32");
        }

        [Fact]
        public void TruncatedFilesAtEveryKindOfOffset()
        {
            using var source = new FixtureNetA(maxBatch: 1, seed: 5);
            string good = _dir.File("good.safetensors");
            WeightFile.Save(source, good);
            byte[] bytes = File.ReadAllBytes(good);
            int headerEnd = 8 + (int)BitConverter.ToUInt64(bytes, 0);
            var cuts = new (int Length, string Fragment)[]
            {
                (0, "is 0 bytes long, too short for the 8-byte header length"),
                (5, "is 5 bytes long, too short for the 8-byte header length"),
                (8, "declares a"),                                   // length present, header absent
                (headerEnd / 2, "declares a"),                       // inside the header
                (headerEnd, "reach past the 0 data bytes"),          // header complete, no data
                (headerEnd + 100, "reach past the 100 data bytes"),  // inside the data
                (bytes.Length - 1, "data bytes in the file (truncated?)"),
            };
            foreach ((int length, string fragment) in cuts)
            {
                string path = _dir.File($"cut{length}.safetensors");
                File.WriteAllBytes(path, bytes[..length]);
                AssertLoadFails(path, fragment);
            }
        }

        [Fact]
        public void TruncatedAtEveryByteOffset()
        {
            using var source = new FixtureNetA(maxBatch: 1, seed: 5);
            string good = _dir.File("whole.safetensors");
            WeightFile.Save(source, good);
            byte[] bytes = File.ReadAllBytes(good);
            string path = _dir.File("cut.safetensors");
            (FixtureNetA net, Dictionary<string, uint[]> before) = Target();
            using (net)
            {
                for (int length = 0; length < bytes.Length; length++)
                {
                    File.WriteAllBytes(path, bytes[..length]);
                    var e = Assert.Throws<InvalidDataException>(() => WeightFile.Load(net, path));
                    Assert.Contains(path, e.Message);
                    Assert.Contains("truncated", e.Message);   // every cut is reported as one, whichever check catches it
                }
                AssertSameBits(before, net, "after every truncated load");
            }
            Assert.True(bytes.Length > 1000, $"the file is {bytes.Length} bytes");
            _output.WriteLine($"{bytes.Length} truncations of a {bytes.Length}-byte file rejected");
        }

        [Fact]
        public void EveryBitFlipInTheHeaderIsRejectedOrHarmless()
        {
            // Flip each bit of the 8-byte length and the JSON header, one at a time. A flip may only be accepted when the
            // weights that load are exactly the saved ones (e.g. it changed a metadata value or a padding space);
            // everything else must be an InvalidDataException naming the file, with the network unchanged.
            using var source = new FixtureNetA(maxBatch: 1, seed: 5);
            string good = _dir.File("whole.safetensors");
            WeightFile.Save(source, good, new Dictionary<string, string> { ["note"] = "flip me" });
            byte[] bytes = File.ReadAllBytes(good);
            Dictionary<string, uint[]> saved = Bits(source);
            int headerEnd = 8 + (int)BitConverter.ToUInt64(bytes, 0);
            string path = _dir.File("flipped.safetensors");
            int rejected = 0, harmless = 0;
            (FixtureNetA net, Dictionary<string, uint[]> before) = Target();
            using (net)
            {
                for (int at = 0; at < headerEnd; at++)
                    for (int bit = 0; bit < 8; bit++)
                    {
                        byte[] flipped = (byte[])bytes.Clone();
                        flipped[at] ^= (byte)(1 << bit);
                        File.WriteAllBytes(path, flipped);
                        try
                        {
                            WeightFile.Load(net, path);
                        }
                        catch (InvalidDataException e)
                        {
                            Assert.Contains(path, e.Message);
                            AssertSameBits(before, net, $"after rejecting a flip of bit {bit} at byte {at}");
                            rejected++;
                            continue;
                        }
                        AssertSameBits(saved, net, $"after accepting a flip of bit {bit} at byte {at}");
                        harmless++;
                        foreach (Parameter p in net.Parameters) before[p.Name].AsSpan().CopyTo(MemoryMarshalFloats(p));
                    }
            }
            Assert.Equal(headerEnd * 8, rejected + harmless);
            _output.WriteLine($"{headerEnd * 8} single-bit flips in {headerEnd} header bytes: {rejected} rejected, {harmless} accepted with identical weights");
            Assert.True(rejected > 0.9 * headerEnd * 8, $"{rejected} rejected, {harmless} accepted with identical weights");
        }

        private static Span<uint> MemoryMarshalFloats(Parameter p) => System.Runtime.InteropServices.MemoryMarshal.Cast<float, uint>(p.Value);

        [Theory]
        [InlineData(float.NaN, "NaN")]
        [InlineData(float.PositiveInfinity, "+infinity")]
        public void NonFiniteWeightsAreRejected(float bad, string shown)
        {
            string path = WriteModified("nan.safetensors", t => t.Select(x => x.Name == "dense1.weight" ? new SafeTensor(x.Name, x.Shape, x.Data.Select((v, i) => i == 7 ? bad : v).ToArray()) : x).ToList());
            AssertLoadFails(path, $"parameter 'dense1.weight' holds {shown} at index 7 (a damaged file, or weights saved after training diverged)");
        }

        [Fact]
        public void BadJson()
        {
            string path = _dir.File("json.safetensors");
            File.WriteAllBytes(path, Craft("{\"conv1.weight\": {\"dtype\": \"F32\", ", new byte[16]));
            AssertLoadFails(path, "has a header that is not valid JSON");
        }

        [Fact]
        public void FileOfAnotherNetwork()
        {
            string path = _dir.File("b.safetensors");
            using (var other = new FixtureNetB(maxBatch: 1)) WeightFile.Save(other, path);
            AssertLoadFails(path, "does not fit network FixtureNetA (it was saved from FixtureNetB)",
                "parameter 'conv1.weight' has shape [8, 3, 1, 1] in the file but [4, 2, 3, 3] in the network",
                "parameter 'conv2.weight' has shape [8, 8, 3, 3] in the file but [6, 2, 3, 3] in the network",
                "missing parameter 'conv2.bias' [6]",
                "unexpected tensor 'dense2.weight' [3, 4]");
        }

        // ---- atomic saves ----

        /// <summary>Writes through to a real FileStream and fails after <see cref="_failAfter"/> bytes, like a full disk.</summary>
        private sealed class FailingStream(Stream inner, long failAfter) : Stream
        {
            private long _written;
            public override bool CanRead => false;
            public override bool CanSeek => false;
            public override bool CanWrite => true;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => _written; set => throw new NotSupportedException(); }
            public override void Flush() => inner.Flush();
            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
            public override void Write(ReadOnlySpan<byte> buffer)
            {
                int allowed = (int)Math.Min(buffer.Length, Math.Max(0, failAfter - _written));
                inner.Write(buffer[..allowed]);
                _written += allowed;
                if (allowed < buffer.Length) { inner.Flush(); throw new IOException("No space left on device (simulated)."); }
            }
            protected override void Dispose(bool disposing) { if (disposing) inner.Dispose(); base.Dispose(disposing); }
        }

        [Fact]
        public void FailedSaveLeavesTheOldFileIntactAndNoTempFile()
        {
            string path = _dir.File("w.safetensors");
            using var v1 = new FixtureNetA(maxBatch: 1, seed: 6);
            WeightFile.Save(v1, path);
            byte[] original = File.ReadAllBytes(path);

            using var v2 = new FixtureNetA(maxBatch: 1, seed: 7);
            foreach (long failAfter in new long[] { 0, 4, 8, 50, original.Length / 2, original.Length - 1 })
            {
                var temps = new List<string>();
                var e = Assert.Throws<IOException>(() => WeightFile.Save(v2, path, null, temp =>
                {
                    temps.Add(temp);
                    return new FailingStream(new FileStream(temp, FileMode.CreateNew, FileAccess.Write), failAfter);
                }));
                Assert.Contains("simulated", e.Message);
                string temp = Assert.Single(temps);
                Assert.Equal(Path.GetDirectoryName(Path.GetFullPath(path)), Path.GetDirectoryName(temp));
                Assert.StartsWith(Path.GetFullPath(path) + ".tmp-", temp);
                Assert.False(File.Exists(temp), $"temp file {temp} left behind after failing at byte {failAfter}");
                Assert.Equal(["w.safetensors"], _dir.Entries());
                Assert.Equal(original, File.ReadAllBytes(path));
                using var check = new FixtureNetA(maxBatch: 1, seed: 8);
                WeightFile.Load(check, path);
                AssertSameBits(Bits(v1), check, $"old file after a save failing at byte {failAfter}");
            }

            // A save that completes replaces the file.
            WeightFile.Save(v2, path);
            using var now = new FixtureNetA(maxBatch: 1, seed: 8);
            WeightFile.Load(now, path);
            AssertSameBits(Bits(v2), now, "after a successful save");
        }

        [Fact]
        public void LeftoverTempFileOfACrashedSaveDoesNotMatter()
        {
            string path = _dir.File("w.safetensors");
            using var v1 = new FixtureNetA(maxBatch: 1, seed: 9);
            Scramble(v1, 99);
            WeightFile.Save(v1, path);
            // What a process killed mid-save leaves: a partial temp file beside the real one.
            byte[] partial = File.ReadAllBytes(path)[..300];
            string leftover = path + ".tmp-0123456789ab";
            File.WriteAllBytes(leftover, partial);

            using var loaded = new FixtureNetA(maxBatch: 1, seed: 10);
            WeightFile.Load(loaded, path);
            AssertSameBits(Bits(v1), loaded, "load beside a leftover temp file");

            using var v2 = new FixtureNetA(maxBatch: 1, seed: 11);
            WeightFile.Save(v2, path);      // a new save uses its own temp name
            WeightFile.Load(loaded, path);
            AssertSameBits(Bits(v2), loaded, "save beside a leftover temp file");
            Assert.Equal(partial, File.ReadAllBytes(leftover));
            Assert.Equal(["w.safetensors", "w.safetensors.tmp-0123456789ab"], _dir.Entries());
        }

        // ---- PyTorch ----

        private sealed class Exported
        {
            [JsonPropertyName("network")] public string Network { get; set; } = "";
            [JsonPropertyName("weights")] public string Weights { get; set; } = "";
            [JsonPropertyName("batch")] public int Batch { get; set; }
            [JsonPropertyName("input")] public float[] Input { get; set; } = [];
            [JsonPropertyName("output")] public float[] Output { get; set; } = [];
        }

        public static IEnumerable<object[]> Isas() => NumericsSupport.SupportedIsas.Select(isa => new object[] { isa });

        [Theory]
        [MemberData(nameof(Isas))]
        public void PyTorchExportedWeightsReproducePyTorchOutputs(Isa isa)
        {
            string fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures");
            var check = JsonSerializer.Deserialize<Exported>(File.ReadAllText(Path.Combine(fixtures, "FixtureNetA.exported.json")))!;
            Assert.Equal("FixtureNetA", check.Network);
            using var net = new FixtureNetA(maxBatch: check.Batch, seed: 1, isa);
            IReadOnlyDictionary<string, string> meta = WeightFile.Load(net, Path.Combine(fixtures, check.Weights));
            Assert.Equal("FixtureNetA", meta["network"]);

            var output = new float[check.Batch * net.OutputLength];
            Assert.Equal(output.Length, check.Output.Length);
            net.Forward(check.Input, output, check.Batch);
            double scale = Math.Max(1, check.Output.Max(v => Math.Abs((double)v)));
            for (int i = 0; i < output.Length; i++)
                Assert.True(Math.Abs(output[i] - (double)check.Output[i]) <= 1e-4 * scale,
                    $"{isa}: output[{i}] = {output[i]:R}, PyTorch {check.Output[i]:R}");
            // The outputs are far from uniform, so wrongly laid-out weights could not pass.
            Assert.True(check.Output.Max() > 0.5f);
        }
    }
}
