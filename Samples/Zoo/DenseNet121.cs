// DenseNet-121: Huang, Liu, van der Maaten and Weinberger, "Densely Connected Convolutional Networks", CVPR 2017,
// Table 1 (DenseNet-BC, growth rate 32, bottleneck width 4k, compression 0.5), as torchvision's densenet121: a 7x7
// stride-2 stem conv (no bias) + BatchNorm + ReLU and a 3x3 stride-2 max pool (224 -> 56), dense blocks of 6, 12, 24 and
// 16 layers with transitions (BN - ReLU - 1x1 conv halving the channels - 2x2 average pool) between them, a final
// BatchNorm + ReLU, global average pooling and a 1000-way dense layer returning logits. 7,978,856 parameters.
using CnnGen;

namespace CnnGen.Samples.Zoo;

[Network(Channels = 3, Height = 224, Width = 224)]
[Conv2D(64, 7, Stride = 2, Padding = 3, Bias = false), BatchNorm, ReLU, MaxPool2D(3, Stride = 2, Padding = 1)]
[DenseBlock(6), Transition, DenseBlock(12), Transition, DenseBlock(24), Transition, DenseBlock(16)]
[BatchNorm, ReLU, GlobalAvgPool, Dense(1000)]
public partial class DenseNet121;
