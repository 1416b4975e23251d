// What the user wrote, as plain equatable values: the output of Parse and the input of Check.
// Nothing here references the compilation (no ISymbol, SyntaxNode or Location), so the pipeline can cache it.
using System.Globalization;

namespace CnnGen.Generator.Model
{
    internal enum LayerKind
    {
        // Primitive operations: what the checked graph is made of.
        Conv2D,
        MaxPool2D,
        AvgPool2D,
        GlobalAvgPool,
        Flatten,
        Dense,
        ReLU,
        Dropout,
        Softmax,
        BatchNorm,
        LocalResponseNorm,
        Add,
        Concat,
        // Structure: written by the user, expanded into primitives by the checker (Lower).
        Use,
        Residual,
        Branches,
        BasicBlock,
        Bottleneck,
        Inception,
        DenseBlock,
        Transition,
        AuxClassifier,
    }

    /// <summary>A location captured by value (file, span, line span).</summary>
    internal sealed record LocationInfo(string FilePath, int Start, int Length, int StartLine, int StartCharacter, int EndLine, int EndCharacter)
    {
        public static readonly LocationInfo None = new("", 0, 0, 0, 0, 0, 0);
    }

    internal enum ArgKind
    {
        /// <summary>A number (int, double or bool as 0/1).</summary>
        Number,
        /// <summary>A string: the name of a block parameter.</summary>
        Name,
        /// <summary>Something else (null, a type, an array): <see cref="Arg.Text"/> says what.</summary>
        Invalid,
    }

    /// <summary>One argument as written: <see cref="Key"/> is the constructor parameter name ("filters"), the property
    /// name ("Stride"), or "#0", "#1", ... for the use-site arguments of a block.</summary>
    internal readonly record struct Arg(string Key, ArgKind Kind, double Number, string Text)
    {
        public static Arg Of(string key, double value) => new(key, ArgKind.Number, value, value.ToString("R", CultureInfo.InvariantCulture));
        public override string ToString() => Kind == ArgKind.Name ? "\"" + Text + "\"" : Text;
    }

    /// <summary>One layer (or structure) attribute as written, with its arguments and, for structure, the block types
    /// it names (fully qualified; "CnnGen.Identity" is the built-in identity).</summary>
    internal sealed record LayerSpec(
        LayerKind Kind,
        string Text,
        EquatableArray<Arg> Args,
        EquatableArray<string> Blocks,
        LocationInfo Location)
    {
        public bool Has(string key)
        {
            foreach (Arg a in Args) if (a.Key == key) return true;
            return false;
        }

        public Arg? Get(string key)
        {
            foreach (Arg a in Args) if (a.Key == key) return a;
            return null;
        }
    }

    /// <summary>A parameter of a [Block]: its name and optional default ("stride = 1").</summary>
    internal sealed record BlockParameter(string Name, Arg? Default);

    /// <summary>A [Block] class: its parameters and layers in source order. <see cref="IsBlock"/> is false for a type that
    /// lacks [Block] (reported where it is used).</summary>
    internal sealed record BlockSpec(
        string FullName,
        string Name,
        bool IsBlock,
        EquatableArray<BlockParameter> Parameters,
        EquatableArray<string> ParameterErrors,
        EquatableArray<LayerSpec> Layers,
        LocationInfo Location);

    /// <summary>A diagnostic as data: descriptor id, location and the finished message.</summary>
    internal sealed record DiagnosticInfo(string Id, LocationInfo Location, string Message);

    /// <summary>A [Network] class: its declaration facts, input shape, layers in source order, and every block class its
    /// layers reach (directly or through other blocks).</summary>
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
        EquatableArray<LayerSpec> Layers,
        EquatableArray<BlockSpec> Blocks);
}
