// VGG-16: Simonyan and Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition", ICLR 2015,
// configuration D without batch norm, as torchvision's vgg16: 3x3 convs with padding 1, 2x2 max pools, 224x224x3
// input (torchvision's AdaptiveAvgPool2d((7, 7)) is the identity there), dropout before the second and third dense
// layers, logits out. 138,357,544 parameters.
using CnnGen;

namespace CnnGen.Samples.Zoo;

[Network(Channels = 3, Height = 224, Width = 224)]
[Conv2D(64, 3, Padding = Pad.Same), ReLU, Conv2D(64, 3, Padding = Pad.Same), ReLU, MaxPool2D(2)]
[Conv2D(128, 3, Padding = Pad.Same), ReLU, Conv2D(128, 3, Padding = Pad.Same), ReLU, MaxPool2D(2)]
[Conv2D(256, 3, Padding = Pad.Same), ReLU, Conv2D(256, 3, Padding = Pad.Same), ReLU, Conv2D(256, 3, Padding = Pad.Same), ReLU, MaxPool2D(2)]
[Conv2D(512, 3, Padding = Pad.Same), ReLU, Conv2D(512, 3, Padding = Pad.Same), ReLU, Conv2D(512, 3, Padding = Pad.Same), ReLU, MaxPool2D(2)]
[Conv2D(512, 3, Padding = Pad.Same), ReLU, Conv2D(512, 3, Padding = Pad.Same), ReLU, Conv2D(512, 3, Padding = Pad.Same), ReLU, MaxPool2D(2)]
[Flatten, Dense(4096), ReLU, Dropout(0.5), Dense(4096), ReLU, Dropout(0.5), Dense(1000)]
public partial class Vgg16;
