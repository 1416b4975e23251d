// Shapes and parameter counts of published networks, read from the generated static members of the Zoo classes
// (Samples/Zoo, the shipped declarations). Expected values come from the seed's printed Keras summaries (converted from
// (H, W, C) to the generated [C, H, W]) and from torchvision's vgg16. Nothing here constructs a network.
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Samples.Zoo;
// The shipped declaration itself (Samples/FashionNet.cs), not a copy.
using SeedNet = CnnGen.Samples.FashionNet;

namespace CnnGen.Tests.Generator
{
    public class ShapeTests
    {
        public sealed record Row(string Name, string Type, int[] Shape, long Parameters);

        private static Row R(string name, string type, long parameters, params int[] shape) => new(name, type, shape, parameters);

        /// <summary>Seed 003's first model.summary(): Keras (None, 54, 54, 96) is [96, 54, 54] here.</summary>
        private static readonly Row[] KerasAlexNetRows =
        {
            R("conv1", "Conv2D", 34944, 96, 54, 54),
            R("relu1", "ReLU", 0, 96, 54, 54),
            R("conv2", "Conv2D", 614656, 256, 54, 54),
            R("relu2", "ReLU", 0, 256, 54, 54),
            R("maxpool1", "MaxPool2D", 0, 256, 26, 26),
            R("conv3", "Conv2D", 885120, 384, 24, 24),
            R("relu3", "ReLU", 0, 384, 24, 24),
            R("maxpool2", "MaxPool2D", 0, 384, 11, 11),
            R("conv4", "Conv2D", 1327488, 384, 9, 9),
            R("relu4", "ReLU", 0, 384, 9, 9),
            R("conv5", "Conv2D", 884992, 256, 7, 7),
            R("relu5", "ReLU", 0, 256, 7, 7),
            R("maxpool3", "MaxPool2D", 0, 256, 3, 3),
            R("flatten1", "Flatten", 0, 2304),
            R("dense1", "Dense", 9441280, 4096),
            R("relu6", "ReLU", 0, 4096),
            R("dropout1", "Dropout", 0, 4096),
            R("dense2", "Dense", 16781312, 4096),
            R("relu7", "ReLU", 0, 4096),
            R("dropout2", "Dropout", 0, 4096),
            R("dense3", "Dense", 4097000, 1000),
            // Keras folds the softmax into dense_5 (activation='softmax'); CnnGen lists it as its own layer.
            R("softmax1", "Softmax", 0, 1000),
        };

        /// <summary>Seed 003's second model.summary() (global average pooling).</summary>
        private static readonly Row[] KerasAlexNetGapRows =
        {
            R("conv1", "Conv2D", 34944, 96, 54, 54),
            R("relu1", "ReLU", 0, 96, 54, 54),
            R("conv2", "Conv2D", 614656, 256, 54, 54),
            R("relu2", "ReLU", 0, 256, 54, 54),
            R("maxpool1", "MaxPool2D", 0, 256, 26, 26),
            R("conv3", "Conv2D", 885120, 384, 24, 24),
            R("relu3", "ReLU", 0, 384, 24, 24),
            R("maxpool2", "MaxPool2D", 0, 384, 11, 11),
            R("conv4", "Conv2D", 1327488, 384, 9, 9),
            R("relu4", "ReLU", 0, 384, 9, 9),
            R("conv5", "Conv2D", 884992, 256, 7, 7),
            R("relu5", "ReLU", 0, 256, 7, 7),
            R("maxpool3", "MaxPool2D", 0, 256, 3, 3),
            R("conv6", "Conv2D", 2305000, 1000, 1, 1),
            R("gap1", "GlobalAvgPool", 0, 1000),
            R("dense1", "Dense", 1001000, 1000),
        };

        /// <summary>The seed net of 004 at 28x28x1 (Samples/FashionNet.cs): 28 -> 14 -> 7 -> 5 (valid conv) -> 2.</summary>
        private static readonly Row[] SeedNetRows =
        {
            R("conv1", "Conv2D", 360, 36, 28, 28),
            R("relu1", "ReLU", 0, 36, 28, 28),
            R("maxpool1", "MaxPool2D", 0, 36, 14, 14),
            R("dropout1", "Dropout", 0, 36, 14, 14),
            R("conv2", "Conv2D", 23400, 72, 14, 14),
            R("relu2", "ReLU", 0, 72, 14, 14),
            R("maxpool2", "MaxPool2D", 0, 72, 7, 7),
            R("dropout2", "Dropout", 0, 72, 7, 7),
            R("conv3", "Conv2D", 93456, 144, 5, 5),
            R("relu3", "ReLU", 0, 144, 5, 5),
            R("maxpool3", "MaxPool2D", 0, 144, 2, 2),
            R("dropout3", "Dropout", 0, 144, 2, 2),
            R("flatten1", "Flatten", 0, 576),
            R("dense1", "Dense", 332352, 576),
            R("relu4", "ReLU", 0, 576),
            R("dropout4", "Dropout", 0, 576),
            R("dense2", "Dense", 5770, 10),
            R("softmax1", "Softmax", 0, 10),
        };

