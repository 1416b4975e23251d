// Network in Network: Lin, Chen and Yan, "Network In Network", ICLR 2014; the CIFAR-10 model (32x32x3 input) of the
// authors' published Caffe definition. Three "mlpconv" layers, each a k x k convolution followed by two 1x1
// convolutions (the per-pixel MLP), all with ReLU; 3x3 stride-2 pools whose output size is rounded up (Caffe's
// convention: 32 -> 16 -> 8), dropout 0.5 after the first two; the last mlpconv gives one 8x8 map per class and global
// average pooling replaces the dense layers. 966,986 parameters.
using CnnGen;

namespace CnnGen.Samples.Zoo;

[Network(Channels = 3, Height = 32, Width = 32)]
[Conv2D(192, 5, Padding = 2), ReLU, Conv2D(160, 1), ReLU, Conv2D(96, 1), ReLU]
[MaxPool2D(3, Stride = 2, CeilMode = true), Dropout(0.5)]
[Conv2D(192, 5, Padding = 2), ReLU, Conv2D(192, 1), ReLU, Conv2D(192, 1), ReLU]
[AvgPool2D(3, Stride = 2, CeilMode = true), Dropout(0.5)]
[Conv2D(192, 3, Padding = 1), ReLU, Conv2D(192, 1), ReLU, Conv2D(10, 1), ReLU]
[GlobalAvgPool, Softmax]
public partial class NetworkInNetwork;
