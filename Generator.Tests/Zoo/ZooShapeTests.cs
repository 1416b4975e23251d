// The model zoo (Samples/Zoo) against PyTorch: parameter counts and per-layer output shapes of the generated static
// members (ParameterCount, Layers, Summary) compared with Fixtures/zoo_shapes.json, which
// Fixtures/make_zoo_shapes.py writes from torchvision's models and from PyTorch mirrors of the other variants.
// Nothing here constructs a network (VGG-16 alone would allocate gigabytes).
//
// Correspondence between a PyTorch model and a generated network:
//  - layers: the Conv2d, MaxPool2d, AvgPool2d (and non-global AdaptiveAvgPool2d) and Linear modules in the order their
//    forward hooks fire are the Conv2D, MaxPool2D, AvgPool2D and Dense entries of Layers in order, with equal output
//    shapes ([C, H, W] or [units]). Global pools, ReLU, BatchNorm, LRN, Dropout, Flatten and Softmax are not compared
//    (they keep the shape or are fixed by the next Dense's input); their parameters are in the total.
//  - blocks: each torchvision block module (BasicBlock, Bottleneck, Inception, InceptionAux, _DenseBlock, _Transition)
//    is the group of Layers entries sharing the top-level name basicblockN., bottleneckN., inceptionN., auxN.,
//    denseblockN. or transitionN.; the block's output shape is the group's last entry's.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using CnnGen.Samples;
using CnnGen.Samples.Zoo;

namespace CnnGen.Tests.Zoo
{
    public sealed class ZooShapeTests
    {
        public sealed record Network(long ParameterCount, IReadOnlyList<LayerInfo> Layers, string Summary, int Channels, int Height, int Width, int OutputSize);

        /// <summary>Fixture key (the CLI's --model name) -> the generated class's static members.</summary>
        private static readonly Dictionary<string, Network> Zoo = new()
        {
            ["alexnet-original"] = new(AlexNet.ParameterCount, AlexNet.Layers, AlexNet.Summary, AlexNet.InputChannels, AlexNet.InputHeight, AlexNet.InputWidth, AlexNet.OutputSize),
            ["alexnet"] = new(TorchAlexNet.ParameterCount, TorchAlexNet.Layers, TorchAlexNet.Summary, TorchAlexNet.InputChannels, TorchAlexNet.InputHeight, TorchAlexNet.InputWidth, TorchAlexNet.OutputSize),
            ["keras-alexnet"] = new(KerasAlexNet.ParameterCount, KerasAlexNet.Layers, KerasAlexNet.Summary, KerasAlexNet.InputChannels, KerasAlexNet.InputHeight, KerasAlexNet.InputWidth, KerasAlexNet.OutputSize),
            ["keras-alexnet-gap"] = new(KerasAlexNetGap.ParameterCount, KerasAlexNetGap.Layers, KerasAlexNetGap.Summary, KerasAlexNetGap.InputChannels, KerasAlexNetGap.InputHeight, KerasAlexNetGap.InputWidth, KerasAlexNetGap.OutputSize),
            ["zfnet"] = new(ZFNet.ParameterCount, ZFNet.Layers, ZFNet.Summary, ZFNet.InputChannels, ZFNet.InputHeight, ZFNet.InputWidth, ZFNet.OutputSize),
            ["vgg16"] = new(Vgg16.ParameterCount, Vgg16.Layers, Vgg16.Summary, Vgg16.InputChannels, Vgg16.InputHeight, Vgg16.InputWidth, Vgg16.OutputSize),
            ["nin"] = new(NetworkInNetwork.ParameterCount, NetworkInNetwork.Layers, NetworkInNetwork.Summary, NetworkInNetwork.InputChannels, NetworkInNetwork.InputHeight, NetworkInNetwork.InputWidth, NetworkInNetwork.OutputSize),
            ["googlenet"] = new(GoogLeNet.ParameterCount, GoogLeNet.Layers, GoogLeNet.Summary, GoogLeNet.InputChannels, GoogLeNet.InputHeight, GoogLeNet.InputWidth, GoogLeNet.OutputSize),
            ["resnet18"] = new(ResNet18.ParameterCount, ResNet18.Layers, ResNet18.Summary, ResNet18.InputChannels, ResNet18.InputHeight, ResNet18.InputWidth, ResNet18.OutputSize),
            ["resnet34"] = new(ResNet34.ParameterCount, ResNet34.Layers, ResNet34.Summary, ResNet34.InputChannels, ResNet34.InputHeight, ResNet34.InputWidth, ResNet34.OutputSize),
            ["resnet50"] = new(ResNet50.ParameterCount, ResNet50.Layers, ResNet50.Summary, ResNet50.InputChannels, ResNet50.InputHeight, ResNet50.InputWidth, ResNet50.OutputSize),
            ["densenet121"] = new(DenseNet121.ParameterCount, DenseNet121.Layers, DenseNet121.Summary, DenseNet121.InputChannels, DenseNet121.InputHeight, DenseNet121.InputWidth, DenseNet121.OutputSize),
        };