        /// <summary>torchvision vgg16 (cfg "D"), built independently from its configuration list:
        /// 3x3 convs with padding 1 keep the size, "M" (2x2 max pool) halves it; conv params 9*in*out + out.</summary>
        private static Row[] Vgg16Rows()
        {
            object[] cfg = { 64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M" };
            var rows = new List<Row>();
            int c = 3, size = 224, conv = 0, relu = 0, pool = 0;
            foreach (object v in cfg)
            {
                if (v is string)
                {
                    size /= 2;
                    rows.Add(R($"maxpool{++pool}", "MaxPool2D", 0, c, size, size));
                    continue;
                }
                int o = (int)v;
                rows.Add(R($"conv{++conv}", "Conv2D", 9L * c * o + o, o, size, size));
                rows.Add(R($"relu{++relu}", "ReLU", 0, o, size, size));
                c = o;
            }
            rows.Add(R("flatten1", "Flatten", 0, 512 * 7 * 7));
            rows.Add(R("dense1", "Dense", 25088L * 4096 + 4096, 4096));
            rows.Add(R($"relu{++relu}", "ReLU", 0, 4096));
            rows.Add(R("dropout1", "Dropout", 0, 4096));
            rows.Add(R("dense2", "Dense", 4096L * 4096 + 4096, 4096));
            rows.Add(R($"relu{++relu}", "ReLU", 0, 4096));
            rows.Add(R("dropout2", "Dropout", 0, 4096));
            rows.Add(R("dense3", "Dense", 4096L * 1000 + 1000, 1000));
            return rows.ToArray();
        }

        [Fact]
        public void KerasAlexNet_MatchesTheSeedSummary()
        {
            Assert.Equal(34_066_792L, KerasAlexNet.ParameterCount);
            AssertLayers(KerasAlexNetRows, KerasAlexNet.Layers, KerasAlexNet.ParameterCount);
            AssertSummary(KerasAlexNet.Summary, "KerasAlexNet", "34,066,792", KerasAlexNetRows);
            Assert.Equal((3, 224, 224, 150528, 1000), (KerasAlexNet.InputChannels, KerasAlexNet.InputHeight, KerasAlexNet.InputWidth, KerasAlexNet.InputSize, KerasAlexNet.OutputSize));
        }

        [Fact]
        public void KerasAlexNetGap_MatchesTheSeedSummary()
        {
            Assert.Equal(7_053_200L, KerasAlexNetGap.ParameterCount);
            AssertLayers(KerasAlexNetGapRows, KerasAlexNetGap.Layers, KerasAlexNetGap.ParameterCount);
            AssertSummary(KerasAlexNetGap.Summary, "KerasAlexNetGap", "7,053,200", KerasAlexNetGapRows);
            Assert.Equal(1000, KerasAlexNetGap.OutputSize);
        }

        [Fact]
        public void Vgg16_MatchesTorchvision()
        {
            Assert.Equal(138_357_544L, Vgg16.ParameterCount);
            Row[] rows = Vgg16Rows();
            Assert.Equal(138_357_544L, rows.Sum(r => r.Parameters)); // the oracle agrees with torchvision's published total
            AssertLayers(rows, Vgg16.Layers, Vgg16.ParameterCount);
            AssertSummary(Vgg16.Summary, "Vgg16", "138,357,544", rows);
            Assert.Equal(1000, Vgg16.OutputSize);
        }

        [Fact]
        public void SeedNet_MatchesTheSeed()
        {
            Assert.Equal(455_338L, SeedNet.ParameterCount);
            AssertLayers(SeedNetRows, SeedNet.Layers, SeedNet.ParameterCount);
            AssertSummary(SeedNet.Summary, "FashionNet", "455,338", SeedNetRows);
            Assert.Equal((1, 28, 28, 784, 10), (SeedNet.InputChannels, SeedNet.InputHeight, SeedNet.InputWidth, SeedNet.InputSize, SeedNet.OutputSize));
        }

        /// <summary>FLOPs: 2 per multiply-add of every conv and dense layer, summed (checked on the seed net by hand).</summary>
        [Fact]
        public void SeedNet_FlopsPerImage()
        {
            long expected = 2L * (9 * 1 * 36 * 28 * 28 + 9 * 36 * 72 * 14 * 14 + 9 * 72 * 144 * 5 * 5 + 576 * 576 + 576 * 10);
            long actual = SeedNet.FlopsPerImage;
            Assert.Equal(expected, actual);
        }

        private static void AssertLayers(Row[] expected, IReadOnlyList<LayerInfo> actual, long parameterCount)
        {
            Assert.Equal(expected.Length, actual.Count);
            for (int i = 0; i < expected.Length; i++)
            {
                Row e = expected[i];
                LayerInfo a = actual[i];
                string where = $"layer {i + 1} ({e.Name})";
                Assert.True(e.Name == a.Name, $"{where}: name {a.Name}");
                Assert.True(e.Type == a.Type, $"{where}: type {a.Type}");
                Assert.True(e.Shape.SequenceEqual(a.OutputShape), $"{where}: shape [{string.Join(", ", a.OutputShape)}], expected [{string.Join(", ", e.Shape)}]");
                Assert.True(e.Parameters == a.Parameters, $"{where}: {a.Parameters} parameters, expected {e.Parameters}");
            }
            Assert.Equal(parameterCount, actual.Sum(l => l.Parameters));
        }

        private static void AssertSummary(string summary, string className, string total, Row[] rows)
        {
            Assert.StartsWith($"Model: \"{className}\"\n", summary);
            Assert.Contains($"Total params: {total}\n", summary);
            Assert.Contains($"Trainable params: {total}\n", summary);
            Assert.Contains("Non-trainable params: 0\n", summary);
            foreach (Row r in rows)
            {
                string shape = r.Shape.Length == 1 ? $"(None, {r.Shape[0]})" : $"(None, {r.Shape[1]}, {r.Shape[2]}, {r.Shape[0]})";
                string line = summary.Split('\n').Single(l => l.StartsWith($" {r.Name} ({r.Type})", System.StringComparison.Ordinal));
                Assert.Contains(shape, line);
                Assert.EndsWith(r.Parameters.ToString("N0", CultureInfo.InvariantCulture), line.TrimEnd());
            }
        }
    }
}
