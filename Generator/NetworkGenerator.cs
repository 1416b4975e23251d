// The incremental pipeline: [Network] class -> Parse -> Check -> Plan -> Emit.
// Every step returns equatable values that reference nothing from the compilation, so unchanged networks are
// cached. Diagnostics and code travel on separate branches: the code branch sees only the location-free
// CheckedNetwork, so moving a declaration in its file re-reports diagnostics without re-emitting code.
using System;
using System.Threading;
using CnnGen.Generator.Check;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Emit;
using CnnGen.Generator.Model;
using CnnGen.Generator.Parse;
using CnnGen.Generator.Plan;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace CnnGen.Generator
{
    [Generator(LanguageNames.CSharp)]
    public sealed class NetworkGenerator : IIncrementalGenerator
    {
        /// <summary>Tracking names, so tests can assert each step's caching.</summary>
        public static class Steps
        {
            public const string Parse = nameof(Parse);
            public const string Check = nameof(Check);
            public const string Network = nameof(Network);
            public const string Plan = nameof(Plan);
        }

        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            IncrementalValuesProvider<ParseResult> specs = context.SyntaxProvider
                .ForAttributeWithMetadataName(
                    NetworkParser.NetworkAttributeName,
                    static (node, _) => node is ClassDeclarationSyntax,
                    static (ctx, ct) => ParseSafely(ctx, ct))
                .WithTrackingName(Steps.Parse);

            IncrementalValuesProvider<CheckResult> checkedNetworks = specs
                .Select(static (p, _) => p.Spec is null ? new CheckResult(null, p.Diagnostics) : ShapeChecker.Check(p.Spec))
                .WithTrackingName(Steps.Check);

            // Diagnostics are re-anchored to the compilation's syntax trees: a location made from a file path alone is
            // not checked against #pragma warning disable (dotnet/roslyn#68291, fixed the same way in dotnet/runtime#124994).
            // Combining with the compilation re-runs only this cheap branch on each edit, never the code branch below.
            context.RegisterSourceOutput(checkedNetworks.Select(static (c, _) => c.Diagnostics).Combine(context.CompilationProvider), static (spc, pair) =>
            {
                foreach (DiagnosticInfo d in pair.Left) spc.ReportDiagnostic(d.ToDiagnostic(pair.Right));
            });

            IncrementalValuesProvider<NetworkPlan> plans = checkedNetworks
                .Where(static c => c.Network is not null)
                .Select(static (c, _) => c.Network!)
                .WithTrackingName(Steps.Network)
                .Select(static (n, _) => MemoryPlanner.Plan(n))
                .WithTrackingName(Steps.Plan);

            context.RegisterSourceOutput(plans, static (spc, plan) =>
            {
                string source;
                try
                {
                    source = NetworkEmitter.Emit(plan);
                }
                catch (Exception e)
                {
                    spc.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InternalError, Location.None,
                        $"CnnGen could not emit network '{plan.Network.ClassName}': {e.GetType().Name}: {e.Message}. Please report this declaration."));
                    return;
                }
                spc.AddSource(NetworkEmitter.HintName(plan), SourceText.From(source, System.Text.Encoding.UTF8));
            });
        }

        /// <summary>Parse result: the spec, or the internal error that stopped parsing (never an exception).</summary>
        internal sealed record ParseResult(NetworkSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);

        private static ParseResult ParseSafely(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            try
            {
                return new ParseResult(NetworkParser.Parse((INamedTypeSymbol)context.TargetSymbol, cancellationToken), EquatableArray<DiagnosticInfo>.Empty);
            }
            catch (OperationCanceledException)
            {
                throw;
            }
            catch (Exception e)
            {
                var info = new DiagnosticInfo(DiagnosticDescriptors.InternalError.Id, context.TargetNode.GetLocation().ToLocationInfo(),
                    $"CnnGen could not read network '{context.TargetSymbol.Name}': {e.GetType().Name}: {e.Message}. Please report this declaration.");
                return new ParseResult(null, new[] { info }.ToEquatableArray());
            }
        }
    }
}
