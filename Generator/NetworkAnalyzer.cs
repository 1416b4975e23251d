// Reports the same shape diagnostics as the generator, from the same Parse and Check code, as an analyzer:
// IDEs run analyzers as you type, while generator diagnostics often appear only after a build
// (dotnet/roslyn #56928). The command-line build therefore lists each CNN diagnostic from both.
using System;
using System.Collections.Immutable;
using CnnGen.Generator.Check;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Model;
using CnnGen.Generator.Parse;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace CnnGen.Generator
{
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class NetworkAnalyzer : DiagnosticAnalyzer
    {
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => DiagnosticDescriptors.All;

        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            context.RegisterCompilationStartAction(start =>
            {
                INamedTypeSymbol? networkAttribute = start.Compilation.GetTypeByMetadataName(NetworkParser.NetworkAttributeName);
                if (networkAttribute is null) return;
                start.RegisterSymbolAction(symbolContext => AnalyzeType(symbolContext, networkAttribute), SymbolKind.NamedType);
            });
        }

        private static void AnalyzeType(SymbolAnalysisContext context, INamedTypeSymbol networkAttribute)
        {
            var type = (INamedTypeSymbol)context.Symbol;
            if (type.TypeKind != TypeKind.Class) return;
            bool isNetwork = false, isBlock = false;
            AttributeData? firstLayer = null;
            foreach (AttributeData a in type.GetAttributes())
            {
                if (SymbolEqualityComparer.Default.Equals(a.AttributeClass, networkAttribute)) { isNetwork = true; break; }
                if (a.AttributeClass?.ToDisplayString() == NetworkParser.BlockAttributeName) isBlock = true;
                if (firstLayer is null && NetworkParser.LayerKindOf(a.AttributeClass) is not null) firstLayer = a;
            }
            if (isBlock && !isNetwork) return; // a [Block] is checked where a network uses it
            if (!isNetwork)
            {
                // Layers without [Network] would silently generate nothing.
                if (firstLayer?.ApplicationSyntaxReference is { } reference)
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.MissingInput,
                        Location.Create(reference.SyntaxTree, reference.Span),
                        $"'{type.Name}' declares layers but no [Network(Channels = ..., Height = ..., Width = ...)] giving the input shape (or [Block] to make it a reusable block), so no network is generated"));
                return;
            }
            CheckResult result;
            try
            {
                result = ShapeChecker.Check(NetworkParser.Parse(type, context.CancellationToken));
            }
            catch (OperationCanceledException)
            {
                throw;
            }
            catch (Exception e)
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InternalError, type.Locations.Length > 0 ? type.Locations[0] : Location.None,
                    $"CnnGen could not check network '{type.Name}': {e.GetType().Name}: {e.Message}. Please report this declaration."));
                return;
            }
            // Located in the compilation's own trees, so #pragma warning disable applies (see DiagnosticFactory).
            foreach (DiagnosticInfo d in result.Diagnostics) context.ReportDiagnostic(d.ToDiagnostic(context.Compilation));
        }
    }
}
