// ResNet-18, -34 and -50: He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition", CVPR 2016, Table 1,
// as torchvision builds them (resnet18/34/50): a 7x7 stride-2 stem conv + BatchNorm + ReLU and a 3x3 stride-2 max pool
// (224 -> 56), four stages whose first block halves the map (except stage 1), global average pooling and a 1000-way
// dense layer returning logits. Basic blocks for 18/34; ResNet-50 uses bottleneck blocks in torchvision's "v1.5" form
// (the stride on the 3x3 conv, not the first 1x1) with 1x1 projection shortcuts where the shape changes.
// 11,689,512 / 21,797,672 / 25,557,032 parameters.
using CnnGen;

namespace CnnGen.Samples.Zoo;

[Network(Channels = 3, Height = 224, Width = 224)]
[Conv2D(64, 7, Stride = 2, Padding = 3, Bias = false), BatchNorm, ReLU, MaxPool2D(3, Stride = 2, Padding = 1)]
[BasicBlock(64, Repeat = 2), BasicBlock(128, Stride = 2, Repeat = 2), BasicBlock(256, Stride = 2, Repeat = 2), BasicBlock(512, Stride = 2, Repeat = 2)]
[GlobalAvgPool, Dense(1000)]
public partial class ResNet18;

[Network(Channels = 3, Height = 224, Width = 224)]
[Conv2D(64, 7, Stride = 2, Padding = 3, Bias = false), BatchNorm, ReLU, MaxPool2D(3, Stride = 2, Padding = 1)]
[BasicBlock(64, Repeat = 3), BasicBlock(128, Stride = 2, Repeat = 4), BasicBlock(256, Stride = 2, Repeat = 6), BasicBlock(512, Stride = 2, Repeat = 3)]
[GlobalAvgPool, Dense(1000)]
public partial class ResNet34;

[Network(Channels = 3, Height = 224, Width = 224)]
[Conv2D(64, 7, Stride = 2, Padding = 3, Bias = false), BatchNorm, ReLU, MaxPool2D(3, Stride = 2, Padding = 1)]
[Bottleneck(64, Repeat = 3), Bottleneck(128, Stride = 2, Repeat = 4), Bottleneck(256, Stride = 2, Repeat = 6), Bottleneck(512, Stride = 2, Repeat = 3)]
[GlobalAvgPool, Dense(1000)]
public partial class ResNet50;
