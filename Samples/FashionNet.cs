// The main job's network: the seed network of 004_e68e161a2efaeef1.txt (the Keras example from the Korean
// lecture notes), adapted from its original input to 28x28x1 Fashion-MNIST images. The generator writes the
// other half of this partial class: Forward, Backward, TrainStep, Summary, ParameterCount (455,338).
using CnnGen;

namespace CnnGen.Samples
{
    [Network(Channels = 1, Height = 28, Width = 28)]
    [Conv2D(36, 3, Padding = Pad.Same), ReLU, MaxPool2D(2), Dropout(0.25)]
    [Conv2D(72, 3, Padding = Pad.Same), ReLU, MaxPool2D(2), Dropout(0.25)]
    [Conv2D(144, 3), ReLU, MaxPool2D(2), Dropout(0.25)]
    [Flatten, Dense(576), ReLU, Dropout(0.5), Dense(10), Softmax]
    public partial class FashionNet;
}
