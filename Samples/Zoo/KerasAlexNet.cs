// The two Keras AlexNets of seed 003_845404c9dffaba01.txt (lecture notes on AlexNet, after Krizhevsky, Sutskever and
// Hinton, "ImageNet Classification with Deep Convolutional Neural Networks", NIPS 2012). Keras' version drops the
// paper's groups and LRN, pads only conv2 ('same'), puts the pools after conv2, conv3 and conv5, and keeps floor
// division: 224 -> 54 with an 11x11 stride-4 kernel drops a column, and so do two of its 3x3 stride-2 pools. That is
// the seed's network, so the CNN0009 warnings are expected here.
using CnnGen;

#pragma warning disable CNN0009

namespace CnnGen.Samples.Zoo;

/// <summary>The seed's first model: Flatten and three dense layers (34,066,792 parameters).</summary>
[Network(Channels = 3, Height = 224, Width = 224)]
[Conv2D(96, 11, Stride = 4), ReLU]
[Conv2D(256, 5, Padding = Pad.Same), ReLU, MaxPool2D(3, Stride = 2)]
[Conv2D(384, 3), ReLU, MaxPool2D(3, Stride = 2)]
[Conv2D(384, 3), ReLU]
[Conv2D(256, 3), ReLU, MaxPool2D(3, Stride = 2)]
[Flatten, Dense(4096), ReLU, Dropout(0.5), Dense(4096), ReLU, Dropout(0.5), Dense(1000), Softmax]
public partial class KerasAlexNet;

/// <summary>The seed's second model: a 3x3 conv to 1000 channels and global average pooling instead of Flatten and
/// the big dense layers (7,053,200 parameters).</summary>
[Network(Channels = 3, Height = 224, Width = 224)]
[Conv2D(96, 11, Stride = 4), ReLU]
[Conv2D(256, 5, Padding = Pad.Same), ReLU, MaxPool2D(3, Stride = 2)]
[Conv2D(384, 3), ReLU, MaxPool2D(3, Stride = 2)]
[Conv2D(384, 3), ReLU]
[Conv2D(256, 3), ReLU, MaxPool2D(3, Stride = 2)]
[Conv2D(1000, 3), GlobalAvgPool, Dense(1000)]
public partial class KerasAlexNetGap;
