// The networks the benchmarks run: one single-conv network per benchmarked layer shape. The seed net is
// Samples/FashionNet.cs itself, compiled into this project as a linked file.
using CnnGen;

namespace CnnGen.Bench
{
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

    [Network(Channels = 512, Height = 7, Width = 7)]
    [Conv2D(512, 3, Padding = 1)]
    public partial class Conv512x7To512;

    // ResNet-18's stride-2 3x3 convs, the first of stages 2-4 (batch-1 inference).
    [Network(Channels = 64, Height = 56, Width = 56)]
    [Conv2D(128, 3, Stride = 2, Padding = 1)]
    public partial class Conv64x56To128S2;

    [Network(Channels = 128, Height = 28, Width = 28)]
    [Conv2D(256, 3, Stride = 2, Padding = 1)]
    public partial class Conv128x28To256S2;

    [Network(Channels = 256, Height = 14, Width = 14)]
    [Conv2D(512, 3, Stride = 2, Padding = 1)]
    public partial class Conv256x14To512S2;

    // ResNet stem: 7x7, stride 2, padding 3 on 224x224 RGB.
    [Network(Channels = 3, Height = 224, Width = 224)]
    [Conv2D(64, 7, Stride = 2, Padding = 3)]
    public partial class Conv3x224To64;

    // Bottleneck 1x1 reduction (no im2col).
    [Network(Channels = 256, Height = 56, Width = 56)]
    [Conv2D(64, 1)]
    public partial class Conv256x56To64;
}
