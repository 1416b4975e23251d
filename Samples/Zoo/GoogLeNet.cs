// GoogLeNet (Inception v1): Szegedy, Liu, Jia, Sermanet, Reed, Anguelov, Erhan, Vanhoucke and Rabinovich, "Going
// Deeper with Convolutions", CVPR 2015; torchvision's googlenet variant, so that its parameters (names aside) have torchvision's shapes:
// every conv is conv (no bias) + BatchNorm (eps 1e-3) + ReLU (BasicConv2d), the "5x5" branch uses a 3x3 kernel, the
// pools round up (ceil_mode), no LRN, dropout 0.2 before the classifier, logits out. Input 224x224x3.
// With the paper's two auxiliary classifiers after inception 4a and 4d (torchvision's aux_logits=True): 13,004,888
// parameters; their loss is added with weight 0.3 in training and inference skips them. Without the heads
// (aux_logits=False) it has 6,624,904: ParameterCount minus the parameters of the layers named aux1.* and aux2.*
// (Models.cs shows both). A second declaration without the heads would double the generated code (about 5 MB).
// torchvision's aux heads pool with AdaptiveAvgPool2d((4, 4)), windows of 4 at 14x14; AuxClassifier uses the paper's
// 5x5 stride-3 average pool, which gives the same 4x4 shape.
using CnnGen;

namespace CnnGen.Samples.Zoo;

[Network(Channels = 3, Height = 224, Width = 224)]
[Conv2D(64, 7, Stride = 2, Padding = 3, Bias = false), BatchNorm(Epsilon = 1e-3), ReLU, MaxPool2D(3, Stride = 2, CeilMode = true)]
[Conv2D(64, 1, Bias = false), BatchNorm(Epsilon = 1e-3), ReLU]
[Conv2D(192, 3, Padding = 1, Bias = false), BatchNorm(Epsilon = 1e-3), ReLU, MaxPool2D(3, Stride = 2, CeilMode = true)]
[Inception(64, 96, 128, 16, 32, 32, LargeKernel = 3, BatchNorm = true)]
[Inception(128, 128, 192, 32, 96, 64, LargeKernel = 3, BatchNorm = true)]
[MaxPool2D(3, Stride = 2, CeilMode = true)]
[Inception(192, 96, 208, 16, 48, 64, LargeKernel = 3, BatchNorm = true), AuxClassifier(BatchNorm = true)]
[Inception(160, 112, 224, 24, 64, 64, LargeKernel = 3, BatchNorm = true)]
[Inception(128, 128, 256, 24, 64, 64, LargeKernel = 3, BatchNorm = true)]
[Inception(112, 144, 288, 32, 64, 64, LargeKernel = 3, BatchNorm = true), AuxClassifier(BatchNorm = true)]
[Inception(256, 160, 320, 32, 128, 128, LargeKernel = 3, BatchNorm = true)]
[MaxPool2D(2, Stride = 2, CeilMode = true)]
[Inception(256, 160, 320, 32, 128, 128, LargeKernel = 3, BatchNorm = true)]
[Inception(384, 192, 384, 48, 128, 128, LargeKernel = 3, BatchNorm = true)]
[GlobalAvgPool, Dropout(0.2), Dense(1000)]
public partial class GoogLeNet;
