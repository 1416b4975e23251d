// ZFNet: Zeiler and Fergus, "Visualizing and Understanding Convolutional Networks", ECCV 2014, the model of its
// Figure 3 (AlexNet with a smaller, denser first layer found by looking at its filters). Input 224x224x3; conv1 has 96
// 7x7 filters with stride 2 (padding 1 gives the figure's 110x110), conv2 256 5x5 filters with stride 2, conv3-5 are
// AlexNet's without the GPU split. The 3x3 stride-2 max pools give the figure's 55, 13 and 6 only when the output size
// is rounded up (Caffe's convention, CeilMode here). Figure 3 "contrast normalizes across feature maps" after pool1 and
// pool2; its constants are not given, so this uses AlexNet's LRN (n = 5, k = 2, alpha = 1e-4 per neighbour, written
// Alpha = 5e-4 because LocalResponseNorm divides by Size, beta = 0.75). 62,357,608 parameters.
using CnnGen;

namespace CnnGen.Samples.Zoo;

[Network(Channels = 3, Height = 224, Width = 224)]
[Conv2D(96, 7, Stride = 2, Padding = 1), ReLU, MaxPool2D(3, Stride = 2, CeilMode = true), LocalResponseNorm(5, Alpha = 5e-4, Beta = 0.75, K = 2)]
[Conv2D(256, 5, Stride = 2), ReLU, MaxPool2D(3, Stride = 2, CeilMode = true), LocalResponseNorm(5, Alpha = 5e-4, Beta = 0.75, K = 2)]
[Conv2D(384, 3, Padding = 1), ReLU, Conv2D(384, 3, Padding = 1), ReLU, Conv2D(256, 3, Padding = 1), ReLU]
[MaxPool2D(3, Stride = 2, CeilMode = true)]
[Flatten, Dense(4096), ReLU, Dropout(0.5), Dense(4096), ReLU, Dropout(0.5), Dense(1000), Softmax]
public partial class ZFNet;
