// Parse: a [Network] class symbol (with its attribute syntax) -> NetworkSpec. The only stage that knows Roslyn.
// Layer order is source order: attributes sorted by declaration part, then by position in the file.
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Generator.Parse
{
    internal static class NetworkParser
    {
        public const string NetworkAttributeName = "CnnGen.NetworkAttribute";

        private static readonly Dictionary<string, LayerKind> LayerAttributes = new()
        {
            ["CnnGen.Conv2DAttribute"] = LayerKind.Conv2D,
            ["CnnGen.MaxPool2DAttribute"] = LayerKind.MaxPool2D,
            ["CnnGen.AvgPool2DAttribute"] = LayerKind.AvgPool2D,
            ["CnnGen.GlobalAvgPoolAttribute"] = LayerKind.GlobalAvgPool,
            ["CnnGen.FlattenAttribute"] = LayerKind.Flatten,
            ["CnnGen.DenseAttribute"] = LayerKind.Dense,
            ["CnnGen.ReLUAttribute"] = LayerKind.ReLU,
            ["CnnGen.DropoutAttribute"] = LayerKind.Dropout,
            ["CnnGen.SoftmaxAttribute"] = LayerKind.Softmax,
        };

        public static bool IsLayerAttribute(string fullName) => LayerAttributes.ContainsKey(fullName);

        public static NetworkSpec Parse(INamedTypeSymbol type, CancellationToken cancellationToken)
        {
            var ordered = new List<(int Part, int Position, AttributeData Data, AttributeSyntax Syntax)>();
            var parts = type.DeclaringSyntaxReferences.Select(r => r.SyntaxTree).ToList();
            AttributeData? network = null;
            AttributeSyntax? networkSyntax = null;
            foreach (AttributeData data in type.GetAttributes())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (data.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax syntax) continue;
                string? name = data.AttributeClass?.ToDisplayString();
                if (name == NetworkAttributeName) { network = data; networkSyntax = syntax; continue; }
                if (name is null || !LayerAttributes.ContainsKey(name)) continue;
                int part = parts.IndexOf(syntax.SyntaxTree);
                ordered.Add((part < 0 ? int.MaxValue : part, syntax.SpanStart, data, syntax));
            }

            var layers = ordered
                .OrderBy(a => a.Part).ThenBy(a => a.Position)
                .Select(a => ParseLayer(LayerAttributes[a.Data.AttributeClass!.ToDisplayString()], a.Data, a.Syntax))
                .Where(l => l is not null)
                .Select(l => l!)
                .ToEquatableArray();

            ClassDeclarationSyntax? declaration = type.DeclaringSyntaxReferences
                .Select(r => r.GetSyntax(cancellationToken)).OfType<ClassDeclarationSyntax>().FirstOrDefault();
            bool isPartial = type.DeclaringSyntaxReferences
                .Select(r => r.GetSyntax(cancellationToken)).OfType<ClassDeclarationSyntax>()
                .Any(c => c.Modifiers.Any(SyntaxKind.PartialKeyword));

            return new NetworkSpec(
                Namespace: type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : "",
                ClassName: type.Name,
                Accessibility: type.DeclaredAccessibility == Accessibility.Public ? "public" : "internal",
                IsPartial: isPartial,
                IsGeneric: type.TypeParameters.Length > 0,
                ContainingType: type.ContainingType?.Name ?? "",
                Channels: Named(network, "Channels", 0),
                Height: Named(network, "Height", 0),
                Width: Named(network, "Width", 0),
                ClassLocation: declaration is null ? LocationInfo.None : declaration.Identifier.GetLocation().ToLocationInfo(),
                NetworkLocation: networkSyntax?.GetLocation().ToLocationInfo() ?? LocationInfo.None,
                Layers: layers);
        }

        private static LayerSpec? ParseLayer(LayerKind kind, AttributeData data, AttributeSyntax syntax)
        {
            // An attribute the compiler could not bind (wrong argument count or type) already has a compiler error.
            if (data.AttributeConstructor is null) return null;
            var args = data.ConstructorArguments;
            int Ctor(int i) => i < args.Length && args[i].Value is int v ? v : 0;
            int size = kind is LayerKind.Conv2D or LayerKind.Dense or LayerKind.MaxPool2D or LayerKind.AvgPool2D ? Ctor(0) : 0;
            int kernel = kind == LayerKind.Conv2D ? Ctor(1) : kind is LayerKind.MaxPool2D or LayerKind.AvgPool2D ? size : 0;
            bool strideGiven = data.NamedArguments.Any(a => a.Key == "Stride");
            int defaultStride = kind is LayerKind.MaxPool2D or LayerKind.AvgPool2D ? size : 1;
            double rate = kind == LayerKind.Dropout && args.Length > 0 && args[0].Value is double r ? r : 0;
            return new LayerSpec(
                Kind: kind,
                Text: syntax.ToString(),
                Size: size,
                Kernel: kernel,
                Stride: Named(data, "Stride", defaultStride),
                StrideGiven: strideGiven,
                Padding: Named(data, "Padding", 0),
                Groups: Named(data, "Groups", 1),
                Bias: Named(data, "Bias", true),
                Rate: rate,
                Location: syntax.GetLocation().ToLocationInfo());
        }

        private static T Named<T>(AttributeData? data, string name, T fallback)
        {
            if (data is null) return fallback;
            foreach (var pair in data.NamedArguments)
                if (pair.Key == name && pair.Value.Value is T value) return value;
            return fallback;
        }
    }
}
