// Runs the real NetworkGenerator and NetworkAnalyzer on C# source text, the way dotnet/runtime's Regex generator
// tests do: a CSharpCompilation against this process's framework plus the CnnGen DSL and runtime, a
// CSharpGeneratorDriver with step tracking on, and the analyzer through CompilationWithAnalyzers.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading.Tasks;
using CnnGen.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace CnnGen.Tests.Infrastructure
{
    /// <summary>One generated file: its hint name and text.</summary>
    public sealed record GeneratedSource(string HintName, string Text);

    /// <summary>What a generator run produced.</summary>
    public sealed record GeneratorRun(
        GeneratorDriver Driver,
        Compilation Output,
        ImmutableArray<Diagnostic> GeneratorDiagnostics,
        ImmutableArray<GeneratedSource> Sources,
        ImmutableArray<Diagnostic> OutputErrors,
        ImmutableArray<Diagnostic> GeneratedCodeWarnings,
        Exception? GeneratorException)
    {
        public GeneratorDriverRunResult RunResult => Driver.GetRunResult();
    }

    /// <summary>What an analyzer run produced: its diagnostics and any exception it threw.</summary>
    public sealed record AnalyzerRun(ImmutableArray<Diagnostic> Diagnostics, ImmutableArray<Exception> Exceptions);

    public static class GeneratorHarness
    {
        public static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest);

        /// <summary>Unsafe code off (generated code must not need it), nullable on (it must be warning-free under it).</summary>
        public static readonly CSharpCompilationOptions CompilationOptions =
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary)
                .WithAllowUnsafe(false)
                .WithNullableContextOptions(NullableContextOptions.Enable)
                .WithOptimizationLevel(OptimizationLevel.Release);

        private static readonly Lazy<ImmutableArray<MetadataReference>> LazyReferences = new(LoadReferences);

        public static ImmutableArray<MetadataReference> References => LazyReferences.Value;

        private static ImmutableArray<MetadataReference> LoadReferences()
        {
            string self = typeof(GeneratorHarness).Assembly.Location;
            var paths = new SortedSet<string>(StringComparer.Ordinal);
            string tpa = (string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")
                ?? throw new InvalidOperationException("TRUSTED_PLATFORM_ASSEMBLIES is not set; the harness needs it to find the framework.");
            foreach (string path in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                if (path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) paths.Add(Path.GetFullPath(path));
            paths.Add(Path.GetFullPath(typeof(NetworkAttribute).Assembly.Location));
            paths.Add(Path.GetFullPath(typeof(INetwork).Assembly.Location));
            // The test assembly declares its own [Network] classes; keep them out of the sources under test.
            paths.Remove(Path.GetFullPath(self));
            return paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
        }

        /// <summary>A compilation of the given files, named Source0.cs, Source1.cs, ...</summary>
        public static CSharpCompilation CreateCompilation(params string[] sources) =>
            CSharpCompilation.Create("Sample",
                sources.Select((s, i) => Parse(s, $"Source{i}.cs")),
                References, CompilationOptions);

        public static SyntaxTree Parse(string source, string path) =>
            CSharpSyntaxTree.ParseText(SourceText.From(source, System.Text.Encoding.UTF8), ParseOptions, path);

        public static GeneratorDriver CreateDriver() =>
            CSharpGeneratorDriver.Create(
                new[] { new NetworkGenerator().AsSourceGenerator() },
                parseOptions: ParseOptions,
                driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

        public static GeneratorRun Run(params string[] sources) => Run(CreateCompilation(sources));

        public static GeneratorRun Run(Compilation compilation) => Run(CreateDriver(), compilation);

        /// <summary>Runs (or re-runs, for incremental tests) <paramref name="driver"/> on <paramref name="compilation"/>.</summary>
        public static GeneratorRun Run(GeneratorDriver driver, Compilation compilation)
        {
            driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> driverDiagnostics);
            GeneratorDriverRunResult result = driver.GetRunResult();
            GeneratorRunResult single = result.Results.Single();
            var generatedTrees = new HashSet<SyntaxTree>(single.GeneratedSources.Select(s => s.SyntaxTree));
            ImmutableArray<Diagnostic> outputDiagnostics = output.GetDiagnostics();
            return new GeneratorRun(
                driver,
                output,
                driverDiagnostics, // the generator's own diagnostics plus CS8784/CS8785 if it threw
                single.GeneratedSources.Select(s => new GeneratedSource(s.HintName, s.SourceText.ToString())).ToImmutableArray(),
                outputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToImmutableArray(),
                outputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning && d.Location.SourceTree is { } t && generatedTrees.Contains(t)).ToImmutableArray(),
                single.Exception);
        }

        /// <summary>Runs <see cref="NetworkAnalyzer"/> alone on the compilation (no generated code) and returns what it reports.</summary>
        public static AnalyzerRun RunAnalyzer(Compilation compilation)
        {
            var exceptions = new List<Exception>();
            var options = new CompilationWithAnalyzersOptions(
                new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
                (e, _, _) => { lock (exceptions) exceptions.Add(e); },
                concurrentAnalysis: false,
                logAnalyzerExecutionTime: false);
            CompilationWithAnalyzers withAnalyzers = compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new NetworkAnalyzer()), options);
            ImmutableArray<Diagnostic> diagnostics = withAnalyzers.GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
            return new AnalyzerRun(diagnostics, exceptions.ToImmutableArray());
        }

        public static AnalyzerRun RunAnalyzer(params string[] sources) => RunAnalyzer(CreateCompilation(sources));
    }

    /// <summary>Roslyn-testing-style markup: <c>[|...|]</c> marks the span a diagnostic must cover.</summary>
    public static class Markup
    {
        public static (string Source, TextSpan Span) Parse(string markup)
        {
            int start = markup.IndexOf("[|", StringComparison.Ordinal);
            int end = markup.IndexOf("|]", StringComparison.Ordinal);
            if (start < 0 || end < start || markup.IndexOf("[|", start + 2, StringComparison.Ordinal) >= 0)
                throw new ArgumentException("Markup needs exactly one [|...|] span.", nameof(markup));
            string source = markup.Substring(0, start) + markup.Substring(start + 2, end - start - 2) + markup.Substring(end + 2);
            return (source, TextSpan.FromBounds(start, end - 2));
        }

        /// <summary>The zero-based line/column span of <paramref name="span"/> in <paramref name="source"/>.</summary>
        public static LinePositionSpan LineSpan(string source, TextSpan span) => SourceText.From(source).Lines.GetLinePositionSpan(span);
    }
}
