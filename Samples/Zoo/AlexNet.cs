// AlexNet as published: Krizhevsky, Sutskever and Hinton, "ImageNet Classification with Deep Convolutional Neural
// Networks", NIPS 2012. The one-GPU form of the two-GPU network: conv2, conv4 and conv5 saw only the maps on their own
// GPU, which is a grouped convolution with Groups = 2; conv3 and the dense layers saw both. Input 227x227x3 (the
// paper says 224, but 11x11 stride-4 filters give its 55x55 maps only from 227; no padding anywhere in conv1).
// Local response normalization after the ReLUs of conv1 and conv2 with the paper's n = 5, k = 2, alpha = 1e-4,
// beta = 0.75. The paper sums alpha * a^2 over the 5 neighbours; LocalResponseNorm (like PyTorch) divides Alpha by
// Size, so the paper's alpha is written as Alpha = 5e-4. Overlapping 3x3 stride-2 max pools; dropout 0.5 in the first
// two dense layers. 60,965,224 parameters.
using CnnGen;

namespace CnnGen.Samples.Zoo;

[Network(Channels = 3, Height = 227, Width = 227)]
[Conv2D(96, 11, Stride = 4), ReLU, LocalResponseNorm(5, Alpha = 5e-4, Beta = 0.75, K = 2), MaxPool2D(3, Stride = 2)]
[Conv2D(256, 5, Padding = 2, Groups = 2), ReLU, LocalResponseNorm(5, Alpha = 5e-4, Beta = 0.75, K = 2), MaxPool2D(3, Stride = 2)]
[Conv2D(384, 3, Padding = 1), ReLU]
[Conv2D(384, 3, Padding = 1, Groups = 2), ReLU]
[Conv2D(256, 3, Padding = 1, Groups = 2), ReLU, MaxPool2D(3, Stride = 2)]
[Flatten, Dense(4096), ReLU, Dropout(0.5), Dense(4096), ReLU, Dropout(0.5), Dense(1000), Softmax]
public partial class AlexNet;
