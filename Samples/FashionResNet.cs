using CnnGen;

namespace CnnGen.Samples;

/// <summary>
/// A small residual network for 28x28 grey images (the main job's second model): a 3x3 stem, then three ResNet basic
/// blocks (He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition", CVPR 2016) that halve the map and
/// double the width twice (28x28x24 -> 14x14x48 -> 7x7x96), global average pooling and one dense layer. The block with a
/// stride gets a 1x1 projection shortcut, as in torchvision. Every conv is followed by BatchNorm, so it has no bias.
/// </summary>
[Network(Channels = 1, Height = 28, Width = 28)]
[Conv2D(24, 3, Padding = 1, Bias = false), BatchNorm, ReLU]
[BasicBlock(24), BasicBlock(48, Stride = 2), BasicBlock(96, Stride = 2)]
[GlobalAvgPool, Dense(10), Softmax]
public partial class FashionResNet;
