// torchvision's AlexNet (torchvision.models.alexnet), which follows Krizhevsky, "One weird trick for parallelizing
// convolutional neural networks", arXiv:1404.5997, 2014, rather than the NIPS 2012 paper: no groups, no local
// response normalization, 64/192/384/256/256 filters, conv1 padded by 2 so that 224x224 gives 55x55. torchvision's
// AdaptiveAvgPool2d((6, 6)) is the identity at 224x224 and is left out; its classifier puts dropout before the first
// two dense layers and returns logits. 61,100,840 parameters.
using CnnGen;

namespace CnnGen.Samples.Zoo;

[Network(Channels = 3, Height = 224, Width = 224)]
[Conv2D(64, 11, Stride = 4, Padding = 2), ReLU, MaxPool2D(3, Stride = 2)]
[Conv2D(192, 5, Padding = 2), ReLU, MaxPool2D(3, Stride = 2)]
[Conv2D(384, 3, Padding = 1), ReLU, Conv2D(256, 3, Padding = 1), ReLU, Conv2D(256, 3, Padding = 1), ReLU, MaxPool2D(3, Stride = 2)]
[Flatten, Dropout(0.5), Dense(4096), ReLU, Dropout(0.5), Dense(4096), ReLU, Dense(1000)]
public partial class TorchAlexNet;
