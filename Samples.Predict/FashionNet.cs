// The seed network, as declared in Samples/FashionNet.cs (keep the two in step: weight files saved by one load
// into the other). The generator writes the rest of this partial class.
using CnnGen;

namespace CnnGen.Predict
{
    [Network(Channels = 1, Height = 28, Width = 28)]
    [Conv2D(36, 3, Padding = Pad.Same), ReLU, MaxPool2D(2), Dropout(0.25)]
    [Conv2D(72, 3, Padding = Pad.Same), ReLU, MaxPool2D(2), Dropout(0.25)]
    [Conv2D(144, 3), ReLU, MaxPool2D(2), Dropout(0.25)]
    [Flatten, Dense(576), ReLU, Dropout(0.5), Dense(10), Softmax]
    public partial class FashionNet;
}
