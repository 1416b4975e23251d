// The networks the benchmarks run: the seed net (a copy of Samples/FashionNet.cs, so this project needs no
// Samples reference) and one single-conv network per benchmarked layer shape.
using CnnGen;

namespace CnnGen.Bench
{
    [Network(Channels = 1, Height = 28, Width = 28)]
    [Conv2D(36, 3, Padding = Pad.Same), ReLU, MaxPool2D(2), Dropout(0.25)]
    [Conv2D(72, 3, Padding = Pad.Same), ReLU, MaxPool2D(2), Dropout(0.25)]
    [Conv2D(144, 3), ReLU, MaxPool2D(2), Dropout(0.25)]
    [Flatten, Dense(576), ReLU, Dropout(0.5), Dense(10), Softmax]
    public partial class FashionNet;

    // The seed net's second conv layer.
    [Network(Channels = 36, Height = 14, Width = 14)]
    [Conv2D(72, 3, Padding = 1)]
    public partial class Conv36x14To72;

    // ResNet-style 3x3 stages.
    [Network(Channels = 64, Height = 56, Width = 56)]
    [Conv2D(64, 3, Padding = 1)]
    public partial class Conv64x56To64;

    [Network(Channels = 128, Height = 28, Width = 28)]
    [Conv2D(128, 3, Padding = 1)]
    public partial class Conv128x28To128;

    [Network(Channels = 256, Height = 14, Width = 14)]
    [Conv2D(256, 3, Padding = 1)]
    public partial class Conv256x14To256;

    // ResNet stem: 7x7, stride 2, padding 3 on 224x224 RGB.
    [Network(Channels = 3, Height = 224, Width = 224)]
    [Conv2D(64, 7, Stride = 2, Padding = 3)]
    public partial class Conv3x224To64;

    // Bottleneck 1x1 reduction (no im2col).
    [Network(Channels = 256, Height = 56, Width = 56)]
    [Conv2D(64, 1)]
    public partial class Conv256x56To64;
}