        public static TheoryData<string> Keys() => new(Zoo.Keys);

        private sealed record Shaped([property: JsonPropertyName("type")] string Type, [property: JsonPropertyName("shape")] int[] Shape);

        private sealed record Fixture(
            [property: JsonPropertyName("source")] string Source,
            [property: JsonPropertyName("input")] int[] Input,
            [property: JsonPropertyName("parameters")] long Parameters,
            [property: JsonPropertyName("parameters_without_aux")] long? ParametersWithoutAux,
            [property: JsonPropertyName("layers")] Shaped[] Layers,
            [property: JsonPropertyName("blocks")] Shaped[] Blocks);

        private static readonly Lazy<Dictionary<string, Fixture>> Fixtures = new(() =>
        {
            string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "zoo_shapes.json");
            Assert.True(File.Exists(path), $"Fixture {path} is missing; it should be copied to the output directory (Fixtures/** in the csproj).");
            return JsonSerializer.Deserialize<Dictionary<string, Fixture>>(File.ReadAllText(path))!;
        });

        private static readonly Dictionary<string, string> LayerTypes = new()
        {
            ["Conv2d"] = "Conv2D", ["MaxPool2d"] = "MaxPool2D", ["AvgPool2d"] = "AvgPool2D", ["AdaptiveAvgPool2d"] = "AvgPool2D", ["Linear"] = "Dense",
        };

        private static readonly Dictionary<string, string> BlockPrefixes = new()
        {
            ["BasicBlock"] = "basicblock", ["Bottleneck"] = "bottleneck", ["Inception"] = "inception", ["InceptionAux"] = "aux",
            ["_DenseBlock"] = "denseblock", ["_Transition"] = "transition",
        };

