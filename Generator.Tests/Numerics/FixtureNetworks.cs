// The networks behind the PyTorch fixtures in Generator.Tests/Fixtures (see make_fixtures.py there, which
// builds the same layers in PyTorch). Changing a declaration here means regenerating the fixtures.
using CnnGen;

namespace CnnGen.Tests.Numerics
{
    // 2x9x9 -> conv1 4x9x9 -> maxpool1 4x4x4 -> conv2 6x2x2 -> avgpool1 6x1x1 -> flatten 6 -> dense1 5 -> softmax
    [Network(Channels = 2, Height = 9, Width = 9)]
    [Conv2D(4, 3, Padding = Pad.Same), ReLU, MaxPool2D(2)]
    [Conv2D(6, 3, Stride = 2, Padding = 1, Groups = 2), ReLU, AvgPool2D(2, Stride = 1)]
    [Flatten, Dense(5), Softmax]
    public partial class FixtureNetA;

    // 3x8x8 -> conv1 8x8x8 -> conv2 8x4x4 -> avgpool1 (padded, count_include_pad) 8x4x4 -> maxpool1 8x2x2
    // -> gap1 8 -> dense1 4 -> dense2 3 (logits)
    [Network(Channels = 3, Height = 8, Width = 8)]
    [Conv2D(8, 1), ReLU]
    [Conv2D(8, 3, Stride = 2, Padding = 1, Bias = false), AvgPool2D(3, Stride = 1, Padding = 1), MaxPool2D(3, Stride = 2, Padding = 1)]
    [GlobalAvgPool, Dense(4), ReLU, Dense(3)]
    public partial class FixtureNetB;
}
