// Parse: a [Network] class symbol (with its attribute syntax) -> NetworkSpec. The only stage that knows Roslyn.
// Layer order is source order: attributes sorted by declaration part, then by position in the file. Block classes
// named by Use/Residual/Concat attributes are parsed the same way (transitively) and travel with the spec as values.
using System.Collections.Generic;
using System.Globalization;
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
        public const string BlockAttributeName = "CnnGen.BlockAttribute";
        public const string IdentityName = "CnnGen.Identity";

        /// <summary>Attribute classes by metadata name ("UseAttribute`1" for the generic ones), all in namespace CnnGen.</summary>
        private static readonly Dictionary<string, LayerKind> LayerAttributes = new()
        {
            ["Conv2DAttribute"] = LayerKind.Conv2D,
            ["MaxPool2DAttribute"] = LayerKind.MaxPool2D,
            ["AvgPool2DAttribute"] = LayerKind.AvgPool2D,
            ["GlobalAvgPoolAttribute"] = LayerKind.GlobalAvgPool,
            ["FlattenAttribute"] = LayerKind.Flatten,
            ["DenseAttribute"] = LayerKind.Dense,
            ["ReLUAttribute"] = LayerKind.ReLU,
            ["DropoutAttribute"] = LayerKind.Dropout,
            ["SoftmaxAttribute"] = LayerKind.Softmax,
            ["BatchNormAttribute"] = LayerKind.BatchNorm,
            ["LocalResponseNormAttribute"] = LayerKind.LocalResponseNorm,
            ["UseAttribute`1"] = LayerKind.Use,
            ["ResidualAttribute`1"] = LayerKind.Residual,
            ["ResidualAttribute`2"] = LayerKind.Residual,
            ["ConcatAttribute`2"] = LayerKind.Branches,
            ["ConcatAttribute`3"] = LayerKind.Branches,
            ["ConcatAttribute`4"] = LayerKind.Branches,
            ["BasicBlockAttribute"] = LayerKind.BasicBlock,
            ["BottleneckAttribute"] = LayerKind.Bottleneck,
            ["InceptionAttribute"] = LayerKind.Inception,
            ["DenseBlockAttribute"] = LayerKind.DenseBlock,
            ["TransitionAttribute"] = LayerKind.Transition,
            ["AuxClassifierAttribute"] = LayerKind.AuxClassifier,
        };

        /// <summary>The layer kind of an attribute class, or null when it is not a CnnGen layer attribute.</summary>
        public static LayerKind? LayerKindOf(INamedTypeSymbol? attributeClass)
        {
            if (attributeClass is null || attributeClass.ContainingNamespace?.ToDisplayString() != "CnnGen") return null;
            return LayerAttributes.TryGetValue(attributeClass.OriginalDefinition.MetadataName, out LayerKind kind) ? kind : null;
        }

        public static NetworkSpec Parse(INamedTypeSymbol type, CancellationToken cancellationToken)
        {
            AttributeData? network = type.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == NetworkAttributeName);
            AttributeSyntax? networkSyntax = network?.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            var referenced = new List<INamedTypeSymbol>();
            EquatableArray<LayerSpec> layers = ParseLayers(type, referenced, cancellationToken);

            // Every block reachable from the network, each once (a cycle is reported by the checker, not followed here).
            var blocks = new List<BlockSpec>();
            var seen = new HashSet<string>();
            for (int i = 0; i < referenced.Count; i++)
            {
                INamedTypeSymbol block = referenced[i];
                string name = FullName(block);
                if (name == IdentityName || !seen.Add(name)) continue;
                blocks.Add(ParseBlock(block, referenced, cancellationToken));
            }

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
                Layers: layers,
                Blocks: blocks.ToEquatableArray());
        }

        private static string FullName(ITypeSymbol type) => type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Replace("global::", "");

        private static BlockSpec ParseBlock(INamedTypeSymbol type, List<INamedTypeSymbol> referenced, CancellationToken cancellationToken)
        {
            AttributeData? block = type.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == BlockAttributeName);
            var parameters = new List<BlockParameter>();
            var errors = new List<string>();
            if (block is { ConstructorArguments.Length: 1 } && block.ConstructorArguments[0] is { Kind: TypedConstantKind.Array, IsNull: true })
            {
                errors.Add("the parameter list is null; write [Block] for no parameters, or [Block(\"width\", \"stride = 1\")]");
            }
            else if (block is { ConstructorArguments.Length: 1 } && block.ConstructorArguments[0].Kind == TypedConstantKind.Array)
            {
                foreach (TypedConstant c in block.ConstructorArguments[0].Values)
                {
                    if (c.Value is not string text || text.Trim().Length == 0) { errors.Add($"a parameter name must be a non-empty string, but one is {c.ToCSharpString()}"); continue; }
                    int eq = text.IndexOf('=');
                    string name = (eq < 0 ? text : text.Substring(0, eq)).Trim();
                    Arg? fallback = null;
                    if (eq >= 0)
                    {
                        string value = text.Substring(eq + 1).Trim();
                        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number)) fallback = Arg.Of(name, number);
                        else if (value is "true" or "false") fallback = Arg.Of(name, value == "true" ? 1 : 0);
                        else { errors.Add($"the default of parameter '{name}' must be a number, but is '{value}' (write \"{name} = 1\")"); continue; }
                    }
                    if (!IsIdentifier(name)) { errors.Add($"parameter '{name}' is not a valid name (letters, digits and _, not starting with a digit)"); continue; }
                    if (parameters.Any(p => p.Name == name)) { errors.Add($"parameter '{name}' is declared twice"); continue; }
                    parameters.Add(new BlockParameter(name, fallback));
                }
            }
            LocationInfo location = type.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken)).OfType<ClassDeclarationSyntax>()
                .Select(c => c.Identifier.GetLocation().ToLocationInfo()).FirstOrDefault() ?? LocationInfo.None;
            return new BlockSpec(FullName(type), type.Name, block is not null, parameters.ToEquatableArray(), errors.ToEquatableArray(),
                ParseLayers(type, referenced, cancellationToken), location);
        }

        private static bool IsIdentifier(string name) =>
            name.Length > 0 && (char.IsLetter(name[0]) || name[0] == '_') && name.All(ch => char.IsLetterOrDigit(ch) || ch == '_');

        private static EquatableArray<LayerSpec> ParseLayers(INamedTypeSymbol type, List<INamedTypeSymbol> referenced, CancellationToken cancellationToken)
        {
            var ordered = new List<(int Part, int Position, LayerKind Kind, AttributeData Data, AttributeSyntax Syntax)>();
            var parts = type.DeclaringSyntaxReferences.Select(r => r.SyntaxTree).ToList();
            foreach (AttributeData data in type.GetAttributes())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (data.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax syntax) continue;
                if (LayerKindOf(data.AttributeClass) is not LayerKind kind) continue;
                int part = parts.IndexOf(syntax.SyntaxTree);
                ordered.Add((part < 0 ? int.MaxValue : part, syntax.SpanStart, kind, data, syntax));
            }
            return ordered
                .OrderBy(a => a.Part).ThenBy(a => a.Position)
                .Select(a => ParseLayer(a.Kind, a.Data, a.Syntax, referenced))
                .Where(l => l is not null)
                .Select(l => l!)
                .ToEquatableArray();
        }

        private static LayerSpec? ParseLayer(LayerKind kind, AttributeData data, AttributeSyntax syntax, List<INamedTypeSymbol> referenced)
        {
            // An attribute the compiler could not bind (wrong argument count or type) already has a compiler error.
            if (data.AttributeConstructor is null) return null;
            var args = new List<Arg>();
            var ctorParameters = data.AttributeConstructor.Parameters;
            for (int i = 0; i < data.ConstructorArguments.Length && i < ctorParameters.Length; i++)
            {
                TypedConstant value = data.ConstructorArguments[i];
                if (ctorParameters[i].IsParams && value.Kind == TypedConstantKind.Array && value.IsNull)
                {
                    // Use<B>(null): the params array itself is null (Values would throw); the checker reports it as argument 1.
                    args.Add(new Arg("#0", ArgKind.Invalid, 0, "null"));
                }
                else if (ctorParameters[i].IsParams && value.Kind == TypedConstantKind.Array)
                {
                    int n = 0;
                    foreach (TypedConstant element in value.Values) args.Add(ToArg("#" + (n++).ToString(CultureInfo.InvariantCulture), element, allowBool: false));
                }
                else
                {
                    args.Add(ToArg(ctorParameters[i].Name, value, ctorParameters[i].Type.SpecialType == SpecialType.System_Boolean));
                }
            }
            foreach (var pair in data.NamedArguments)
            {
                bool isBool = data.AttributeClass?.GetMembers(pair.Key).OfType<IPropertySymbol>().FirstOrDefault()?.Type.SpecialType == SpecialType.System_Boolean;
                args.Add(ToArg(pair.Key, pair.Value, isBool));
            }

            var blocks = new List<string>();
            if (data.AttributeClass is { IsGenericType: true } generic)
            {
                foreach (ITypeSymbol t in generic.TypeArguments)
                {
                    if (t is INamedTypeSymbol named && t.TypeKind != TypeKind.Error)
                    {
                        blocks.Add(FullName(named));
                        referenced.Add(named);
                    }
                    else
                    {
                        blocks.Add("?" + t.ToDisplayString());
                    }
                }
            }
            return new LayerSpec(kind, syntax.ToString(), args.ToEquatableArray(), blocks.ToEquatableArray(), syntax.GetLocation().ToLocationInfo());
        }

        /// <summary>A bool is a number (0/1) only for bool-typed arguments (Bias, CeilMode); in a size, stride or rate
        /// (typed object so it can take a parameter name) it is a mistake, not 1.</summary>
        private static Arg ToArg(string key, TypedConstant c, bool allowBool)
        {
            if (c.Kind == TypedConstantKind.Error) return new Arg(key, ArgKind.Invalid, 0, "not a constant");
            if (c.Kind == TypedConstantKind.Array || c.IsNull) return new Arg(key, ArgKind.Invalid, 0, c.IsNull ? "null" : c.ToCSharpString());
            return c.Value switch
            {
                string s => new Arg(key, ArgKind.Name, 0, s),
                bool b when allowBool => Arg.Of(key, b ? 1 : 0),
                int i => Arg.Of(key, i),
                double d => Arg.Of(key, d),
                float f => Arg.Of(key, f),
                long l => Arg.Of(key, l),
                short s => Arg.Of(key, s),
                byte b => Arg.Of(key, b),
                _ => new Arg(key, ArgKind.Invalid, 0, c.ToCSharpString()),
            };
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
