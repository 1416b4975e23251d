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

    // A residual body: 1x1 conv - BN - ReLU - 3x3 conv (with bias).
    [Block("width")]
    [Conv2D("width", 1, Bias = false), BatchNorm, ReLU, Conv2D("width", 3, Padding = 1)]
    public class FixtureResBody;

    // A projection shortcut: 1x1 conv - BN.
    [Block("width")]
    [Conv2D("width", 1, Bias = false), BatchNorm]
    public class FixtureProjection;

    // 1x1 conv - BN - ReLU, used twice with Use<>(Repeat = 2).
    [Block("width")]
    [Conv2D("width", 1, Bias = false), BatchNorm, ReLU]
    public class FixtureConvBn;

    // ResNet: stem conv-BN-ReLU 4x8x8 -> residual1 (user body, identity shortcut) + ReLU 4x8x8 -> fixtureconvbn1, 2 (Use<>,
    // Repeat = 2) 4x8x8 -> basicblock1 (identity shortcut) 4x8x8 -> basicblock2 (stride 2, 1x1 conv-BN projection) 6x4x4
    // -> bottleneck1 (width 2, expansion 4, stride 2 in the 3x3 conv, projection) 8x2x2 -> residual2 (user body and
    // projection shortcut) 4x2x2 -> gap 4 -> dense 5 (logits)
    [Network(Channels = 3, Height = 8, Width = 8)]
    [Conv2D(4, 3, Padding = 1, Bias = false), BatchNorm, ReLU]
    [Residual<FixtureResBody>(4), ReLU, Use<FixtureConvBn>(4, Repeat = 2)]
    [BasicBlock(4), BasicBlock(6, Stride = 2), Bottleneck(2, Stride = 2)]
    [Residual<FixtureResBody, FixtureProjection>(4), GlobalAvgPool, Dense(5)]
    public partial class FixtureResNet;

    // A user block for Concat<>: conv + ReLU with a width parameter.
    [Block("width")]
    [Conv2D("width", 3, Padding = 1), ReLU]
    public class FixtureConvUnit;

    // A user block: 3x3/1 max pool then a 1x1 conv.
    [Block("width")]
    [MaxPool2D(3, Stride = 1, Padding = 1), Conv2D("width", 1)]
    public class FixturePoolUnit;

    // Inception: stem conv-ReLU-LRN (even window: 2 channels before, 1 after) 6x8x8 -> inception1 (BN variant, 5x5 branch) 2+3+2+2 = 9x8x8 -> aux1 head (5x5/3 avg pool
    // 9x2x2, conv 4 - BN, dense 8, no dropout, dense 4; training only) -> concat1 of Identity, FixtureConvUnit(3),
    // FixturePoolUnit(3) 15x8x8 -> 3x3/2 ceil-mode max pool 15x4x4 -> inception2 (plain, "5x5" branch 3x3) 2+2+2+1 = 7x4x4
    // -> gap 7 -> dense 4 -> softmax
    [Network(Channels = 3, Height = 8, Width = 8)]
    [Conv2D(6, 3, Padding = 1), ReLU, LocalResponseNorm(4, Alpha = 0.5, Beta = 0.75, K = 2)]
    [Inception(2, 2, 3, 1, 2, 2, BatchNorm = true), AuxClassifier(Weight = 0.3, Dropout = 0, Channels = 4, Hidden = 8, BatchNorm = true)]
    [Concat<Identity, FixtureConvUnit, FixturePoolUnit>(3), MaxPool2D(3, Stride = 2, CeilMode = true)]
    [Inception(2, 2, 2, 1, 2, 1, LargeKernel = 3), GlobalAvgPool, Dense(4), Softmax]
    public partial class FixtureInception;

    // DenseNet: stem conv 4x8x8 -> denseblock1 (2 layers, growth 2, bottleneck 2 x 2) 8x8x8 -> transition1 (compression 0.5)
    // 4x4x4 -> denseblock2 8x4x4 -> BN-ReLU -> gap 8 -> dense 3 (logits)
    [Network(Channels = 3, Height = 8, Width = 8)]
    [Conv2D(4, 3, Padding = 1, Bias = false)]
    [DenseBlock(2, GrowthRate = 2, BottleneckWidth = 2), Transition, DenseBlock(2, GrowthRate = 2, BottleneckWidth = 2)]
    [BatchNorm, ReLU, GlobalAvgPool, Dense(3)]
    public partial class FixtureDenseNet;

    // BatchNorm: conv with bias + BN (folded in inference) 4x6x6 -> grouped conv without bias + BN (own momentum and
    // epsilon) 4x2x2 -> flatten 16 -> dense 6 -> BN over a vector (BatchNorm1d) -> ReLU -> dense 3 -> softmax
    [Network(Channels = 2, Height = 6, Width = 6)]
    [Conv2D(4, 3, Padding = 1), BatchNorm, ReLU]
    [Conv2D(4, 3, Stride = 2, Groups = 2, Bias = false), BatchNorm(Momentum = 0.3, Epsilon = 1e-3), ReLU]
    [Flatten, Dense(6), BatchNorm, ReLU, Dense(3), Softmax]
    public partial class FixtureBatchNorm;

    // A packed inference conv that runs as Winograd F(2x2, 3x3) (MemoryPlanner.IsPackedWinograd: 64 output channels over
    // 25 pixels, 3 x 3 tiles with a ragged last row and column), with its BatchNorm folded in: 4x5x5 -> conv 64 - BN - ReLU
    // -> gap 64 -> dense 3
    [Network(Channels = 4, Height = 5, Width = 5)]
    [Conv2D(64, 3, Padding = 1, Bias = false), BatchNorm, ReLU, GlobalAvgPool, Dense(3)]
    public partial class FixturePackedWinograd;
}
