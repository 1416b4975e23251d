// Runs fuzz cases through the real generator and analyzer, in batches (one compilation of many case files, each in
// its own namespace, so Roslyn's fixed costs are shared), and checks each case's properties. A sample of the valid
// networks is emitted to an in-memory assembly, loaded in a collectible AssemblyLoadContext and run forward.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Text.RegularExpressions;
using CnnGen.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace CnnGen.Fuzz
{
    /// <summary>A broken property: the case, what went wrong, and the case's source to reproduce it.</summary>
    public sealed record FuzzFailure(FuzzCase Case, string Problem)
    {
        public override string ToString() => $"{Case}: {Problem}\n--- source ---\n{Case.Source}--------------";
    }

    /// <summary>Counts of what a run did, for the report.</summary>
    public sealed class FuzzStats
    {
        public int Cases, Valid, CnnErrors, CompilerErrors, Extreme, Executed, Batches;
        /// <summary>Thread time per stage, to keep the run within its budget.</summary>
        public long DriverMs, AnalyzerMs, ExecuteMs;
        public readonly Dictionary<string, int> Kinds = new();
        public readonly Dictionary<string, int> Ids = new();

        public void Add(FuzzStats other)
        {
            lock (this)
            {
                Cases += other.Cases; Valid += other.Valid; CnnErrors += other.CnnErrors; CompilerErrors += other.CompilerErrors;
                Extreme += other.Extreme; Executed += other.Executed; Batches += other.Batches;
                DriverMs += other.DriverMs; AnalyzerMs += other.AnalyzerMs; ExecuteMs += other.ExecuteMs;
                foreach (var (k, v) in other.Kinds) Kinds[k] = Kinds.GetValueOrDefault(k) + v;
                foreach (var (k, v) in other.Ids) Ids[k] = Ids.GetValueOrDefault(k) + v;
            }
        }
    }

    public static class FuzzRunner
    {
        private static readonly Regex OutputSizeConstant = new(@"public const int OutputSize = (\d+);", RegexOptions.Compiled);

        /// <summary>Checks a batch of cases; returns the broken properties. <paramref name="execute"/> caps how many valid
        /// networks of the batch are run.</summary>
        public static List<FuzzFailure> RunBatch(IReadOnlyList<FuzzCase> cases, int execute, FuzzStats stats)
        {
            var failures = new List<FuzzFailure>();
            string[] sources = cases.Select(c => c.Source).ToArray();
            Compilation compilation = GeneratorHarness.CreateCompilation(sources);
            GeneratorDriver driver;
            Compilation output;
            ImmutableArray<Diagnostic> driverDiagnostics;
            AnalyzerRun analyzer;
            var watch = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                driver = GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out output, out driverDiagnostics);
            }
            catch (Exception e)
            {
                foreach (FuzzCase c in cases) failures.Add(new(c, $"the generator driver threw {e}"));
                return failures;
            }
            stats.DriverMs += watch.ElapsedMilliseconds;
            watch.Restart();
            try
            {
                analyzer = GeneratorHarness.RunAnalyzer(compilation);
            }
            catch (Exception e)
            {
                foreach (FuzzCase c in cases) failures.Add(new(c, $"the analyzer run threw {e}"));
                return failures;
            }
            stats.AnalyzerMs += watch.ElapsedMilliseconds;
            GeneratorRunResult result = driver.GetRunResult().Results.Single();
            // A crash anywhere is charged to every case of the batch; the replay of single cases finds the culprit.
            if (result.Exception is not null)
                foreach (FuzzCase c in cases) failures.Add(new(c, $"the generator threw {result.Exception}"));
            foreach (Exception e in analyzer.Exceptions)
                foreach (FuzzCase c in cases) failures.Add(new(c, $"the analyzer threw {e}"));

            var generatedByHint = result.GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString());
            // Declaration errors only: binding the generated method bodies costs about a second per network, so that
            // is done (by emitting) for the sample that runs.
            ImmutableArray<Diagnostic> sourceDiagnostics = compilation.GetDeclarationDiagnostics().AddRange(compilation.GetParseDiagnostics());
            var runnable = new List<FuzzCase>();
            var compileOnly = new List<FuzzCase>();

            for (int i = 0; i < cases.Count; i++)
            {
                FuzzCase c = cases[i];
                string path = $"Source{i}.cs";
                SyntaxTree tree = compilation.SyntaxTrees.Single(t => t.FilePath == path);
                stats.Cases++;
                stats.Kinds[c.Kind.Split(':')[0]] = stats.Kinds.GetValueOrDefault(c.Kind.Split(':')[0]) + 1;
                void Fail(string problem) => failures.Add(new(c, problem));

                var fromGenerator = driverDiagnostics.Where(d => In(d, path)).ToList();
                var fromAnalyzer = analyzer.Diagnostics.Where(d => In(d, path)).ToList();
                foreach (Diagnostic d in fromGenerator.Concat(fromAnalyzer).Concat(driverDiagnostics.Where(d => d.Location.SourceTree is null)))
                    if (d.Id is "CNN0099" or "AD0001" or "CS8784" or "CS8785") Fail($"internal error: {Describe(d)}");
                generatedByHint.TryGetValue(c.HintName, out string? generated);
                var sourceErrors = sourceDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error && In(d, path)).ToList();
                var cnnErrorsG = fromGenerator.Where(d => d.Severity == DiagnosticSeverity.Error && d.Id.StartsWith("CNN", StringComparison.Ordinal)).ToList();
                var cnnErrorsA = fromAnalyzer.Where(d => d.Severity == DiagnosticSeverity.Error && d.Id.StartsWith("CNN", StringComparison.Ordinal)).ToList();
                foreach (Diagnostic d in cnnErrorsG) stats.Ids[d.Id] = stats.Ids.GetValueOrDefault(d.Id) + 1;

                switch (c.Expect)
                {
                    case Expectation.Valid:
                        stats.Valid++;
                        foreach (Diagnostic d in fromGenerator.Concat(fromAnalyzer).Concat(sourceErrors).Where(d => d.Severity == DiagnosticSeverity.Error).Take(3))
                            Fail($"a valid declaration got {Describe(d)}");
                        if (generated is null) { Fail("a valid declaration generated no code"); break; }
                        Match m = OutputSizeConstant.Match(generated);
                        if (!m.Success) Fail("the generated code has no OutputSize constant");
                        else if (long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) != c.ExpectedOutput)
                            Fail($"OutputSize = {m.Groups[1].Value}, but the shape model predicts {c.ExpectedOutput}");
                        if (sourceErrors.Count == 0 && c.Cost < 40_000_000) runnable.Add(c);
                        break;

                    case Expectation.CnnError:
                        stats.CnnErrors++;
                        var spans = DeclarationSpans(tree);
                        CheckReported(cnnErrorsG, "generator");
                        CheckReported(cnnErrorsA, "analyzer");
                        if (generated is not null) Fail("an invalid declaration generated code");
                        void CheckReported(List<Diagnostic> errors, string who)
                        {
                            if (errors.Count == 0) { Fail($"the {who} reported no CNN error (expected {string.Join(" or ", c.ExpectedIds)}); it reported: {Describe(fromGenerator.Concat(fromAnalyzer))}"); return; }
                            if (!errors.Any(d => c.ExpectedIds.Contains(d.Id)))
                                Fail($"the {who} reported {Describe(errors)}, expected {string.Join(" or ", c.ExpectedIds)}");
                            foreach (Diagnostic d in errors)
                                if (!spans.Any(s => s.Contains(d.Location.SourceSpan)))
                                    Fail($"the {who}'s {Describe(d)} is not located on a class's attribute lists or name (span {d.Location.SourceSpan})");
                        }
                        break;

                    case Expectation.CompilerError:
                        stats.CompilerErrors++;
                        int networkStart = c.Source.IndexOf("[Network", StringComparison.Ordinal);
                        var located = sourceErrors.Concat(cnnErrorsG).Where(d => d.Location.SourceSpan.End >= networkStart).ToList();
                        if (located.Count == 0) Fail($"no error reported on the declaration; errors: {Describe(sourceErrors)}");
                        break;

                    case Expectation.Either:
                        stats.Extreme++;
                        if (cnnErrorsG.Count == 0 && generated is null) Fail($"neither a CNN error nor code; diagnostics: {Describe(fromGenerator)}");
                        if (cnnErrorsG.Count > 0 && cnnErrorsA.Count == 0) Fail($"the generator reported {Describe(cnnErrorsG)} but the analyzer nothing");
                        if (cnnErrorsG.Count > 0 && generated is not null) Fail("code was generated despite a CNN error");
                        if (generated is not null) compileOnly.Add(c);
                        break;
                }
            }

            List<FuzzCase> chosen = runnable.Take(execute).ToList();
            watch.Restart();
            if (chosen.Count + compileOnly.Count > 0) failures.AddRange(Execute(output, chosen, compileOnly, cases, stats));
            stats.ExecuteMs += watch.ElapsedMilliseconds;
            stats.Batches++;
            return failures;
        }

        private static bool In(Diagnostic d, string path) => d.Location.SourceTree?.FilePath == path;

        private static string Describe(Diagnostic d) => $"{d.Id} at {d.Location.GetLineSpan()}: {d.GetMessage(CultureInfo.InvariantCulture)}";

        private static string Describe(IEnumerable<Diagnostic> ds)
        {
            string text = string.Join("; ", ds.Take(4).Select(Describe));
            return text.Length == 0 ? "(nothing)" : text;
        }

        /// <summary>Where a declaration's diagnostics may be: each class's attribute lists (first to last) and its name.</summary>
        private static List<TextSpan> DeclarationSpans(SyntaxTree tree)
        {
            var spans = new List<TextSpan>();
            foreach (ClassDeclarationSyntax c in tree.GetRoot().DescendantNodes().OfType<ClassDeclarationSyntax>())
            {
                if (c.AttributeLists.Count > 0) spans.Add(TextSpan.FromBounds(c.AttributeLists[0].SpanStart, c.AttributeLists[^1].Span.End));
                spans.Add(c.Identifier.Span);
            }
            return spans;
        }

        // ------------------------------------------------------------------ running the generated code

        /// <summary>Emits the chosen cases (their files and generated code only) to one assembly: the generated code must
        /// compile without errors or warnings. Then loads it collectibly and runs each network forward on zeros, maxBatch 1.</summary>
        private static List<FuzzFailure> Execute(Compilation output, List<FuzzCase> chosen, List<FuzzCase> compileOnly, IReadOnlyList<FuzzCase> batch, FuzzStats stats)
        {
            var failures = new List<FuzzFailure>();
            var all = chosen.Concat(compileOnly).ToList();
            var keep = new Dictionary<string, FuzzCase>();
            for (int i = 0; i < batch.Count; i++) if (all.Contains(batch[i])) keep[$"Source{i}.cs"] = batch[i];
            FuzzCase? Owner(SyntaxTree t) =>
                keep.TryGetValue(t.FilePath, out FuzzCase? c) ? c : all.FirstOrDefault(c => t.FilePath.EndsWith("/" + c.HintName, StringComparison.Ordinal));
            Compilation compilation = output.RemoveSyntaxTrees(output.SyntaxTrees.Where(t => Owner(t) is null))
                .WithAssemblyName("Fuzz" + Guid.NewGuid().ToString("N"));

            using var image = new MemoryStream();
            Microsoft.CodeAnalysis.Emit.EmitResult emitted = compilation.Emit(image);
            var broken = new HashSet<FuzzCase>();
            foreach (Diagnostic d in emitted.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree is not null))
            {
                FuzzCase? c = Owner(d.Location.SourceTree!);
                bool generatedTree = c is not null && d.Location.SourceTree!.FilePath.EndsWith(c.HintName, StringComparison.Ordinal);
                if (c is null || !generatedTree && d.Severity != DiagnosticSeverity.Error) continue;
                if (broken.Add(c) || d.Severity == DiagnosticSeverity.Error)
                    failures.Add(new(c, $"the generated code does not compile cleanly: {Describe(d)}"));
            }
            if (!emitted.Success)
            {
                if (failures.Count == 0) failures.Add(new(all[0], $"emitting failed: {Describe(emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error))}"));
                return failures;
            }
            image.Position = 0;
            var context = new AssemblyLoadContext("fuzz", isCollectible: true);
            try
            {
                Assembly assembly = context.LoadFromStream(image);
                foreach (FuzzCase c in chosen.Where(c => !broken.Contains(c)))
                {
                    string? problem = RunForward(assembly, c);
                    if (problem is not null) failures.Add(new(c, problem));
                    stats.Executed++;
                }
            }
            finally
            {
                context.Unload();
            }
            return failures;
        }

        private static string? RunForward(Assembly assembly, FuzzCase c)
        {
            Type? type = assembly.GetType(c.Namespace + ".Net");
            if (type is null) return "the emitted assembly has no type " + c.Namespace + ".Net";
            INetwork net;
            try
            {
                net = (INetwork)Activator.CreateInstance(type, new object?[] { 1, 1, null, 1 })!;
            }
            catch (Exception e)
            {
                return $"constructing the network threw {e.InnerException ?? e}";
            }
            using (net)
            {
                if (net.OutputLength != c.ExpectedOutput) return $"OutputLength = {net.OutputLength}, but the shape model predicts {c.ExpectedOutput}";
                var input = new float[net.InputLength];
                var output = new float[c.ExpectedOutput];
                try
                {
                    net.Forward(input, output, 1);
                }
                catch (Exception e)
                {
                    return $"Forward on zeros threw {e}";
                }
                for (int i = 0; i < output.Length; i++)
                    if (!float.IsFinite(output[i])) return $"Forward on zeros gave output[{i}] = {output[i]}";
                if (c.EndsWithSoftmax)
                {
                    double sum = output.Sum(v => (double)v);
                    if (Math.Abs(sum - 1) > 1e-4) return $"the softmax output sums to {sum}";
                }
            }
            return null;
        }
    }
}
