// The networks the command line knows, by name. Each entry builds an instance and carries the compile-time facts
// (summary, parameter count, input and output size) of its generated class. The zoo's ImageNet-size networks are
// listed for `summary` and `models`; commands that run a network on Fashion-MNIST accept only 28x28x1 -> 10 networks
// (FashionMnistShaped), so a typo cannot allocate gigabytes for a VGG.
using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Samples.Zoo;

namespace CnnGen.Samples
{
    public sealed record ModelEntry(string Name, string Description, string Summary, long ParameterCount, long FlopsPerImage,
        int Channels, int Height, int Width, Func<int, int, int, INetwork> Create)
    {
        /// <summary>Network outputs (classes).</summary>
        public int OutputSize { get; init; } = 10;

        /// <summary>Source file of the declaration, relative to Samples/.</summary>
        public string File { get; init; } = "";

        /// <summary>How `train` trains it unless told otherwise (null for models that cannot train on Fashion-MNIST).</summary>
        public Recipe? Recipe { get; init; }

        /// <summary>Takes 28x28 grey images and gives 10 classes, so train/eval/predict/visualize can run it.</summary>
        public bool FashionMnistShaped => Channels == 1 && Height == 28 && Width == 28 && OutputSize == 10;
    }

    /// <summary>Default training settings of a model: the ones its README results were measured with.</summary>
    public sealed record Recipe(int Epochs, int Batch, bool Flip, int Shift);

    public static class Models
    {
        /// <summary>The main job's model: what `train` (and so train.sh) trains when no --model is given.</summary>
        public const string Default = "fashion-resnet";

        public static IReadOnlyList<ModelEntry> All { get; } = new[]
        {
            new ModelEntry("fashion", "the seed CNN of 004 (conv 36/72/144, dense 576, dropout), 28x28x1",
                FashionNet.Summary, FashionNet.ParameterCount, FashionNet.FlopsPerImage,
                FashionNet.InputChannels, FashionNet.InputHeight, FashionNet.InputWidth,
                (maxBatch, seed, threads) => new FashionNet(maxBatch, seed, threads: threads)) { OutputSize = FashionNet.OutputSize, File = "FashionNet.cs", Recipe = new Recipe(Epochs: 5, Batch: 16, Flip: false, Shift: 0) },
            new ModelEntry("fashion-resnet", "a small ResNet (3x3 stem, basic blocks 24/48/96 with BatchNorm, GAP), 28x28x1",
                FashionResNet.Summary, FashionResNet.ParameterCount, FashionResNet.FlopsPerImage,
                FashionResNet.InputChannels, FashionResNet.InputHeight, FashionResNet.InputWidth,
                (maxBatch, seed, threads) => new FashionResNet(maxBatch, seed, threads: threads)) { OutputSize = FashionResNet.OutputSize, File = "FashionResNet.cs", Recipe = new Recipe(Epochs: 10, Batch: 32, Flip: true, Shift: 0) },

            // The model zoo (Samples/Zoo): ImageNet-size networks from the literature, for their compile-time tables.
            Zoo("alexnet-original", "AlexNet as in Krizhevsky et al. 2012 (groups = 2, LRN), 227x227x3", "AlexNet.cs",
                AlexNet.Summary, AlexNet.ParameterCount, AlexNet.FlopsPerImage, AlexNet.InputChannels, AlexNet.InputHeight, AlexNet.InputWidth, AlexNet.OutputSize,
                (b, s, t) => new AlexNet(b, s, threads: t)),
            Zoo("alexnet", "torchvision's AlexNet (one-weird-trick variant), 224x224x3", "TorchAlexNet.cs",
                TorchAlexNet.Summary, TorchAlexNet.ParameterCount, TorchAlexNet.FlopsPerImage, TorchAlexNet.InputChannels, TorchAlexNet.InputHeight, TorchAlexNet.InputWidth, TorchAlexNet.OutputSize,
                (b, s, t) => new TorchAlexNet(b, s, threads: t)),
            Zoo("keras-alexnet", "seed 003's Keras AlexNet (flatten + 3 dense), 224x224x3", "KerasAlexNet.cs",
                KerasAlexNet.Summary, KerasAlexNet.ParameterCount, KerasAlexNet.FlopsPerImage, KerasAlexNet.InputChannels, KerasAlexNet.InputHeight, KerasAlexNet.InputWidth, KerasAlexNet.OutputSize,
                (b, s, t) => new KerasAlexNet(b, s, threads: t)),
            Zoo("keras-alexnet-gap", "seed 003's Keras AlexNet with global average pooling, 224x224x3", "KerasAlexNet.cs",
                KerasAlexNetGap.Summary, KerasAlexNetGap.ParameterCount, KerasAlexNetGap.FlopsPerImage, KerasAlexNetGap.InputChannels, KerasAlexNetGap.InputHeight, KerasAlexNetGap.InputWidth, KerasAlexNetGap.OutputSize,
                (b, s, t) => new KerasAlexNetGap(b, s, threads: t)),
            Zoo("zfnet", "ZFNet, Zeiler and Fergus 2014 (7x7/2 first layer), 224x224x3", "ZFNet.cs",
                ZFNet.Summary, ZFNet.ParameterCount, ZFNet.FlopsPerImage, ZFNet.InputChannels, ZFNet.InputHeight, ZFNet.InputWidth, ZFNet.OutputSize,
                (b, s, t) => new ZFNet(b, s, threads: t)),
            Zoo("vgg16", "VGG-16 (configuration D, torchvision's vgg16), 224x224x3", "Vgg16.cs",
                Vgg16.Summary, Vgg16.ParameterCount, Vgg16.FlopsPerImage, Vgg16.InputChannels, Vgg16.InputHeight, Vgg16.InputWidth, Vgg16.OutputSize,
                (b, s, t) => new Vgg16(b, s, threads: t)),
            Zoo("nin", "Network in Network, Lin et al. 2014, CIFAR-10 model, 32x32x3", "NetworkInNetwork.cs",
                NetworkInNetwork.Summary, NetworkInNetwork.ParameterCount, NetworkInNetwork.FlopsPerImage, NetworkInNetwork.InputChannels, NetworkInNetwork.InputHeight, NetworkInNetwork.InputWidth, NetworkInNetwork.OutputSize,
                (b, s, t) => new NetworkInNetwork(b, s, threads: t)),
            Zoo("googlenet", FormattableString.Invariant($"GoogLeNet with aux heads (torchvision's googlenet; {GoogLeNetWithoutAux:N0} parameters without them), 224x224x3"), "GoogLeNet.cs",
                GoogLeNet.Summary, GoogLeNet.ParameterCount, GoogLeNet.FlopsPerImage, GoogLeNet.InputChannels, GoogLeNet.InputHeight, GoogLeNet.InputWidth, GoogLeNet.OutputSize,
                (b, s, t) => new GoogLeNet(b, s, threads: t)),
            Zoo("resnet18", "ResNet-18 (torchvision's resnet18), 224x224x3", "ResNet.cs",
                ResNet18.Summary, ResNet18.ParameterCount, ResNet18.FlopsPerImage, ResNet18.InputChannels, ResNet18.InputHeight, ResNet18.InputWidth, ResNet18.OutputSize,
                (b, s, t) => new ResNet18(b, s, threads: t)),
            Zoo("resnet34", "ResNet-34 (torchvision's resnet34), 224x224x3", "ResNet.cs",
                ResNet34.Summary, ResNet34.ParameterCount, ResNet34.FlopsPerImage, ResNet34.InputChannels, ResNet34.InputHeight, ResNet34.InputWidth, ResNet34.OutputSize,
                (b, s, t) => new ResNet34(b, s, threads: t)),
            Zoo("resnet50", "ResNet-50 (torchvision's resnet50, bottleneck v1.5), 224x224x3", "ResNet.cs",
                ResNet50.Summary, ResNet50.ParameterCount, ResNet50.FlopsPerImage, ResNet50.InputChannels, ResNet50.InputHeight, ResNet50.InputWidth, ResNet50.OutputSize,
                (b, s, t) => new ResNet50(b, s, threads: t)),
            Zoo("densenet121", "DenseNet-121 (torchvision's densenet121), 224x224x3", "DenseNet121.cs",
                DenseNet121.Summary, DenseNet121.ParameterCount, DenseNet121.FlopsPerImage, DenseNet121.InputChannels, DenseNet121.InputHeight, DenseNet121.InputWidth, DenseNet121.OutputSize,
                (b, s, t) => new DenseNet121(b, s, threads: t)),
        };