        private static string Show(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";

        [Fact]
        public void FixtureCoversTheWholeZoo()
        {
            Assert.Equal(Zoo.Keys.OrderBy(k => k), Fixtures.Value.Keys.OrderBy(k => k));
            // Every zoo network is selectable on the command line, with the same facts.
            foreach (var (key, net) in Zoo)
            {
                ModelEntry entry = Models.Get(key);
                Assert.Equal((net.ParameterCount, net.Channels, net.Height, net.Width, net.OutputSize, net.Summary),
                    (entry.ParameterCount, entry.Channels, entry.Height, entry.Width, entry.OutputSize, entry.Summary));
                Assert.False(entry.FashionMnistShaped, key);
            }
        }

        /// <summary>The published torchvision totals (torchvision's documentation) and the paper variants' totals, all
        /// equal to what PyTorch counted in the fixture and to the generated ParameterCount.</summary>
        [Theory]
        [InlineData("alexnet", 61_100_840L)]
        [InlineData("vgg16", 138_357_544L)]
        [InlineData("googlenet", 13_004_888L)]
        [InlineData("resnet18", 11_689_512L)]
        [InlineData("resnet34", 21_797_672L)]
        [InlineData("resnet50", 25_557_032L)]
        [InlineData("densenet121", 7_978_856L)]
        [InlineData("keras-alexnet", 34_066_792L)]   // seed 003's printed model.summary()
        [InlineData("keras-alexnet-gap", 7_053_200L)] // ditto
        public void ParameterCountsEqualThePublishedOnes(string key, long published)
        {
            Assert.Equal(published, Fixtures.Value[key].Parameters);
            Assert.Equal(published, Zoo[key].ParameterCount);
            Assert.Equal(published, Zoo[key].Layers.Sum(l => l.Parameters));
        }

        [Fact]
        public void GoogLeNetWithoutAuxHeadsHasTorchvisionsCount()
        {
            Assert.Equal(6_624_904L, Fixtures.Value["googlenet"].ParametersWithoutAux);
            Assert.Equal(6_624_904L, Models.GoogLeNetWithoutAux);
            // Two heads after inception 4a and 4d, each ending in the 1000 classes.
            string[] heads = GoogLeNet.Layers.Where(l => l.Name.StartsWith("aux", StringComparison.Ordinal)).Select(l => l.Name.Split('.')[0]).Distinct().ToArray();
            Assert.Equal(new[] { "aux1", "aux2" }, heads);
        }

        [Theory]
        [MemberData(nameof(Keys))]
        public void ParameterCountAndInputMatchPyTorch(string key)
        {
            Fixture f = Fixtures.Value[key];
            Network net = Zoo[key];
            Assert.Equal(f.Parameters, net.ParameterCount);
            Assert.Equal(f.Parameters, net.Layers.Sum(l => l.Parameters));
            Assert.Equal(f.Input, new[] { net.Channels, net.Height, net.Width });
            Assert.Equal(f.Layers[^1].Shape[0], net.OutputSize); // the last Linear's units, or NiN's class maps after global pooling
            // Keras' "Total params" also counts BatchNorm's running statistics; PyTorch's parameters() are the trainable ones.
            Assert.Contains($"Trainable params: {f.Parameters.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)}\n", net.Summary);
        }

        [Theory]
        [MemberData(nameof(Keys))]
        public void ConvPoolDenseShapesMatchPyTorch(string key)
        {
            Fixture f = Fixtures.Value[key];
            LayerInfo[] ours = Zoo[key].Layers.Where(l => l.Type is "Conv2D" or "MaxPool2D" or "AvgPool2D" or "Dense").ToArray();
            Assert.True(f.Layers.Length == ours.Length,
                $"{key}: PyTorch has {f.Layers.Length} conv/pool/linear layers, the generated network {ours.Length} ({string.Join(", ", ours.Select(l => l.Name))})");
            for (int i = 0; i < ours.Length; i++)
            {
                Shaped t = f.Layers[i];
                string where = $"{key}: layer {i + 1} of the compared sequence, {ours[i].Name} ({ours[i].Type}) vs PyTorch's {t.Type}";
                Assert.True(LayerTypes[t.Type] == ours[i].Type, $"{where}: different layer types");
                Assert.True(t.Shape.SequenceEqual(ours[i].OutputShape), $"{where}: output {Show(ours[i].OutputShape)}, PyTorch {Show(t.Shape)}");
            }
        }

        [Theory]
        [MemberData(nameof(Keys))]
        public void BlockOutputShapesMatchPyTorch(string key)
        {
            Fixture f = Fixtures.Value[key];
            // Groups of layers by top-level block name, in order of first appearance; a block's output is its last layer's.
            var groups = new List<(string Name, LayerInfo Last)>();
            foreach (LayerInfo l in Zoo[key].Layers)
            {
                int dot = l.Name.IndexOf('.');
                if (dot < 0) continue;
                string block = l.Name.Substring(0, dot);
                if (groups.Count > 0 && groups[^1].Name == block) groups[^1] = (block, l);
                else
                {
                    Assert.DoesNotContain(groups, g => g.Name == block); // a block's layers are contiguous
                    groups.Add((block, l));
                }
            }
            Assert.True(f.Blocks.Length == groups.Count,
                $"{key}: PyTorch has {f.Blocks.Length} blocks, the generated network {groups.Count} ({string.Join(", ", groups.Select(g => g.Name))})");
            for (int i = 0; i < groups.Count; i++)
            {
                Shaped t = f.Blocks[i];
                var (name, last) = groups[i];
                string prefix = name.TrimEnd("0123456789".ToCharArray());
                Assert.True(BlockPrefixes[t.Type] == prefix, $"{key}: block {i + 1} is {name}, PyTorch's is a {t.Type}");
                Assert.True(t.Shape.SequenceEqual(last.OutputShape), $"{key}: block {name} ends in {last.Name} {Show(last.OutputShape)}, PyTorch's {t.Type} gives {Show(t.Shape)}");
            }
        }
    }
}
