// Every diagnostic CnnGen reports, in one place. Messages are composed by the checker (they name the layer,
// its input shape and the arithmetic that failed), so each descriptor's format is just "{0}".
using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace CnnGen.Generator.Diagnostics
{
    internal static class DiagnosticDescriptors
    {
        private const string Category = "CnnGen";
        private const string HelpLink = "https://github.com/cnngen/cnngen/blob/main/README.md#diagnostics";

        private static DiagnosticDescriptor Error(string id, string title, string description) =>
            new(id, title, "{0}", Category, DiagnosticSeverity.Error, isEnabledByDefault: true, description: description, helpLinkUri: HelpLink);

        public static readonly DiagnosticDescriptor MissingInput = Error("CNN0001",
            "Network input shape missing",
            "[Network] must give Channels, Height and Width, each at least 1.");

        public static readonly DiagnosticDescriptor OutputTooSmall = Error("CNN0002",
            "Layer output smaller than 1x1",
            "A convolution or pooling window does not fit its input: (in - window + 2*padding)/stride + 1 is below 1.");

        public static readonly DiagnosticDescriptor InvalidArgument = Error("CNN0003",
            "Layer argument out of range",
            "Sizes, strides and groups must be positive, padding non-negative (or Pad.Same), dropout rates in [0, 1).");

        public static readonly DiagnosticDescriptor GroupsMismatch = Error("CNN0004",
            "Channels not divisible by groups",
            "A grouped convolution needs input and output channels divisible by Groups.");

        public static readonly DiagnosticDescriptor DenseNeedsVector = Error("CNN0005",
            "Dense layer on a feature map",
            "Dense takes a vector; put Flatten or GlobalAvgPool before it.");

        public static readonly DiagnosticDescriptor NotPartial = Error("CNN0006",
            "Network class is not partial",
            "The generator adds members to the class, so it must be declared partial.");

        public static readonly DiagnosticDescriptor Generic = Error("CNN0007",
            "Network class is generic",
            "Shapes are compile-time constants, so a network class cannot have type parameters.");

        public static readonly DiagnosticDescriptor Nested = Error("CNN0008",
            "Network class is nested",
            "Declare the network as a top-level class in a namespace.");

        public static readonly DiagnosticDescriptor UnevenStride = new("CNN0009",
            "Stride drops rows or columns",
            "{0}", Category, DiagnosticSeverity.Warning, isEnabledByDefault: true,
            description: "(in - window + 2*padding) is not a multiple of the stride, so the last rows/columns of the input never reach the output.",
            helpLinkUri: HelpLink);

        public static readonly DiagnosticDescriptor NeedsMap = Error("CNN0010",
            "Spatial layer on a vector",
            "Conv2D, pooling and Flatten need a C x H x W feature map, not a vector.");

        public static readonly DiagnosticDescriptor SoftmaxNotLast = Error("CNN0011",
            "Softmax is not the last layer",
            "Softmax is the network's output (training fuses it with cross-entropy); it must come last.");

        public static readonly DiagnosticDescriptor NoLayers = Error("CNN0012",
            "Network has no layers",
            "Add layer attributes such as [Conv2D(32, 3)] after [Network].");

        public static readonly DiagnosticDescriptor AddShapeMismatch = Error("CNN0013",
            "Residual add of different shapes",
            "A residual connection adds its body's output to its shortcut's, so both must have the same shape; use a projection shortcut.");

        public static readonly DiagnosticDescriptor ConcatMismatch = Error("CNN0014",
            "Concat of different spatial sizes",
            "Concatenated branches must all be feature maps with the same height and width.");

        public static readonly DiagnosticDescriptor BlockCycle = Error("CNN0015",
            "Block uses itself",
            "A block cannot contain itself, directly or through other blocks.");

        public static readonly DiagnosticDescriptor UnknownBlockParameter = Error("CNN0016",
            "Unknown block parameter",
            "A layer argument names a parameter its [Block] does not declare, or a parameter declaration is malformed.");

        public static readonly DiagnosticDescriptor BlockArguments = Error("CNN0017",
            "Missing or extra block argument",
            "Each use of a block gives one argument per declared parameter without a default, in declaration order.");

        public static readonly DiagnosticDescriptor NotABlock = Error("CNN0018",
            "Type is not a block",
            "Use, Residual and Concat take classes marked [Block] (or CnnGen.Identity).");

        public static readonly DiagnosticDescriptor AuxNeedsClasses = Error("CNN0019",
            "Auxiliary classifier without classes",
            "An AuxClassifier predicts the network's classes, so the network must end in a vector (Dense, optionally Softmax).");

        public static readonly DiagnosticDescriptor InternalError = Error("CNN0099",
            "CnnGen internal error",
            "The generator met a state it did not expect; please report it with the declaration.");

        public static readonly ImmutableArray<DiagnosticDescriptor> All = ImmutableArray.Create(
            MissingInput, OutputTooSmall, InvalidArgument, GroupsMismatch, DenseNeedsVector, NotPartial, Generic,
            Nested, UnevenStride, NeedsMap, SoftmaxNotLast, NoLayers, AddShapeMismatch, ConcatMismatch, BlockCycle,
            UnknownBlockParameter, BlockArguments, NotABlock, AuxNeedsClasses, InternalError);

        private static readonly Dictionary<string, DiagnosticDescriptor> ById = BuildIndex();

        private static Dictionary<string, DiagnosticDescriptor> BuildIndex()
        {
            var map = new Dictionary<string, DiagnosticDescriptor>();
            foreach (DiagnosticDescriptor d in All) map[d.Id] = d;
            return map;
        }

        public static DiagnosticDescriptor ForId(string id) => ById.TryGetValue(id, out DiagnosticDescriptor? d) ? d : InternalError;
    }
}