        /// <summary>GoogLeNet's parameters without its auxiliary classifiers (the layers named aux1.* and aux2.*):
        /// torchvision's googlenet(aux_logits=False).</summary>
        public static long GoogLeNetWithoutAux => GoogLeNet.ParameterCount - GoogLeNet.Layers.Where(l => l.Name.StartsWith("aux", StringComparison.Ordinal)).Sum(l => l.Parameters);

        private static ModelEntry Zoo(string name, string description, string file, string summary, long parameters, long flops,
            int channels, int height, int width, int outputs, Func<int, int, int, INetwork> create) =>
            new(name, description, summary, parameters, flops, channels, height, width, create) { OutputSize = outputs, File = "Zoo/" + file };

        public static string[] Names => All.Select(m => m.Name).ToArray();

        public static ModelEntry Get(string name) =>
            All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Unknown model '{name}'; choose one of: {string.Join(", ", Names)}.", nameof(name));

        /// <summary>Throws <see cref="ModelShapeException"/> unless the model runs on Fashion-MNIST (28x28x1 in, 10 out).</summary>
        public static void RequireFashionMnistShaped(ModelEntry entry, string command)
        {
            if (entry.FashionMnistShaped) return;
            string runnable = string.Join(", ", All.Where(m => m.FashionMnistShaped).Select(m => m.Name));
            throw new ModelShapeException(FormattableString.Invariant(
                $"{command} runs on Fashion-MNIST (28x28x1 images, 10 classes), but model '{entry.Name}' takes {entry.Height}x{entry.Width}x{entry.Channels} images and gives {entry.OutputSize} outputs ({entry.ParameterCount:N0} parameters). Use a 28x28x1 model ({runnable}); 'summary --model {entry.Name}' prints this one's layer table."));
        }
    }

    /// <summary>A model that cannot run the requested command (wrong input shape): a usage error, exit code 2.</summary>
    public sealed class ModelShapeException(string message) : Exception(message);
}
