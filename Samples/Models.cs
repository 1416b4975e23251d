// The networks the command line knows, by name. Each entry builds an instance and carries the compile-time facts
// (summary, parameter count) of its generated class.
using System;
using System.Collections.Generic;
using System.Linq;

namespace CnnGen.Samples
{
    public sealed record ModelEntry(string Name, string Description, string Summary, long ParameterCount, long FlopsPerImage,
        int Channels, int Height, int Width, Func<int, int, int, INetwork> Create);

    public static class Models
    {
        public static IReadOnlyList<ModelEntry> All { get; } = new[]
        {
            new ModelEntry("fashion", "the seed CNN of 004 (conv 36/72/144, dense 576, dropout), 28x28x1",
                FashionNet.Summary, FashionNet.ParameterCount, FashionNet.FlopsPerImage,
                FashionNet.InputChannels, FashionNet.InputHeight, FashionNet.InputWidth,
                (maxBatch, seed, threads) => new FashionNet(maxBatch, seed, threads: threads)),
            new ModelEntry("fashion-resnet", "a small ResNet (3x3 stem, basic blocks 24/48/96 with BatchNorm, GAP), 28x28x1",
                FashionResNet.Summary, FashionResNet.ParameterCount, FashionResNet.FlopsPerImage,
                FashionResNet.InputChannels, FashionResNet.InputHeight, FashionResNet.InputWidth,
                (maxBatch, seed, threads) => new FashionResNet(maxBatch, seed, threads: threads)),
        };

        public static string[] Names => All.Select(m => m.Name).ToArray();

        public static ModelEntry Get(string name) =>
            All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Unknown model '{name}'; choose one of: {string.Join(", ", Names)}.", nameof(name));
    }
}
