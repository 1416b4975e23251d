// The safetensors reader and writer on their own: round trips and every malformed-file rejection.
using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CnnGen.Weights;
using static CnnGen.Tests.Weights.WeightsSupport;

namespace CnnGen.Tests.Weights
{
    public sealed class SafeTensorsTests : IDisposable
    {
        private readonly TempDirectory _dir = new();
        public void Dispose() => _dir.Dispose();

        [Fact]
        public void RoundTripIsBitIdenticalAndHeaderIsPaddedTo8()
        {
            float[] odd = [-0f, float.NaN, BitConverter.Int32BitsToSingle(0x7FC12345), float.Epsilon, float.MaxValue, float.NegativeInfinity];
            var file = new SafeTensorsFile(
                [new SafeTensor("a.weight", [2, 3], odd), new SafeTensor("empty", [0, 4], []), new SafeTensor("scalar", [], [42f])],
                new Dictionary<string, string> { ["k"] = "v \"quoted\" ü" });
            string path = _dir.File("t.safetensors");
            SafeTensors.Write(path, file);

            byte[] bytes = File.ReadAllBytes(path);
            ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.Equal(0UL, n % 8);
            Assert.Equal(8 + (long)n + 7 * 4, bytes.Length);

            SafeTensorsFile back = SafeTensors.Read(path);
            Assert.Equal(["a.weight", "empty", "scalar"], back.Tensors.Select(t => t.Name));
            Assert.Equal(file.Metadata, back.Metadata);
            Assert.True(back.TryGet("a.weight", out SafeTensor a));
            Assert.Equal([2, 3], a.Shape);
            Assert.Equal(odd.Select(BitConverter.SingleToUInt32Bits), a.Data.Select(BitConverter.SingleToUInt32Bits));
            Assert.True(back.TryGet("empty", out SafeTensor e));
            Assert.Equal([0, 4], e.Shape);
            Assert.True(back.TryGet("scalar", out SafeTensor s));
            Assert.Empty(s.Shape);
            Assert.Equal(42f, s.Data[0]);
        }

        [Fact]
        public void ReadsTensorsInAnyHeaderOrder()
        {
            // Header order differs from data order; metadata last; no padding.
            string json = """{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"x":"y"}}""";
            SafeTensorsFile f = Read(Craft(json, Floats(1f, 2f)));
            Assert.True(f.TryGet("a", out SafeTensor a));
            Assert.True(f.TryGet("b", out SafeTensor b));
            Assert.Equal(1f, a.Data[0]);
            Assert.Equal(2f, b.Data[0]);
            Assert.Equal("y", f.Metadata["x"]);
        }

        public static IEnumerable<object[]> Malformed()
        {
            const string a = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
            byte[] two = Floats(1f, 2f);
            // (case, header json, data, expected message fragments)
            yield return ["bad JSON", "{" + a + ",", two, new[] { "not valid JSON" }];
            yield return ["not an object", "[1, 2]", two, new[] { "is a Array, not an object" }];
            yield return ["duplicate name", "{" + a + "," + a + "}", two, new[] { "tensor 'a' twice" }];
            yield return ["F16", "{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[4], new[] { "tensor 'h' has dtype F16; CnnGen weight files hold F32" }];
            yield return ["byte count", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", two, new[] { "tensor 'a'", "needs 3 x 4 = 12 bytes", "span 8" }];
            yield return ["overlap", "{" + a + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", two, new[] { "overlap" }];
            yield return ["gap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", Floats(1, 2, 3), new[] { "tensor 'b'", "gap after tensor 'a'" }];
            yield return ["not from 0", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", two, new[] { "tensor 'a'", "starts at 4" }];
            yield return ["out of range", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", two, new[] { "tensor 'a'", "reach past the 8 data bytes" }];
            yield return ["trailing bytes", "{" + a + "}", Floats(1, 2, 3), new[] { "4 trailing bytes" }];
            yield return ["end before begin", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", two, new[] { "tensor 'a'", "end before they begin" }];
            yield return ["negative dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", two, new[] { "tensor 'a'", "'shape' holds -2" }];
            yield return ["unknown field", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", two, new[] { "tensor 'a'", "unexpected header field 'x'" }];
            yield return ["no offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", two, new[] { "tensor 'a'", "no 'data_offsets'" }];
            yield return ["metadata not strings", "{\"__metadata__\":{\"k\":1}," + a + "}", two, new[] { "metadata 'k'", "not a string" }];
        }

        [Theory]
        [MemberData(nameof(Malformed))]
        public void MalformedFilesAreRejectedWithFileTensorAndProblem(string what, string json, byte[] data, string[] fragments)
        {
            string path = _dir.File(what.Replace(' ', '-') + ".safetensors");
            File.WriteAllBytes(path, Craft(json, data));
            var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(path));
            Assert.Contains(path, e.Message);
            foreach (string f in fragments) Assert.Contains(f, e.Message);
        }

        [Fact]
        public void HeaderLengthBeyondFileIsRejected()
        {
            string path = _dir.File("long.safetensors");
            File.WriteAllBytes(path, Craft("{}", [], declaredHeaderLength: 1_000_000));
            var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(path));
            Assert.Contains("declares a 1000000-byte header but only 2 bytes follow", e.Message);
            Assert.Contains(path, e.Message);

            File.WriteAllBytes(path, [1, 2, 3]);
            e = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(path));
            Assert.Contains("is 3 bytes long, too short for the 8-byte header length", e.Message);
        }

        [Fact]
        public void WriterRejectsInconsistentTensors()
        {
            Assert.Throws<ArgumentException>(() => new SafeTensor("x", [2, 2], new float[3]));
            Assert.Throws<ArgumentException>(() => new SafeTensor("__metadata__", [1], new float[1]));
            Assert.Throws<ArgumentException>(() => new SafeTensorsFile([new SafeTensor("x", [1], [1f]), new SafeTensor("x", [1], [2f])]));
        }

        private SafeTensorsFile Read(byte[] bytes)
        {
            string path = _dir.File(Guid.NewGuid().ToString("N") + ".safetensors");
            File.WriteAllBytes(path, bytes);
            return SafeTensors.Read(path);
        }
    }
}
