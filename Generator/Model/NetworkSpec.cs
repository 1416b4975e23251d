// What the user wrote, as plain equatable values: the output of Parse and the input of Check.
// Nothing here references the compilation (no ISymbol, SyntaxNode or Location), so the pipeline can cache it.
namespace CnnGen.Generator.Model
{
    internal enum LayerKind
    {
        Conv2D,
        MaxPool2D,
        AvgPool2D,
        GlobalAvgPool,
        Flatten,
        Dense,
        ReLU,
        Dropout,
        Softmax,
    }

    /// <summary>A location captured by value (file, span, line span).</summary>
    internal sealed record LocationInfo(string FilePath, int Start, int Length, int StartLine, int StartCharacter, int EndLine, int EndCharacter)
    {
        public static readonly LocationInfo None = new("", 0, 0, 0, 0, 0, 0);
    }

    /// <summary>One layer attribute as written. <see cref="Size"/> is filters, units or window; <see cref="Kernel"/> the kernel.
    /// Unset optional arguments hold their DSL defaults; <see cref="StrideGiven"/> tells an explicit pool stride apart.</summary>
    internal sealed record LayerSpec(
        LayerKind Kind,
        string Text,
        int Size,
        int Kernel,
        int Stride,
        bool StrideGiven,
        int Padding,
        int Groups,
        bool Bias,
        double Rate,
        LocationInfo Location);

    /// <summary>A diagnostic as data: descriptor id, location and the finished message.</summary>
    internal sealed record DiagnosticInfo(string Id, LocationInfo Location, string Message);

    /// <summary>A [Network] class: its declaration facts, input shape and layers in source order.</summary>
    internal sealed record NetworkSpec(
        string Namespace,
        string ClassName,
        string Accessibility,
        bool IsPartial,
        bool IsGeneric,
        string ContainingType,
        int Channels,
        int Height,
        int Width,
        LocationInfo ClassLocation,
        LocationInfo NetworkLocation,
        EquatableArray<LayerSpec> Layers);
}
